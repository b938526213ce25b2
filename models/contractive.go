package models

import (
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/losses"
)

// The contractive autoencoder (Rifai et al. 2011): the code is made
// insensitive to the input by penalizing the Frobenius norm of the
// encoder's Jacobian, computed analytically in the graph.
//
//	h    = sigmoid(x·W + b)
//	loss = BCE(x̂, x) + λ·‖∂h/∂x‖²_F,   ‖∂h/∂x‖²_F = Σ_j (h_j(1−h_j))² Σ_i W_ij²
//
// With --layers the penalty is the analytic Jacobian of the first layer,
// λ·‖∂h_1/∂x‖²_F, as Rifai et al. (2011) penalize each layer of a stacked
// CAE on its own input; the deeper layers are not contracted by it.
func init() {
	Register(Spec{
		Name:     "contractive",
		Doc:      "contractive autoencoder: BCE + λ·‖∂h/∂x‖²_F (analytic Jacobian penalty)",
		Hypers:   []string{"hidden", "activation", "loss", "layers", "tied", "lambda"},
		Usage:    map[string]string{"lambda": "weight λ of the Jacobian penalty ‖∂h/∂x‖²_F (of the first layer with --layers)"},
		Defaults: Config{Hidden: 256, Activation: "sigmoid", Loss: "bce", Lambda: 0.1},
		Declare: func(c Config, b *graph.Builder) {
			x := b.Batch("x")
			e := encode(b, c, x)
			mirror(b, c, e, x)
			b.Objective(graph.PenaltyTerm, b.Scale(c.Lambda, b.Must(losses.Contractive(c.Activation, e.first, e.layers[0].W))))
		},
	})
}

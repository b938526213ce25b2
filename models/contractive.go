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
func init() {
	Register(Spec{
		Name:     "contractive",
		Doc:      "contractive autoencoder: BCE + λ·‖∂h/∂x‖²_F (analytic Jacobian penalty)",
		Hypers:   []string{"hidden", "activation", "loss", "lambda"},
		Usage:    map[string]string{"lambda": "weight λ of the Jacobian penalty ‖∂h/∂x‖²_F"},
		Defaults: Config{Hidden: 256, Activation: "sigmoid", Loss: "bce", Lambda: 0.1},
		Declare: func(c Config, b *graph.Builder) {
			x := b.Batch("x")
			h, enc := encode(b, c, x)
			reconstruct(b, c, h, x)
			b.Objective(graph.PenaltyTerm, b.Scale(c.Lambda, b.Must(losses.Contractive(c.Activation, h, enc.W))))
		},
	})
}

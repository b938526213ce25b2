package models

import (
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/losses"
)

// The linear denoising autoencoder: no nonlinearity, Gaussian input noise,
// squared error. On centred data X (d×n) its decoder·encoder product
// converges to the ridge-shrunk projection U_k diag(s_i²/(s_i²+nσ²)) U_kᵀ
// (see the linear-dae-svd experiment).
//
//	x̃    = x + σε
//	x̂    = (x̃·W + b)·V + c
//	loss = Σ_i (x̂_i − x_i)²
func init() {
	Register(Spec{
		Name:     "lineardae",
		Doc:      "linear denoising autoencoder (Gaussian noise, squared error): the closed-form case",
		Hypers:   []string{"hidden", "noise-level"},
		Usage:    map[string]string{"noise-level": "σ of the Gaussian input noise"},
		Defaults: Config{Hidden: 32, Activation: "linear", Loss: "mse", Noise: "gaussian", NoiseLevel: 0.1},
		Declare: func(c Config, b *graph.Builder) {
			c.Activation, c.Loss, c.Noise = "linear", "mse", "gaussian"
			x := b.Batch("x")
			xt := b.RowInput("x_tilde", b.Shape().In, corrupter(data.Corruption{Kind: "gaussian", Level: c.NoiseLevel}))
			enc := b.Dense("enc", xt, c.Hidden)
			h := b.Output(graph.Code, enc.Pre)
			xhat := b.Output(graph.Recon, b.Dense("dec", h, b.Shape().In).Pre)
			b.Objective(graph.ReconTerm, b.Must(losses.SquaredError(xhat, x)))
		},
	})
}

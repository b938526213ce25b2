package models

import (
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/losses"
)

// The sparse autoencoder: an overcomplete code kept sparse by a penalty on
// its activations.
//
//	h    = act(x·W + b)                 (H > input size)
//	loss = BCE(x̂, x) + λ·Σ_j |h_j|           (--sparsity l1)
//	loss = BCE(x̂, x) + β·Σ_j KL(ρ ‖ ρ̂_j)     (--sparsity kl, sigmoid code)
func init() {
	Register(Spec{
		Name:   "sparse",
		Doc:    "sparse autoencoder: overcomplete code + L1 (or KL-to-ρ) activity penalty",
		Hypers: []string{"hidden", "activation", "loss", "sparsity", "lambda", "rho", "beta"},
		Defaults: Config{Hidden: 1000, Activation: "relu", Loss: "bce",
			Sparsity: "l1", Lambda: 0.03, Rho: 0.05, Beta: 1},
		Declare: func(c Config, b *graph.Builder) {
			x := b.Batch("x")
			h, _ := encode(b, c, x)
			reconstruct(b, c, h, x)
			if c.Sparsity == "kl" {
				b.Objective("penalty", b.Scale(c.Beta, b.Must(losses.KLSparsity(h, c.Rho))))
			} else {
				b.Objective("penalty", b.Scale(c.Lambda, b.Must(losses.L1(h))))
			}
		},
	})
}

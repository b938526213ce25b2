package models

import "github.com/aezoo/aezoo/graph"

// The plain undercomplete autoencoder, the zoo's baseline: its only
// regularizer is the bottleneck.
//
//	h  = act(x·W + b)
//	x̂  = sigmoid(h·V + c)
//	loss = BCE(x̂, x)
func init() {
	Register(Spec{
		Name:     "plain",
		Doc:      "undercomplete autoencoder (baseline): 784→H→784, BCE or MSE",
		Hypers:   []string{"hidden", "activation", "loss"},
		Defaults: Config{Hidden: 256, Activation: "sigmoid", Loss: "bce"},
		Declare: func(c Config, b *graph.Builder) {
			x := b.Batch("x")
			h, _ := encode(b, c, x)
			reconstruct(b, c, h, x)
		},
	})
}

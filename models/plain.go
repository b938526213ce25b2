package models

import "github.com/aezoo/aezoo/graph"

// The plain undercomplete autoencoder, the zoo's baseline: its only
// regularizer is the bottleneck.
//
//	h  = act(x·W + b)
//	x̂  = sigmoid(h·V + c)              (--tied: V = Wᵀ)
//	loss = BCE(x̂, x)
//
// With --layers the encoder is a stack h_l = act(h_{l−1}·W_l + b_l) and the
// decoder mirrors it (see mirror).
func init() {
	Register(Spec{
		Name:     "plain",
		Doc:      "undercomplete autoencoder (baseline): 784→H→784, BCE or MSE",
		Hypers:   []string{"hidden", "activation", "loss", "layers", "tied"},
		Defaults: Config{Hidden: 256, Activation: "sigmoid", Loss: "bce"},
		Declare: func(c Config, b *graph.Builder) {
			x := b.Batch("x")
			mirror(b, c, encode(b, c, x), x)
		},
	})
}

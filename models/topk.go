package models

import (
	"math"

	"github.com/aezoo/aezoo/graph"
)

// The top-K (k-sparse) autoencoder (Makhzani & Frey 2013): only the k
// largest hidden activations of each example survive, in the forward and
// the backward pass. At encode time αk units are kept (the "features"
// output). With --k-start, k is annealed linearly from k-start to k over
// the first half of the epochs.
//
//	a    = x·W + b
//	h    = topK_k(act(a))
//	loss = BCE(x̂, x)
func init() {
	Register(Spec{
		Name:     "topk",
		Doc:      "top-K autoencoder: keep the k largest hidden units per example (custom Gorgonia op)",
		Hypers:   []string{"hidden", "activation", "loss", "k", "alpha", "k-start"},
		Defaults: Config{Hidden: 1000, Activation: "linear", Loss: "bce", K: 25, Alpha: 3},
		Declare: func(c Config, b *graph.Builder) {
			x := b.Batch("x")
			a := b.Act(c.Activation, b.Dense("enc", x, c.Hidden).Pre)
			k := c.K
			h := b.Output("code", b.Must(graph.TopK(a, &k)))
			kEnc := min(int(math.Round(c.Alpha*float64(c.K))), c.Hidden)
			b.Output("features", b.Must(graph.TopK(a, &kEnc)))
			if c.KStart > c.K {
				b.Schedule(func(epoch, epochs int) { k = annealK(c.KStart, c.K, epoch, epochs) })
			}
			reconstruct(b, c, h, x)
		},
	})
}

// annealK is k at a 0-based epoch: linear from start to end over the first
// half of the epochs, then end.
func annealK(start, end, epoch, epochs int) int {
	half := max(epochs/2, 1)
	if epoch >= half {
		return end
	}
	return start - int(math.Round(float64(start-end)*float64(epoch)/float64(half)))
}

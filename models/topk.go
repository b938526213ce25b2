package models

import (
	"math"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/graph/ops"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// The top-K (k-sparse) autoencoder (Makhzani & Frey 2013) in the paper's
// setup: linear hidden units, tied weights and squared error. Only the k
// largest hidden activations of each example survive, in the forward and
// the backward pass; at encode time αk units are kept (the Features
// output). The input is centred by a learned m that starts at the training
// mean, so that no unit wins on every image through the mean digit
// (--centre=false: m = 0, no parameter). With
// --k-start, k is annealed linearly from k-start to k over the first half
// of the epochs.
//
//	a    = (x − m)·W + b
//	h    = topK_k(act(a))
//	x̂    = h·Wᵀ + c                  (--tied=false: h·V + c)
//	loss = Σ_i (x̂_i − x_i)²          (--loss bce: x̂ = sigmoid(h·Wᵀ + c), BCE)
func init() {
	Register(Spec{
		Name:   "topk",
		Doc:    "top-K autoencoder: keep the k largest hidden units per example (custom Gorgonia op)",
		Hypers: []string{"hidden", "activation", "loss", "k", "alpha", "k-start", "tied", "centre"},
		Usage: map[string]string{
			"k":       "units kept per example, in 1..hidden",
			"alpha":   "encode-time multiplier α ≥ 1: keep αk units in the features output",
			"k-start": "k at the first epoch, annealed linearly to --k over the first half of the epochs (0: off)",
		},
		Check:    checkTopK,
		Defaults: Config{Hidden: 1000, Activation: "linear", Loss: "mse", K: 25, Alpha: 3, Tied: true, Centre: true},
		Declare: func(c Config, b *graph.Builder) {
			x := b.Batch("x")
			in := x
			if c.Centre {
				m := b.Param("centre", []int{1, b.Shape().In}, b.DataMean())
				in = b.Must(G.BroadcastSub(x, m, nil, []byte{0}))
			}
			enc := b.Dense("enc", in, c.Hidden)
			a := b.Act(c.Activation, enc.Pre)
			k := c.K
			h := b.Output(graph.Code, b.Must(ops.TopK(a, &k)))
			kEnc := min(int(math.Round(c.Alpha*float64(c.K))), c.Hidden)
			b.Output(graph.Features, b.Must(ops.TopK(a, &kEnc)))
			if c.KStart > c.K {
				b.Schedule(func(epoch, epochs int) { k = annealK(c.KStart, c.K, epoch, epochs) })
			}
			if !c.Tied {
				reconstruct(b, c, h, x)
				return
			}
			bias := b.Param("dec.b", []int{1, b.Shape().In}, graph.Uniform(c.Hidden))
			objective(b, c, b.Must(ops.AffineT(h, enc.W, bias)), x)
		},
	})
}

// checkTopK: k, the encode-time α and the annealing start fit the hidden
// layer.
func checkTopK(c Config) error {
	var errs []error
	if c.K <= 0 || c.K > c.Hidden {
		errs = append(errs, errors.Errorf("invalid --k %d: must be in 1..hidden (%d)", c.K, c.Hidden))
	}
	if c.Alpha < 1 {
		errs = append(errs, errors.Errorf("invalid --alpha %g: must be ≥ 1", c.Alpha))
	}
	if c.KStart != 0 && (c.KStart < c.K || c.KStart > c.Hidden) {
		errs = append(errs, errors.Errorf("invalid --k-start %d: must be 0 or in k..hidden (%d..%d)", c.KStart, c.K, c.Hidden))
	}
	return checks(errs...)
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

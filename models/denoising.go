package models

import (
	"math/rand/v2"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/pkg/errors"
)

// The denoising autoencoder (Vincent et al. 2008): encode a corrupted copy
// of the input, reconstruct the clean one. A fresh corruption is drawn from
// the run's seeded generator at every training step; evaluation feeds the
// clean input.
//
//	x̃    ~ q(x̃ | x)                 (gaussian: x + σε; masking: zero a fraction ν; salt-and-pepper)
//	h    = act(x̃·W + b)
//	loss = BCE(x̂, x)
//
// With --layers the stacked encoder reads x̃ and the mirrored decoder
// reconstructs x (the deep DAE trained end to end; the greedy stacked DAE
// of Vincent et al. 2010 is package pretrain's).
func init() {
	Register(Spec{
		Name:   "denoising",
		Doc:    "denoising autoencoder: reconstruct x from a corrupted x̃ (gaussian, masking, salt-and-pepper)",
		Hypers: []string{"hidden", "activation", "loss", "layers", "tied", "noise", "noise-level"},
		Usage: map[string]string{
			"noise":       "corruption q(x̃|x): gaussian, masking or saltpepper",
			"noise-level": "σ for gaussian noise, corrupted fraction ν for masking and saltpepper",
		},
		Check:    checkDenoising,
		Defaults: Config{Hidden: 256, Activation: "sigmoid", Loss: "bce", Noise: "masking", NoiseLevel: 0.25},
		Declare: func(c Config, b *graph.Builder) {
			x := b.Batch("x")
			xt := b.Input("x_tilde", b.Shape().In, corrupter(data.Corruption{Kind: c.Noise, Level: c.NoiseLevel}))
			mirror(b, c, encode(b, c, xt), x)
		},
	})
}

// checkDenoising: the corruption is known and its level is a fraction for
// masking and salt-and-pepper noise.
func checkDenoising(c Config) error {
	switch c.Noise {
	case "gaussian":
		return nil // any σ ≥ 0
	case "masking", "saltpepper":
		if c.NoiseLevel < 0 || c.NoiseLevel >= 1 || c.NoiseLevel != c.NoiseLevel {
			return errors.Errorf("invalid --noise-level %g for %s noise: must be in [0,1)", c.NoiseLevel, c.Noise)
		}
		return nil
	}
	return errors.Errorf("invalid --noise %q (want gaussian, masking or saltpepper)", c.Noise)
}

// corrupter fills an input with a corrupted copy of the minibatch when
// training and with the clean minibatch otherwise.
func corrupter(q data.Corruption) graph.Filler {
	var buf []float32
	return func(dst []float64, x []float32, rng *rand.Rand, train bool) {
		if len(buf) != len(x) {
			buf = make([]float32, len(x))
		}
		if train {
			q.Apply(rng, x, buf)
		} else {
			copy(buf, x)
		}
		for i, v := range buf {
			dst[i] = float64(v)
		}
	}
}

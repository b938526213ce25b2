package models

import (
	"github.com/aezoo/aezoo/graph"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// BuildCodeDecoder declares the decoder of a deterministic autoencoder
// (plain, sparse, denoising, contractive; one layer or --layers, tied or
// not) alone: an input "z" of the code's size, filled by fill before every
// run, mirrored back to pixel space, naming the graph.Recon output (and
// graph.Logits for a BCE model). It decodes codes that did not come from
// the encoder — samples of a density fitted to the training codes
// (ex-post density estimation, Ghosh et al. 2020) or of N(0, I). The
// parameters must already be in store.
func BuildCodeDecoder(c Config, s graph.Shape, dt tensor.Dtype, store *graph.Store, fill graph.Filler) (*graph.Model, error) {
	switch c.Model {
	case "plain", "sparse", "denoising", "contractive":
	default:
		return nil, errors.Errorf("model %s has no mirrored decoder to decode codes with (want plain, sparse, denoising or contractive)", c.Model)
	}
	spec, err := SpecOf(c)
	if err != nil {
		return nil, err
	}
	if err := spec.Validate(c); err != nil {
		return nil, err
	}
	sz, err := c.Sizes()
	if err != nil {
		return nil, err
	}
	frozen := *store
	frozen.Frozen = true // a missing parameter is an error, never a fresh one
	m, err := graph.Declare(s, dt, &frozen, nil, func(b *graph.Builder) {
		// The encoder's weights: their shapes give the mirror's, and a
		// tied decoder reads them.
		layers := make([]graph.Layer, len(sz))
		in := s.In
		for i, units := range sz {
			layers[i].W = b.Param(EncoderLayer(i)+".W", []int{in, units}, graph.Uniform(in))
			in = units
		}
		g := b.Input("z", sz[len(sz)-1], fill)
		for i := len(layers) - 1; i >= 1; i-- {
			g = b.Act(c.Activation, mirrorLayer(b, c, layers[i], i, g))
		}
		l := mirrorLayer(b, c, layers[0], 0, g)
		if c.Loss == "mse" {
			b.Output(graph.Recon, l)
			return
		}
		bernoulli(b, l)
	})
	return m, errors.Wrapf(err, "building the %s decoder", c.Model)
}

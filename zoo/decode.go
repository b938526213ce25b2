package zoo

import (
	"math"

	"github.com/aezoo/aezoo/graph/ops"
	"github.com/aezoo/aezoo/models"
	"github.com/pkg/errors"
)

// DecodeCodes maps codes h (one row per image, as wide as the model's code)
// to images with the decoder of a one-layer autoencoder run (plain,
// sparse, top-K, denoising, contractive and models extending them):
//
//	l = h·V + c,   V = dec.W (units × pixels), or enc.Wᵀ for tied weights,
//	x̂ = sigmoid(l) for a bce model, l itself for an mse model
//
// exactly the graph.Recon output that the model computes from its own
// codes (an mse model's values may leave [0,1]; viz.Grid clamps them).
// This is how codes drawn from a density fitted to a deterministic
// autoencoder's codes become images (ex-post density estimation; see
// package density). A model with a prior decodes with Generator instead.
func (r *Run) DecodeCodes(h [][]float64) ([][]float64, error) {
	if spec, err := models.SpecOf(r.Config); err == nil && spec.Decoder != nil {
		return nil, errors.Errorf("model %s has its own decoder from its latent space: use Run.Generator", r.Config.Model)
	}
	c, _, err := r.Weights("dec.b")
	if err != nil {
		return nil, errors.Wrap(err, "decoding codes")
	}
	pixels := len(c)
	var v func(j, p int) float64 // V[j][p]
	units := 0
	if w, shape, err := r.Weights("dec.W"); err == nil {
		if len(shape) != 2 || shape[1] != pixels {
			return nil, errors.Errorf("decoding codes: model %s's dec.W is %v, not units × %d pixels", r.Config.Model, shape, pixels)
		}
		units = shape[0]
		v = func(j, p int) float64 { return w[j*pixels+p] }
	} else if w, shape, err := r.Weights("enc.W"); err == nil && r.Config.Tied {
		if len(shape) != 2 || shape[0] != pixels {
			return nil, errors.Errorf("decoding codes: model %s's enc.W is %v, not %d pixels × units", r.Config.Model, shape, pixels)
		}
		units = shape[1]
		v = func(j, p int) float64 { return w[p*units+j] }
	} else {
		return nil, errors.Errorf("decoding codes: model %s has no dec.W and no tied enc.W", r.Config.Model)
	}
	out := make([][]float64, len(h))
	for i, hi := range h {
		if len(hi) != units {
			return nil, errors.Errorf("decoding codes: code %d has %d values, the model has %d units", i, len(hi), units)
		}
		x := append([]float64(nil), c...)
		for j, hj := range hi {
			if hj == 0 {
				continue
			}
			for p := range x {
				x[p] += hj * v(j, p)
			}
		}
		if r.Config.Loss != "mse" {
			for p, l := range x {
				x[p] = 1 / (1 + math.Exp(-l))
			}
		}
		out[i] = x
	}
	return out, nil
}

// ClampCodes maps codes (e.g. drawn from a density fitted to the model's
// codes) in place onto values the encoder can produce: ReLU codes to
// h ≥ 0, sigmoid codes to [0, 1], and for the top-K model only the k
// largest of each code kept (the others set to 0). It returns h.
func (r *Run) ClampCodes(h [][]float64) [][]float64 {
	for _, hi := range h {
		for j, v := range hi {
			switch r.Config.Activation {
			case "relu":
				hi[j] = max(v, 0)
			case "sigmoid":
				hi[j] = min(max(v, 0), 1)
			}
		}
		if r.Config.Model == "topk" && r.Config.K > 0 && r.Config.K < len(hi) {
			mask := ops.TopKMask(hi, 1, len(hi), r.Config.K)
			for j := range hi {
				hi[j] *= mask[j]
			}
		}
	}
	return h
}

package graph

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// GradCheck is the result of comparing symbolic gradients with central
// finite differences.
type GradCheck struct {
	Checked           int     // entries compared
	MaxRel            float64 // largest relative error
	Worst             string  // "param[i]" where MaxRel occurred
	Analytic, Numeric float64
}

// CheckGradients compares the symbolic gradient of m's loss with respect to
// every entry of every parameter (at most maxPerParam entries each, spread
// evenly; 0 means all) with the central difference
// (L(θ+h) − L(θ−h)) / 2h. m must be float64. The inputs are filled once from
// x and rng (in training mode) and held fixed, so the per-step randomness
// (noise, ε) is the same in every evaluation.
//
// The relative error of an entry is |a − n| / max(|a| + |n|, floor).
func CheckGradients(m *Model, x []float32, rng *rand.Rand, h, floor float64, maxPerParam int) (GradCheck, error) {
	var r GradCheck
	if m.Dtype != tensor.Float64 {
		return r, errors.New("gradcheck: build the model with float64")
	}
	p, err := NewGradProgram(m)
	if err != nil {
		return r, err
	}
	if err := p.Feed(x, rng, true); err != nil {
		return r, err
	}
	// Symbolic gradients: run once, copy.
	if err := p.RunFed(); err != nil {
		return r, err
	}
	analytic := make([][]float64, len(m.Params))
	for i, n := range m.Params {
		g, err := n.Grad()
		if err != nil || g == nil {
			return r, errors.Errorf("gradcheck: %s has no gradient", n.Name())
		}
		analytic[i] = ToFloat64s(g.Data(), nil)
	}
	lossAt := func() (float64, error) {
		if err := p.RunFed(); err != nil {
			return 0, err
		}
		return p.Loss(), nil
	}
	for i, n := range m.Params {
		w := n.Value().Data().([]float64)
		stride := 1
		if maxPerParam > 0 && len(w) > maxPerParam {
			stride = (len(w) + maxPerParam - 1) / maxPerParam
		}
		for j := 0; j < len(w); j += stride {
			orig := w[j]
			w[j] = orig + h
			lp, err := lossAt()
			if err != nil {
				return r, err
			}
			w[j] = orig - h
			lm, err := lossAt()
			if err != nil {
				return r, err
			}
			w[j] = orig
			num := (lp - lm) / (2 * h)
			a := analytic[i][j]
			rel := math.Abs(a-num) / math.Max(math.Abs(a)+math.Abs(num), floor)
			r.Checked++
			if rel > r.MaxRel || math.IsNaN(rel) {
				r.MaxRel, r.Analytic, r.Numeric = rel, a, num
				r.Worst = n.Name() + "[" + strconv.Itoa(j) + "]"
			}
		}
	}
	return r, nil
}

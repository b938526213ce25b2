package graph

import (
	"math"

	"github.com/aezoo/aezoo/internal/par"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// Adam is the Adam optimizer (Kingma & Ba), with PyTorch's defaults and
// update rule, implementing gorgonia.Solver. It updates parameters in
// place, keeps its moments in the parameters' own dtype, allocates nothing
// after the first step, and zeroes each gradient after using it.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	// T is the number of steps taken.
	T int

	m, v []any // []float32 or []float64 per parameter

	// Per-step scratch, kept so that a step allocates nothing.
	w, g   []any
	zero   []bool // per parameter: zero its gradient after the update
	blocks []adamRange
}

// NewAdam returns Adam with learning rate lr and β1=0.9, β2=0.999, ε=1e-8.
func NewAdam(lr float64) *Adam { return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

// Step implements gorgonia.Solver. All parameters are updated in one
// parallel pass: the parameters are cut into blocks of adamBlock entries
// that run on every core; each entry's update is the same arithmetic as a
// plain loop, so the result does not depend on the thread count.
func (a *Adam) Step(model []G.ValueGrad) error {
	if a.m == nil {
		a.m = make([]any, len(model))
		a.v = make([]any, len(model))
	}
	if len(model) != len(a.m) {
		return errors.Errorf("adam: %d parameters, state has %d", len(model), len(a.m))
	}
	if cap(a.w) < len(model) {
		a.w, a.g, a.zero = make([]any, len(model)), make([]any, len(model)), make([]bool, len(model))
	}
	a.w, a.g, a.zero = a.w[:len(model)], a.g[:len(model)], a.zero[:len(model)]
	a.blocks = a.blocks[:0]
	for i, vg := range model {
		// A gradient read from its node (NewTrainer) is computed afresh by
		// every run; one accumulated in a dual value is zeroed after use.
		_, fresh := vg.(gradRef)
		a.zero[i] = !fresh
		g, err := vg.Grad()
		if err != nil {
			return errors.Wrapf(err, "adam: parameter %d has no gradient (missing BindDualValues?)", i)
		}
		n := 0
		switch w := vg.Value().Data().(type) {
		case []float32:
			gd, ok := g.Data().([]float32)
			if !ok || len(gd) != len(w) {
				return errors.Errorf("adam: parameter %d: gradient does not match the weights", i)
			}
			if a.m[i] == nil {
				a.m[i], a.v[i] = make([]float32, len(w)), make([]float32, len(w))
			}
			if m, ok := a.m[i].([]float32); !ok || len(m) != len(w) {
				return errors.Errorf("adam: parameter %d: moments do not match the weights", i)
			}
			a.w[i], a.g[i], n = w, gd, len(w)
		case []float64:
			gd, ok := g.Data().([]float64)
			if !ok || len(gd) != len(w) {
				return errors.Errorf("adam: parameter %d: gradient does not match the weights", i)
			}
			if a.m[i] == nil {
				a.m[i], a.v[i] = make([]float64, len(w)), make([]float64, len(w))
			}
			if m, ok := a.m[i].([]float64); !ok || len(m) != len(w) {
				return errors.Errorf("adam: parameter %d: moments do not match the weights", i)
			}
			a.w[i], a.g[i], n = w, gd, len(w)
		default:
			return errors.Errorf("adam: parameter %d has unsupported data %T", i, w)
		}
		for lo := 0; lo < n; lo += adamBlock {
			a.blocks = append(a.blocks, adamRange{i, lo, min(lo+adamBlock, n)})
		}
	}
	a.T++
	c1 := 1 - math.Pow(a.Beta1, float64(a.T))
	c2 := 1 - math.Pow(a.Beta2, float64(a.T))
	par.For(len(a.blocks), 1, func(_, lo, hi int) {
		for _, b := range a.blocks[lo:hi] {
			switch w := a.w[b.param].(type) {
			case []float32:
				g, m, v := a.g[b.param].([]float32), a.m[b.param].([]float32), a.v[b.param].([]float32)
				adamUpdate(w[b.lo:b.hi], g[b.lo:b.hi], m[b.lo:b.hi], v[b.lo:b.hi], a.LR, a.Beta1, a.Beta2, a.Eps, c1, c2, a.zero[b.param])
			case []float64:
				g, m, v := a.g[b.param].([]float64), a.m[b.param].([]float64), a.v[b.param].([]float64)
				adamUpdate(w[b.lo:b.hi], g[b.lo:b.hi], m[b.lo:b.hi], v[b.lo:b.hi], a.LR, a.Beta1, a.Beta2, a.Eps, c1, c2, a.zero[b.param])
			}
		}
	})
	return nil
}

// adamScalarOnly turns the AVX path off (for tests comparing the two).
var adamScalarOnly = false

// adamBlock is the number of entries one parallel Adam task updates.
const adamBlock = 8192

// adamRange is the entries [lo, hi) of parameter param.
type adamRange struct{ param, lo, hi int }

// adamUpdate updates w, m and v from the gradient g, and zeroes g when
// zero is set (a gradient accumulated in a dual value). float32
// runs 8 entries at a time with AVX where the CPU has it (adamAVX: the
// same operations in the same order, so the same bits), the rest in the
// loop below.
func adamUpdate[T float32 | float64](w, g, m, v []T, lr, b1, b2, eps, c1, c2 float64, zero bool) {
	B1, B2 := T(b1), T(b2)
	step := T(lr / c1)
	sc2 := T(1 / math.Sqrt(c2))
	e := T(eps)
	if g32, ok := any(g).([]float32); ok && haveAdamAVX && !adamScalarOnly {
		n := len(g32) &^ 7
		w, m, v = w[:len(g)], m[:len(g)], v[:len(g)] // bounds for the assembly
		adamAVX(any(w).([]float32), g32[:n], any(m).([]float32), any(v).([]float32),
			float32(B1), float32(1-B1), float32(B2), float32(1-B2), float32(step), float32(sc2), float32(e), zero)
		w, g, m, v = w[n:], g[n:], m[n:], v[n:]
	}
	for j, gj := range g {
		mj := B1*m[j] + (1-B1)*gj
		vj := B2*v[j] + (1-B2)*gj*gj
		m[j], v[j] = mj, vj
		w[j] -= step * mj / (T(math.Sqrt(float64(vj)))*sc2 + e)
		if zero {
			g[j] = 0
		}
	}
}

// Moments returns the first and second moment buffers of parameter i
// (nil before the first step), for checkpointing.
func (a *Adam) Moments(i int) (m, v any) {
	if i >= len(a.m) {
		return nil, nil
	}
	return a.m[i], a.v[i]
}

// SetMoments restores the moment buffers (for resuming), given the number
// of parameters n.
func (a *Adam) SetMoments(n int, m, v []any) error {
	if len(m) != n || len(v) != n {
		return errors.Errorf("adam: state for %d/%d parameters, model has %d", len(m), len(v), n)
	}
	a.m, a.v = m, v
	return nil
}

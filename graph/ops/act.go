package ops

import (
	"math"

	"github.com/aezoo/aezoo/internal/par"
	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Act applies the activation "sigmoid", "relu" or "tanh" elementwise to
// the matrix x as one fused node that owns its output; its gradient is
// computed from the output (σ' = y(1−y), tanh' = 1−y², relu' = 1[y>0]).
func Act(name string, x *G.Node) (*G.Node, error) {
	switch name {
	case "sigmoid", "relu", "tanh":
	default:
		return nil, errors.Errorf("Act: unknown activation %q", name)
	}
	if x.Dims() != 2 {
		return nil, errors.Errorf("Act: need a matrix, got shape %v", x.Shape())
	}
	n, err := G.ApplyOp(actOp{fusedBase{name, new(outBuf)}}, x)
	return n, errors.Wrap(err, "Act")
}

// actOp: x ↦ f(x) elementwise; fusedBase.kind names f.
type actOp struct{ fusedBase }

func (op actOp) Arity() int    { return 1 }
func (op actOp) Type() hm.Type { return matrixType(1) }
func (op actOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (op actOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 1, vals)
	if err != nil {
		return nil, err
	}
	y := op.st.get(a[0].Dtype(), a[0].Shape()...)
	switch yd := y.Data().(type) {
	case []float32:
		activate(op.kind, yd, a[0].Data().([]float32))
	case []float64:
		activate(op.kind, yd, a[0].Data().([]float64))
	}
	return y, nil
}

// activate writes f(x) into y, in parallel chunks.
func activate[T float32 | float64](kind string, y, x []T) {
	switch kind {
	case "sigmoid":
		y32, f32 := any(y).([]float32)
		x32, _ := any(x).([]float32)
		par.For(len(x), par.Grain(len(x), 20), func(_, lo, hi int) {
			if f32 {
				sigmoid32(y32[lo:hi], x32[lo:hi])
				return
			}
			for i, v := range x[lo:hi] {
				y[lo+i] = T(sigmoid(float64(v)))
			}
		})
	case "relu":
		par.For(len(x), par.Grain(len(x), 1), func(_, lo, hi int) {
			for i, v := range x[lo:hi] {
				y[lo+i] = max(v, 0)
			}
		})
	case "tanh":
		par.For(len(x), par.Grain(len(x), 20), func(_, lo, hi int) {
			for i, v := range x[lo:hi] {
				y[lo+i] = T(math.Tanh(float64(v)))
			}
		})
	}
}

// sigmoid32 writes float32(sigmoid(x)) into y: blocks of four with
// AVX2/FMA (sigmoidAVX, the same bits), the rest (blocks with a NaN or an
// |x| > 700, the tail) one by one.
func sigmoid32(y, x []float32) {
	for i := 0; i < len(x); {
		if haveExpAVX {
			i += sigmoidAVX(y[i:], x[i:], &avxK)
		}
		for end := min(i+4, len(x)); i < end; i++ {
			y[i] = float32(sigmoid(float64(x[i])))
		}
	}
}

// DiffWRT implements gorgonia.SDOp.
func (op actOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff implements gorgonia.SDOp: ∂x = dy ⊙ f'(y), from the output y.
func (op actOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%s: %d inputs", op.kind, len(inputs))
	}
	dx, err := G.ApplyOp(actGradOp{gradOnly{fusedBase{op.kind + ".grad", new(outBuf)}}, op.kind}, output, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%s: gradient", op.kind)
	}
	return G.Nodes{dx}, nil
}

// actGradOp: (y, dy) ↦ dy ⊙ f'(y).
type actGradOp struct {
	gradOnly
	act string
}

func (op actGradOp) Arity() int    { return 2 }
func (op actGradOp) Type() hm.Type { return matrixType(2) }
func (op actGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (op actGradOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 2, vals)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(a[1].Shape()) {
		return nil, errors.Errorf("%s: shapes %v and %v differ", op.kind, a[0].Shape(), a[1].Shape())
	}
	dx := op.st.get(a[0].Dtype(), a[0].Shape()...)
	switch d := dx.Data().(type) {
	case []float32:
		activateGrad(op.act, d, a[0].Data().([]float32), a[1].Data().([]float32))
	case []float64:
		activateGrad(op.act, d, a[0].Data().([]float64), a[1].Data().([]float64))
	}
	return dx, nil
}

// activateGrad writes dy ⊙ f'(y) into dx, in parallel chunks.
func activateGrad[T float32 | float64](kind string, dx, y, dy []T) {
	avxKind := -1
	switch kind {
	case "sigmoid":
		avxKind = 0
	case "relu":
		avxKind = 1
	case "tanh":
		avxKind = 2
	}
	dx32, f32 := any(dx).([]float32)
	y32, _ := any(y).([]float32)
	dy32, _ := any(dy).([]float32)
	par.For(len(y), par.Grain(len(y), 2), func(_, lo, hi int) {
		if f32 && haveExpAVX && avxKind >= 0 {
			lo += actGradAVX(avxKind, dx32[lo:hi], y32[lo:hi], dy32[lo:hi])
		}
		d, g := dx[lo:hi], dy[lo:hi]
		switch kind {
		case "sigmoid":
			for i, v := range y[lo:hi] {
				d[i] = g[i] * v * (1 - v)
			}
		case "relu":
			for i, v := range y[lo:hi] {
				if v > 0 {
					d[i] = g[i]
				} else {
					d[i] = 0
				}
			}
		case "tanh":
			for i, v := range y[lo:hi] {
				d[i] = g[i] * (1 - v*v)
			}
		}
	})
}

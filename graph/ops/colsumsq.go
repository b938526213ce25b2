package ops

import (
	"github.com/aezoo/aezoo/internal/par"
	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ColSumSq returns the vector of column sums of squares Σ_i W_ij² of the
// matrix W, as one fused node that owns its output (and whose gradient,
// 2·W_ij·dy_j, does too).
func ColSumSq(w *G.Node) (*G.Node, error) {
	if w.Dims() != 2 {
		return nil, errors.Errorf("ColSumSq: need a matrix, got shape %v", w.Shape())
	}
	n, err := G.ApplyOp(colSumSqOp{fusedBase{"colsumsq", new(outBuf)}}, w)
	return n, errors.Wrap(err, "ColSumSq")
}

// colSumSqOp: W ↦ (Σ_i W_ij²)_j.
type colSumSqOp struct{ fusedBase }

func (op colSumSqOp) Arity() int { return 1 }

func (op colSumSqOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 1, Of: a})
}

func (op colSumSqOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[0].(tensor.Shape)[1]}, nil
}

func (op colSumSqOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 1, vals)
	if err != nil {
		return nil, err
	}
	r, c := a[0].Shape()[0], a[0].Shape()[1]
	out := op.st.get(a[0].Dtype(), c)
	switch d := out.Data().(type) {
	case []float32:
		colSumSq(d, a[0].Data().([]float32), r, c)
	case []float64:
		colSumSq(d, a[0].Data().([]float64), r, c)
	}
	return out, nil
}

// colSumSq writes the column sums of squares of the r×c matrix w into
// dst, column blocks in parallel; each column is summed over the rows in
// order.
func colSumSq[T float32 | float64](dst, w []T, r, c int) {
	par.For(c, max(par.Grain(c, 2*r), 16), func(_, lo, hi int) {
		d := dst[lo:hi]
		clear(d)
		for i := 0; i < r; i++ {
			for j, v := range w[i*c+lo : i*c+hi] {
				d[j] += v * v
			}
		}
	})
}

// DiffWRT implements gorgonia.SDOp.
func (op colSumSqOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff implements gorgonia.SDOp: ∂W_ij = 2·W_ij·dy_j.
func (op colSumSqOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("colsumsq: %d inputs", len(inputs))
	}
	dw, err := G.ApplyOp(colSumSqGradOp{gradOnly{fusedBase{"colsumsq.grad", new(outBuf)}}}, inputs[0], grad)
	if err != nil {
		return nil, errors.Wrap(err, "colsumsq: gradient")
	}
	return G.Nodes{dw}, nil
}

// colSumSqGradOp: (W, dy) ↦ 2·W_ij·dy_j, the gradient of colSumSqOp.
type colSumSqGradOp struct{ gradOnly }

func (op colSumSqGradOp) Arity() int { return 2 }

func (op colSumSqGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m, v := G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 1, Of: a}
	return hm.NewFnType(m, v, m)
}

func (op colSumSqGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (op colSumSqGradOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 2, vals)
	if err != nil {
		return nil, err
	}
	r, c := a[0].Shape()[0], a[0].Shape()[1]
	if a[1].Shape().TotalSize() != c {
		return nil, errors.Errorf("%s: gradient of shape %v for %d columns", op.kind, a[1].Shape(), c)
	}
	out := op.st.get(a[0].Dtype(), r, c)
	switch d := out.Data().(type) {
	case []float32:
		colSumSqGrad(d, a[0].Data().([]float32), a[1].Data().([]float32), r, c)
	case []float64:
		colSumSqGrad(d, a[0].Data().([]float64), a[1].Data().([]float64), r, c)
	}
	return out, nil
}

// colSumSqGrad writes 2·w_ij·dy_j into dst, rows in parallel.
func colSumSqGrad[T float32 | float64](dst, w, dy []T, r, c int) {
	par.For(r, par.Grain(r, 2*c), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			row, out := w[i*c:(i+1)*c], dst[i*c:(i+1)*c]
			for j, v := range row {
				out[j] = 2 * v * dy[j]
			}
		}
	})
}

package ops

import (
	"github.com/aezoo/aezoo/internal/par"
	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Affine returns x·W + b for a matrix x (n×in), W (in×out) and a row b
// (1×out), as one fused node. Its gradient with respect to x is built only
// when x is not a leaf (an input or parameter needs no ∂/∂x: the first
// layer skips that matrix product).
func Affine(x, w, b *G.Node) (*G.Node, error) { return affine("Affine", x, w, b, false) }

// AffineT returns x·Wᵀ + b for a matrix x (n×in), W (out×in) and a row b
// (1×out), as one fused node: the decoder of a tied-weight autoencoder
// whose encoder is x·W with W (in×out) reads that W through AffineT
// without copying its transpose.
func AffineT(x, w, b *G.Node) (*G.Node, error) { return affine("AffineT", x, w, b, true) }

// affine checks the operands of Affine (transW false) or AffineT and
// applies the fused op.
func affine(name string, x, w, b *G.Node, transW bool) (*G.Node, error) {
	xs, ws, bs := x.Shape(), w.Shape(), b.Shape()
	in, out := 0, 1 // W's axes
	if transW {
		in, out = 1, 0
	}
	if x.Dims() != 2 || w.Dims() != 2 || b.Dims() != 2 || xs[1] != ws[in] || bs[0] != 1 || bs[1] != ws[out] {
		return nil, errors.Errorf("%s: shapes x %v, W %v, b %v do not fit", name, xs, ws, bs)
	}
	if x.Dtype() != w.Dtype() || x.Dtype() != b.Dtype() {
		return nil, errors.Errorf("%s: mixed dtypes %v, %v, %v", name, x.Dtype(), w.Dtype(), b.Dtype())
	}
	kind := "affine"
	if transW {
		kind = "affineT"
	}
	op := affineOp{fusedBase{kind: kind, st: new(outBuf)}, !isLeaf(x), transW}
	n, err := G.ApplyOp(op, x, w, b)
	return n, errors.Wrap(err, name)
}

// gemmInto computes c = op(a)·op(b) (m×n, contiguous) with the BLAS that
// Gorgonia uses. a is stored ar×ac, b br×bc.
func gemmInto(c, a, b *tensor.Dense, tA, tB bool) error {
	as, bs := a.Shape(), b.Shape()
	m, k := as[0], as[1]
	if tA {
		m, k = k, m
	}
	n := bs[1]
	if tB {
		n = bs[0]
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	switch cd := c.Data().(type) {
	case []float32:
		G.WhichBLAS().Sgemm(ta, tb, m, n, k, 1, a.Data().([]float32), as[1], b.Data().([]float32), bs[1], 0, cd, n)
	case []float64:
		G.WhichBLAS().Dgemm(ta, tb, m, n, k, 1, a.Data().([]float64), as[1], b.Data().([]float64), bs[1], 0, cd, n)
	default:
		return errors.Errorf("gemm: unsupported dtype %v", c.Dtype())
	}
	return nil
}

// affineOp: (x, W, b) ↦ x·W + b, or x·Wᵀ + b when transW is set.
type affineOp struct {
	fusedBase
	needDX bool
	transW bool
}

func (op affineOp) Arity() int    { return 3 }
func (op affineOp) Type() hm.Type { return matrixType(3) }
func (op affineOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	xs, ws := in[0].(tensor.Shape), in[1].(tensor.Shape)
	if op.transW {
		return tensor.Shape{xs[0], ws[0]}, nil
	}
	return tensor.Shape{xs[0], ws[1]}, nil
}

func (op affineOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs("affine", 3, vals)
	if err != nil {
		return nil, err
	}
	x, w, b := a[0], a[1], a[2]
	s, err := op.InferShape(x.Shape(), w.Shape())
	if err != nil {
		return nil, err
	}
	n, out := s[0], s[1]
	y := op.st.get(x.Dtype(), n, out)
	if err := gemmInto(y, x, w, false, op.transW); err != nil {
		return nil, err
	}
	switch yd := y.Data().(type) {
	case []float32:
		addRows(yd, b.Data().([]float32), n, out)
	case []float64:
		addRows(yd, b.Data().([]float64), n, out)
	}
	return y, nil
}

// addRows adds the row b to each of the n rows of y, rows in parallel.
func addRows[T float32 | float64](y, b []T, n, cols int) {
	b = b[:cols]
	par.For(n, par.Grain(n, cols), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			addTo(y[i*cols:(i+1)*cols], b)
		}
	})
}

// DiffWRT implements gorgonia.SDOp.
func (op affineOp) DiffWRT(inputs int) []bool { return []bool{op.needDX, true, true} }

// SymDiff implements gorgonia.SDOp: ∂x = dy·Wᵀ, ∂W = xᵀ·dy, ∂b = Σ_rows dy
// (transposed weights: ∂x = dy·W, ∂W = dyᵀ·x).
func (op affineOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 3 {
		return nil, errors.Errorf("affine: %d inputs", len(inputs))
	}
	x, w := inputs[0], inputs[1]
	var dx *G.Node
	var err error
	if op.needDX {
		if dx, err = G.ApplyOp(matmulOp{gradOnly{fusedBase{op.kind + ".dx", new(outBuf)}}, false, !op.transW}, grad, w); err != nil {
			return nil, errors.Wrap(err, "affine: ∂x")
		}
	}
	left, right := x, grad // ∂W = xᵀ·dy
	if op.transW {
		left, right = grad, x // ∂W = dyᵀ·x
	}
	dw, err := G.ApplyOp(matmulOp{gradOnly{fusedBase{op.kind + ".dW", new(outBuf)}}, true, false}, left, right)
	if err != nil {
		return nil, errors.Wrap(err, "affine: ∂W")
	}
	db, err := G.ApplyOp(colSumOp{gradOnly{fusedBase{op.kind + ".db", new(outBuf)}}}, grad)
	if err != nil {
		return nil, errors.Wrap(err, "affine: ∂b")
	}
	return G.Nodes{dx, dw, db}, nil
}

// matmulOp: (a, b) ↦ op(a)·op(b), op transposing when tA, tB are set.
type matmulOp struct {
	gradOnly
	tA, tB bool
}

func (op matmulOp) Arity() int    { return 2 }
func (op matmulOp) Type() hm.Type { return matrixType(2) }
func (op matmulOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	as, bs := in[0].(tensor.Shape), in[1].(tensor.Shape)
	m, n := as[0], bs[1]
	if op.tA {
		m = as[1]
	}
	if op.tB {
		n = bs[0]
	}
	return tensor.Shape{m, n}, nil
}

func (op matmulOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 2, vals)
	if err != nil {
		return nil, err
	}
	s, err := op.InferShape(a[0].Shape(), a[1].Shape())
	if err != nil {
		return nil, err
	}
	c := op.st.get(a[0].Dtype(), s...)
	return c, gemmInto(c, a[0], a[1], op.tA, op.tB)
}

// colSumOp: a (n×m) ↦ 1×m column sums.
type colSumOp struct{ gradOnly }

func (op colSumOp) Arity() int    { return 1 }
func (op colSumOp) Type() hm.Type { return matrixType(1) }
func (op colSumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{1, in[0].(tensor.Shape)[1]}, nil
}

func (op colSumOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 1, vals)
	if err != nil {
		return nil, err
	}
	n, m := a[0].Shape()[0], a[0].Shape()[1]
	c := op.st.get(a[0].Dtype(), 1, m)
	switch cd := c.Data().(type) {
	case []float32:
		colSums(cd, a[0].Data().([]float32), n, m)
	case []float64:
		colSums(cd, a[0].Data().([]float64), n, m)
	}
	return c, nil
}

// colSums writes the column sums of the n×m matrix a into dst, column
// blocks in parallel; each column is summed over the rows in order.
func colSums[T float32 | float64](dst, a []T, n, m int) {
	par.For(m, max(par.Grain(m, n), 16), func(_, lo, hi int) {
		d := dst[lo:hi]
		copy(d, a[lo:hi])
		for i := 1; i < n; i++ {
			addTo(d, a[i*m+lo:i*m+hi])
		}
	})
}

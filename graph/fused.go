package graph

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Fused, preallocating Gorgonia ops for the zoo's hot paths. Each node owns
// its output tensor and overwrites it at every run, so a compiled program
// allocates nothing for these nodes after its first run. (Gorgonia's
// TapeMachine forgets its registers at every Reset, so stock ops allocate
// a fresh output every step.) Their gradients are ops of the same kind.

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

// isLeaf reports whether n is an input or a parameter (no op).
func isLeaf(n *G.Node) bool { return n.Op() == nil }

// outBuf is a node's own output tensor, reused at every run.
type outBuf struct{ t *tensor.Dense }

// get returns the node's output tensor of the given dtype and shape,
// allocating it on the first call (or if the shape changed).
func (o *outBuf) get(dt tensor.Dtype, shape ...int) *tensor.Dense {
	if o.t == nil || o.t.Dtype() != dt || !o.t.Shape().Eq(tensor.Shape(shape)) {
		o.t = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	}
	return o.t
}

// fusedBase carries what every fused op shares: a kind for its hash and
// string, and its output buffer (whose address makes each node's hash
// unique, so Gorgonia never merges two nodes that own buffers).
type fusedBase struct {
	kind string
	st   *outBuf
}

func (f fusedBase) ReturnsPtr() bool      { return false }
func (f fusedBase) CallsExtern() bool     { return false }
func (f fusedBase) OverwritesInput() int  { return -1 }
func (f fusedBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "aezoo.%s(%p)", f.kind, f.st) }
func (f fusedBase) Hashcode() uint32      { return hashOf(f) }
func (f fusedBase) String() string        { return "aezoo." + f.kind }

func matrixType(arity int) hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, arity+1)
	for i := range ts {
		ts[i] = a
	}
	return hm.NewFnType(ts...)
}

// values checks that vals are n dense tensors of one dtype.
func denseArgs(kind string, n int, vals []G.Value) ([]*tensor.Dense, error) {
	if len(vals) != n {
		return nil, errors.Errorf("%s: %d inputs, want %d", kind, len(vals), n)
	}
	out := make([]*tensor.Dense, n)
	for i, v := range vals {
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("%s: input %d is %T, want a dense tensor", kind, i, v)
		}
		if i > 0 && d.Dtype() != out[0].Dtype() {
			return nil, errors.Errorf("%s: mixed dtypes", kind)
		}
		out[i] = d
	}
	return out, nil
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

func addRows[T float32 | float64](y, b []T, n, cols int) {
	for i := 0; i < n; i++ {
		row := y[i*cols : (i+1)*cols]
		for j, v := range b[:cols] {
			row[j] += v
		}
	}
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
		if dx, err = G.ApplyOp(matmulOp{fusedBase{op.kind + ".dx", new(outBuf)}, false, !op.transW}, grad, w); err != nil {
			return nil, errors.Wrap(err, "affine: ∂x")
		}
	}
	left, right := x, grad // ∂W = xᵀ·dy
	if op.transW {
		left, right = grad, x // ∂W = dyᵀ·x
	}
	dw, err := G.ApplyOp(matmulOp{fusedBase{op.kind + ".dW", new(outBuf)}, true, false}, left, right)
	if err != nil {
		return nil, errors.Wrap(err, "affine: ∂W")
	}
	db, err := G.ApplyOp(colSumOp{fusedBase{op.kind + ".db", new(outBuf)}}, grad)
	if err != nil {
		return nil, errors.Wrap(err, "affine: ∂b")
	}
	return G.Nodes{dx, dw, db}, nil
}

// matmulOp: (a, b) ↦ op(a)·op(b), op transposing when tA, tB are set.
type matmulOp struct {
	fusedBase
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

// matmulOp is used only in gradients; it is never differentiated.
func (op matmulOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }

// SymDiff implements gorgonia.SDOp; matmulOp only appears in gradients.
func (op matmulOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return nil, errors.New("aezoo: second derivatives of a fused product are not supported")
}

// colSumOp: a (n×m) ↦ 1×m column sums.
type colSumOp struct{ fusedBase }

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

func colSums[T float32 | float64](dst, a []T, n, m int) {
	copy(dst, a[:m])
	for i := 1; i < n; i++ {
		for j, v := range a[i*m : (i+1)*m] {
			dst[j] += v
		}
	}
}

// DiffWRT implements gorgonia.SDOp; colSumOp only appears in gradients.
func (op colSumOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }

// SymDiff implements gorgonia.SDOp; colSumOp only appears in gradients.
func (op colSumOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return nil, errors.New("aezoo: second derivatives of a fused column sum are not supported")
}

// BCEWithLogits returns the batch mean of Σ_i softplus(l_i) − x_i·l_i for
// logits l and targets x (both n×d) as one fused scalar node: binary
// cross-entropy in nats per example, computed stably from the logits. Its
// gradient is (σ(l) − x)/n for l and −l/n for x (built only when x is not
// a leaf).
func BCEWithLogits(logits, x *G.Node) (*G.Node, error) {
	if logits.Dims() != 2 || !logits.Shape().Eq(x.Shape()) || logits.Dtype() != x.Dtype() {
		return nil, errors.Errorf("BCEWithLogits: logits %v %v and targets %v %v differ", logits.Shape(), logits.Dtype(), x.Shape(), x.Dtype())
	}
	op := bceOp{fusedBase{"bce", new(outBuf)}, !isLeaf(x)}
	n, err := G.ApplyOp(op, logits, x)
	return n, errors.Wrap(err, "BCEWithLogits")
}

// bceOp: (l, x) ↦ mean_rows Σ_cols softplus(l) − x·l (a scalar).
type bceOp struct {
	fusedBase
	needDX bool
}

func (op bceOp) Arity() int { return 2 }
func (op bceOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t, a)
}
func (op bceOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }

func (op bceOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 2, vals)
	if err != nil {
		return nil, err
	}
	l, x := a[0], a[1]
	if !l.Shape().Eq(x.Shape()) {
		return nil, errors.Errorf("bce: shapes %v and %v differ", l.Shape(), x.Shape())
	}
	n := l.Shape()[0]
	switch ld := l.Data().(type) {
	case []float32:
		v := G.F32(bceSum(ld, x.Data().([]float32)) / float64(n))
		return &v, nil
	case []float64:
		v := G.F64(bceSum(ld, x.Data().([]float64)) / float64(n))
		return &v, nil
	}
	return nil, errors.Errorf("bce: unsupported dtype %v", l.Dtype())
}

// softplus is log(1 + e^l), computed stably.
func softplus(l float64) float64 { return math.Max(l, 0) + math.Log1p(math.Exp(-math.Abs(l))) }

func bceSum[T float32 | float64](l, x []T) float64 {
	var s float64
	for i, li := range l {
		lf := float64(li)
		s += softplus(lf) - float64(x[i])*lf
	}
	return s
}

// DiffWRT implements gorgonia.SDOp.
func (op bceOp) DiffWRT(inputs int) []bool { return []bool{true, op.needDX} }

// SymDiff implements gorgonia.SDOp: ∂l = dy·(σ(l) − x)/n, ∂x = −dy·l/n.
func (op bceOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("bce: %d inputs", len(inputs))
	}
	dl, err := G.ApplyOp(bceGradOp{fusedBase{"bce.dl", new(outBuf)}, false}, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, errors.Wrap(err, "bce: ∂l")
	}
	var dx *G.Node
	if op.needDX {
		if dx, err = G.ApplyOp(bceGradOp{fusedBase{"bce.dx", new(outBuf)}, true}, inputs[0], inputs[1], grad); err != nil {
			return nil, errors.Wrap(err, "bce: ∂x")
		}
	}
	return G.Nodes{dl, dx}, nil
}

// bceGradOp: (l, x, dy) ↦ dy·(σ(l) − x)/n, or −dy·l/n when wrtX.
type bceGradOp struct {
	fusedBase
	wrtX bool
}

func (op bceGradOp) Arity() int { return 3 }
func (op bceGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t, a, t)
}
func (op bceGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (op bceGradOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 3 {
		return nil, errors.Errorf("%s: %d inputs", op.kind, len(vals))
	}
	a, err := denseArgs(op.kind, 2, vals[:2])
	if err != nil {
		return nil, err
	}
	dy, err := scalarValue(vals[2])
	if err != nil {
		return nil, errors.Wrap(err, op.kind)
	}
	l, x := a[0], a[1]
	n := l.Shape()[0]
	out := op.st.get(l.Dtype(), l.Shape()...)
	c := dy / float64(n)
	switch od := out.Data().(type) {
	case []float32:
		bceGrad(od, l.Data().([]float32), x.Data().([]float32), c, op.wrtX)
	case []float64:
		bceGrad(od, l.Data().([]float64), x.Data().([]float64), c, op.wrtX)
	}
	return out, nil
}

func bceGrad[T float32 | float64](dst, l, x []T, c float64, wrtX bool) {
	if wrtX {
		for i, li := range l {
			dst[i] = T(-c * float64(li))
		}
		return
	}
	for i, li := range l {
		dst[i] = T(c * (sigmoid(float64(li)) - float64(x[i])))
	}
}

func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

// scalarValue reads a scalar Gorgonia value as a float64.
func scalarValue(v G.Value) (float64, error) {
	switch d := v.Data().(type) {
	case float32:
		return float64(d), nil
	case float64:
		return d, nil
	case []float32:
		if len(d) == 1 {
			return float64(d[0]), nil
		}
	case []float64:
		if len(d) == 1 {
			return d[0], nil
		}
	}
	return 0, errors.Errorf("want a scalar, got %v", v.Shape())
}

// DiffWRT implements gorgonia.SDOp; bceGradOp only appears in gradients.
func (op bceGradOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }

// SymDiff implements gorgonia.SDOp; bceGradOp only appears in gradients.
func (op bceGradOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return nil, errors.New("aezoo: second derivatives of the fused BCE are not supported")
}

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

func activate[T float32 | float64](kind string, y, x []T) {
	switch kind {
	case "sigmoid":
		for i, v := range x {
			y[i] = T(sigmoid(float64(v)))
		}
	case "relu":
		for i, v := range x {
			y[i] = max(v, 0)
		}
	case "tanh":
		for i, v := range x {
			y[i] = T(math.Tanh(float64(v)))
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
	dx, err := G.ApplyOp(actGradOp{fusedBase{op.kind + ".grad", new(outBuf)}, op.kind}, output, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%s: gradient", op.kind)
	}
	return G.Nodes{dx}, nil
}

// actGradOp: (y, dy) ↦ dy ⊙ f'(y).
type actGradOp struct {
	fusedBase
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

func activateGrad[T float32 | float64](kind string, dx, y, dy []T) {
	switch kind {
	case "sigmoid":
		for i, v := range y {
			dx[i] = dy[i] * v * (1 - v)
		}
	case "relu":
		for i, v := range y {
			if v > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = 0
			}
		}
	case "tanh":
		for i, v := range y {
			dx[i] = dy[i] * (1 - v*v)
		}
	}
}

// DiffWRT implements gorgonia.SDOp; actGradOp only appears in gradients.
func (op actGradOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }

// SymDiff implements gorgonia.SDOp; actGradOp only appears in gradients.
func (op actGradOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return nil, errors.New("aezoo: second derivatives of a fused activation are not supported")
}

// ColSumSq returns the vector of column sums of squares Σ_i W_ij² of the
// matrix W, as one fused node that owns its output (and whose gradient,
// 2·W_ij·dy_j, does too).
func ColSumSq(w *G.Node) (*G.Node, error) {
	if w.Dims() != 2 {
		return nil, errors.Errorf("ColSumSq: need a matrix, got shape %v", w.Shape())
	}
	n, err := G.ApplyOp(colSumSqOp{fusedBase{"colsumsq", new(outBuf)}, false}, w)
	return n, errors.Wrap(err, "ColSumSq")
}

// colSumSqOp: W ↦ (Σ_i W_ij²)_j, or, as its gradient (grad set),
// (W, dy) ↦ 2·W_ij·dy_j.
type colSumSqOp struct {
	fusedBase
	grad bool
}

func (op colSumSqOp) Arity() int {
	if op.grad {
		return 2
	}
	return 1
}

func (op colSumSqOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m, v := G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 1, Of: a}
	if op.grad {
		return hm.NewFnType(m, v, m)
	}
	return hm.NewFnType(m, v)
}

func (op colSumSqOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := in[0].(tensor.Shape)
	if op.grad {
		return s.Clone(), nil
	}
	return tensor.Shape{s[1]}, nil
}

func (op colSumSqOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, op.Arity(), vals)
	if err != nil {
		return nil, err
	}
	r, c := a[0].Shape()[0], a[0].Shape()[1]
	if op.grad {
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
	out := op.st.get(a[0].Dtype(), c)
	switch d := out.Data().(type) {
	case []float32:
		colSumSq(d, a[0].Data().([]float32), r, c)
	case []float64:
		colSumSq(d, a[0].Data().([]float64), r, c)
	}
	return out, nil
}

func colSumSq[T float32 | float64](dst, w []T, r, c int) {
	clear(dst[:c])
	for i := 0; i < r; i++ {
		for j, v := range w[i*c : (i+1)*c] {
			dst[j] += v * v
		}
	}
}

func colSumSqGrad[T float32 | float64](dst, w, dy []T, r, c int) {
	for i := 0; i < r; i++ {
		row, out := w[i*c:(i+1)*c], dst[i*c:(i+1)*c]
		for j, v := range row {
			out[j] = 2 * v * dy[j]
		}
	}
}

// DiffWRT implements gorgonia.SDOp.
func (op colSumSqOp) DiffWRT(inputs int) []bool {
	if op.grad {
		return make([]bool, inputs)
	}
	return []bool{true}
}

// SymDiff implements gorgonia.SDOp: ∂W_ij = 2·W_ij·dy_j.
func (op colSumSqOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.grad || len(inputs) != 1 {
		return nil, errors.New("aezoo: second derivatives of a fused column sum of squares are not supported")
	}
	dw, err := G.ApplyOp(colSumSqOp{fusedBase{"colsumsq.grad", new(outBuf)}, true}, inputs[0], grad)
	if err != nil {
		return nil, errors.Wrap(err, "colsumsq: gradient")
	}
	return G.Nodes{dw}, nil
}

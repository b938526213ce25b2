package ops

import (
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

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
	dl, err := G.ApplyOp(bceGradOp{gradOnly{fusedBase{"bce.dl", new(outBuf)}}, false}, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, errors.Wrap(err, "bce: ∂l")
	}
	var dx *G.Node
	if op.needDX {
		if dx, err = G.ApplyOp(bceGradOp{gradOnly{fusedBase{"bce.dx", new(outBuf)}}, true}, inputs[0], inputs[1], grad); err != nil {
			return nil, errors.Wrap(err, "bce: ∂x")
		}
	}
	return G.Nodes{dl, dx}, nil
}

// bceGradOp: (l, x, dy) ↦ dy·(σ(l) − x)/n, or −dy·l/n when wrtX.
type bceGradOp struct {
	gradOnly
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

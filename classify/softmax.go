package classify

import (
	"fmt"
	"github.com/aezoo/aezoo/graph/ops"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SoftmaxCrossEntropy returns the batch mean of the softmax cross-entropy
// of logits l against targets y (both n×K, y one-hot or any distribution
// over the K classes) as one scalar node:
//
//	loss = mean_n [ log Σ_k exp(l_nk) − Σ_k y_nk l_nk ]
//
// computed stably (log-sum-exp shifted by the row maximum). Its gradient
// with respect to l is (softmax(l) − y)/n; y must be an input (a leaf): it
// gets no gradient.
func SoftmaxCrossEntropy(logits, y *G.Node) (*G.Node, error) {
	if logits.Dims() != 2 || !logits.Shape().Eq(y.Shape()) || logits.Dtype() != y.Dtype() {
		return nil, errors.Errorf("classify: softmax cross-entropy: logits %v %v and targets %v %v differ", logits.Shape(), logits.Dtype(), y.Shape(), y.Dtype())
	}
	if y.Op() != nil {
		return nil, errors.New("classify: softmax cross-entropy: the targets must be an input node")
	}
	n, err := G.ApplyOp(xentOp{new(byte)}, logits, y)
	return n, errors.Wrap(err, "classify: softmax cross-entropy")
}

// xentOp: (l, y) ↦ mean_rows [lse(l) − Σ y·l] (a scalar). id makes each
// node's hash unique, so Gorgonia never merges two loss nodes.
type xentOp struct{ id *byte }

func (op xentOp) Arity() int { return 2 }
func (op xentOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t, a)
}
func (op xentOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }
func (op xentOp) ReturnsPtr() bool                               { return false }
func (op xentOp) CallsExtern() bool                              { return false }
func (op xentOp) OverwritesInput() int                           { return -1 }
func (op xentOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "aezoo.softmaxxent(%p)", op.id) }
func (op xentOp) Hashcode() uint32                               { return hashOf(op) }
func (op xentOp) String() string                                 { return "aezoo.softmaxxent" }

func (op xentOp) Do(vals ...G.Value) (G.Value, error) {
	l, y, err := twoDense("softmax cross-entropy", vals)
	if err != nil {
		return nil, err
	}
	n, k := l.Shape()[0], l.Shape()[1]
	switch ld := l.Data().(type) {
	case []float32:
		v := G.F32(xentSum(ld, y.Data().([]float32), k) / float64(n))
		return &v, nil
	case []float64:
		v := G.F64(xentSum(ld, y.Data().([]float64), k) / float64(n))
		return &v, nil
	}
	return nil, errors.Errorf("softmax cross-entropy: unsupported dtype %v", l.Dtype())
}

// DiffWRT implements gorgonia.SDOp: differentiable in the logits only.
func (op xentOp) DiffWRT(int) []bool { return []bool{true, false} }

// SymDiff implements gorgonia.SDOp: ∂l = dy·(softmax(l) − y)/n.
func (op xentOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("softmax cross-entropy: %d inputs", len(inputs))
	}
	dl, err := G.ApplyOp(xentGradOp{new(outBuf)}, inputs[0], inputs[1], output, grad)
	if err != nil {
		return nil, errors.Wrap(err, "softmax cross-entropy: ∂l")
	}
	return G.Nodes{dl, nil}, nil
}

// xentGradOp: (l, y, loss, dy) ↦ dy·(softmax(l) − y)/n. The loss is an
// input only so that the gradient runs after the forward pass.
type xentGradOp struct{ st *outBuf }

// outBuf is the gradient node's own output tensor, reused at every run.
type outBuf struct{ t *tensor.Dense }

func (op xentGradOp) Arity() int { return 4 }
func (op xentGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t, a, a, t)
}
func (op xentGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op xentGradOp) ReturnsPtr() bool      { return false }
func (op xentGradOp) CallsExtern() bool     { return false }
func (op xentGradOp) OverwritesInput() int  { return -1 }
func (op xentGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "aezoo.softmaxxent.dl(%p)", op.st) }
func (op xentGradOp) Hashcode() uint32      { return hashOf(op) }
func (op xentGradOp) String() string        { return "aezoo.softmaxxent.dl" }

// DiffWRT implements gorgonia.SDOp: the gradient is not differentiated again.
func (op xentGradOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }

// SymDiff implements gorgonia.SDOp; it always fails.
func (op xentGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.New("classify: second derivatives of the softmax cross-entropy are not supported")
}

func (op xentGradOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 4 {
		return nil, errors.Errorf("softmax cross-entropy gradient: %d inputs", len(vals))
	}
	l, y, err := twoDense("softmax cross-entropy gradient", vals[:2])
	if err != nil {
		return nil, err
	}
	dy, err := ops.ScalarValue(vals[3])
	if err != nil {
		return nil, errors.Wrap(err, "softmax cross-entropy gradient")
	}
	n, k := l.Shape()[0], l.Shape()[1]
	if op.st.t == nil || op.st.t.Dtype() != l.Dtype() || !op.st.t.Shape().Eq(l.Shape()) {
		op.st.t = tensor.New(tensor.Of(l.Dtype()), tensor.WithShape(n, k))
	}
	c := dy / float64(n)
	switch od := op.st.t.Data().(type) {
	case []float32:
		xentGrad(od, l.Data().([]float32), y.Data().([]float32), k, c)
	case []float64:
		xentGrad(od, l.Data().([]float64), y.Data().([]float64), k, c)
	}
	return op.st.t, nil
}

// xentSum returns Σ_rows [lse(l) − Σ y·l] for rows of k values.
func xentSum[T float32 | float64](l, y []T, k int) float64 {
	var s float64
	for r := 0; r+k <= len(l); r += k {
		row, yr := l[r:r+k], y[r:r+k]
		s += logSumExp(row)
		for j, v := range row {
			s -= float64(yr[j]) * float64(v)
		}
	}
	return s
}

// xentGrad writes c·(softmax(l) − y) into dst, row by row.
func xentGrad[T float32 | float64](dst, l, y []T, k int, c float64) {
	for r := 0; r+k <= len(l); r += k {
		row := l[r : r+k]
		lse := logSumExp(row)
		for j, v := range row {
			dst[r+j] = T(c * (math.Exp(float64(v)-lse) - float64(y[r+j])))
		}
	}
}

// logSumExp is log Σ exp(v), shifted by the maximum.
func logSumExp[T float32 | float64](v []T) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, float64(x))
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, x := range v {
		s += math.Exp(float64(x) - m)
	}
	return m + math.Log(s)
}

// softmaxRows writes softmax of each row of k values of l into dst.
func softmaxRows(dst, l []float64, k int) {
	for r := 0; r+k <= len(l); r += k {
		lse := logSumExp(l[r : r+k])
		for j := 0; j < k; j++ {
			dst[r+j] = math.Exp(l[r+j] - lse)
		}
	}
}

func twoDense(kind string, vals []G.Value) (l, y *tensor.Dense, err error) {
	if len(vals) != 2 {
		return nil, nil, errors.Errorf("%s: %d inputs, want 2", kind, len(vals))
	}
	l, ok1 := vals[0].(*tensor.Dense)
	y, ok2 := vals[1].(*tensor.Dense)
	if !ok1 || !ok2 {
		return nil, nil, errors.Errorf("%s: inputs must be dense tensors", kind)
	}
	if l.Dtype() != y.Dtype() || !l.Shape().Eq(y.Shape()) || l.Dims() != 2 {
		return nil, nil, errors.Errorf("%s: logits %v %v and targets %v %v differ", kind, l.Shape(), l.Dtype(), y.Shape(), y.Dtype())
	}
	return l, y, nil
}

func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

package ops

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"github.com/viterin/vek/vek32"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// isLeaf reports whether n is an input or a parameter (no op).
func isLeaf(n *G.Node) bool { return n.Op() == nil }

// outBuf is a node's own output tensor, reused at every run.
type outBuf struct {
	t *tensor.Dense

	// Scratch the node's kernel keeps between runs (per-chunk partial
	// sums, per-chunk index buffers), so that a run allocates nothing.
	part []float64
	idx  [][]int
}

// partials returns n zeroed float64 slots.
func (o *outBuf) partials(n int) []float64 {
	if cap(o.part) < n {
		o.part = make([]float64, n)
	}
	o.part = o.part[:n]
	clear(o.part)
	return o.part
}

// indexBufs returns n index buffers of length cols each.
func (o *outBuf) indexBufs(n, cols int) [][]int {
	if len(o.idx) < n {
		o.idx = append(o.idx, make([][]int, n-len(o.idx))...)
	}
	for i := range o.idx[:n] {
		if len(o.idx[i]) != cols {
			o.idx[i] = make([]int, cols)
		}
	}
	return o.idx[:n]
}

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

// gradOnly is the base of the ops that appear only inside gradients: they
// are never differentiated again (no second derivatives).
type gradOnly struct{ fusedBase }

// DiffWRT implements gorgonia.SDOp: a gradient-only op is differentiable in
// none of its inputs.
func (g gradOnly) DiffWRT(inputs int) []bool { return make([]bool, inputs) }

// SymDiff implements gorgonia.SDOp; it always fails.
func (g gradOnly) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return nil, errors.Errorf("aezoo: second derivatives through %s are not supported", g.kind)
}

func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// ScalarValue reads a scalar Gorgonia value (a float32 or float64, or a
// one-element vector of them) as a float64.
func ScalarValue(v G.Value) (float64, error) {
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

func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

// addTo adds src to dst elementwise (the same sums as a plain loop: vek32's
// SIMD add rounds each element exactly as scalar code does).
func addTo[T float32 | float64](dst, src []T) {
	switch d := any(dst).(type) {
	case []float32:
		vek32.Add_Inplace(d, any(src).([]float32)[:len(d)])
	default:
		for j, v := range src[:len(dst)] {
			dst[j] += v
		}
	}
}

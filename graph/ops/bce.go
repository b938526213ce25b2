package ops

import (
	"math"

	"github.com/aezoo/aezoo/internal/par"
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
	op := bceOp{fusedBase{"bce", new(outBuf)}, !isLeaf(x), new(bceCache)}
	n, err := G.ApplyOp(op, logits, x)
	return n, errors.Wrap(err, "BCEWithLogits")
}

// bceCache keeps e^(−|l|) of the forward pass for the gradient ∂l, which
// runs after it (the gradient op takes the loss as an input) and needs the
// same exponentials for σ(l): one exp per entry per step instead of two.
type bceCache struct {
	e   []float64
	src any // the logits' backing slice the forward pass read
}

// bceOp: (l, x) ↦ mean_rows Σ_cols softplus(l) − x·l (a scalar).
type bceOp struct {
	fusedBase
	needDX bool
	cache  *bceCache
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
		v := G.F32(bceSum(op.st, op.cache, ld, x.Data().([]float32)) / float64(n))
		return &v, nil
	case []float64:
		v := G.F64(bceSum(op.st, op.cache, ld, x.Data().([]float64)) / float64(n))
		return &v, nil
	}
	return nil, errors.Errorf("bce: unsupported dtype %v", l.Dtype())
}

// softplus is log(1 + e^l), computed stably from e = e^(−|l|).
func softplus(l, e float64) float64 {
	if l > 0 {
		return l + math.Log1p(e)
	}
	return math.Log1p(e)
}

// softplus32 is softplus for float32 data: log1pUnit instead of
// math.Log1p, within 2e-12 of it relatively — far below float32's 6e-8 —
// at about half the instructions.
func softplus32(l, e float64) float64 {
	if l > 0 {
		return l + log1pUnit(e)
	}
	return log1pUnit(e)
}

// log1pUnit returns log(1 + x) for x in [0, 1] with a relative error below
// 2e-12: 2·atanh(s), s = x'/(2 + x'), as its odd series to s¹⁵, where
// x' = x, or x' = (x − 1)/2 and ln 2 is added when x > √2 − 1 (so
// |s| < 0.172).
func log1pUnit(x float64) float64 {
	k := 0.0
	if x > math.Sqrt2-1 {
		x, k = (x-1)*0.5, math.Ln2
	}
	s := x / (2 + x)
	z := s * s
	return k + 2*s*(1+z*(1.0/3+z*(1.0/5+z*(1.0/7+z*(1.0/9+z*(1.0/11+z*(1.0/13+z*(1.0/15))))))))
}

// sigmoidE is σ(l) from e = e^(−|l|) (the same value as sigmoid(l)).
func sigmoidE(l, e float64) float64 {
	if l >= 0 {
		return 1 / (1 + e)
	}
	return e / (1 + e)
}

// bceSum returns Σ softplus(l) − x·l over all entries, in chunks on every
// core whose partial sums are added in chunk order (the same bits at any
// thread count), and leaves e^(−|l|) in the cache.
func bceSum[T float32 | float64](st *outBuf, cache *bceCache, l, x []T) float64 {
	if len(cache.e) != len(l) {
		cache.e = make([]float64, len(l))
	}
	cache.src = l
	e := cache.e
	grain := par.Grain(len(l), 40)
	part := st.partials(par.Chunks(len(l), grain))
	l32, f32 := any(l).([]float32)
	x32, _ := any(x).([]float32)
	par.For(len(l), grain, func(c, lo, hi int) {
		var s float64
		if f32 {
			s = bceChunk32(l32[lo:hi], x32[lo:hi], e[lo:hi])
		} else {
			for i := lo; i < hi; i++ {
				lf := float64(l[i])
				ei := math.Exp(-math.Abs(lf))
				e[i] = ei
				s += softplus(lf, ei) - float64(x[i])*lf
			}
		}
		part[c] = s
	})
	var s float64
	for _, p := range part {
		s += p
	}
	return s
}

// bceChunk32 returns Σ softplus32(l) − x·l over a chunk of float32 data,
// added entry after entry in order, and stores e^(−|l|) in e: blocks of
// four with AVX2/FMA (bceSumAVX, the same bits), the rest (blocks with a
// NaN or an |l| > 700, the tail) one by one.
func bceChunk32(l, x []float32, e []float64) float64 {
	var s float64
	for i := 0; i < len(l); {
		if haveExpAVX {
			var n int
			s, n = bceSumAVX(l[i:], x[i:], e[i:], s, &avxK)
			i += n
		}
		for end := min(i+4, len(l)); i < end; i++ {
			lf := float64(l[i])
			ei := math.Exp(-math.Abs(lf))
			e[i] = ei
			s += softplus32(lf, ei) - float64(x[i])*lf
		}
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
	dl, err := G.ApplyOp(bceGradOp{gradOnly{fusedBase{"bce.dl", new(outBuf)}}, false, op.cache}, inputs[0], inputs[1], output, grad)
	if err != nil {
		return nil, errors.Wrap(err, "bce: ∂l")
	}
	var dx *G.Node
	if op.needDX {
		if dx, err = G.ApplyOp(bceGradOp{gradOnly{fusedBase{"bce.dx", new(outBuf)}}, true, nil}, inputs[0], inputs[1], output, grad); err != nil {
			return nil, errors.Wrap(err, "bce: ∂x")
		}
	}
	return G.Nodes{dl, dx}, nil
}

// bceGradOp: (l, x, y, dy) ↦ dy·(σ(l) − x)/n, or −dy·l/n when wrtX. y, the
// loss, is an input only so that the gradient runs after the forward pass
// and can use its cache.
type bceGradOp struct {
	gradOnly
	wrtX  bool
	cache *bceCache // nil: compute the exponentials here
}

func (op bceGradOp) Arity() int { return 4 }
func (op bceGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t, a, a, t)
}
func (op bceGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (op bceGradOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 4 {
		return nil, errors.Errorf("%s: %d inputs", op.kind, len(vals))
	}
	a, err := denseArgs(op.kind, 2, vals[:2])
	if err != nil {
		return nil, err
	}
	dy, err := ScalarValue(vals[3])
	if err != nil {
		return nil, errors.Wrap(err, op.kind)
	}
	l, x := a[0], a[1]
	n := l.Shape()[0]
	out := op.st.get(l.Dtype(), l.Shape()...)
	c := dy / float64(n)
	switch od := out.Data().(type) {
	case []float32:
		bceGrad(od, l.Data().([]float32), x.Data().([]float32), op.cachedE(l.Data()), c, op.wrtX)
	case []float64:
		bceGrad(od, l.Data().([]float64), x.Data().([]float64), op.cachedE(l.Data()), c, op.wrtX)
	}
	return out, nil
}

// cachedE returns the forward pass's e^(−|l|) if it was computed from the
// logits l, else nil.
func (op bceGradOp) cachedE(l any) []float64 {
	if op.cache == nil || op.cache.src == nil || !sameSlice(op.cache.src, l) {
		return nil
	}
	return op.cache.e
}

// sameSlice reports whether a and b are the same float32 or float64 slice.
func sameSlice(a, b any) bool {
	switch x := a.(type) {
	case []float32:
		y, ok := b.([]float32)
		return ok && len(x) == len(y) && len(x) > 0 && &x[0] == &y[0]
	case []float64:
		y, ok := b.([]float64)
		return ok && len(x) == len(y) && len(x) > 0 && &x[0] == &y[0]
	}
	return false
}

// bceGrad writes c·(σ(l) − x) (or −c·l when wrtX) into dst, in parallel
// chunks; e, when not nil, holds e^(−|l|).
func bceGrad[T float32 | float64](dst, l, x []T, e []float64, c float64, wrtX bool) {
	if wrtX {
		par.For(len(l), par.Grain(len(l), 1), func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				dst[i] = T(-c * float64(l[i]))
			}
		})
		return
	}
	d32, f32 := any(dst).([]float32)
	l32, _ := any(l).([]float32)
	x32, _ := any(x).([]float32)
	par.For(len(l), par.Grain(len(l), 20), func(_, lo, hi int) {
		if f32 && e != nil && haveExpAVX {
			bceGradAVX(d32[lo:hi], l32[lo:hi], x32[lo:hi], e[lo:hi], c, &avxK)
			lo += (hi - lo) / 4 * 4
		}
		for i := lo; i < hi; i++ {
			lf := float64(l[i])
			var s float64
			if e != nil {
				s = sigmoidE(lf, e[i])
			} else {
				s = sigmoid(lf)
			}
			dst[i] = T(c * (s - float64(x[i])))
		}
	})
}

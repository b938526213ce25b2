package ops

import (
	"fmt"
	"hash"

	"github.com/aezoo/aezoo/internal/par"
	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TopK keeps, in each row of the matrix x, the k largest values and sets
// the others to 0 (Makhzani & Frey's k-sparse code). Ties are broken by
// position: among equal values the lower column index is kept. Its gradient
// flows only through the kept entries.
//
// k is read at every run, so a schedule may change *k between runs (it must
// stay in 1..columns). The op's hash includes the address and value of k.
func TopK(x *G.Node, k *int) (*G.Node, error) {
	if x.Dims() != 2 {
		return nil, errors.Errorf("TopK: need a matrix, got shape %v", x.Shape())
	}
	if *k <= 0 || *k > x.Shape()[1] {
		return nil, errors.Errorf("TopK: k=%d outside 1..%d", *k, x.Shape()[1])
	}
	return G.ApplyOp(topKOp{fusedBase{"topk", new(outBuf)}, k}, x)
}

// topKOp is the forward op: y = x ⊙ mask_k(x). Its hash adds the address
// and value of k to its base's.
type topKOp struct {
	fusedBase
	k *int
}

// topKGradOp is the backward op: (x, dy) ↦ dy ⊙ mask_k(x).
type topKGradOp struct {
	gradOnly
	k *int
}

func (op topKOp) Arity() int     { return 1 }
func (op topKGradOp) Arity() int { return 2 }

func (op topKOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op topKGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a)
}

func (op topKOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (op topKGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (op topKOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("topk: %d inputs", len(vals))
	}
	return maskTopK(op.st, vals[0], vals[0], *op.k)
}

func (op topKGradOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 2 {
		return nil, errors.Errorf("topk grad: %d inputs", len(vals))
	}
	return maskTopK(op.st, vals[0], vals[1], *op.k)
}

// maskTopK returns src with every entry zeroed except, in each row, those at
// the positions of the k largest entries of sel, in the node's own output
// tensor (st), rows in parallel.
func maskTopK(st *outBuf, sel, src G.Value, k int) (G.Value, error) {
	sd, ok1 := sel.(*tensor.Dense)
	vd, ok2 := src.(*tensor.Dense)
	if !ok1 || !ok2 || sd.Dims() != 2 || !sd.Shape().Eq(vd.Shape()) {
		return nil, errors.Errorf("topk: want two matrices of one shape, got %v and %v", sel.Shape(), src.Shape())
	}
	if sd.Dtype() != vd.Dtype() {
		return nil, errors.New("topk: mixed dtypes")
	}
	rows, cols := sd.Shape()[0], sd.Shape()[1]
	if k <= 0 || k > cols {
		return nil, errors.Errorf("topk: k=%d outside 1..%d", k, cols)
	}
	out := st.get(sd.Dtype(), rows, cols)
	switch s := sd.Data().(type) {
	case []float32:
		keepTopKPar(st, s, vd.Data().([]float32), out.Data().([]float32), rows, cols, k)
	case []float64:
		keepTopKPar(st, s, vd.Data().([]float64), out.Data().([]float64), rows, cols, k)
	default:
		return nil, errors.Errorf("topk: unsupported dtype %v", sd.Dtype())
	}
	return out, nil
}

// keepTopKPar is keepTopK on row blocks in parallel, each with its own
// index buffer from st.
func keepTopKPar[T float32 | float64](st *outBuf, s, v, out []T, rows, cols, k int) {
	grain := par.Grain(rows, 8*cols)
	idx := st.indexBufs(par.Chunks(rows, grain), cols)
	par.For(rows, grain, func(c, lo, hi int) {
		keepTopKRows(s[lo*cols:hi*cols], v[lo*cols:hi*cols], out[lo*cols:hi*cols], idx[c], hi-lo, cols, k)
	})
}

// keepTopKRows is keepTopK with the index buffer idx (cols long); out is
// cleared first.
func keepTopKRows[T float32 | float64](s, v, out []T, idx []int, rows, cols, k int) {
	clear(out[:rows*cols])
	for r := 0; r < rows; r++ {
		row := s[r*cols : (r+1)*cols]
		for j := range idx {
			idx[j] = j
		}
		selectTop(row, idx, k)
		for _, j := range idx[:k] {
			out[r*cols+j] = v[r*cols+j]
		}
	}
}

// selectTop reorders the positions idx so that idx[:k] are those of the k
// largest entries of row, in the strict order "larger value, then lower
// index" (so ties keep the lower index). It is quickselect with a
// median-of-three pivot: expected time linear in len(idx), where a sort
// takes n log n.
func selectTop[T float32 | float64](row []T, idx []int, k int) {
	before := func(a, b int) bool { // a ranks before b
		if row[a] != row[b] {
			return row[a] > row[b]
		}
		return a < b
	}
	lo, hi := 0, len(idx)-1
	for lo < hi {
		// The median of idx[lo], idx[mid], idx[hi] goes to idx[hi], the pivot.
		mid := lo + (hi-lo)/2
		if before(idx[mid], idx[lo]) {
			idx[mid], idx[lo] = idx[lo], idx[mid]
		}
		if before(idx[hi], idx[lo]) {
			idx[hi], idx[lo] = idx[lo], idx[hi]
		}
		if before(idx[mid], idx[hi]) {
			idx[mid], idx[hi] = idx[hi], idx[mid]
		}
		pivot := idx[hi]
		p := lo
		for i := lo; i < hi; i++ {
			if before(idx[i], pivot) {
				idx[i], idx[p] = idx[p], idx[i]
				p++
			}
		}
		idx[p], idx[hi] = idx[hi], idx[p]
		// Now idx[lo:p] rank before the pivot at p, idx[p+1:hi+1] after it.
		switch {
		case p == k || p == k-1:
			return
		case p < k:
			lo = p + 1
		default:
			hi = p - 1
		}
	}
}

// TopKMask returns, for a row-major rows×cols matrix s, the 0/1 mask of
// the k largest entries of each row (the rule TopK uses).
func TopKMask(s []float64, rows, cols, k int) []float64 {
	ones := make([]float64, len(s))
	for i := range ones {
		ones[i] = 1
	}
	out := make([]float64, len(s))
	keepTopKPar(new(outBuf), s, ones, out, rows, cols, k)
	return out
}

func (op topKOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "aezoo.%s(%p,k=%p:%d)", op.kind, op.st, op.k, *op.k)
}
func (op topKGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "aezoo.%s(%p,k=%p:%d)", op.kind, op.st, op.k, *op.k)
}
func (op topKOp) Hashcode() uint32     { return hashOf(op) }
func (op topKGradOp) Hashcode() uint32 { return hashOf(op) }
func (op topKOp) String() string       { return fmt.Sprintf("TopK{k=%d}", *op.k) }
func (op topKGradOp) String() string   { return fmt.Sprintf("TopKGrad{k=%d}", *op.k) }

// DiffWRT implements gorgonia.SDOp: TopK is differentiable in its input.
func (op topKOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff implements gorgonia.SDOp: ∂L/∂x = ∂L/∂y ⊙ mask_k(x).
func (op topKOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("topk: %d inputs", len(inputs))
	}
	dx, err := G.ApplyOp(topKGradOp{gradOnly{fusedBase{"topk.grad", new(outBuf)}}, op.k}, inputs[0], grad)
	if err != nil {
		return nil, errors.Wrap(err, "topk: gradient")
	}
	return G.Nodes{dx}, nil
}

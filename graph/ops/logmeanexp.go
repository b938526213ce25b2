package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LogMeanExp returns, for a vector v of B·k values grouped in runs of k
// (v[b·k+j], j < k), the vector of B values
//
//	y_b = log (1/k) Σ_j exp(v[b·k+j])
//
// computed stably (the largest value of each group is factored out), as one
// fused node. It is the importance-weighted bound of Burda et al. when v
// holds log weights. Its gradient is dy_b · w_bj with w_bj = exp(v_bj − y_b)/k,
// the normalized weights.
func LogMeanExp(v *G.Node, k int) (*G.Node, error) {
	if v.Dims() != 1 {
		return nil, errors.Errorf("LogMeanExp: need a vector, got shape %v", v.Shape())
	}
	if k <= 0 || v.Shape()[0]%k != 0 {
		return nil, errors.Errorf("LogMeanExp: %d values do not split into groups of %d", v.Shape()[0], k)
	}
	n, err := G.ApplyOp(logMeanExpOp{fusedBase{"logmeanexp", new(outBuf)}, k}, v)
	return n, errors.Wrap(err, "LogMeanExp")
}

// logMeanExpOp: v (B·k) ↦ y (B).
type logMeanExpOp struct {
	fusedBase
	k int
}

func (op logMeanExpOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "aezoo.logmeanexp(%d,%p)", op.k, op.st) }
func (op logMeanExpOp) Hashcode() uint32      { return hashOf(op) }
func (op logMeanExpOp) Arity() int            { return 1 }

func (op logMeanExpOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: 1, Of: a}, G.TensorType{Dims: 1, Of: a})
}

func (op logMeanExpOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[0].(tensor.Shape).TotalSize() / op.k}, nil
}

func (op logMeanExpOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 1, vals)
	if err != nil {
		return nil, err
	}
	n := a[0].Shape().TotalSize()
	if n%op.k != 0 {
		return nil, errors.Errorf("%s: %d values for groups of %d", op.kind, n, op.k)
	}
	out := op.st.get(a[0].Dtype(), n/op.k)
	switch d := out.Data().(type) {
	case []float32:
		logMeanExp(d, a[0].Data().([]float32), op.k)
	case []float64:
		logMeanExp(d, a[0].Data().([]float64), op.k)
	}
	return out, nil
}

// logMeanExp writes log (1/k) Σ_j exp(v[b·k+j]) into dst[b].
func logMeanExp[T float32 | float64](dst, v []T, k int) {
	lk := math.Log(float64(k))
	for b := range dst {
		g := v[b*k : (b+1)*k]
		m := math.Inf(-1)
		for _, x := range g {
			m = math.Max(m, float64(x))
		}
		if math.IsInf(m, 0) {
			dst[b] = T(m)
			continue
		}
		var s float64
		for _, x := range g {
			s += math.Exp(float64(x) - m)
		}
		dst[b] = T(m + math.Log(s) - lk)
	}
}

// DiffWRT implements gorgonia.SDOp.
func (op logMeanExpOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff implements gorgonia.SDOp: ∂v_bj = dy_b · exp(v_bj − y_b)/k.
func (op logMeanExpOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("logmeanexp: %d inputs", len(inputs))
	}
	dv, err := G.ApplyOp(logMeanExpGradOp{gradOnly{fusedBase{"logmeanexp.grad", new(outBuf)}}, op.k}, inputs[0], output, grad)
	if err != nil {
		return nil, errors.Wrap(err, "logmeanexp: gradient")
	}
	return G.Nodes{dv}, nil
}

// logMeanExpGradOp: (v, y, dy) ↦ dy_b · exp(v_bj − y_b)/k.
type logMeanExpGradOp struct {
	gradOnly
	k int
}

func (op logMeanExpGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "aezoo.logmeanexp.grad(%d,%p)", op.k, op.st)
}
func (op logMeanExpGradOp) Hashcode() uint32 { return hashOf(op) }
func (op logMeanExpGradOp) Arity() int       { return 3 }

func (op logMeanExpGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	v := G.TensorType{Dims: 1, Of: a}
	return hm.NewFnType(v, v, v, v)
}

func (op logMeanExpGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (op logMeanExpGradOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 3, vals)
	if err != nil {
		return nil, err
	}
	n := a[0].Shape().TotalSize()
	if a[1].Shape().TotalSize()*op.k != n || a[2].Shape().TotalSize()*op.k != n {
		return nil, errors.Errorf("%s: shapes %v, %v, %v for groups of %d", op.kind, a[0].Shape(), a[1].Shape(), a[2].Shape(), op.k)
	}
	out := op.st.get(a[0].Dtype(), n)
	switch d := out.Data().(type) {
	case []float32:
		logMeanExpGrad(d, a[0].Data().([]float32), a[1].Data().([]float32), a[2].Data().([]float32), op.k)
	case []float64:
		logMeanExpGrad(d, a[0].Data().([]float64), a[1].Data().([]float64), a[2].Data().([]float64), op.k)
	}
	return out, nil
}

func logMeanExpGrad[T float32 | float64](dst, v, y, dy []T, k int) {
	inv := 1 / float64(k)
	for b := range y {
		yb, db := float64(y[b]), float64(dy[b])
		for j := b * k; j < (b+1)*k; j++ {
			dst[j] = T(db * math.Exp(float64(v[j])-yb) * inv)
		}
	}
}

// RepeatRows returns the (B·k)×c matrix whose rows b·k … b·k+k−1 are all
// row b of the B×c matrix a, as one fused node: each example's row repeated
// for its k importance samples. Its gradient sums each group of k rows.
func RepeatRows(a *G.Node, k int) (*G.Node, error) {
	if a.Dims() != 2 {
		return nil, errors.Errorf("RepeatRows: need a matrix, got shape %v", a.Shape())
	}
	if k <= 0 {
		return nil, errors.Errorf("RepeatRows: %d repeats", k)
	}
	n, err := G.ApplyOp(repeatRowsOp{fusedBase{"repeatrows", new(outBuf)}, k}, a)
	return n, errors.Wrap(err, "RepeatRows")
}

// repeatRowsOp: a (B×c) ↦ (B·k)×c; with sum set it is the gradient,
// (B·k)×c ↦ B×c summing each group of k rows.
type repeatRowsOp struct {
	fusedBase
	k int
}

func (op repeatRowsOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "aezoo.%s(%d,%p)", op.kind, op.k, op.st)
}
func (op repeatRowsOp) Hashcode() uint32 { return hashOf(op) }
func (op repeatRowsOp) Arity() int       { return 1 }

func (op repeatRowsOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, m)
}

func (op repeatRowsOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := in[0].(tensor.Shape)
	return tensor.Shape{s[0] * op.k, s[1]}, nil
}

func (op repeatRowsOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 1, vals)
	if err != nil {
		return nil, err
	}
	r, c := a[0].Shape()[0], a[0].Shape()[1]
	out := op.st.get(a[0].Dtype(), r*op.k, c)
	switch d := out.Data().(type) {
	case []float32:
		repeatRows(d, a[0].Data().([]float32), r, c, op.k)
	case []float64:
		repeatRows(d, a[0].Data().([]float64), r, c, op.k)
	}
	return out, nil
}

func repeatRows[T float32 | float64](dst, a []T, r, c, k int) {
	for b := 0; b < r; b++ {
		row := a[b*c : (b+1)*c]
		for j := 0; j < k; j++ {
			copy(dst[(b*k+j)*c:(b*k+j+1)*c], row)
		}
	}
}

// DiffWRT implements gorgonia.SDOp.
func (op repeatRowsOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff implements gorgonia.SDOp: ∂a_b = Σ_j dy_{b·k+j}.
func (op repeatRowsOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("repeatrows: %d inputs", len(inputs))
	}
	da, err := G.ApplyOp(sumRowGroupsOp{rowGroups{gradOnly{fusedBase{"repeatrows.grad", new(outBuf)}}, op.k}}, grad)
	if err != nil {
		return nil, errors.Wrap(err, "repeatrows: gradient")
	}
	return G.Nodes{da}, nil
}

// rowGroups is the part the ops that map (B·k)×c to B×c, one row per
// group of k rows, share: hash, arity, type and shape; each adds its Do.
type rowGroups struct {
	gradOnly
	k int
}

func (op rowGroups) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "aezoo.%s(%d,%p)", op.kind, op.k, op.st)
}
func (op rowGroups) Hashcode() uint32 { return hashOf(op) }
func (op rowGroups) Arity() int       { return 1 }

func (op rowGroups) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, m)
}

func (op rowGroups) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := in[0].(tensor.Shape)
	return tensor.Shape{s[0] / op.k, s[1]}, nil
}

// sumRowGroupsOp: (B·k)×c ↦ B×c, the sum of each group of k rows.
type sumRowGroupsOp struct{ rowGroups }

func (op sumRowGroupsOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 1, vals)
	if err != nil {
		return nil, err
	}
	r, c := a[0].Shape()[0], a[0].Shape()[1]
	if r%op.k != 0 {
		return nil, errors.Errorf("%s: %d rows for groups of %d", op.kind, r, op.k)
	}
	out := op.st.get(a[0].Dtype(), r/op.k, c)
	switch d := out.Data().(type) {
	case []float32:
		sumRowGroups(d, a[0].Data().([]float32), r/op.k, c, op.k)
	case []float64:
		sumRowGroups(d, a[0].Data().([]float64), r/op.k, c, op.k)
	}
	return out, nil
}

func sumRowGroups[T float32 | float64](dst, a []T, r, c, k int) {
	for b := 0; b < r; b++ {
		d := dst[b*c : (b+1)*c]
		copy(d, a[b*k*c:(b*k+1)*c])
		for j := 1; j < k; j++ {
			for i, v := range a[(b*k+j)*c : (b*k+j+1)*c] {
				d[i] += v
			}
		}
	}
}

// Unfold returns the (B·k)×c matrix whose row b·k+j is the j-th block of c
// columns of row b of the B×(k·c) matrix a (the same values in the same
// order, as a copy: a view would let Gorgonia's in-place ops write through
// to a). It turns an input of k samples per example into one row per
// sample. Its gradient folds back.
func Unfold(a *G.Node, k int) (*G.Node, error) {
	if a.Dims() != 2 || k <= 0 || a.Shape()[1]%k != 0 {
		return nil, errors.Errorf("Unfold: cannot split the %v matrix's rows into %d blocks", a.Shape(), k)
	}
	n, err := G.ApplyOp(unfoldOp{fusedBase{"unfold", new(outBuf)}, k, false}, a)
	return n, errors.Wrap(err, "Unfold")
}

// unfoldOp: B×(k·c) ↦ (B·k)×c, or back when fold is set.
type unfoldOp struct {
	fusedBase
	k    int
	fold bool
}

func (op unfoldOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "aezoo.%s(%d,%v,%p)", op.kind, op.k, op.fold, op.st)
}
func (op unfoldOp) Hashcode() uint32 { return hashOf(op) }
func (op unfoldOp) Arity() int       { return 1 }

func (op unfoldOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, m)
}

func (op unfoldOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := in[0].(tensor.Shape)
	if op.fold {
		return tensor.Shape{s[0] / op.k, s[1] * op.k}, nil
	}
	return tensor.Shape{s[0] * op.k, s[1] / op.k}, nil
}

func (op unfoldOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 1, vals)
	if err != nil {
		return nil, err
	}
	s, err := op.InferShape(a[0].Shape())
	if err != nil {
		return nil, err
	}
	out := op.st.get(a[0].Dtype(), s...)
	switch d := out.Data().(type) {
	case []float32:
		copy(d, a[0].Data().([]float32))
	case []float64:
		copy(d, a[0].Data().([]float64))
	}
	return out, nil
}

// DiffWRT implements gorgonia.SDOp.
func (op unfoldOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff implements gorgonia.SDOp: the gradient is the output's gradient
// folded back into the input's shape.
func (op unfoldOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	kind := "unfold.grad"
	if op.fold {
		kind = "fold.grad"
	}
	da, err := G.ApplyOp(unfoldOp{fusedBase{kind, new(outBuf)}, op.k, !op.fold}, grad)
	if err != nil {
		return nil, errors.Wrap(err, kind)
	}
	return G.Nodes{da}, nil
}

// FirstOfGroups returns the B×c matrix of rows 0, k, 2k, … of the (B·k)×c
// matrix a: the first sample of each example. It is for outputs only (not
// differentiable).
func FirstOfGroups(a *G.Node, k int) (*G.Node, error) {
	if a.Dims() != 2 || k <= 0 || a.Shape()[0]%k != 0 {
		return nil, errors.Errorf("FirstOfGroups: cannot split the %v matrix's rows into groups of %d", a.Shape(), k)
	}
	n, err := G.ApplyOp(firstOfGroupsOp{rowGroups{gradOnly{fusedBase{"firstofgroups", new(outBuf)}}, k}}, a)
	return n, errors.Wrap(err, "FirstOfGroups")
}

type firstOfGroupsOp struct{ rowGroups }

func (op firstOfGroupsOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 1, vals)
	if err != nil {
		return nil, err
	}
	r, c := a[0].Shape()[0], a[0].Shape()[1]
	out := op.st.get(a[0].Dtype(), r/op.k, c)
	switch d := out.Data().(type) {
	case []float32:
		firstOfGroups(d, a[0].Data().([]float32), r/op.k, c, op.k)
	case []float64:
		firstOfGroups(d, a[0].Data().([]float64), r/op.k, c, op.k)
	}
	return out, nil
}

func firstOfGroups[T float32 | float64](dst, a []T, r, c, k int) {
	for b := 0; b < r; b++ {
		copy(dst[b*c:(b+1)*c], a[b*k*c:(b*k+1)*c])
	}
}

package ops

import (
	"math"

	"github.com/aezoo/aezoo/internal/par"
	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Reparameterize returns z = μ + exp(½·log σ²) ⊙ ε for matrices μ, log σ²
// and ε of one shape, as one fused node that owns its output: the VAE's
// reparameterization trick. Its gradients are ∂μ = dz and
// ∂log σ² = ½·dz ⊙ σ ⊙ ε; ε (fed noise) gets none.
func Reparameterize(mu, logVar, eps *G.Node) (*G.Node, error) {
	if mu.Dims() != 2 || !mu.Shape().Eq(logVar.Shape()) || !mu.Shape().Eq(eps.Shape()) {
		return nil, errors.Errorf("Reparameterize: shapes μ %v, log σ² %v, ε %v differ", mu.Shape(), logVar.Shape(), eps.Shape())
	}
	if mu.Dtype() != logVar.Dtype() || mu.Dtype() != eps.Dtype() {
		return nil, errors.Errorf("Reparameterize: mixed dtypes %v, %v, %v", mu.Dtype(), logVar.Dtype(), eps.Dtype())
	}
	n, err := G.ApplyOp(reparamOp{fusedBase{"reparam", new(outBuf)}}, mu, logVar, eps)
	return n, errors.Wrap(err, "Reparameterize")
}

// reparamOp: (μ, log σ², ε) ↦ μ + exp(½ log σ²) ⊙ ε.
type reparamOp struct{ fusedBase }

func (op reparamOp) Arity() int    { return 3 }
func (op reparamOp) Type() hm.Type { return matrixType(3) }
func (op reparamOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (op reparamOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 3, vals)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(a[1].Shape()) || !a[0].Shape().Eq(a[2].Shape()) {
		return nil, errors.Errorf("reparam: shapes %v, %v, %v differ", a[0].Shape(), a[1].Shape(), a[2].Shape())
	}
	z := op.st.get(a[0].Dtype(), a[0].Shape()...)
	switch zd := z.Data().(type) {
	case []float32:
		reparam(zd, a[0].Data().([]float32), a[1].Data().([]float32), a[2].Data().([]float32))
	case []float64:
		reparam(zd, a[0].Data().([]float64), a[1].Data().([]float64), a[2].Data().([]float64))
	}
	return z, nil
}

// reparam writes μ + exp(½ lv)·ε into z, in parallel chunks.
func reparam[T float32 | float64](z, mu, lv, eps []T) {
	par.For(len(z), par.Grain(len(z), 20), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			z[i] = T(float64(mu[i]) + math.Exp(0.5*float64(lv[i]))*float64(eps[i]))
		}
	})
}

// DiffWRT implements gorgonia.SDOp: μ and log σ², not ε.
func (op reparamOp) DiffWRT(inputs int) []bool { return []bool{true, true, false} }

// SymDiff implements gorgonia.SDOp: ∂μ = dz (the upstream node itself),
// ∂log σ² = ½·dz ⊙ exp(½ log σ²) ⊙ ε.
func (op reparamOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 3 {
		return nil, errors.Errorf("reparam: %d inputs", len(inputs))
	}
	dlv, err := G.ApplyOp(reparamGradOp{gradOnly{fusedBase{"reparam.dlogvar", new(outBuf)}}}, inputs[1], inputs[2], grad)
	if err != nil {
		return nil, errors.Wrap(err, "reparam: ∂log σ²")
	}
	return G.Nodes{grad, dlv, nil}, nil
}

// reparamGradOp: (log σ², ε, dz) ↦ ½·dz ⊙ exp(½ log σ²) ⊙ ε.
type reparamGradOp struct{ gradOnly }

func (op reparamGradOp) Arity() int    { return 3 }
func (op reparamGradOp) Type() hm.Type { return matrixType(3) }
func (op reparamGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (op reparamGradOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 3, vals)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(a[1].Shape()) || !a[0].Shape().Eq(a[2].Shape()) {
		return nil, errors.Errorf("%s: shapes %v, %v, %v differ", op.kind, a[0].Shape(), a[1].Shape(), a[2].Shape())
	}
	d := op.st.get(a[0].Dtype(), a[0].Shape()...)
	switch dd := d.Data().(type) {
	case []float32:
		reparamGrad(dd, a[0].Data().([]float32), a[1].Data().([]float32), a[2].Data().([]float32))
	case []float64:
		reparamGrad(dd, a[0].Data().([]float64), a[1].Data().([]float64), a[2].Data().([]float64))
	}
	return d, nil
}

// reparamGrad writes ½·dz·exp(½ lv)·ε into d, in parallel chunks.
func reparamGrad[T float32 | float64](d, lv, eps, dz []T) {
	par.For(len(d), par.Grain(len(d), 20), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			d[i] = T(0.5 * float64(dz[i]) * math.Exp(0.5*float64(lv[i])) * float64(eps[i]))
		}
	})
}

// GaussianKL returns KL(N(μ, diag σ²) ‖ N(0, I)) averaged over the rows
// (examples) of μ and log σ², −½ Σ_j (1 + log σ²_j − μ_j² − σ²_j) per row,
// as one fused scalar node. Its gradients are ∂μ = dy·μ/n and
// ∂log σ² = dy·½(σ² − 1)/n for n rows.
func GaussianKL(mu, logVar *G.Node) (*G.Node, error) {
	if mu.Dims() != 2 || !mu.Shape().Eq(logVar.Shape()) || mu.Dtype() != logVar.Dtype() {
		return nil, errors.Errorf("GaussianKL: μ %v %v and log σ² %v %v differ", mu.Shape(), mu.Dtype(), logVar.Shape(), logVar.Dtype())
	}
	n, err := G.ApplyOp(gaussKLOp{fusedBase{"gausskl", new(outBuf)}}, mu, logVar)
	return n, errors.Wrap(err, "GaussianKL")
}

// gaussKLOp: (μ, log σ²) ↦ mean_rows −½ Σ_cols (1 + log σ² − μ² − σ²).
type gaussKLOp struct{ fusedBase }

func (op gaussKLOp) Arity() int { return 2 }
func (op gaussKLOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t, a)
}
func (op gaussKLOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (op gaussKLOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 2, vals)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(a[1].Shape()) {
		return nil, errors.Errorf("gausskl: shapes %v and %v differ", a[0].Shape(), a[1].Shape())
	}
	n := a[0].Shape()[0]
	switch mu := a[0].Data().(type) {
	case []float32:
		v := G.F32(gaussKLSum(op.st, mu, a[1].Data().([]float32)) / float64(n))
		return &v, nil
	case []float64:
		v := G.F64(gaussKLSum(op.st, mu, a[1].Data().([]float64)) / float64(n))
		return &v, nil
	}
	return nil, errors.Errorf("gausskl: unsupported dtype %v", a[0].Dtype())
}

// gaussKLSum returns −½ Σ (1 + lv − μ² − e^lv) over all entries, in chunks
// whose partial sums are added in chunk order (the same bits at any thread
// count).
func gaussKLSum[T float32 | float64](st *outBuf, mu, lv []T) float64 {
	grain := par.Grain(len(mu), 20)
	part := st.partials(par.Chunks(len(mu), grain))
	par.For(len(mu), grain, func(c, lo, hi int) {
		var s float64
		for i := lo; i < hi; i++ {
			m, l := float64(mu[i]), float64(lv[i])
			s += 1 + l - m*m - math.Exp(l)
		}
		part[c] = s
	})
	var s float64
	for _, p := range part {
		s += p
	}
	return -0.5 * s
}

// DiffWRT implements gorgonia.SDOp.
func (op gaussKLOp) DiffWRT(inputs int) []bool { return []bool{true, true} }

// SymDiff implements gorgonia.SDOp: ∂μ = dy·μ/n, ∂log σ² = dy·½(e^lv − 1)/n.
func (op gaussKLOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("gausskl: %d inputs", len(inputs))
	}
	grads := make(G.Nodes, 2)
	for i, kind := range []string{"gausskl.dmu", "gausskl.dlogvar"} {
		var err error
		grads[i], err = G.ApplyOp(gaussKLGradOp{gradOnly{fusedBase{kind, new(outBuf)}}, i == 1}, inputs[i], grad)
		if err != nil {
			return nil, errors.Wrapf(err, "gausskl: %s", kind)
		}
	}
	return grads, nil
}

// gaussKLGradOp: (μ, dy) ↦ dy·μ/n, or (log σ², dy) ↦ dy·½(e^lv − 1)/n
// when wrtLogVar.
type gaussKLGradOp struct {
	gradOnly
	wrtLogVar bool
}

func (op gaussKLGradOp) Arity() int { return 2 }
func (op gaussKLGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, a, t)
}
func (op gaussKLGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (op gaussKLGradOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 2 {
		return nil, errors.Errorf("%s: %d inputs", op.kind, len(vals))
	}
	a, err := denseArgs(op.kind, 1, vals[:1])
	if err != nil {
		return nil, err
	}
	dy, err := ScalarValue(vals[1])
	if err != nil {
		return nil, errors.Wrap(err, op.kind)
	}
	c := dy / float64(a[0].Shape()[0])
	out := op.st.get(a[0].Dtype(), a[0].Shape()...)
	switch od := out.Data().(type) {
	case []float32:
		gaussKLGrad(od, a[0].Data().([]float32), c, op.wrtLogVar)
	case []float64:
		gaussKLGrad(od, a[0].Data().([]float64), c, op.wrtLogVar)
	}
	return out, nil
}

// gaussKLGrad writes c·μ (or c·½(e^lv − 1) when wrtLogVar) into d, in
// parallel chunks.
func gaussKLGrad[T float32 | float64](d, v []T, c float64, wrtLogVar bool) {
	par.For(len(d), par.Grain(len(d), 20), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			if wrtLogVar {
				d[i] = T(c * 0.5 * (math.Exp(float64(v[i])) - 1))
			} else {
				d[i] = T(c * float64(v[i]))
			}
		}
	})
}

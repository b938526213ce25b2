package density

import (
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// DefaultReg is the ridge added to the diagonal of every fitted covariance
// when the caller's options leave it at zero (as scikit-learn's reg_covar).
const DefaultReg = 1e-6

// Gaussian is a multivariate normal N(Mean, Cov) with a full covariance.
// Construct it with NewGaussian or FitGaussian; the zero value is not usable.
type Gaussian struct {
	Mean []float64
	Cov  *mat.SymDense

	chol    mat.Cholesky
	lower   *mat.TriDense // L with Cov = L·Lᵀ
	logNorm float64       // −½(d·log 2π + log det Cov)
}

// NewGaussian returns N(mean, cov). cov must be symmetric positive definite
// of size len(mean); it is copied.
func NewGaussian(mean []float64, cov mat.Symmetric) (*Gaussian, error) {
	d := len(mean)
	if d == 0 {
		return nil, errors.New("density: Gaussian of dimension 0")
	}
	if cov.SymmetricDim() != d {
		return nil, errors.Errorf("density: covariance is %d×%d, mean has %d entries", cov.SymmetricDim(), cov.SymmetricDim(), d)
	}
	g := &Gaussian{Mean: append([]float64(nil), mean...), Cov: mat.NewSymDense(d, nil)}
	g.Cov.CopySym(cov)
	if err := g.factor(); err != nil {
		return nil, err
	}
	return g, nil
}

// factor computes the Cholesky factor and the normalizing constant.
func (g *Gaussian) factor() error {
	d := len(g.Mean)
	if ok := g.chol.Factorize(g.Cov); !ok {
		return errors.Errorf("density: %d×%d covariance is not positive definite", d, d)
	}
	g.lower = mat.NewTriDense(d, mat.Lower, nil)
	g.chol.LTo(g.lower)
	g.logNorm = -0.5 * (float64(d)*math.Log(2*math.Pi) + g.chol.LogDet())
	return nil
}

// Dim is the dimension of the space.
func (g *Gaussian) Dim() int { return len(g.Mean) }

// FitGaussian fits N(μ, Σ) to the n rows of x (n×dim, row-major) by maximum
// likelihood: μ is the sample mean, Σ = (1/n)·Σᵢ(xᵢ−μ)(xᵢ−μ)ᵀ + reg·I.
// reg = 0 means DefaultReg; a negative reg is an error.
func FitGaussian(x []float64, dim int, reg float64) (*Gaussian, error) {
	n, err := rows(x, dim, 1)
	if err != nil {
		return nil, err
	}
	if reg < 0 {
		return nil, errors.Errorf("density: negative covariance regularization %g", reg)
	}
	if reg == 0 {
		reg = DefaultReg
	}
	mean, cov := moments(x, n, dim, float64(n))
	for i := 0; i < dim; i++ {
		cov.SetSym(i, i, cov.At(i, i)+reg)
	}
	g := &Gaussian{Mean: mean, Cov: cov}
	if err := g.factor(); err != nil {
		return nil, err
	}
	return g, nil
}

// LogProb is log N(x; Mean, Cov).
func (g *Gaussian) LogProb(x []float64) float64 {
	d := len(g.Mean)
	r := make([]float64, d)
	for i := range r {
		r[i] = x[i] - g.Mean[i]
	}
	return g.logNorm - 0.5*g.mahalanobis(r)
}

// mahalanobis is rᵀ Cov⁻¹ r for a centred r, which it overwrites with L⁻¹r.
func (g *Gaussian) mahalanobis(r []float64) float64 {
	// L⁻¹ r by forward substitution (Cov⁻¹ = L⁻ᵀ L⁻¹).
	blas64.Trsv(blas.NoTrans, g.lower.RawTriangular(), blas64.Vector{N: len(r), Inc: 1, Data: r})
	s := 0.0
	for _, v := range r {
		s += v * v
	}
	return s
}

// logProbRows writes log N(xᵢ) for the n rows of x into dst, solving all
// rows at once (one triangular solve with n right-hand sides).
func (g *Gaussian) logProbRows(x []float64, n int, dst []float64) {
	d := len(g.Mean)
	c := mat.NewDense(d, n, nil) // centred data, one column per example
	raw := c.RawMatrix()
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		for j, v := range row {
			raw.Data[j*raw.Stride+i] = v - g.Mean[j]
		}
	}
	blas64.Trsm(blas.Left, blas.NoTrans, 1, g.lower.RawTriangular(), raw)
	for i := range dst[:n] {
		dst[i] = 0
	}
	for j := 0; j < d; j++ {
		r := raw.Data[j*raw.Stride : j*raw.Stride+n]
		for i, v := range r {
			dst[i] += v * v
		}
	}
	for i := range dst[:n] {
		dst[i] = g.logNorm - 0.5*dst[i]
	}
}

// Sample draws n vectors μ + L·ε with ε ~ N(0, I) from rng.
func (g *Gaussian) Sample(rng *rand.Rand, n int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = g.sampleOne(rng)
	}
	return out
}

func (g *Gaussian) sampleOne(rng *rand.Rand) []float64 {
	d := len(g.Mean)
	eps := make([]float64, d)
	for j := range eps {
		eps[j] = rng.NormFloat64()
	}
	x := mat.NewVecDense(d, nil)
	x.MulVec(g.lower, mat.NewVecDense(d, eps))
	out := make([]float64, d)
	for j := range out {
		out[j] = g.Mean[j] + x.AtVec(j)
	}
	return out
}

// rows checks that x holds whole rows of dim values, at least min of them,
// and returns their number.
func rows(x []float64, dim, min int) (int, error) {
	if dim <= 0 {
		return 0, errors.Errorf("density: dimension %d, want ≥ 1", dim)
	}
	if len(x)%dim != 0 {
		return 0, errors.Errorf("density: %d values are not whole rows of %d", len(x), dim)
	}
	n := len(x) / dim
	if n < min {
		return 0, errors.Errorf("density: %d rows, need at least %d", n, min)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, errors.Errorf("density: row %d holds a non-finite value %g", i/dim, v)
		}
	}
	return n, nil
}

// moments returns the mean of the n rows of x and their scatter matrix
// divided by div (n for maximum likelihood, n−1 for the unbiased estimate).
func moments(x []float64, n, dim int, div float64) ([]float64, *mat.SymDense) {
	mean := make([]float64, dim)
	for i := 0; i < n; i++ {
		for j, v := range x[i*dim : (i+1)*dim] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	c := mat.NewDense(n, dim, make([]float64, n*dim))
	raw := c.RawMatrix()
	for i := 0; i < n; i++ {
		for j, v := range x[i*dim : (i+1)*dim] {
			raw.Data[i*raw.Stride+j] = v - mean[j]
		}
	}
	cov := mat.NewSymDense(dim, nil)
	cov.SymOuterK(1/div, c.T())
	return mean, cov
}

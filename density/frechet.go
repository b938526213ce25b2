package density

import (
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/mat"
)

// Moments are the sample mean and the unbiased sample covariance
// (divided by N−1, as numpy.cov and the reference FID code) of N vectors.
type Moments struct {
	N    int
	Mean []float64
	Cov  *mat.SymDense
}

// MomentsOf computes the Moments of the n rows of x (n×dim, row-major,
// n ≥ 2). Compute the moments of a fixed reference set once and reuse them
// with FrechetDistance.
func MomentsOf(x []float64, dim int) (Moments, error) {
	n, err := rows(x, dim, 2)
	if err != nil {
		return Moments{}, err
	}
	mean, cov := moments(x, n, dim, float64(n-1))
	return Moments{N: n, Mean: mean, Cov: cov}, nil
}

// FrechetDistance is the squared Fréchet (2-Wasserstein) distance between
// N(a.Mean, a.Cov) and N(b.Mean, b.Cov):
//
//	d² = |μa − μb|² + tr Σa + tr Σb − 2 tr (Σa^½ Σb Σa^½)^½.
//
// The matrix square roots come from symmetric eigendecompositions (gonum's
// EigenSym): tr(Σa^½ Σb Σa^½)^½ = tr(Σa Σb)^½ is the sum of the square
// roots of the eigenvalues of the symmetric matrix Σa^½ Σb Σa^½, whose
// round-off negatives are clamped to 0. A result that round-off makes
// slightly negative is returned as 0.
func FrechetDistance(a, b Moments) (float64, error) {
	d := len(a.Mean)
	if d == 0 || len(b.Mean) != d || a.Cov == nil || b.Cov == nil ||
		a.Cov.SymmetricDim() != d || b.Cov.SymmetricDim() != d {
		return 0, errors.Errorf("density: Fréchet distance between moments of dimensions %d and %d", len(a.Mean), len(b.Mean))
	}
	dm := 0.0
	for i := range a.Mean {
		t := a.Mean[i] - b.Mean[i]
		dm += t * t
	}
	sa, err := sqrtSym(a.Cov)
	if err != nil {
		return 0, err
	}
	var t, m mat.Dense
	t.Mul(sa, b.Cov)
	m.Mul(&t, sa)
	ms := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			ms.SetSym(i, j, 0.5*(m.At(i, j)+m.At(j, i)))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(ms, false) {
		return 0, errors.New("density: eigendecomposition failed in the Fréchet distance")
	}
	trSqrt := 0.0
	for _, l := range eig.Values(nil) {
		if l > 0 {
			trSqrt += math.Sqrt(l)
		}
	}
	fd := dm + mat.Trace(a.Cov) + mat.Trace(b.Cov) - 2*trSqrt
	if math.IsNaN(fd) {
		return 0, errors.New("density: Fréchet distance is NaN")
	}
	return math.Max(fd, 0), nil
}

// Frechet is the Fréchet distance between the Gaussian moments of the rows
// of x and of y (both row-major with dim columns, at least 2 rows each):
// FID when the rows are a classifier's features of real and generated
// images.
func Frechet(x, y []float64, dim int) (float64, error) {
	a, err := MomentsOf(x, dim)
	if err != nil {
		return 0, errors.Wrap(err, "first set")
	}
	b, err := MomentsOf(y, dim)
	if err != nil {
		return 0, errors.Wrap(err, "second set")
	}
	return FrechetDistance(a, b)
}

// sqrtSym is the symmetric positive semi-definite square root V·diag(√λ)·Vᵀ
// of s (negative round-off eigenvalues count as 0).
func sqrtSym(s *mat.SymDense) (*mat.Dense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(s, true) {
		return nil, errors.New("density: eigendecomposition of a covariance failed")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	d := len(vals)
	scaled := mat.NewDense(d, d, nil)
	for j, l := range vals {
		r := math.Sqrt(math.Max(l, 0))
		for i := 0; i < d; i++ {
			scaled.Set(i, j, vecs.At(i, j)*r)
		}
	}
	out := mat.NewDense(d, d, nil)
	out.Mul(scaled, vecs.T())
	return out, nil
}

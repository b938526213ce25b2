package density

import (
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/mat"
)

// GMMOptions are the settings of FitGMM.
type GMMOptions struct {
	K       int     // number of components (≥ 1, at most the number of rows)
	MaxIter int     // EM iterations at most (≤0: 100)
	Tol     float64 // stop when the mean log-likelihood per row improves by less (≤0: 1e-4)
	Reg     float64 // ridge added to every component covariance's diagonal (≤0: DefaultReg)
	// KMeansIter is the number of Lloyd iterations that refine the
	// k-means++ seeding before EM starts (<0: none; 0: 10).
	KMeansIter int
}

func (o GMMOptions) withDefaults() GMMOptions {
	if o.MaxIter <= 0 {
		o.MaxIter = 100
	}
	if o.Tol <= 0 {
		o.Tol = 1e-4
	}
	if o.Reg <= 0 {
		o.Reg = DefaultReg
	}
	if o.KMeansIter == 0 {
		o.KMeansIter = 10
	}
	return o
}

// GMM is a mixture Σₖ Weights[k]·N(Components[k]) of full-covariance
// Gaussians, with the record of the EM fit that produced it.
type GMM struct {
	Weights    []float64
	Components []*Gaussian

	Iter       int     // EM iterations run
	Converged  bool    // whether the last improvement fell below Tol
	MeanLogLik float64 // mean log-likelihood per training row after the fit
}

// Dim is the dimension of the space.
func (m *GMM) Dim() int { return m.Components[0].Dim() }

// LogProb is log Σₖ wₖ N(x; μₖ, Σₖ).
func (m *GMM) LogProb(x []float64) float64 {
	lp := make([]float64, len(m.Components))
	for k, c := range m.Components {
		lp[k] = math.Log(m.Weights[k]) + c.LogProb(x)
	}
	return logSumExp(lp)
}

// Sample draws n vectors: a component k with probability Weights[k], then
// a draw of N(μₖ, Σₖ), all from rng.
func (m *GMM) Sample(rng *rand.Rand, n int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		u := rng.Float64()
		k := len(m.Weights) - 1
		acc := 0.0
		for j, w := range m.Weights {
			acc += w
			if u < acc {
				k = j
				break
			}
		}
		out[i] = m.Components[k].sampleOne(rng)
	}
	return out
}

// FitGMM fits a K-component full-covariance Gaussian mixture to the n rows
// of x (n×dim, row-major) by expectation–maximization. The means start from
// k-means++ seeding (Arthur & Vassilvitskii 2007) drawn from rng, refined by
// Lloyd iterations; the first E step uses hard assignments to those means.
// Every covariance gets o.Reg·I added, which keeps it positive definite;
// a component that loses all its mass is re-seeded at the row the mixture
// explains worst. The result depends only on x, o and rng's state.
func FitGMM(x []float64, dim int, o GMMOptions, rng *rand.Rand) (*GMM, error) {
	o = o.withDefaults()
	n, err := rows(x, dim, 1)
	if err != nil {
		return nil, err
	}
	if o.K < 1 || o.K > n {
		return nil, errors.Errorf("density: %d mixture components for %d rows", o.K, n)
	}
	if rng == nil {
		return nil, errors.New("density: FitGMM needs a *rand.Rand")
	}
	K := o.K
	centres := kmeansPlusPlus(x, n, dim, K, rng)
	assign := make([]int, n)
	for it := 0; ; it++ {
		nearest(x, n, dim, centres, assign)
		if it >= o.KMeansIter {
			break
		}
		lloyd(x, n, dim, centres, assign)
	}
	// Responsibilities (n×K), first the hard k-means assignment.
	resp := make([]float64, n*K)
	for i, k := range assign {
		resp[i*K+k] = 1
	}
	m := &GMM{Weights: make([]float64, K), Components: make([]*Gaussian, K)}
	logp := make([]float64, n*K) // log wₖ + log N(xᵢ; k)
	col := make([]float64, n)
	rowLL := make([]float64, n)
	prev := math.Inf(-1)
	for it := 0; it < o.MaxIter; it++ {
		// M step.
		if err := m.mStep(x, n, dim, resp, o.Reg, rowLL, rng); err != nil {
			return nil, err
		}
		// E step.
		for k, c := range m.Components {
			c.logProbRows(x, n, col)
			lw := math.Log(m.Weights[k])
			for i, v := range col {
				logp[i*K+k] = lw + v
			}
		}
		ll := 0.0
		for i := 0; i < n; i++ {
			r := logp[i*K : (i+1)*K]
			lse := logSumExp(r)
			rowLL[i] = lse
			ll += lse
			for k, v := range r {
				resp[i*K+k] = math.Exp(v - lse)
			}
		}
		ll /= float64(n)
		m.Iter = it + 1
		m.MeanLogLik = ll
		if math.IsNaN(ll) {
			return nil, errors.Errorf("density: GMM log-likelihood is NaN at iteration %d", it+1)
		}
		if ll-prev < o.Tol {
			m.Converged = true
			break
		}
		prev = ll
	}
	return m, nil
}

// mStep sets weights, means and covariances from the responsibilities.
// rowLL (the rows' current mixture log-likelihoods, or all zero before the
// first E step) chooses where an empty component is re-seeded.
func (m *GMM) mStep(x []float64, n, dim int, resp []float64, reg float64, rowLL []float64, rng *rand.Rand) error {
	K := len(m.Weights)
	const minMass = 1e-8
	for k := 0; k < K; k++ {
		nk := 0.0
		for i := 0; i < n; i++ {
			nk += resp[i*K+k]
		}
		if nk < minMass*float64(n) || nk < 1e-12 {
			// Re-seed at the worst-explained row (a random row before any E step).
			worst := rng.IntN(n)
			for i := 0; i < n; i++ {
				if rowLL[i] < rowLL[worst] {
					worst = i
				}
			}
			for j := 0; j < K; j++ {
				resp[worst*K+j] = 0
			}
			resp[worst*K+k] = 1
			nk = 1
			rowLL[worst] = math.Inf(1) // one re-seed per row
		}
		mean := make([]float64, dim)
		for i := 0; i < n; i++ {
			r := resp[i*K+k]
			if r == 0 {
				continue
			}
			for j, v := range x[i*dim : (i+1)*dim] {
				mean[j] += r * v
			}
		}
		for j := range mean {
			mean[j] /= nk
		}
		// Σₖ = (1/Nₖ) Σᵢ rᵢₖ (xᵢ−μₖ)(xᵢ−μₖ)ᵀ + reg·I, as one rank-n update.
		c := mat.NewDense(n, dim, nil)
		raw := c.RawMatrix()
		for i := 0; i < n; i++ {
			s := math.Sqrt(resp[i*K+k])
			if s == 0 {
				continue
			}
			for j, v := range x[i*dim : (i+1)*dim] {
				raw.Data[i*raw.Stride+j] = s * (v - mean[j])
			}
		}
		cov := mat.NewSymDense(dim, nil)
		cov.SymOuterK(1/nk, c.T())
		for j := 0; j < dim; j++ {
			cov.SetSym(j, j, cov.At(j, j)+reg)
		}
		g := &Gaussian{Mean: mean, Cov: cov}
		if err := g.factor(); err != nil {
			return errors.Wrapf(err, "GMM component %d", k)
		}
		m.Components[k] = g
		m.Weights[k] = nk
	}
	total := 0.0
	for _, w := range m.Weights {
		total += w
	}
	for k := range m.Weights {
		m.Weights[k] /= total
	}
	return nil
}

// kmeansPlusPlus picks K rows as initial centres: the first uniformly, each
// next one with probability proportional to its squared distance to the
// nearest centre chosen so far.
func kmeansPlusPlus(x []float64, n, dim, K int, rng *rand.Rand) [][]float64 {
	centres := make([][]float64, 0, K)
	first := rng.IntN(n)
	centres = append(centres, append([]float64(nil), x[first*dim:(first+1)*dim]...))
	d2 := make([]float64, n)
	for i := range d2 {
		d2[i] = sqDist(x[i*dim:(i+1)*dim], centres[0])
	}
	for len(centres) < K {
		total := 0.0
		for _, v := range d2 {
			total += v
		}
		pick := rng.IntN(n) // all rows coincide with centres: any row
		if total > 0 {
			u := rng.Float64() * total
			acc := 0.0
			for i, v := range d2 {
				acc += v
				if u < acc {
					pick = i
					break
				}
			}
		}
		c := append([]float64(nil), x[pick*dim:(pick+1)*dim]...)
		centres = append(centres, c)
		for i := range d2 {
			if d := sqDist(x[i*dim:(i+1)*dim], c); d < d2[i] {
				d2[i] = d
			}
		}
	}
	return centres
}

// nearest writes each row's nearest centre into assign.
func nearest(x []float64, n, dim int, centres [][]float64, assign []int) {
	for i := 0; i < n; i++ {
		row := x[i*dim : (i+1)*dim]
		best, bd := 0, math.Inf(1)
		for k, c := range centres {
			if d := sqDist(row, c); d < bd {
				best, bd = k, d
			}
		}
		assign[i] = best
	}
}

// lloyd moves every centre to the mean of its rows (an empty cluster keeps
// its centre).
func lloyd(x []float64, n, dim int, centres [][]float64, assign []int) {
	count := make([]int, len(centres))
	sum := make([][]float64, len(centres))
	for k := range sum {
		sum[k] = make([]float64, dim)
	}
	for i, k := range assign {
		count[k]++
		for j, v := range x[i*dim : (i+1)*dim] {
			sum[k][j] += v
		}
	}
	for k, c := range centres {
		if count[k] == 0 {
			continue
		}
		for j := range c {
			c[j] = sum[k][j] / float64(count[k])
		}
	}
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		t := v - b[i]
		s += t * t
	}
	return s
}

func logSumExp(v []float64) float64 {
	mx := math.Inf(-1)
	for _, x := range v {
		if x > mx {
			mx = x
		}
	}
	if math.IsInf(mx, -1) {
		return mx
	}
	s := 0.0
	for _, x := range v {
		s += math.Exp(x - mx)
	}
	return mx + math.Log(s)
}

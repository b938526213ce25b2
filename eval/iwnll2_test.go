package eval

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
)

// twoLayerGrid holds, for a VAE with two 1-D stochastic layers (tanh),
// everything the double integral over (z1, z2) needs, computed in plain Go
// from the stored weights on n+1 points per axis: the decoder's logits at
// each z1 (and Σ softplus), q(z2|z1)'s μ2, log σ2² at each z1, and
// p(z1|z2)'s ν, log τ² at each z2.
type twoLayerGrid struct {
	n, d       int
	h1, h2     float64
	z1, z2     []float64
	logits, sp []float64
	mu2, lv2   []float64
	nu, lt     []float64
}

func newTwoLayerGrid(s *graph.Store, n, d int) *twoLayerGrid {
	P := s.Floats
	th := math.Tanh
	const lo1, hi1, lo2, hi2 = -10.0, 10.0, -8.0, 8.0
	g := &twoLayerGrid{n: n, d: d, h1: (hi1 - lo1) / float64(n), h2: (hi2 - lo2) / float64(n),
		z1: make([]float64, n+1), z2: make([]float64, n+1), logits: make([]float64, (n+1)*d), sp: make([]float64, n+1),
		mu2: make([]float64, n+1), lv2: make([]float64, n+1), nu: make([]float64, n+1), lt: make([]float64, n+1)}
	for j := 0; j <= n; j++ {
		g.z1[j] = lo1 + float64(j)*g.h1
		g.z2[j] = lo2 + float64(j)*g.h2
		z1 := []float64{g.z1[j]}
		l := dense(dense(z1, P("dec1.W"), P("dec1.b"), th), P("dec.W"), P("dec.b"), nil)
		copy(g.logits[j*d:], l)
		for _, li := range l {
			g.sp[j] += math.Max(li, 0) + math.Log1p(math.Exp(-math.Abs(li)))
		}
		h := dense(dense(z1, P("q2.enc.W"), P("q2.enc.b"), th), P("q2.enc2.W"), P("q2.enc2.b"), th)
		g.mu2[j], g.lv2[j] = dense(h, P("q2.mu.W"), P("q2.mu.b"), nil)[0], dense(h, P("q2.logvar.W"), P("q2.logvar.b"), nil)[0]
		h = dense(dense([]float64{g.z2[j]}, P("p1.dec1.W"), P("p1.dec1.b"), th), P("p1.dec2.W"), P("p1.dec2.b"), th)
		g.nu[j], g.lt[j] = dense(h, P("p1.mu.W"), P("p1.mu.b"), nil)[0], dense(h, P("p1.logvar.W"), P("p1.logvar.b"), nil)[0]
	}
	return g
}

func logN1(z, m, lv float64) float64 { d := z - m; return -halfLog2Pi - 0.5*lv - 0.5*d*d*math.Exp(-lv) }

// integrals returns, by the trapezoid rule in both dimensions,
// log p(x) = log ∫∫ p(x|z1) p(z1|z2) N(z2; 0, 1) dz1 dz2 and the relative
// variance V = E_q[w²]/p(x)² − 1 of the importance weight w = p(x, z)/q(z)
// under q(z1, z2|x) = N(z1; mu, exp(logVar)) q(z2|z1).
func (g *twoLayerGrid) integrals(x []float64, mu, logVar float64) (logp, relVar float64) {
	n := g.n
	lp := make([]float64, 0, (n+1)*(n+1))
	lw2 := make([]float64, 0, (n+1)*(n+1))
	for j := 0; j <= n; j++ {
		ll := -g.sp[j]
		for i, l := range g.logits[j*g.d : (j+1)*g.d] {
			ll += x[i] * l
		}
		lq1 := logN1(g.z1[j], mu, logVar)
		for m := 0; m <= n; m++ {
			lj := ll + logN1(g.z1[j], g.nu[m], g.lt[m]) + logN1(g.z2[m], 0, 0)
			lq := lq1 + logN1(g.z2[m], g.mu2[j], g.lv2[j])
			wt := math.Log(g.h1 * g.h2)
			if j == 0 || j == n {
				wt += math.Log(0.5)
			}
			if m == 0 || m == n {
				wt += math.Log(0.5)
			}
			lp = append(lp, lj+wt)
			lw2 = append(lw2, 2*lj-lq+wt)
		}
	}
	logp = logSumExp(lp)
	return logp, math.Exp(logSumExp(lw2)-2*logp) - 1
}

// TestTwoLayerIWNLLMatchesQuadrature: on a VAE with two 1-D stochastic
// layers trained (IWAE, k = 5) on binarized MNIST, the importance-weighted
// NLL (K = 5,000) of each test image agrees with −log p(x) computed by
// quadrature over (z1, z2) in plain Go from the stored weights, within 4
// standard errors of the estimate (delta method from its K weights), on
// the images whose weights are not dominated by a few draws (effective
// sample size ≥ K/100; at least half of them), and the mean over those
// within 4 standard errors of the mean; on no image may it lie more than 4
// standard errors below (its bias is upward). The relative variance of
// the weights by quadrature is logged: it is unbounded (q(z2|z1) narrower
// than the posterior's tails), which is why the tolerance comes from the
// draws. The quadrature is checked for convergence (n and 2n points per
// axis agree to 1e-5 nats), and the estimate has the same bits on 1 and 2
// threads.
func TestTwoLayerIWNLLMatchesQuadrature(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model and integrates over a 2-D grid")
	}
	train, test := testSets(t)
	rng := rand.New(rand.NewPCG(13, 14))
	bt, bs := *train, *test.Limit(10)
	bt.X, bs.X = make([]float32, len(train.X)), make([]float32, bs.N*bs.D)
	data.SampleBinary(rng, train.X, bt.X)
	data.SampleBinary(rng, test.X[:bs.N*bs.D], bs.X)
	c := config(t, "vae", func(c *models.Config) { c.Hidden, c.Latent, c.Latent2, c.Activation, c.IWK = 32, 1, 1, "tanh", 5 })
	store := trainTiny(t, c, graph.Float64(), &bt, 300, 5)
	const K, seed, minESS = 5000, 23, 100
	var nll, se, ess []float64
	for _, procs := range []int{2, 1} {
		old := runtime.GOMAXPROCS(procs)
		e := NewEvaluator(c, graph.Float64(), store, 6, 1)
		var got []float64
		err := e.iwLogWeights(&bs, K, seed, func(i int, logw []float64) error {
			m := logSumExp(logw) - math.Log(K) // log of the mean weight
			got = append(got, -m)
			if procs == 1 {
				var v, s2 float64
				for _, lw := range logw {
					r := math.Exp(lw - m)
					v += (r - 1) * (r - 1)
					s2 += r * r
				}
				se = append(se, math.Sqrt(v/(K-1)/K)) // sd of log(mean w) ≈ sd(w)/(√K·mean w)
				ess = append(ess, K*K/s2)             // (Σw)²/Σw²
			}
			return nil
		})
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if nll != nil && got[i] != nll[i] {
				t.Fatalf("image %d: %.17g on one thread, %.17g on two", i, got[i], nll[i])
			}
		}
		nll = got
	}
	e := NewEvaluator(c, graph.Float64(), store, 6, 1)
	var mus, lvs []float64
	if err := e.Batches(&bs, func(p *graph.Program, _ []float32, _ int) error {
		mus, lvs = append(mus, p.Output(graph.Code)...), append(lvs, p.Output(graph.LogVar)...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const n = 600
	grid, fine := newTwoLayerGrid(store, n, bs.D), newTwoLayerGrid(store, 2*n, bs.D)
	var sumDiff, sumVar float64
	covered := 0
	for i := 0; i < bs.N; i++ {
		x := f64s(bs.Row(i))
		q, V := grid.integrals(x, mus[i], lvs[i])
		if i < 3 {
			if q2, _ := fine.integrals(x, mus[i], lvs[i]); math.Abs(q-q2) > 1e-5 {
				t.Fatalf("image %d: quadrature not converged: %.9f with %d points per axis, %.9f with %d", i, q, n+1, q2, 2*n+1)
			}
		}
		d := nll[i] - (-q)
		t.Logf("image %d: quadrature −log p(x) = %.4f; IW-NLL (K=%d) = %.4f ± %.4f; effective sample size %.0f; relative variance of w by quadrature %.3g",
			i, -q, K, nll[i], se[i], ess[i], V)
		if d < -4*se[i] {
			t.Errorf("image %d: IW-NLL %.5f is %.2g standard errors below the quadrature's %.5f", i, nll[i], -d/se[i], -q)
		}
		if ess[i] < K/minESS {
			continue
		}
		covered++
		if math.Abs(d) > 4*se[i] {
			t.Errorf("image %d: IW-NLL %.5f, quadrature %.5f: %.2g standard errors apart", i, nll[i], -q, d/se[i])
		}
		sumDiff += d
		sumVar += se[i] * se[i]
	}
	if m, s := sumDiff/float64(max(covered, 1)), math.Sqrt(sumVar)/float64(max(covered, 1)); math.Abs(m) > 4*s {
		t.Errorf("mean IW-NLL − quadrature over %d images = %.5f, standard error %.5f", covered, m, s)
	}
	if covered < bs.N/2 {
		t.Errorf("the weights have an effective sample size ≥ K/%d on only %d of %d images: the comparison tests too little", minESS, covered, bs.N)
	}
}

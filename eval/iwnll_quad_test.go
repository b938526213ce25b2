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

// latentGrid holds, for a VAE with a 1-D latent, the decoder's logits l(z)
// and Σ_i softplus(l_i(z)) at the n+1 points z_j of [−10, 10], computed in
// plain Go from the stored weights (decoder relu(z·V1 + c1)·V + c).
type latentGrid struct {
	n, d   int
	h      float64
	z      []float64
	logits []float64 // (n+1)×d
	sp     []float64 // n+1
}

func newLatentGrid(s *graph.Store, n, d int) *latentGrid {
	V1, c1, V, c := s.Floats("dec1.W"), s.Floats("dec1.b"), s.Floats("dec.W"), s.Floats("dec.b")
	const lo, hi = -10.0, 10.0
	g := &latentGrid{n: n, d: d, h: (hi - lo) / float64(n), logits: make([]float64, (n+1)*d), sp: make([]float64, n+1), z: make([]float64, n+1)}
	for j := 0; j <= n; j++ {
		g.z[j] = lo + float64(j)*g.h
		l := dense(dense([]float64{g.z[j]}, V1, c1, relu), V, c, nil)
		copy(g.logits[j*d:], l)
		for _, li := range l {
			g.sp[j] += math.Max(li, 0) + math.Log1p(math.Exp(-math.Abs(li)))
		}
	}
	return g
}

// logLik returns log p(x) = log ∫ p(x|z) N(z; 0, 1) dz by the trapezoid
// rule on the grid, with log p(x|z) = Σ_i x_i l_i − softplus(l_i); and
// the posterior mass p(|z − mu| > 4σ | x) that q = N(mu, σ² = exp(logVar))
// leaves out.
func (g *latentGrid) logLik(x []float64, mu, logVar float64) (logp, outside float64) {
	logf := make([]float64, g.n+1)
	for j := range logf {
		ll := -g.sp[j]
		for i, l := range g.logits[j*g.d : (j+1)*g.d] {
			ll += x[i] * l
		}
		logf[j] = ll - halfLog2Pi - 0.5*g.z[j]*g.z[j]
		if j == 0 || j == g.n {
			logf[j] += math.Log(0.5) // the trapezoid's end weights
		}
	}
	logp = logSumExp(logf) + math.Log(g.h)
	sd := math.Exp(0.5 * logVar)
	for j, lf := range logf {
		if math.Abs(g.z[j]-mu) > 4*sd {
			outside += math.Exp(lf-logp) * g.h
		}
	}
	return logp, outside
}

// TestIWNLLMatchesQuadrature: on a VAE with a 1-D latent trained on
// binarized MNIST, the importance-weighted NLL of each test image agrees
// with −log p(x) computed by quadrature over the latent, within 4 standard
// errors of the estimate (delta method from its K weights), and the mean
// over the images within 4 standard errors of the mean — on the images
// whose posterior q covers (at most maxOutside of p(z|x), by quadrature,
// lies beyond 4σ of q's mean; at least half of them). Where q misses part
// of the posterior the weights seen in K draws cannot show it and the
// estimate is biased up, as a bound: on every image it must not lie more
// than 4 standard errors below the quadrature. The quadrature itself is
// checked for convergence (n and 2n points agree to 1e-6 nats).
func TestIWNLLMatchesQuadrature(t *testing.T) {
	const maxOutside = 0.01
	train, test := testSets(t)
	rng := rand.New(rand.NewPCG(11, 12))
	bt, bs := *train, *test.Limit(12)
	bt.X, bs.X = make([]float32, len(train.X)), make([]float32, bs.N*bs.D)
	data.SampleBinary(rng, train.X, bt.X)
	data.SampleBinary(rng, test.X[:bs.N*bs.D], bs.X)
	c := config(t, "vae", func(c *models.Config) { c.Hidden, c.Latent = 32, 1 })
	store := trainTiny(t, c, graph.Float64(), &bt, 300, 5)
	e := NewEvaluator(c, graph.Float64(), store, 6, 1)
	const K, seed = 2000, 21
	var nll, se []float64
	err := e.iwLogWeights(&bs, K, seed, func(_ int, logw []float64) error {
		m := logSumExp(logw) - math.Log(K) // log of the mean weight
		var v float64
		for _, lw := range logw {
			r := math.Exp(lw-m) - 1
			v += r * r
		}
		nll = append(nll, -m)
		se = append(se, math.Sqrt(v/(K-1)/K)) // sd of log(mean w) ≈ sd(w)/(√K·mean w)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var mus, lvs []float64
	if err := e.Batches(&bs, func(p *graph.Program, _ []float32, _ int) error {
		mus, lvs = append(mus, p.Output(graph.Code)...), append(lvs, p.Output(graph.LogVar)...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const n = 20000
	grid, fine := newLatentGrid(store, n, bs.D), newLatentGrid(store, 2*n, bs.D)
	var sumDiff, sumVar float64
	covered := 0
	for i := 0; i < bs.N; i++ {
		x := f64s(bs.Row(i))
		q, outside := grid.logLik(x, mus[i], lvs[i])
		if q2, _ := fine.logLik(x, mus[i], lvs[i]); math.Abs(q-q2) > 1e-6 {
			t.Fatalf("image %d: quadrature not converged: %.9f with %d points, %.9f with %d", i, q, n, q2, 2*n)
		}
		d := nll[i] - (-q)
		t.Logf("image %d: quadrature −log p(x) = %.4f; IW-NLL (K=%d) = %.4f ± %.4f; posterior mass outside q's 4σ %.2g", i, -q, K, nll[i], se[i], outside)
		if d < -4*se[i] {
			t.Errorf("image %d: IW-NLL %.5f is %.2g standard errors below the quadrature's %.5f", i, nll[i], -d/se[i], -q)
		}
		if outside > maxOutside {
			continue
		}
		covered++
		if math.Abs(d) > 4*se[i] {
			t.Errorf("image %d: IW-NLL %.5f, quadrature %.5f: %.2g standard errors apart", i, nll[i], -q, d/se[i])
		}
		sumDiff += d
		sumVar += se[i] * se[i]
	}
	if m, s := sumDiff/float64(covered), math.Sqrt(sumVar)/float64(covered); math.Abs(m) > 4*s {
		t.Errorf("mean IW-NLL − quadrature over %d images = %.5f, standard error %.5f", covered, m, s)
	}
	if covered < bs.N/2 {
		t.Errorf("q covers the posterior of only %d of %d images: the comparison tests too little", covered, bs.N)
	}
}

// TestIWNLLIndependentOfThreads: the estimate has the same bits on 1, 2
// and 3 threads (the decoding units do not depend on the thread count).
func TestIWNLLIndependentOfThreads(t *testing.T) {
	_, binary, binTest := vaes(t)
	ds := binTest.Limit(13)
	var ref []float64
	for _, procs := range []int{1, 2, 3} {
		old := runtime.GOMAXPROCS(procs)
		e := NewEvaluator(tinyVAE(t), graph.Float32(), binary, 5, 3)
		got, err := e.IWNLLPerExample(ds, 300, 9)
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = got
			continue
		}
		for i := range got {
			if got[i] != ref[i] {
				t.Fatalf("%d threads: example %d: %.17g, on one thread %.17g", procs, i, got[i], ref[i])
			}
		}
	}
}

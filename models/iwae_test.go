package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aezoo/aezoo/graph"
)

// plainVAE is the VAE of a store computed in plain Go (float64), for
// checking the graphs against the equations.
type plainVAE struct {
	c     Config
	store *graph.Store
	in    int
}

func (v plainVAE) dense(name string, x []float64) []float64 {
	W, b := v.store.Floats(name+".W"), v.store.Floats(name+".b")
	in := len(x)
	out := len(b)
	y := append([]float64(nil), b...)
	for i := 0; i < in; i++ {
		for j := 0; j < out; j++ {
			y[j] += x[i] * W[i*out+j]
		}
	}
	return y
}

func (v plainVAE) act(x []float64) []float64 {
	for i, a := range x {
		switch v.c.Activation {
		case "relu":
			x[i] = math.Max(a, 0)
		case "tanh":
			x[i] = math.Tanh(a)
		case "sigmoid":
			x[i] = 1 / (1 + math.Exp(-a))
		}
	}
	return x
}

// encode returns μ and log σ² of x.
func (v plainVAE) encode(x []float64) (mu, lv []float64) {
	h := x
	sizes, _ := v.c.Sizes()
	for i := range sizes {
		h = v.act(v.dense(EncoderLayer(i), h))
	}
	return v.dense("mu", h), v.dense("logvar", h)
}

// logPxz returns log p(x|z) = −Σ softplus(l) − x·l.
func (v plainVAE) logPxz(x, z []float64) float64 {
	h := z
	sizes, _ := v.c.Sizes()
	h = v.act(v.dense("dec1", h))
	for i := len(sizes) - 1; i >= 1; i-- {
		h = v.act(v.dense(DecoderLayer(i), h))
	}
	l := v.dense("dec", h)
	var s float64
	for i, li := range l {
		sp := math.Max(li, 0) + math.Log1p(math.Exp(-math.Abs(li)))
		s -= sp - x[i]*li
	}
	return s
}

// logWeight returns log p(x|z) + log p(z) − log q(z|x) at z = μ + σε.
func (v plainVAE) logWeight(x, mu, lv, eps []float64) float64 {
	z := make([]float64, len(mu))
	var lp, lq float64
	for j := range z {
		z[j] = mu[j] + math.Exp(0.5*lv[j])*eps[j]
		lp -= 0.5 * z[j] * z[j]
		lq -= 0.5*lv[j] + 0.5*eps[j]*eps[j]
	}
	return v.logPxz(x, z) + lp - lq
}

// buildVAE declares the VAE with K samples (iw: the bound even for K = 1)
// and an ε input that reads eps.
func buildVAE(t *testing.T, c Config, s graph.Shape, store *graph.Store, K int, iw bool, eps *[]float64) *graph.Model {
	t.Helper()
	m, err := graph.Declare(s, graph.Float64(), store, rand.New(rand.NewPCG(5, 6)), func(b *graph.Builder) { declareVAE(c, b, K, iw) })
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range m.Inputs {
		if in.Name == "eps" {
			in.Fill = func(dst []float64, _ []float32, _ *rand.Rand, _ bool) { copy(dst, *eps) }
		}
	}
	return m
}

// TestIWAEBoundIsTheEquation: the graph's IWAE loss equals
// −mean_b log (1/K) Σ_k w_bk computed in plain Go from the stored weights,
// for one and two hidden layers.
func TestIWAEBoundIsTheEquation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(c *Config)
		K    int
	}{
		{"k5", nil, 5},
		{"k3/2layers/tanh", func(c *Config) { c.Layers, c.Activation = "5,4", "tanh" }, 3},
		{"k1", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tiny("vae", func(c *Config) {
				c.Latent, c.IWK = 3, tc.K
				if tc.mod != nil {
					tc.mod(c)
				}
			})
			rng := rand.New(rand.NewPCG(1, 2))
			s := graph.Shape{In: 6, Batch: 4}
			eps := make([]float64, s.Batch*tc.K*c.Latent)
			for i := range eps {
				eps[i] = 2 * rng.NormFloat64()
			}
			store := graph.NewStore()
			m := buildVAE(t, c, s, store, tc.K, true, &eps)
			p, err := graph.NewEvaluator(m)
			if err != nil {
				t.Fatal(err)
			}
			x := randomBatch(rng, s.In*s.Batch)
			if err := p.Run(x, rng, true); err != nil {
				t.Fatal(err)
			}
			v := plainVAE{c, store, s.In}
			var want float64
			for b := 0; b < s.Batch; b++ {
				xb := make([]float64, s.In)
				for i := range xb {
					xb[i] = float64(x[b*s.In+i])
				}
				mu, lv := v.encode(xb)
				lw := make([]float64, tc.K)
				for k := range lw {
					lw[k] = v.logWeight(xb, mu, lv, eps[(b*tc.K+k)*c.Latent:(b*tc.K+k+1)*c.Latent])
				}
				m := math.Inf(-1)
				for _, w := range lw {
					m = math.Max(m, w)
				}
				var se float64
				for _, w := range lw {
					se += math.Exp(w - m)
				}
				want -= (m + math.Log(se/float64(tc.K))) / float64(s.Batch)
			}
			got, _ := p.Term(graph.IWTerm)
			if math.Abs(got-want) > 1e-10*math.Abs(want) || got != p.Loss() {
				t.Errorf("IWAE loss %.15g (loss %.15g), plain Go %.15g", got, p.Loss(), want)
			}
		})
	}
}

// TestIWAEWithOneSampleIsTheELBO: with K = 1 the importance-weighted bound
// is the ELBO. On the same ε, the bound's reconstruction term is the VAE's
// exactly, and the bound minus it is the one-sample estimate
// log q(z|x) − log p(z) of the KL, whose mean over ε is the VAE's analytic
// KL (checked within 4 standard errors over 4,000 draws).
func TestIWAEWithOneSampleIsTheELBO(t *testing.T) {
	c := tiny("vae", func(c *Config) { c.Latent = 3 })
	s := graph.Shape{In: 6, Batch: 4}
	rng := rand.New(rand.NewPCG(3, 4))
	eps := make([]float64, s.Batch*c.Latent)
	store := graph.NewStore()
	vae := buildVAE(t, c, s, store, 1, false, &eps)
	iw := buildVAE(t, c, s, store, 1, true, &eps)
	pv, err := graph.NewEvaluator(vae)
	if err != nil {
		t.Fatal(err)
	}
	pi, err := graph.NewEvaluator(iw)
	if err != nil {
		t.Fatal(err)
	}
	x := randomBatch(rng, s.In*s.Batch)
	const draws = 4000
	var sum, sum2 float64
	var kl float64
	for n := 0; n < draws; n++ {
		for i := range eps {
			eps[i] = rng.NormFloat64()
		}
		if err := pv.Run(x, rng, false); err != nil {
			t.Fatal(err)
		}
		if err := pi.Run(x, rng, false); err != nil {
			t.Fatal(err)
		}
		rv, _ := pv.Term(graph.ReconTerm)
		ri, _ := pi.Term(graph.ReconTerm)
		if rv != ri {
			t.Fatalf("draw %d: reconstruction terms differ on the same ε: VAE %.17g, IWAE K=1 %.17g", n, rv, ri)
		}
		kl, _ = pv.Term(graph.KLTerm)
		ki, _ := pi.Term(graph.KLTerm)
		if ki != kl {
			t.Fatalf("monitored KL differs: %v vs %v", ki, kl)
		}
		d := pi.Loss() - pv.Loss() // one-sample KL − analytic KL
		sum += d
		sum2 += d * d
	}
	mean := sum / draws
	se := math.Sqrt((sum2/draws - mean*mean) / draws)
	if math.Abs(mean) > 4*se || se == 0 {
		t.Errorf("mean over ε of (IWAE K=1 loss − VAE loss) = %.4g ± %.2g, want 0 (analytic KL %.4g)", mean, se, kl)
	}
}

// TestIWAEBoundTightensWithK: averaged over ε, the IWAE loss decreases with
// K (Burda et al., Theorem 1), and every K-sample bound lies above the
// log-likelihood, so the ordering of the means is K=1 ≥ K=5 ≥ K=50.
func TestIWAEBoundTightensWithK(t *testing.T) {
	s := graph.Shape{In: 6, Batch: 4}
	store := graph.NewStore()
	rng := rand.New(rand.NewPCG(8, 9))
	x := randomBatch(rng, s.In*s.Batch)
	var means []float64
	for _, K := range []int{1, 5, 50} {
		c := tiny("vae", func(c *Config) { c.Latent, c.IWK = 2, K })
		eps := make([]float64, s.Batch*K*c.Latent)
		m := buildVAE(t, c, s, store, K, true, &eps)
		p, err := graph.NewEvaluator(m)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		const draws = 400
		for n := 0; n < draws; n++ {
			for i := range eps {
				eps[i] = rng.NormFloat64()
			}
			if err := p.Run(x, rng, false); err != nil {
				t.Fatal(err)
			}
			sum += p.Loss()
		}
		means = append(means, sum/draws)
	}
	if !(means[0] > means[1] && means[1] > means[2]) {
		t.Errorf("mean IWAE loss for K = 1, 5, 50: %v; want decreasing", means)
	}
}

package models

import (
	"flag"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/graph"
	"github.com/spf13/pflag"
)

// logNormal is log N(z; m, exp(lv)) summed over the coordinates.
func logNormal(z, m, lv []float64) float64 {
	var s float64
	for j := range z {
		v := 0.0
		if lv != nil {
			v = lv[j]
		}
		mj := 0.0
		if m != nil {
			mj = m[j]
		}
		d := z[j] - mj
		s -= 0.5*math.Log(2*math.Pi) + 0.5*v + 0.5*d*d/math.Exp(v)
	}
	return s
}

func sizes2OK(c Config) []int {
	s, err := c.Sizes2()
	if err != nil {
		panic(err)
	}
	return s
}

func reversed(s []int) []int {
	r := make([]int, len(s))
	for i, v := range s {
		r[len(s)-1-i] = v
	}
	return r
}

func (v plainVAE) stack(prefix func(int) string, sizes []int, h []float64) []float64 {
	for i := range sizes {
		h = v.act(v.dense(prefix(i), h))
	}
	return h
}

// logWeight2 returns log p(x|z1) + log p(z1|z2) + log p(z2) − log q(z1|x)
// − log q(z2|z1) of the two-stochastic-layer VAE at z1 = μ1 + σ1ε1, z2 =
// μ2(z1) + σ2(z1)ε2, every density written out in full.
func (v plainVAE) logWeight2(x, e1, e2 []float64) float64 {
	mu1, lv1 := v.encode(x)
	z1 := make([]float64, len(mu1))
	for j := range z1 {
		z1[j] = mu1[j] + math.Exp(0.5*lv1[j])*e1[j]
	}
	h := v.stack(q2Layer, sizes2OK(v.c), z1)
	mu2, lv2 := v.dense("q2.mu", h), v.dense("q2.logvar", h)
	z2 := make([]float64, len(mu2))
	for j := range z2 {
		z2[j] = mu2[j] + math.Exp(0.5*lv2[j])*e2[j]
	}
	h = v.stack(p1Layer, reversed(sizes2OK(v.c)), z2)
	nu, lt := v.dense("p1.mu", h), v.dense("p1.logvar", h)
	return v.logPxz(x, z1) + logNormal(z1, nu, lt) + logNormal(z2, nil, nil) - logNormal(z1, mu1, lv1) - logNormal(z2, mu2, lv2)
}

// buildVAE2 declares the two-layer VAE with K samples, ε1 and ε2 read from
// eps1 and eps2.
func buildVAE2(t *testing.T, c Config, s graph.Shape, store *graph.Store, K int, iw bool, eps1, eps2 *[]float64) *graph.Model {
	t.Helper()
	m, err := graph.Declare(s, graph.Float64(), store, rand.New(rand.NewPCG(5, 6)), func(b *graph.Builder) { declareVAE2(c, b, K, iw) })
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range m.Inputs {
		switch in.Name {
		case "eps":
			in.Fill = func(dst []float64, _ []float32, _ *rand.Rand, _ bool) { copy(dst, *eps1) }
		case "eps2":
			in.Fill = func(dst []float64, _ []float32, _ *rand.Rand, _ bool) { copy(dst, *eps2) }
		}
	}
	return m
}

// TestTwoLayerBoundIsTheEquation: the two-stochastic-layer VAE's IWAE loss
// (K = 4, and K = 1 as the bound) and its ELBO loss (BCE + KL, K = 1)
// equal −mean_b log (1/K) Σ_k w_bk with the weights computed in plain Go
// from the stored parameters and full Gaussian densities.
func TestTwoLayerBoundIsTheEquation(t *testing.T) {
	for _, tc := range []struct {
		name            string
		layers, layers2 string
		K               int
		iw              bool
	}{
		{"iwae-k4", "", "", 4, true},
		{"iwae-k3/layers5,4", "5,4", "", 3, true},
		{"iwae-k2/layers2=4,5,3", "", "4,5,3", 2, true},
		{"bound-k1", "", "", 1, true},
		{"elbo", "", "", 1, false},
		{"elbo/layers5,4/layers2=6", "5,4", "6", 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tiny("vae", func(c *Config) {
				c.Latent, c.Latent2, c.IWK, c.Activation, c.Layers, c.Layers2 = 3, 2, tc.K, "tanh", tc.layers, tc.layers2
			})
			rng := rand.New(rand.NewPCG(1, 2))
			s := graph.Shape{In: 6, Batch: 4}
			eps1, eps2 := make([]float64, s.Batch*tc.K*c.Latent), make([]float64, s.Batch*tc.K*c.Latent2)
			for i := range eps1 {
				eps1[i] = 1.5 * rng.NormFloat64()
			}
			for i := range eps2 {
				eps2[i] = 1.5 * rng.NormFloat64()
			}
			store := graph.NewStore()
			m := buildVAE2(t, c, s, store, tc.K, tc.iw, &eps1, &eps2)
			p, err := graph.NewEvaluator(m)
			if err != nil {
				t.Fatal(err)
			}
			x := randomBatch(rng, s.In*s.Batch)
			if err := p.Run(x, rng, true); err != nil {
				t.Fatal(err)
			}
			v := plainVAE{c, store, s.In}
			L1, L2 := c.Latent, c.Latent2
			var want float64
			for b := 0; b < s.Batch; b++ {
				xb := make([]float64, s.In)
				for i := range xb {
					xb[i] = float64(x[b*s.In+i])
				}
				lw := make([]float64, tc.K)
				for k := range lw {
					r := b*tc.K + k
					lw[k] = v.logWeight2(xb, eps1[r*L1:(r+1)*L1], eps2[r*L2:(r+1)*L2])
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
			term := graph.IWTerm
			if !tc.iw {
				term = graph.PenaltyTerm
			}
			if _, ok := p.Term(term); !ok {
				t.Fatalf("no %s term", term)
			}
			if got := p.Loss(); math.Abs(got-want) > 1e-10*math.Abs(want) {
				t.Errorf("loss %.15g, plain Go %.15g", got, want)
			}
		})
	}
}

// TestLatentFlag: --latent takes one size (the single stochastic layer, as
// before) or two (z1,z2); bad values are one-line errors.
func TestLatentFlag(t *testing.T) {
	spec, err := Lookup("vae")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		arg    string
		l1, l2 int
		err    string // part of the parse or validation error, "" for none
	}{
		{"20", 20, 0, ""},
		{"100,50", 100, 50, ""},
		{"100-50", 100, 50, ""},
		{" 7 , 3 ", 7, 3, ""},
		{"0", 0, 0, "invalid --latent 0: sizes must be positive"},
		{"-3", 0, 0, "invalid --latent -3"},
		{"100,50,20", 0, 0, "3 stochastic layers, at most 2"},
		{"100,0", 0, 0, "not a positive size"},
		{"100,", 0, 0, "is not a size"},
		{"x", 0, 0, "is not a size"},
	} {
		c := spec.Defaults
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		spec.BindFlags(fs, &c)
		err := fs.Set("latent", tc.arg)
		pc := spec.Defaults
		pfs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		spec.BindFlags(pfs, &pc)
		if perr := pfs.Set("latent", tc.arg); (perr == nil) != (err == nil) || pc != c {
			t.Errorf("--latent %q: pflag gives %v and %+v, flag %v and %+v", tc.arg, perr, pc, err, c)
		}
		if err == nil {
			err = spec.Validate(c)
		}
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("--latent %q: %v", tc.arg, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n")):
			t.Errorf("--latent %q: error %v, want one line containing %q", tc.arg, err, tc.err)
		case tc.err == "" && (c.Latent != tc.l1 || c.Latent2 != tc.l2):
			t.Errorf("--latent %q: sizes %d,%d, want %d,%d", tc.arg, c.Latent, c.Latent2, tc.l1, tc.l2)
		}
	}
	// One size keeps the value an int, as the flag was before.
	h, _ := spec.Hyper("latent")
	if v, ok := h.Value(spec.Defaults).(int); !ok || v != 20 {
		t.Errorf("default --latent value %#v, want int 20", h.Value(spec.Defaults))
	}
	two := spec.Defaults
	two.Latent, two.Latent2 = 100, 50
	if v := h.Value(two); v != "100,50" {
		t.Errorf("--latent 100,50 reads back as %#v", v)
	}
	for _, bad := range []func(c *Config){
		func(c *Config) { c.Arch = "conv" },
		func(c *Config) { c.Layers2 = "10,x" },
		func(c *Config) { c.Latent2, c.Layers2 = 0, "10" }, // --layers2 with one stochastic layer
	} {
		c := two
		bad(&c)
		if err := spec.Validate(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	gan, _ := Lookup("gan")
	g := gan.Defaults
	g.Latent2 = 5
	if err := gan.Validate(g); err == nil {
		t.Error("gan with two latent sizes accepted")
	}
}

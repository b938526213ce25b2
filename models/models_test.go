package models

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/graph"
)

func randomBatch(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

// tiny shrinks a model's defaults so that every parameter entry can be
// checked by finite differences.
func tiny(name string, mod func(c *Config)) Config {
	c, err := Defaults(name)
	if err != nil {
		panic(err)
	}
	c.Hidden = 5
	if mod != nil {
		mod(&c)
	}
	return c
}

// gradCases are the models (and variants) whose gradients are checked.
func gradCases() []struct {
	name string
	cfg  Config
} {
	return []struct {
		name string
		cfg  Config
	}{
		{"plain/sigmoid/bce", tiny("plain", nil)},
		{"plain/tanh/mse", tiny("plain", func(c *Config) { c.Activation, c.Loss = "tanh", "mse" })},
		{"plain/relu/bce", tiny("plain", func(c *Config) { c.Activation = "relu" })},
		{"sparse/l1/relu", tiny("sparse", func(c *Config) { c.Lambda = 0.3 })},
		{"sparse/kl/sigmoid", tiny("sparse", func(c *Config) { c.Sparsity, c.Activation, c.Beta = "kl", "sigmoid", 0.5 })},
		{"topk/linear", tiny("topk", func(c *Config) { c.K = 2 })},
		{"topk/relu", tiny("topk", func(c *Config) { c.K, c.Activation = 3, "relu" })},
		{"topk/tied/bce", tiny("topk", func(c *Config) { c.K, c.Loss = 2, "bce" })},
		{"topk/untied/uncentred/bce", tiny("topk", func(c *Config) { c.K, c.Loss, c.Tied, c.Centre = 2, "bce", false, false })},
		{"denoising/gaussian", tiny("denoising", func(c *Config) { c.Noise, c.NoiseLevel = "gaussian", 0.3 })},
		{"denoising/masking", tiny("denoising", nil)},
		{"denoising/saltpepper", tiny("denoising", func(c *Config) { c.Noise, c.NoiseLevel = "saltpepper", 0.2 })},
		{"contractive/sigmoid", tiny("contractive", func(c *Config) { c.Lambda = 0.7 })},
		{"contractive/tanh", tiny("contractive", func(c *Config) { c.Activation, c.Lambda = "tanh", 0.7 })},
		{"contractive/relu", tiny("contractive", func(c *Config) { c.Activation, c.Lambda = "relu", 0.7 })},
		{"vae", tiny("vae", func(c *Config) { c.Latent = 3 })},
		{"vae/beta", tiny("vae", func(c *Config) { c.Latent, c.Beta = 2, 4 })},
		{"lineardae", tiny("lineardae", func(c *Config) { c.NoiseLevel = 0.2 })},
		{"gan/evaluation graph", tiny("gan", func(c *Config) { c.Latent = 3 })},
	}
}

func TestGradients(t *testing.T) {
	for _, tc := range gradCases() {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			s := graph.Shape{In: 6, Batch: 4}
			m, err := Build(tc.cfg, s, graph.Float64(), nil, rng)
			if err != nil {
				t.Fatal(err)
			}
			r, err := graph.CheckGradients(m, randomBatch(rng, s.In*s.Batch), rng, 1e-6, 1e-6, 0)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, p := range m.Params {
				total += p.Shape().TotalSize()
			}
			if r.Checked != total {
				t.Errorf("checked %d entries, the model has %d", r.Checked, total)
			}
			if r.MaxRel > 1e-5 {
				t.Errorf("gradient mismatch at %s: symbolic %.10g, finite difference %.10g (rel %.2g)", r.Worst, r.Analytic, r.Numeric, r.MaxRel)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	if _, err := Lookup("nope"); err == nil {
		t.Error("Lookup of an unknown model succeeded")
	}
	for _, name := range Names() {
		s, _ := Lookup(name)
		if s.Defaults.Model != name {
			t.Errorf("%s: defaults name %q", name, s.Defaults.Model)
		}
		if err := s.Validate(s.Defaults); err != nil {
			t.Errorf("%s: defaults invalid: %v", name, err)
		}
		for _, h := range s.Hypers {
			if _, ok := s.Hyper(h); !ok {
				t.Errorf("%s: unknown hyperparameter %q", name, h)
			}
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"plain", "sparse", "topk", "denoising", "contractive", "vae", "lineardae"}
	for _, tc := range []struct{ in, want string }{
		{"vea", "vae"}, {"plian", "plain"}, {"spars", "sparse"}, {"top", "topk"},
		{"contractiv", "contractive"}, {"gan", ""}, {"xyzzy", ""}, {"", ""},
	} {
		if got := Suggest(tc.in, names); got != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	_, err := Lookup("vea")
	if err == nil || !strings.Contains(err.Error(), `unknown model "vea"; did you mean "vae"?`) || strings.Contains(err.Error(), "[") {
		t.Errorf("Lookup(vea): %v", err)
	}
}

package models

import (
	"encoding/json"
	"flag"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/graph"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// oldSparseConfig is a config.json "model" object as written before
// Package and Extras existed.
const oldSparseConfig = `{"model":"sparse","hidden":1000,"activation":"sigmoid","loss":"bce","lambda":0.03,"sparsity":"kl","rho":0.05,"beta":3,"k":0,"alpha":0,"k_start":0,"tied":false,"centre":false,"noise":"","noise_level":0,"latent":0}`

// TestConfigJSONCompatible: configs of existing run folders load unchanged,
// and a zoo model's config is written with the same keys as before.
func TestConfigJSONCompatible(t *testing.T) {
	var c Config
	if err := json.Unmarshal([]byte(oldSparseConfig), &c); err != nil {
		t.Fatal(err)
	}
	want, _ := Defaults("sparse")
	want.Activation, want.Sparsity, want.Beta = "sigmoid", "kl", 3
	if c != want {
		t.Errorf("old config loads as %+v, want %+v", c, want)
	}
	s, err := SpecOf(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(c); err != nil {
		t.Error(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != oldSparseConfig {
		t.Errorf("config written as\n%s\nwant\n%s", b, oldSparseConfig)
	}
}

// TestChecks: each model's rules, table-driven; every error names the flag.
func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		model string
		mod   func(c *Config)
		flag  string // "" when valid
	}{
		{"plain", nil, ""},
		{"plain", func(c *Config) { c.Hidden = 0 }, "--hidden"},
		{"plain", func(c *Config) { c.Activation = "gelu" }, "--activation"},
		{"plain", func(c *Config) { c.Loss = "l1" }, "--loss"},
		{"plain", func(c *Config) { c.K = -3 }, ""}, // not a plain hyperparameter
		{"sparse", func(c *Config) { c.Lambda = -1 }, "--lambda"},
		{"sparse", func(c *Config) { c.Sparsity = "kl" }, "--activation sigmoid"},
		{"sparse", func(c *Config) { c.Sparsity, c.Activation, c.Rho = "kl", "sigmoid", 1 }, "--rho"},
		{"sparse", func(c *Config) { c.Rho = 7 }, ""}, // ρ is only read by --sparsity kl
		{"sparse", func(c *Config) { c.Beta = -1 }, "--beta"},
		{"topk", func(c *Config) { c.K = 0 }, "--k"},
		{"topk", func(c *Config) { c.K = c.Hidden + 1 }, "--k"},
		{"topk", func(c *Config) { c.Alpha = 0.5 }, "--alpha"},
		{"topk", func(c *Config) { c.KStart = c.K - 1 }, "--k-start"},
		{"topk", func(c *Config) { c.KStart = 100 }, ""},
		{"denoising", func(c *Config) { c.Noise = "blur" }, "--noise"},
		{"denoising", func(c *Config) { c.NoiseLevel = 1 }, "--noise-level"},
		{"denoising", func(c *Config) { c.Noise, c.NoiseLevel = "gaussian", 2 }, ""},
		{"lineardae", func(c *Config) { c.NoiseLevel = -0.1 }, "--noise-level"},
		{"vae", func(c *Config) { c.Latent = 0 }, "--latent"},
		{"plain", func(c *Config) { c.Layers = "1000,0" }, "--layers"},
		{"plain", func(c *Config) { c.Layers = "1000,x" }, "--layers"},
		{"denoising", func(c *Config) { c.Layers = "1000,,10" }, "--layers"},
		{"vae", func(c *Config) { c.Layers = "-4" }, "--layers"},
		{"contractive", func(c *Config) { c.Layers = " 1000, 500 " }, ""},
		{"topk", func(c *Config) { c.Layers = "0" }, ""}, // not a top-K hyperparameter
		{"vae", func(c *Config) { c.Beta = -1 }, "--beta"},
		{"vae", func(c *Config) { c.Activation = "nope" }, ""}, // the VAE's activation is fixed
	} {
		c, _ := Defaults(tc.model)
		if tc.mod != nil {
			tc.mod(&c)
		}
		s, _ := Lookup(tc.model)
		err := s.Validate(c)
		switch {
		case tc.flag == "" && err != nil:
			t.Errorf("%s %+v: %v", tc.model, c, err)
		case tc.flag != "" && (err == nil || !strings.Contains(err.Error(), tc.flag)):
			t.Errorf("%s %+v: error %v, want one naming %s", tc.model, c, err, tc.flag)
		}
	}
}

// TestUsageIsTheModels: a hyperparameter shared by name reads with each
// model's own meaning.
func TestUsageIsTheModels(t *testing.T) {
	sp, _ := Lookup("sparse")
	vae, _ := Lookup("vae")
	hs, _ := sp.Hyper("beta")
	hv, _ := vae.Hyper("beta")
	if !strings.Contains(hs.Usage, "KL-sparsity") || !strings.Contains(hv.Usage, "N(0, I)") {
		t.Errorf("beta: sparse %q, vae %q", hs.Usage, hv.Usage)
	}
	if _, ok := vae.Hyper("k"); ok {
		t.Error("the VAE claims top-K's k")
	}
}

// TestBindFlags: the flags of a model set its config, through the FlagSet
// interface that *flag.FlagSet satisfies.
func TestBindFlags(t *testing.T) {
	s, _ := Lookup("topk")
	c := s.Defaults
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var _ FlagSet = fs
	s.BindFlags(fs, &c)
	if err := fs.Parse([]string{"--k", "7", "--alpha", "2.5", "--tied=false", "--activation", "relu"}); err != nil {
		t.Fatal(err)
	}
	if c.K != 7 || c.Alpha != 2.5 || c.Tied || c.Activation != "relu" {
		t.Errorf("flags gave %+v", c)
	}
	if fs.Lookup("latent") != nil {
		t.Error("top-K binds the VAE's --latent")
	}
}

// TestExtendedModel: Extend adds hyperparameters with flags and defaults,
// keeps the base's rules, saves the extras and the registering package in
// the config's JSON and rebuilds from it; a config of an extension this
// program lacks names the package to link in.
func TestExtendedModel(t *testing.T) {
	err := Extend(Extension{
		Base: "topk", Name: "topk-test-ext", Doc: "top-K + γ·Σ h² + δ·0",
		Hypers: []NewHyper{{Name: "gamma", Usage: "γ", Default: 0.5}, {Name: "delta", Usage: "δ", Default: 2}},
		Check: func(c Config) error {
			if c.Extra("delta") < 0 {
				return errorf("invalid --delta %g", c.Extra("delta"))
			}
			return nil
		},
		Declare: func(c Config, b *graph.Builder) {
			h := b.Declared(graph.Code)
			b.Monitor("ext", b.Scale(c.Extra("gamma"), b.Must(sumSquares(h))))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := Lookup("topk-test-ext")
	c := s.Defaults
	if c.Package != "github.com/aezoo/aezoo/models" || c.Extra("gamma") != 0.5 || c.Extra("delta") != 2 {
		t.Fatalf("defaults %+v", c)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	s.BindFlags(fs, &c)
	if err := fs.Parse([]string{"--gamma", "0.25", "--k", "3", "--hidden", "8"}); err != nil {
		t.Fatal(err)
	}
	if c.Extra("gamma") != 0.25 || c.K != 3 {
		t.Fatalf("flags gave %+v", c)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"extras":{"delta":2,"gamma":0.25}`) || !strings.Contains(string(b), `"package":"github.com/aezoo/aezoo/models"`) {
		t.Errorf("JSON %s", b)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != c {
		t.Errorf("round trip: %+v, want %+v", back, c)
	}
	m, err := Build(back, graph.Shape{In: 6, Batch: 2}, graph.Float64(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Term("ext") == nil || m.Output(graph.Features) == nil {
		t.Error("the extension lacks its term or the base's outputs")
	}
	bad := back
	bad.Extras.Set("delta", -1)
	bad.K = 0
	if err := s.Validate(bad); err == nil || !strings.Contains(err.Error(), "--delta") || !strings.Contains(err.Error(), "--k") {
		t.Errorf("base and extension rules: %v", err)
	}

	missing := back
	missing.Model, missing.Package = "gone-ext", "example.com/lab/penalties"
	if _, err := SpecOf(missing); err == nil || !strings.Contains(err.Error(), `import _ "example.com/lab/penalties"`) {
		t.Errorf("unlinked extension: %v", err)
	}
	if _, err := Build(missing, graph.Shape{In: 6, Batch: 2}, graph.Float64(), nil, nil); err == nil {
		t.Error("built a model that is not linked in")
	}
	for _, h := range []NewHyper{{Name: "k"}, {Name: "lambda"}, {Name: ""}} {
		if err := Extend(Extension{Base: "topk", Name: "topk-bad-" + h.Name, Hypers: []NewHyper{h}, Declare: func(Config, *graph.Builder) {}}); err == nil {
			t.Errorf("Extend accepted hyperparameter %q", h.Name)
		}
	}
}

// TestExtrasLimits: Extras stays sorted and refuses more than MaxExtras.
func TestExtrasLimits(t *testing.T) {
	var e Extras
	for i := 0; i < MaxExtras; i++ {
		if err := e.Set(string(rune('h'-i)), float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Set("z", 1); err == nil {
		t.Error("more than MaxExtras accepted")
	}
	names := e.Names()
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("names not sorted: %v", names)
		}
	}
	if v, ok := e.Get("h"); !ok || v != 0 {
		t.Errorf("h = %v, %v", v, ok)
	}
}

func errorf(format string, args ...any) error { return errors.Errorf(format, args...) }

func sumSquares(h *G.Node) (*G.Node, error) {
	sq, err := G.Square(h)
	if err != nil {
		return nil, err
	}
	return G.Sum(sq)
}

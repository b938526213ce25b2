package models

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
)

// Config holds every model hyperparameter. A model reads only the fields
// named in its Spec's Hypers.
type Config struct {
	Model      string  `json:"model"`
	Hidden     int     `json:"hidden"`      // hidden (code) units
	Activation string  `json:"activation"`  // hidden activation: sigmoid, relu, tanh, linear
	Loss       string  `json:"loss"`        // reconstruction loss: bce or mse
	Lambda     float64 `json:"lambda"`      // penalty weight (L1, contractive)
	Sparsity   string  `json:"sparsity"`    // sparse penalty: l1 or kl
	Rho        float64 `json:"rho"`         // KL-sparsity target activation
	Beta       float64 `json:"beta"`        // KL weight (KL sparsity, β-VAE)
	K          int     `json:"k"`           // top-K: units kept per example
	Alpha      float64 `json:"alpha"`       // top-K: encode-time multiplier (keep αk)
	KStart     int     `json:"k_start"`     // top-K: k at the first epoch, annealed to K (0: no annealing)
	Tied       bool    `json:"tied"`        // top-K: the decoder is the encoder's transpose
	Centre     bool    `json:"centre"`      // top-K: subtract a learned centre (initially the data mean) from the input
	Noise      string  `json:"noise"`       // denoising: gaussian, masking, saltpepper
	NoiseLevel float64 `json:"noise_level"` // σ (gaussian) or corrupted fraction
	Latent     int     `json:"latent"`      // VAE latent size
}

// Hyper describes one hyperparameter: its flag name and usage, and where it
// lives in Config.
type Hyper struct {
	Name  string
	Usage string
	field func(c *Config) any // *int, *float64, *string or *bool
}

// Hypers lists every hyperparameter a model may use.
var Hypers = []Hyper{
	{"hidden", "hidden (code) units", func(c *Config) any { return &c.Hidden }},
	{"activation", "hidden activation: sigmoid, relu, tanh or linear", func(c *Config) any { return &c.Activation }},
	{"loss", "reconstruction loss: bce (with logits) or mse", func(c *Config) any { return &c.Loss }},
	{"lambda", "penalty weight λ", func(c *Config) any { return &c.Lambda }},
	{"sparsity", "sparsity penalty: l1 or kl", func(c *Config) any { return &c.Sparsity }},
	{"rho", "target mean activation ρ for --sparsity kl", func(c *Config) any { return &c.Rho }},
	{"beta", "weight β of the KL term", func(c *Config) any { return &c.Beta }},
	{"k", "units kept per example (top-K)", func(c *Config) any { return &c.K }},
	{"alpha", "encode-time multiplier α: keep αk units when encoding", func(c *Config) any { return &c.Alpha }},
	{"k-start", "k at the first epoch, annealed linearly to --k (0: off)", func(c *Config) any { return &c.KStart }},
	{"tied", "tied weights: the decoder is the transpose of the encoder", func(c *Config) any { return &c.Tied }},
	{"centre", "subtract a learned centre, initially the training mean, from the input", func(c *Config) any { return &c.Centre }},
	{"noise", "corruption: gaussian, masking or saltpepper", func(c *Config) any { return &c.Noise }},
	{"noise-level", "σ for gaussian noise, corrupted fraction for masking and saltpepper", func(c *Config) any { return &c.NoiseLevel }},
	{"latent", "latent size of the VAE", func(c *Config) any { return &c.Latent }},
}

// LookupHyper returns the named hyperparameter.
func LookupHyper(name string) (Hyper, bool) {
	for _, h := range Hypers {
		if h.Name == name {
			return h, true
		}
	}
	return Hyper{}, false
}

// Value returns the hyperparameter's value in c.
func (h Hyper) Value(c Config) any {
	switch p := h.field(&c).(type) {
	case *int:
		return *p
	case *float64:
		return *p
	case *string:
		return *p
	case *bool:
		return *p
	}
	return nil
}

// FlagSet is the part of a flag set that Bind needs; both the standard
// library's *flag.FlagSet and github.com/spf13/pflag's *pflag.FlagSet
// satisfy it.
type FlagSet interface {
	IntVar(p *int, name string, value int, usage string)
	Float64Var(p *float64, name string, value float64, usage string)
	StringVar(p *string, name string, value string, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
}

// Bind registers the hyperparameter as a flag on fs, bound to c, with the
// current value of c as its default.
func (h Hyper) Bind(fs FlagSet, c *Config) {
	switch p := h.field(c).(type) {
	case *int:
		fs.IntVar(p, h.Name, *p, h.Usage)
	case *float64:
		fs.Float64Var(p, h.Name, *p, h.Usage)
	case *string:
		fs.StringVar(p, h.Name, *p, h.Usage)
	case *bool:
		fs.BoolVar(p, h.Name, *p, h.Usage)
	}
}

// BindFlags registers the flags of every hyperparameter the model uses,
// with c's values as defaults.
func (s Spec) BindFlags(fs FlagSet, c *Config) {
	for _, name := range s.Hypers {
		if h, ok := LookupHyper(name); ok {
			h.Bind(fs, c)
		}
	}
}

func oneOf(name, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return errors.Errorf("invalid --%s %q (want one of %s)", name, v, strings.Join(allowed, ", "))
}

// Validate checks the hyperparameters that the model uses.
func (s Spec) Validate(c Config) error {
	uses := map[string]bool{}
	for _, h := range s.Hypers {
		uses[h] = true
	}
	var errs []error
	check := func(name string, err error) {
		if uses[name] && err != nil {
			errs = append(errs, err)
		}
	}
	positive := func(name string, v int) error {
		if v <= 0 {
			return errors.Errorf("invalid --%s %d: must be positive", name, v)
		}
		return nil
	}
	nonNeg := func(name string, v float64) error {
		if v < 0 || v != v {
			return errors.Errorf("invalid --%s %g: must be ≥ 0", name, v)
		}
		return nil
	}
	check("hidden", positive("hidden", c.Hidden))
	check("activation", oneOf("activation", c.Activation, "sigmoid", "relu", "tanh", "linear"))
	check("loss", oneOf("loss", c.Loss, "bce", "mse"))
	check("lambda", nonNeg("lambda", c.Lambda))
	check("sparsity", oneOf("sparsity", c.Sparsity, "l1", "kl"))
	if uses["sparsity"] && c.Sparsity == "kl" {
		if c.Rho <= 0 || c.Rho >= 1 {
			errs = append(errs, errors.Errorf("invalid --rho %g: must be in (0,1)", c.Rho))
		}
		if c.Activation != "sigmoid" {
			errs = append(errs, errors.Errorf("--sparsity kl needs --activation sigmoid (mean activations must lie in (0,1)), got %q", c.Activation))
		}
	}
	check("beta", nonNeg("beta", c.Beta))
	if uses["k"] {
		if c.K <= 0 || c.K > c.Hidden {
			errs = append(errs, errors.Errorf("invalid --k %d: must be in 1..hidden (%d)", c.K, c.Hidden))
		}
		if c.Alpha < 1 {
			errs = append(errs, errors.Errorf("invalid --alpha %g: must be ≥ 1", c.Alpha))
		}
		if c.KStart != 0 && (c.KStart < c.K || c.KStart > c.Hidden) {
			errs = append(errs, errors.Errorf("invalid --k-start %d: must be 0 or in k..hidden (%d..%d)", c.KStart, c.K, c.Hidden))
		}
	}
	if uses["noise"] {
		switch c.Noise {
		case "gaussian":
			check("noise-level", nonNeg("noise-level", c.NoiseLevel))
		case "masking", "saltpepper":
			if c.NoiseLevel < 0 || c.NoiseLevel >= 1 || c.NoiseLevel != c.NoiseLevel {
				errs = append(errs, errors.Errorf("invalid --noise-level %g for %s noise: must be in [0,1)", c.NoiseLevel, c.Noise))
			}
		default:
			errs = append(errs, errors.Errorf("invalid --noise %q (want gaussian, masking or saltpepper)", c.Noise))
		}
	}
	check("latent", positive("latent", c.Latent))
	if len(errs) == 0 {
		return nil
	}
	msg := s.Name + ": "
	for i, e := range errs {
		if i > 0 {
			msg += "; "
		}
		msg += e.Error()
	}
	return errors.New(msg)
}

// String formats the hyperparameters the model uses, as flags.
func (s Spec) String() string {
	out := s.Name
	for _, name := range s.Hypers {
		h, _ := LookupHyper(name)
		out += fmt.Sprintf(" --%s=%v", name, h.Value(s.Defaults))
	}
	return out
}

package models

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// Config is the record of a model's hyperparameters, as saved in a run
// folder's config.json. Its fields are shared by name between the models,
// but each model reads only those its Spec lists in Hypers, gives them its
// own meaning (Spec.Usage) and its own rules (Spec.Check): Beta, say, is the
// KL-sparsity weight of "sparse" and the β of "vae".
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
	Latent     int     `json:"latent"`      // VAE latent size (of z1, the lower stochastic layer, when Latent2 is set)
	// Latent2 is the size of the VAE's second (upper) stochastic layer z2
	// (0: one stochastic layer). The flag --latent 100,50 sets Latent and
	// Latent2 (Burda et al.'s two-stochastic-layer model); see LatentSizes.
	Latent2 int `json:"latent2,omitempty"`
	// IWK is the number of importance samples per example of the VAE's
	// training bound (0 or 1: the ELBO; K > 1: the IWAE bound).
	IWK int `json:"iw_k,omitempty"`
	// Layers lists the encoder's hidden layer sizes from the input,
	// comma-separated ("1000,1000,1000"); when set it replaces Hidden (the
	// code is the last layer) and the decoder mirrors it. Empty: one layer
	// of Hidden units. See Sizes.
	Layers string `json:"layers,omitempty"`
	// Layers2 lists the hidden layer sizes of q(z2|z1) from z1 for a VAE
	// with two stochastic layers, comma-separated (p(z1|z2) mirrors them).
	// Empty: two layers of Latent2 units (Burda et al.). See Sizes2.
	Layers2 string `json:"layers2,omitempty"`
	// Arch is the encoder/decoder architecture: "" or "mlp" (dense
	// layers) or "conv" (see conv.go).
	Arch string `json:"arch,omitempty"`

	// Package is the import path of the Go package that registers the
	// model, for models added with Extend (empty for the zoo's own): a
	// program that loads the run must link it in.
	Package string `json:"package,omitempty"`
	// Extras holds the hyperparameters that Extend declared.
	Extras Extras `json:"extras,omitzero"`
}

// Extra returns the value of the hyperparameter name declared by Extend
// (0 when c does not hold it).
func (c Config) Extra(name string) float64 {
	v, _ := c.Extras.Get(name)
	return v
}

// MaxExtras is the number of hyperparameters Extend can add to a model.
const MaxExtras = 8

// Extras are named float64 hyperparameters declared by Extend, kept sorted
// by name. The zero value holds none. Extras is comparable, so Configs can
// be compared with ==, and it is saved as a JSON object.
type Extras struct {
	n     int
	names [MaxExtras]string
	vals  [MaxExtras]float64
}

// Len returns the number of extras held.
func (e Extras) Len() int { return e.n }

// IsZero reports whether e holds no extras.
func (e Extras) IsZero() bool { return e.n == 0 }

// Names lists the extras' names, sorted.
func (e Extras) Names() []string { return append([]string(nil), e.names[:e.n]...) }

// Get returns the named extra.
func (e Extras) Get(name string) (float64, bool) {
	if i, ok := e.find(name); ok {
		return e.vals[i], true
	}
	return 0, false
}

// Set sets the named extra, adding it if new.
func (e *Extras) Set(name string, v float64) error {
	p, err := e.ptr(name)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

func (e Extras) find(name string) (int, bool) {
	i := sort.SearchStrings(e.names[:e.n], name)
	return i, i < e.n && e.names[i] == name
}

// ptr returns where the named extra lives, inserting it (as 0) in name
// order if new: pointers handed out earlier may move then.
func (e *Extras) ptr(name string) (*float64, error) {
	i, ok := e.find(name)
	if ok {
		return &e.vals[i], nil
	}
	if e.n == MaxExtras {
		return nil, errors.Errorf("models: more than %d extra hyperparameters (adding %q)", MaxExtras, name)
	}
	copy(e.names[i+1:e.n+1], e.names[i:e.n])
	copy(e.vals[i+1:e.n+1], e.vals[i:e.n])
	e.names[i], e.vals[i] = name, 0
	e.n++
	return &e.vals[i], nil
}

// MarshalJSON writes the extras as an object.
func (e Extras) MarshalJSON() ([]byte, error) {
	m := make(map[string]float64, e.n)
	for i := 0; i < e.n; i++ {
		m[e.names[i]] = e.vals[i]
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads an object written by MarshalJSON.
func (e *Extras) UnmarshalJSON(b []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(b, &m); err != nil {
		return errors.Wrap(err, "extras")
	}
	*e = Extras{}
	for k, v := range m {
		if err := e.Set(k, v); err != nil {
			return err
		}
	}
	return nil
}

// FlagSet is what Bind needs of a flag set: the standard library's
// *flag.FlagSet and pflag's *pflag.FlagSet both satisfy it.
type FlagSet interface {
	IntVar(p *int, name string, value int, usage string)
	Float64Var(p *float64, name string, value float64, usage string)
	StringVar(p *string, name string, value string, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
}

// Hyper describes one hyperparameter: its flag name and usage, and where it
// lives in Config.
type Hyper struct {
	Name  string
	Usage string
	field func(c *Config) any // *int, *float64, *string or *bool
	check func(c Config) error
}

// shared are the hyperparameters with a field of their own in Config, with
// the range of values that any model accepts. Rules that tie values
// together, or narrow them, belong to the model's Check.
var shared = []Hyper{
	{"hidden", "hidden (code) units", func(c *Config) any { return &c.Hidden }, func(c Config) error { return positive("hidden", c.Hidden) }},
	{"activation", "hidden activation: sigmoid, relu, tanh or linear", func(c *Config) any { return &c.Activation },
		func(c Config) error { return oneOf("activation", c.Activation, "sigmoid", "relu", "tanh", "linear") }},
	{"loss", "reconstruction loss: bce (with logits) or mse", func(c *Config) any { return &c.Loss },
		func(c Config) error { return oneOf("loss", c.Loss, "bce", "mse") }},
	{"lambda", "penalty weight λ", func(c *Config) any { return &c.Lambda }, func(c Config) error { return nonNeg("lambda", c.Lambda) }},
	{"sparsity", "sparsity penalty: l1 or kl", func(c *Config) any { return &c.Sparsity },
		func(c Config) error { return oneOf("sparsity", c.Sparsity, "l1", "kl") }},
	{"rho", "target mean activation ρ", func(c *Config) any { return &c.Rho }, nil},
	{"beta", "weight β of a KL term", func(c *Config) any { return &c.Beta }, func(c Config) error { return nonNeg("beta", c.Beta) }},
	{"k", "units kept per example", func(c *Config) any { return &c.K }, nil},
	{"alpha", "encode-time multiplier α", func(c *Config) any { return &c.Alpha }, nil},
	{"k-start", "k at the first epoch", func(c *Config) any { return &c.KStart }, nil},
	{"tied", "tied weights: the decoder is the transpose of the encoder", func(c *Config) any { return &c.Tied }, nil},
	{"centre", "subtract a learned centre, initially the training mean, from the input", func(c *Config) any { return &c.Centre }, nil},
	{"noise", "corruption: gaussian, masking or saltpepper", func(c *Config) any { return &c.Noise }, nil},
	{"noise-level", "σ for gaussian noise, corrupted fraction for masking and saltpepper", func(c *Config) any { return &c.NoiseLevel },
		func(c Config) error { return nonNeg("noise-level", c.NoiseLevel) }},
	{"layers", "encoder layer sizes from the input, comma-separated, e.g. 1000,1000,1000 (or 1000-1000-1000; replaces --hidden; the decoder mirrors them)",
		func(c *Config) any { return &c.Layers }, func(c Config) error { _, err := ParseLayers(c.Layers); return err }},
	{"layers2", "hidden layer sizes between the first and the second stochastic layer, comma-separated",
		func(c *Config) any { return &c.Layers2 }, func(c Config) error {
			_, err := parseSizes("layers2", c.Layers2)
			return err
		}},
	{"arch", "encoder/decoder: mlp (dense layers) or conv (3×3 convolutions and 2×2 max pooling; the decoder: two 4×4 transposed convolutions of stride 2)",
		func(c *Config) any { return &c.Arch }, func(c Config) error {
			if c.Arch == "" {
				return nil
			}
			return oneOf("arch", c.Arch, "mlp", "conv")
		}},
	{"latent", "latent size", func(c *Config) any { return &latentFlag{c} }, func(c Config) error { return checkLatent(c) }},
	{"iw-k", "importance samples per example of the training bound (1: the ELBO)", func(c *Config) any { return &c.IWK },
		func(c Config) error { return nonNegInt("iw-k", c.IWK) }},
}

// MaxLayers is the most encoder layers --layers accepts.
const MaxLayers = 16

// ParseLayers parses a --layers value: positive sizes separated by commas
// or hyphens ("1000,500" or "1000-500"; the hyphen form is a single value
// in a `zoo sweep` axis, whose values are separated by commas), spaces
// allowed. The empty string gives no sizes.
func ParseLayers(s string) ([]int, error) { return parseSizes("layers", s) }

// parseSizes is ParseLayers for the flag --name.
func parseSizes(name, s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '-' })
	if strings.Count(s, ",")+strings.Count(s, "-")+1 != len(parts) {
		return nil, errors.Errorf("invalid --%s %q: want positive sizes separated by commas, such as 1000,1000,1000", name, s)
	}
	if len(parts) > MaxLayers {
		return nil, errors.Errorf("invalid --%s %q: %d layers, at most %d", name, s, len(parts), MaxLayers)
	}
	sizes := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n <= 0 {
			return nil, errors.Errorf("invalid --%s %q: %q is not a positive layer size", name, s, strings.TrimSpace(p))
		}
		sizes[i] = n
	}
	return sizes, nil
}

// Sizes returns the encoder's hidden layer sizes from the input: those of
// Layers when set, else one layer of Hidden units. The last is the code
// (for the VAE: the layer below μ and log σ²).
func (c Config) Sizes() ([]int, error) {
	sizes, err := ParseLayers(c.Layers)
	if err != nil || len(sizes) > 0 {
		return sizes, err
	}
	return []int{c.Hidden}, nil
}

// LookupHyper returns the named hyperparameter among those with a field of
// their own in Config, with its generic usage; Spec.Hyper gives a model's
// own meaning of it.
func LookupHyper(name string) (Hyper, bool) {
	for _, h := range shared {
		if h.Name == name {
			return h, true
		}
	}
	return Hyper{}, false
}

// extraHyper is the hyperparameter name stored in Config.Extras.
func extraHyper(name, usage string) Hyper {
	return Hyper{Name: name, Usage: usage,
		field: func(c *Config) any {
			p, err := c.Extras.ptr(name)
			if err != nil {
				return nil
			}
			return p
		},
		check: func(c Config) error {
			if v := c.Extra(name); math.IsNaN(v) || math.IsInf(v, 0) {
				return errors.Errorf("invalid --%s %g: must be finite", name, v)
			}
			return nil
		}}
}

// Value returns the hyperparameter's value in c.
func (h Hyper) Value(c Config) any {
	if h.field == nil {
		return nil
	}
	switch p := h.field(&c).(type) {
	case *int:
		return *p
	case *float64:
		return *p
	case *string:
		return *p
	case *bool:
		return *p
	case *latentFlag:
		return p.Get()
	}
	return nil
}

// Bind registers the hyperparameter as a flag on fs, bound to c, with the
// current value of c as its default.
func (h Hyper) Bind(fs FlagSet, c *Config) {
	if h.field == nil {
		return
	}
	switch p := h.field(c).(type) {
	case *int:
		fs.IntVar(p, h.Name, *p, h.Usage)
	case *float64:
		fs.Float64Var(p, h.Name, *p, h.Usage)
	case *string:
		fs.StringVar(p, h.Name, *p, h.Usage)
	case *bool:
		fs.BoolVar(p, h.Name, *p, h.Usage)
	case *latentFlag:
		bindVar(fs, p, h.Name, h.Usage)
	}
}

// Hyper returns the named hyperparameter of the model, with the model's
// own usage text. ok is false when the model does not read it.
func (s Spec) Hyper(name string) (h Hyper, ok bool) {
	uses := false
	for _, n := range s.Hypers {
		uses = uses || n == name
	}
	if !uses {
		return Hyper{}, false
	}
	for _, e := range s.extras {
		if e.Name == name {
			return e, true
		}
	}
	if h, ok = LookupHyper(name); !ok {
		return Hyper{}, false
	}
	if u, ok := s.Usage[name]; ok {
		h.Usage = u
	}
	return h, true
}

// BindFlags registers the flags of every hyperparameter the model uses,
// with c's values as defaults. c should start from the model's Defaults
// (which hold every extra of an extended model).
func (s Spec) BindFlags(fs FlagSet, c *Config) {
	for _, name := range s.Hypers {
		if h, ok := s.Hyper(name); ok {
			h.Bind(fs, c)
		}
	}
}

// Validate checks c for the model: the range of every hyperparameter the
// model reads, then the model's own rules (Spec.Check). All the problems
// found are reported in one error.
func (s Spec) Validate(c Config) error {
	var errs []error
	for _, name := range s.Hypers {
		h, ok := s.Hyper(name)
		if !ok {
			errs = append(errs, errors.Errorf("unknown hyperparameter %q", name))
			continue
		}
		if h.check != nil {
			if err := h.check(c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if s.Check != nil {
		if err := s.Check(c); err != nil {
			errs = append(errs, err)
		}
	}
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
		h, _ := s.Hyper(name)
		out += fmt.Sprintf(" --%s=%v", name, h.Value(s.Defaults))
	}
	return out
}

// checks joins the errors of a model's rules into one (nil when all pass).
func checks(errs ...error) error {
	var msg string
	for _, e := range errs {
		if e == nil {
			continue
		}
		if msg != "" {
			msg += "; "
		}
		msg += e.Error()
	}
	if msg == "" {
		return nil
	}
	return errors.New(msg)
}

func oneOf(name, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return errors.Errorf("invalid --%s %q (want one of %s)", name, v, strings.Join(allowed, ", "))
}

func positive(name string, v int) error {
	if v <= 0 {
		return errors.Errorf("invalid --%s %d: must be positive", name, v)
	}
	return nil
}

// nonNegInt accepts 0 for the counts that configs saved before they
// existed hold as 0 (read as 1 by the model).
func nonNegInt(name string, v int) error {
	if v < 0 {
		return errors.Errorf("invalid --%s %d: must be positive", name, v)
	}
	return nil
}

func nonNeg(name string, v float64) error {
	if v < 0 || v != v {
		return errors.Errorf("invalid --%s %g: must be ≥ 0", name, v)
	}
	return nil
}

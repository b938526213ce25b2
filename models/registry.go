package models

import (
	"maps"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"

	"github.com/aezoo/aezoo/graph"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Spec describes a registered model. The model's file owns its
// hyperparameters: which it reads (Hypers), what they mean for it (Usage)
// and which values it accepts (Check).
type Spec struct {
	Name   string
	Doc    string   // one line
	Hypers []string // flag names of the hyperparameters the model reads
	// Usage gives the model's own meaning of a hyperparameter, by flag
	// name, where it is narrower than the generic one.
	Usage    map[string]string
	Defaults Config // default hyperparameters (Model is set to Name)
	// Check enforces the model's rules on a config whose hyperparameters
	// are each in range (see Validate); nil accepts every such config.
	Check func(c Config) error
	// Declare declares the model's graph on b.
	Declare func(c Config, b *graph.Builder)
	// Decoder, for generative models, declares the decoder alone from a
	// latent code z (Batch×Latent), naming its graph.Recon output.
	Decoder func(c Config, b *graph.Builder, z *G.Node)
	// Package is the import path of the Go package that registers the
	// model, when it is not package models (set by Extend).
	Package string
	// Players, for adversarial models (the GAN), are the graphs trained in
	// turn on every minibatch, each minimizing its own objective over its
	// own parameters (see BuildPlayer; package train runs them). Declare
	// is then the graph that evaluation runs; it holds every parameter.
	Players []Player

	extras []Hyper // hyperparameters declared by Extend
}

var registry = map[string]Spec{}

// Register adds a model to the catalogue. It panics on a duplicate name
// (a programming error at init time).
func Register(s Spec) {
	if _, dup := registry[s.Name]; dup {
		panic("models: duplicate model " + s.Name)
	}
	s.Defaults.Model = s.Name
	s.Defaults.Package = s.Package
	registry[s.Name] = s
}

// Names lists the registered models in catalogue order.
func Names() []string {
	order := map[string]int{"plain": 0, "sparse": 1, "topk": 2, "denoising": 3, "contractive": 4, "vae": 5, "lineardae": 6, "gan": 7}
	var names []string
	for n := range registry {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		oi, ok1 := order[names[i]]
		oj, ok2 := order[names[j]]
		switch {
		case ok1 && ok2:
			return oi < oj
		case ok1 != ok2:
			return ok1
		}
		return names[i] < names[j]
	})
	return names
}

// Lookup returns the named model.
func Lookup(name string) (Spec, error) {
	s, ok := registry[name]
	if !ok {
		if near := Suggest(name, Names()); near != "" {
			return Spec{}, errors.Errorf("unknown model %q; did you mean %q? (known: %s)", name, near, strings.Join(Names(), ", "))
		}
		return Spec{}, errors.Errorf("unknown model %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return s, nil
}

// SpecOf returns the model of a config, typically one read from a run
// folder. When the model is not registered in this program but the config
// names the Go package that registers it, the error says to link that
// package in.
func SpecOf(c Config) (Spec, error) {
	s, ok := registry[c.Model]
	if ok {
		return s, nil
	}
	if c.Package != "" {
		return Spec{}, errors.Errorf("model %q is registered by Go package %s, which this program does not link in: add `import _ %q` to the program (e.g. cmd/zoo) and rebuild", c.Model, c.Package, c.Package)
	}
	return Lookup(c.Model)
}

// Suggest returns the candidate closest to name in edit distance (at most
// one edit per three letters, at least one), or one that name is a prefix
// of (two letters or more); "" when none is close.
func Suggest(name string, candidates []string) string {
	best, bestD := "", max(1, len([]rune(name))/3)+1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if len(name) >= 2 && strings.HasPrefix(strings.ToLower(c), strings.ToLower(name)) {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (with adjacent
// transpositions) between a and b, counted in runes.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// Defaults returns the named model's default config.
func Defaults(name string) (Config, error) {
	s, err := Lookup(name)
	if err != nil {
		return Config{}, err
	}
	return s.Defaults, nil
}

// Build validates c and declares its model for data of the given shape.
// Parameters come from store when it holds them, else are initialized from
// rng and added to it.
func Build(c Config, s graph.Shape, dt tensor.Dtype, store *graph.Store, rng *rand.Rand) (*graph.Model, error) {
	spec, err := SpecOf(c)
	if err != nil {
		return nil, err
	}
	if err := spec.Validate(c); err != nil {
		return nil, err
	}
	m, err := graph.Declare(s, dt, store, rng, func(b *graph.Builder) { spec.Declare(c, b) })
	return m, errors.Wrapf(err, "building %s", c.Model)
}

// Player is one graph of an adversarial model: its objective is minimized
// over the parameters whose names begin with Prefix only; the other
// parameters in its graph are read, not trained.
type Player struct {
	Name    string // "discriminator", "generator"
	Prefix  string // of the parameter names it trains ("disc.")
	Declare func(c Config, b *graph.Builder)
	// Beta1 is the β1 of this player's Adam (0: Adam's default 0.9).
	Beta1 float64
}

// BuildPlayer validates c and declares the graph of player i of an
// adversarial model, whose Params are then the player's own only. Its
// parameters come from store when present, else from rng.
func BuildPlayer(c Config, i int, s graph.Shape, dt tensor.Dtype, store *graph.Store, rng *rand.Rand) (*graph.Model, error) {
	spec, err := SpecOf(c)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(spec.Players) {
		return nil, errors.Errorf("model %s has no player %d (it has %d)", c.Model, i, len(spec.Players))
	}
	if err := spec.Validate(c); err != nil {
		return nil, err
	}
	p := spec.Players[i]
	m, err := graph.Declare(s, dt, store, rng, func(b *graph.Builder) { p.Declare(c, b) })
	if err != nil {
		return nil, errors.Wrapf(err, "building the %s of %s", p.Name, c.Model)
	}
	own := m.Params[:0:0]
	for _, n := range m.Params {
		if strings.HasPrefix(n.Name(), p.Prefix) {
			own = append(own, n)
		}
	}
	if len(own) == 0 {
		return nil, errors.Errorf("the %s of %s has no parameters named %s*", p.Name, c.Model, p.Prefix)
	}
	m.Params = own
	return m, nil
}

// BuildDecoder declares the decoder of a generative model alone: an input
// "z" of c.Latent columns, filled by fill before every run, and the
// graph.Recon output. The parameters must already be in store.
func BuildDecoder(c Config, s graph.Shape, dt tensor.Dtype, store *graph.Store, fill graph.Filler) (*graph.Model, error) {
	spec, err := SpecOf(c)
	if err != nil {
		return nil, err
	}
	if spec.Decoder == nil {
		return nil, errors.Errorf("model %s is not generative: it cannot decode samples from a prior", c.Model)
	}
	if err := spec.Validate(c); err != nil {
		return nil, err
	}
	m, err := graph.Declare(s, dt, store, nil, func(b *graph.Builder) {
		z := b.Input("z", c.Latent, fill)
		spec.Decoder(c, b, z)
	})
	return m, errors.Wrapf(err, "building the %s decoder", c.Model)
}

// Extension describes a model made of a registered one plus nodes of its
// own — typically a new penalty term.
type Extension struct {
	Base string // the registered model extended
	Name string // the new model's name
	Doc  string // one line
	// Hypers are new float64 hyperparameters (at most MaxExtras), read with
	// Config.Extra and set with --name flags; their names must differ from
	// the base model's.
	Hypers []NewHyper
	// Check, if set, enforces rules on the new hyperparameters, after the
	// base model's.
	Check func(c Config) error
	// Declare declares the extra nodes, after the base model's graph; it
	// reads the base's outputs with b.Declared (e.g. graph.Code).
	Declare func(c Config, b *graph.Builder)
	// Package is the import path of the package calling Extend, saved in
	// run folders so that a program lacking the model can say what to link
	// in. Empty: found from the caller.
	Package string
}

// NewHyper is a hyperparameter declared by Extend.
type NewHyper struct {
	Name    string
	Usage   string
	Default float64
}

// Extend registers the model e describes: the base model's graph,
// hyperparameters, defaults and rules, plus e's. Runs of the new model
// save its package's import path and its extras in config.json; `zoo eval`
// reloads them when that package is linked in (imported for its side
// effect of calling Extend, typically from an init function).
func Extend(e Extension) error {
	s, err := Lookup(e.Base)
	if err != nil {
		return err
	}
	if _, dup := registry[e.Name]; dup || e.Name == "" {
		return errors.Errorf("model %q is already registered or unnamed", e.Name)
	}
	if e.Declare == nil {
		return errors.Errorf("extension %s declares nothing", e.Name)
	}
	if e.Package == "" {
		e.Package = callerPackage(2)
	}
	hypers := append([]string(nil), s.Hypers...)
	extras := append([]Hyper(nil), s.extras...)
	defaults := s.Defaults
	for _, h := range e.Hypers {
		if _, taken := s.Hyper(h.Name); taken || h.Name == "" {
			return errors.Errorf("extension %s: hyperparameter %q is empty or already one of %s's", e.Name, h.Name, e.Base)
		}
		if _, shared := LookupHyper(h.Name); shared {
			return errors.Errorf("extension %s: hyperparameter %q is a Config field; name the new one differently", e.Name, h.Name)
		}
		if err := defaults.Extras.Set(h.Name, h.Default); err != nil {
			return errors.Wrapf(err, "extension %s", e.Name)
		}
		hypers = append(hypers, h.Name)
		extras = append(extras, extraHyper(h.Name, h.Usage))
	}
	declare, check := s.Declare, s.Check
	s.Name, s.Doc, s.Package = e.Name, e.Doc, e.Package
	s.Hypers, s.extras, s.Defaults = hypers, extras, defaults
	if s.Usage != nil {
		s.Usage = maps.Clone(s.Usage)
	}
	s.Declare = func(c Config, b *graph.Builder) {
		declare(c, b)
		e.Declare(c, b)
	}
	s.Check = func(c Config) error {
		var errs []error
		if check != nil {
			errs = append(errs, check(c))
		}
		if e.Check != nil {
			errs = append(errs, e.Check(c))
		}
		return checks(errs...)
	}
	Register(s)
	return nil
}

// callerPackage returns the import path of the package of the function
// skip frames above it.
func callerPackage(skip int) string {
	pc, _, _, ok := runtime.Caller(skip)
	if !ok {
		return ""
	}
	f := runtime.FuncForPC(pc)
	if f == nil {
		return ""
	}
	name := f.Name() // e.g. example.com/mod/pkg.init.0 or example.com/mod/pkg.(*T).f
	slash := strings.LastIndex(name, "/")
	if dot := strings.Index(name[slash+1:], "."); dot >= 0 {
		name = name[:slash+1+dot]
	}
	if name == "main" {
		return "" // a command cannot be imported: nothing to link in
	}
	return name
}

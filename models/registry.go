package models

import (
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/aezoo/aezoo/graph"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Spec describes a registered model.
type Spec struct {
	Name     string
	Doc      string   // one line
	Hypers   []string // flag names of the hyperparameters the model reads
	Defaults Config   // default hyperparameters (Model is set to Name)
	// Declare declares the model's graph on b.
	Declare func(c Config, b *graph.Builder)
	// Decoder, for generative models, declares the decoder alone from a
	// latent code z (Batch×Latent), naming its "recon" output.
	Decoder func(c Config, b *graph.Builder, z *G.Node)
}

var registry = map[string]Spec{}

// Register adds a model to the catalogue. It panics on a duplicate name
// (a programming error at init time).
func Register(s Spec) {
	if _, dup := registry[s.Name]; dup {
		panic("models: duplicate model " + s.Name)
	}
	s.Defaults.Model = s.Name
	registry[s.Name] = s
}

// Names lists the registered models in catalogue order.
func Names() []string {
	order := map[string]int{"plain": 0, "sparse": 1, "topk": 2, "denoising": 3, "contractive": 4, "vae": 5, "lineardae": 6}
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
	spec, err := Lookup(c.Model)
	if err != nil {
		return nil, err
	}
	if err := spec.Validate(c); err != nil {
		return nil, err
	}
	m, err := graph.Declare(s, dt, store, rng, func(b *graph.Builder) { spec.Declare(c, b) })
	return m, errors.Wrapf(err, "building %s", c.Model)
}

// BuildDecoder declares the decoder of a generative model alone: an input
// "z" of c.Latent columns, filled by fill before every run, and the
// "recon" output. The parameters must already be in store.
func BuildDecoder(c Config, s graph.Shape, dt tensor.Dtype, store *graph.Store, fill graph.Filler) (*graph.Model, error) {
	spec, err := Lookup(c.Model)
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

// Extend registers a new model named name: the base model's graph plus the
// nodes that extra declares — typically a new penalty term, built from the
// base model's outputs (b.Model().Outputs["code"], …). The new model has the
// base model's hyperparameters and defaults, and also reads "lambda".
func Extend(base, name, doc string, extra func(c Config, b *graph.Builder)) error {
	s, err := Lookup(base)
	if err != nil {
		return err
	}
	if _, dup := registry[name]; dup {
		return errors.Errorf("model %q is already registered", name)
	}
	declare := s.Declare
	s.Name, s.Doc = name, doc
	s.Declare = func(c Config, b *graph.Builder) {
		declare(c, b)
		extra(c, b)
	}
	hasLambda := false
	for _, h := range s.Hypers {
		hasLambda = hasLambda || h == "lambda"
	}
	if !hasLambda {
		s.Hypers = append(append([]string(nil), s.Hypers...), "lambda")
	}
	Register(s)
	return nil
}

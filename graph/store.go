package graph

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/aezoo/aezoo/internal/par"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Store holds a model's named parameter tensors. Graphs built from the same
// store share these tensors, so a forward-only evaluation graph sees the
// weights that a training graph updates in place.
type Store struct {
	names []string
	t     map[string]*tensor.Dense
	// Frozen stores refuse to initialize missing parameters: building a
	// model on one fails unless every parameter is present (used when
	// loading saved models, so a damaged file never triggers a large
	// allocation).
	Frozen bool
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{t: map[string]*tensor.Dense{}} }

// Names lists the parameters in declaration (or insertion) order.
func (s *Store) Names() []string { return append([]string(nil), s.names...) }

// Get returns the named tensor, or nil.
func (s *Store) Get(name string) *tensor.Dense { return s.t[name] }

// Set adds or replaces a named tensor (used when loading weights). Set does
// not check shapes; building a graph on the store does.
func (s *Store) Set(name string, t *tensor.Dense) {
	if _, ok := s.t[name]; !ok {
		s.names = append(s.names, name)
	}
	s.t[name] = t
}

// Sorted lists the parameter names in lexical order.
func (s *Store) Sorted() []string {
	n := s.Names()
	sort.Strings(n)
	return n
}

// Floats returns a copy of the named parameter as float64s.
func (s *Store) Floats(name string) []float64 {
	t := s.t[name]
	if t == nil {
		return nil
	}
	return ToFloat64s(t.Data(), nil)
}

func (s *Store) get(name string, shape []int, dt tensor.Dtype, init func() []float64) (*tensor.Dense, error) {
	if t, ok := s.t[name]; ok {
		if !t.Shape().Eq(tensor.Shape(shape)) {
			return nil, errors.Errorf("parameter %s has shape %v, the model needs %v", name, t.Shape(), tensor.Shape(shape))
		}
		if t.Dtype() != dt {
			return nil, errors.Errorf("parameter %s has dtype %v, the model needs %v", name, t.Dtype(), dt)
		}
		return t, nil
	}
	if s.Frozen {
		return nil, errors.Errorf("parameter %s (shape %v) is missing", name, tensor.Shape(shape))
	}
	vals := init()
	var t *tensor.Dense
	if dt == tensor.Float32 {
		d := make([]float32, len(vals))
		for i, v := range vals {
			d[i] = float32(v)
		}
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
	} else {
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))
	}
	s.Set(name, t)
	return t, nil
}

// Init draws the initial values of a parameter of the given shape.
type Init func(rng *rand.Rand, shape []int) []float64

// Uniform is PyTorch's nn.Linear initialization: U(−1/√fanIn, 1/√fanIn).
func Uniform(fanIn int) Init {
	return func(rng *rand.Rand, shape []int) []float64 {
		a := 1 / math.Sqrt(float64(fanIn))
		v := make([]float64, size(shape))
		for i := range v {
			v[i] = (2*rng.Float64() - 1) * a
		}
		return v
	}
}

// Zeros initializes every value to 0.
func Zeros(_ *rand.Rand, shape []int) []float64 { return make([]float64, size(shape)) }

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// ToFloat64s converts a float32 or float64 slice (or scalar) into dst,
// growing it as needed, and returns it.
func ToFloat64s(data any, dst []float64) []float64 {
	switch d := data.(type) {
	case []float32:
		dst = grow(dst, len(d))
		par.For(len(d), par.Grain(len(d), 1), func(_, lo, hi int) {
			for i, v := range d[lo:hi] {
				dst[lo+i] = float64(v)
			}
		})
	case []float64:
		dst = grow(dst, len(d))
		par.For(len(d), par.Grain(len(d), 1), func(_, lo, hi int) { copy(dst[lo:hi], d[lo:hi]) })
	case float32:
		dst = append(dst[:0], float64(d))
	case float64:
		dst = append(dst[:0], d)
	}
	return dst
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

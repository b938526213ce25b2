package graph

import (
	"fmt"
	"math/rand/v2"

	"github.com/aezoo/aezoo/graph/ops"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Float32 returns tensor.Float32, one of the two element types a model
// can be built with.
func Float32() tensor.Dtype { return tensor.Float32 }

// Float64 returns tensor.Float64, the other element type.
func Float64() tensor.Dtype { return tensor.Float64 }

// ParseDtype turns "float32" or "float64" into a tensor.Dtype.
func ParseDtype(s string) (tensor.Dtype, error) {
	switch s {
	case "float32", "f32", "":
		return tensor.Float32, nil
	case "float64", "f64":
		return tensor.Float64, nil
	}
	return tensor.Dtype{}, errors.Errorf("unknown dtype %q (want float32 or float64)", s)
}

// Shape is the size of the data a graph is built for: In features per
// example and Batch examples per step.
type Shape struct {
	In    int
	Batch int
	// Mean is the per-feature mean of the training data (length In), for
	// parameters initialized from it (Builder.DataMean). It may be nil, as
	// when a trained model is rebuilt: its parameters come from the store.
	Mean []float64
}

// Filler writes one step's value of an input into dst (Batch×cols values,
// row-major). x holds the clean minibatch (Batch×In), rng is the run's
// seeded generator, and train tells training steps from evaluation.
type Filler func(dst []float64, x []float32, rng *rand.Rand, train bool)

// Input is a graph input that the program sets before every run.
type Input struct {
	Name string
	Node *G.Node
	Cols int
	Fill Filler
	// Rows marks a Filler that fills each row from that row of the
	// minibatch alone (see Builder.RowInput): the program calls it on
	// blocks of rows, concurrently, each block with its own generator.
	Rows bool

	batch bool // the clean minibatch itself (Builder.Batch): copied, not filled
	buf   []float64
	val   *tensor.Dense
	pcgs  []*rand.PCG  // one generator per block of rows (Rows inputs)
	rngs  []*rand.Rand // wrapping pcgs
}

// TermNode is a named scalar node, averaged per example. Objective terms
// are summed into the loss; the others are only monitored.
type TermNode struct {
	Name      Term
	Node      *G.Node
	Objective bool
}

// Model is a declared graph: its inputs, parameters, named terms, loss and
// named outputs (such as Recon, Logits and Code).
type Model struct {
	G      *G.ExprGraph
	Shape  Shape
	Dtype  tensor.Dtype
	Inputs []*Input
	Params []*G.Node
	Terms  []TermNode
	Loss   *G.Node
	Store  *Store
	// Schedules are called by the trainer before each epoch (0-based) of
	// epochs, to change hyperparameters that the graph reads at run time.
	Schedules []func(epoch, epochs int)

	outputs  map[Output]*G.Node
	outOrder []Output // in declaration order
}

// Term returns the named term node, or nil.
func (m *Model) Term(name Term) *G.Node {
	for _, t := range m.Terms {
		if t.Name == name {
			return t.Node
		}
	}
	return nil
}

// Output returns the named output node, or nil when the model declares no
// such output.
func (m *Model) Output(name Output) *G.Node { return m.outputs[name] }

// Outputs lists the model's outputs in declaration order.
func (m *Model) Outputs() []Output { return append([]Output(nil), m.outOrder...) }

// Builder declares a model's nodes. Its methods panic on error; Declare
// recovers those panics into an error.
type Builder struct {
	m   *Model
	rng *rand.Rand
}

// buildError carries an error through a panic inside Declare.
type buildError struct{ err error }

// Declare builds a model of the given shape and dtype by running body on a
// fresh graph. Parameters are taken from store when it holds them (their
// shapes are checked) and otherwise initialized from rng and added to it;
// a nil store starts an empty one. Any panic in body becomes an error.
func Declare(s Shape, dt tensor.Dtype, store *Store, rng *rand.Rand, body func(b *Builder)) (m *Model, err error) {
	if s.In <= 0 || s.Batch <= 0 {
		return nil, errors.Errorf("graph: invalid shape %d×%d", s.Batch, s.In)
	}
	if s.Mean != nil && len(s.Mean) != s.In {
		return nil, errors.Errorf("graph: data mean has %d values for %d features", len(s.Mean), s.In)
	}
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Errorf("graph: unsupported dtype %v", dt)
	}
	if store == nil {
		store = NewStore()
	}
	if rng == nil {
		rng = rand.New(rand.NewPCG(1, 2))
	}
	b := &Builder{m: &Model{G: G.NewGraph(), Shape: s, Dtype: dt, Store: store, outputs: map[Output]*G.Node{}}, rng: rng}
	defer func() {
		if r := recover(); r != nil {
			m = nil
			if be, ok := r.(buildError); ok {
				err = be.err
				return
			}
			err = errors.Errorf("graph: building model: %v", r)
		}
	}()
	body(b)
	if err := b.finish(); err != nil {
		return nil, err
	}
	return b.m, nil
}

func (b *Builder) finish() error {
	var loss *G.Node
	for _, t := range b.m.Terms {
		if !t.Objective {
			continue
		}
		if loss == nil {
			loss = t.Node
			continue
		}
		var err error
		if loss, err = G.Add(loss, t.Node); err != nil {
			return errors.Wrap(err, "graph: summing the loss")
		}
	}
	b.m.Loss = loss // nil for forward-only graphs such as a decoder alone
	return nil
}

// Fail aborts the declaration with err.
func (b *Builder) Fail(err error) { panic(buildError{err}) }

// Failf aborts the declaration with a formatted error.
func (b *Builder) Failf(format string, args ...any) { b.Fail(errors.Errorf(format, args...)) }

// Must returns n, or aborts the declaration if err is not nil. It lets a
// model file call node constructors that return (node, error) inline.
func (b *Builder) Must(n *G.Node, err error) *G.Node {
	if err != nil {
		b.Fail(err)
	}
	return n
}

// Model returns the model being declared (for advanced use).
func (b *Builder) Model() *Model { return b.m }

// Shape returns the shape the model is built for.
func (b *Builder) Shape() Shape { return b.m.Shape }

// Rand returns the generator used for parameter initialization.
func (b *Builder) Rand() *rand.Rand { return b.rng }

// Input declares a Batch×cols input filled by fill before every run.
func (b *Builder) Input(name string, cols int, fill Filler) *G.Node {
	if cols <= 0 {
		b.Failf("graph: input %q: %d columns", name, cols)
	}
	for _, in := range b.m.Inputs {
		if in.Name == name {
			b.Failf("graph: input %q declared twice", name)
		}
	}
	n := G.NewMatrix(b.m.G, b.m.Dtype, G.WithShape(b.m.Shape.Batch, cols), G.WithName(name))
	b.m.Inputs = append(b.m.Inputs, &Input{Name: name, Node: n, Cols: cols, Fill: fill})
	return n
}

// RowInput declares a Batch×cols input like Input, for a filler that
// writes each row of dst from the same row of x alone (an elementwise
// function of the minibatch and fresh noise, such as input corruption or
// ε ~ N(0, I)). The program cuts the rows into fixed blocks (their size
// depends only on Batch and cols), draws one seed per run from the run's
// generator and fills the blocks on every core, block c from its own
// generator seeded with (seed, c): the values depend on the seed, never
// on the number of threads. fill must be safe for concurrent calls on
// distinct blocks.
func (b *Builder) RowInput(name string, cols int, fill Filler) *G.Node {
	n := b.Input(name, cols, fill)
	b.m.Inputs[len(b.m.Inputs)-1].Rows = true
	return n
}

// Batch declares the input that holds the clean minibatch (Batch×In).
func (b *Builder) Batch(name string) *G.Node {
	n := b.Input(name, b.m.Shape.In, func(dst []float64, x []float32, _ *rand.Rand, _ bool) {
		for i, v := range x {
			dst[i] = float64(v)
		}
	})
	b.m.Inputs[len(b.m.Inputs)-1].batch = true
	return n
}

// Param declares a named parameter of the given shape. Its value comes from
// the store when present, else from init.
func (b *Builder) Param(name string, shape []int, init Init) *G.Node {
	t, err := b.m.Store.get(name, shape, b.m.Dtype, func() []float64 { return init(b.rng, shape) })
	if err != nil {
		b.Fail(err)
	}
	var n *G.Node
	switch len(shape) {
	case 1:
		n = G.NewVector(b.m.G, b.m.Dtype, G.WithShape(shape...), G.WithName(name), G.WithValue(t))
	case 2:
		n = G.NewMatrix(b.m.G, b.m.Dtype, G.WithShape(shape...), G.WithName(name), G.WithValue(t))
	default:
		b.Failf("graph: parameter %q: rank %d not supported", name, len(shape))
	}
	b.m.Params = append(b.m.Params, n)
	return n
}

// Layer is an affine map x·W + b.
type Layer struct {
	W, B *G.Node // W is in×out, B is 1×out
	Pre  *G.Node // x·W + b, before any activation
}

// Dense declares the affine layer name (parameters name.W, name.b) applied to x,
// initialized as PyTorch's nn.Linear: U(−1/√in, 1/√in) for weights and bias.
func (b *Builder) Dense(name string, x *G.Node, out int) Layer {
	in := x.Shape()[1]
	l := Layer{
		W: b.Param(name+".W", []int{in, out}, Uniform(in)),
		B: b.Param(name+".b", []int{1, out}, Uniform(in)),
	}
	l.Pre = b.Must(ops.Affine(x, l.W, l.B)) // fused x·W + b (graph/ops)
	return l
}

// DataMean is the Init of a 1×In parameter that starts at the training
// data's mean (Shape.Mean), or at zero when the shape carries no mean.
func (b *Builder) DataMean() Init {
	return func(_ *rand.Rand, shape []int) []float64 {
		v := make([]float64, size(shape))
		if len(b.m.Shape.Mean) == len(v) {
			copy(v, b.m.Shape.Mean)
		}
		return v
	}
}

// Act applies the named activation: "sigmoid", "relu", "tanh" or "linear".
func (b *Builder) Act(name string, x *G.Node) *G.Node {
	n, err := Activate(name, x)
	return b.Must(n, err)
}

// Activate applies the named activation: "sigmoid", "relu", "tanh" or "linear".
func Activate(name string, x *G.Node) (*G.Node, error) {
	switch name {
	case "sigmoid", "relu", "tanh":
		if x.Dims() == 2 {
			return ops.Act(name, x) // fused, preallocated (graph/ops)
		}
		return activateStock(name, x)
	case "linear":
		return x, nil
	}
	return nil, errors.Errorf("unknown activation %q (want sigmoid, relu, tanh or linear)", name)
}

// Const returns a scalar constant of the model's dtype.
func (b *Builder) Const(v float64) *G.Node { return Scalar(b.m.G, b.m.Dtype, v) }

// Scalar returns a scalar constant of dtype dt in graph g.
func Scalar(g *G.ExprGraph, dt tensor.Dtype, v float64) *G.Node {
	if dt == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// Scale returns c·x.
func (b *Builder) Scale(c float64, x *G.Node) *G.Node {
	return b.Must(G.Mul(x, b.Const(c)))
}

// Objective adds a named scalar term to the loss.
func (b *Builder) Objective(name Term, n *G.Node) *G.Node {
	b.term(name, n, true)
	return n
}

// Monitor adds a named scalar term that is reported but not optimized.
func (b *Builder) Monitor(name Term, n *G.Node) *G.Node {
	b.term(name, n, false)
	return n
}

func (b *Builder) term(name Term, n *G.Node, obj bool) {
	if n == nil || !n.IsScalar() {
		b.Failf("graph: term %q is not a scalar node", name)
	}
	if b.m.Term(name) != nil {
		b.Failf("graph: term %q declared twice", name)
	}
	b.m.Terms = append(b.m.Terms, TermNode{Name: name, Node: n, Objective: obj})
}

// Schedule registers a function the trainer calls before each epoch.
func (b *Builder) Schedule(f func(epoch, epochs int)) { b.m.Schedules = append(b.m.Schedules, f) }

// Output names a node whose value evaluators can read (e.g. Recon, Code)
// and returns it.
func (b *Builder) Output(name Output, n *G.Node) *G.Node {
	if n == nil {
		b.Failf("graph: output %q is a nil node", name)
	}
	if _, dup := b.m.outputs[name]; dup {
		b.Failf("graph: output %q declared twice", name)
	}
	b.m.outputs[name] = n
	b.m.outOrder = append(b.m.outOrder, name)
	return n
}

// Declared returns the output node declared so far under name, and aborts
// the declaration when there is none. Extensions of a model read the base
// model's nodes with it (e.g. b.Declared(graph.Code)).
func (b *Builder) Declared(name Output) *G.Node {
	n := b.m.outputs[name]
	if n == nil {
		b.Failf("graph: no output %q declared (have %v)", name, b.m.outOrder)
	}
	return n
}

func (in *Input) String() string { return fmt.Sprintf("input %s (%d cols)", in.Name, in.Cols) }

func activateStock(name string, x *G.Node) (*G.Node, error) {
	switch name {
	case "sigmoid":
		return G.Sigmoid(x)
	case "relu":
		return G.Rectify(x)
	}
	return G.Tanh(x)
}

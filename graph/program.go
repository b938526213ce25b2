package graph

import (
	"fmt"
	"math/rand/v2"

	"github.com/aezoo/aezoo/internal/par"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Program is a model compiled once into a TapeMachine. A training program
// also holds the symbolic gradients and a solver.
type Program struct {
	m      *Model
	vm     G.VM
	solver G.Solver
	vgs    []G.ValueGrad

	terms    []*G.Value
	termVals []float64
	outNames []Output
	outs     []*G.Value
	outVals  map[Output][]float64
}

// NewTrainer compiles m for training: the loss is differentiated
// symbolically with respect to every parameter, and each Run ends with a
// solver step. With this package's Adam the solver reads each parameter's
// gradient from its gradient node (this run's gradient; Adam leaves it as
// it is): the gradients are not bound to the parameters as dual values,
// into which Gorgonia would add each one, a single-threaded pass over every
// parameter per step, before the solver reads and zeroes it. Other solvers
// (Gorgonia's, which zero the gradients they read) get the dual values
// (BindDualValues).
func NewTrainer(m *Model, solver G.Solver) (*Program, error) {
	if solver == nil {
		return nil, errors.New("graph: NewTrainer needs a solver")
	}
	if len(m.Params) == 0 {
		return nil, errors.New("graph: model has no parameters to train")
	}
	if m.Loss == nil {
		return nil, errors.New("graph: model declares no objective term")
	}
	grads, err := G.Grad(m.Loss, m.Params...)
	if err != nil {
		return nil, errors.Wrap(err, "graph: symbolic differentiation of the loss")
	}
	p := &Program{m: m, solver: solver}
	p.readTerms()
	// Training runs only what the step needs: the terms, the loss and the
	// gradients. Outputs kept for evaluation (codes, reconstructions, the
	// per-example Jacobian norm) are left out of the training tape.
	roots := append(m.termNodes(), grads...)
	if _, adam := solver.(*Adam); !adam || !directGrads {
		if err := p.compileOn(m.G.SubgraphRoots(unique(roots)...), G.BindDualValues(m.Params...)); err != nil {
			return nil, err
		}
		p.vgs = G.NodesToValueGrads(m.Params)
		return p, nil
	}
	// The gradient nodes are roots of the tape: their registers stay live
	// to the end of the run, so no later instruction writes into their
	// values before the solver reads them.
	if err := p.compileOn(m.G.SubgraphRoots(unique(roots)...)); err != nil {
		return nil, err
	}
	if len(grads) != len(m.Params) {
		return nil, errors.Errorf("graph: %d gradients for %d parameters", len(grads), len(m.Params))
	}
	p.vgs = make([]G.ValueGrad, len(m.Params))
	for i, w := range m.Params {
		p.vgs[i] = gradRef{w, grads[i]}
	}
	return p, nil
}

// directGrads selects NewTrainer's gradient path: the gradient nodes read
// directly (true), or Gorgonia's dual values (false; kept for the test that
// shows both train to the same bits).
var directGrads = true

// gradRef is a parameter with its gradient node, as the solver's
// gorgonia.ValueGrad.
type gradRef struct{ param, grad *G.Node }

// Value returns the parameter's value.
func (r gradRef) Value() G.Value { return r.param.Value() }

// Grad returns the value of the parameter's gradient node in this run.
func (r gradRef) Grad() (G.Value, error) {
	v := r.grad.Value()
	if v == nil {
		return nil, errors.Errorf("graph: the gradient of %s was not computed", r.param.Name())
	}
	return v, nil
}

// NewEvaluator compiles m forward-only: every term, and the outputs named
// (none: terms only), can be read after Run. Only the nodes these need are
// put on the tape. An output the model does not declare is an error.
func NewEvaluator(m *Model, outputs ...Output) (*Program, error) {
	p := &Program{m: m, outVals: map[Output][]float64{}}
	p.readTerms()
	roots := m.termNodes()
	for _, name := range outputs {
		n := m.Output(name)
		if n == nil {
			return nil, errors.Errorf("graph: evaluator: the model declares no output %q (have %v)", name, m.outOrder)
		}
		if _, dup := p.outVals[name]; dup {
			continue
		}
		p.outVals[name] = nil
		v := new(G.Value)
		G.Read(n, v)
		p.outNames = append(p.outNames, name)
		p.outs = append(p.outs, v)
		roots = append(roots, n)
	}
	if len(roots) == 0 {
		return nil, errors.New("graph: model declares no terms and no outputs to evaluate")
	}
	if err := p.compileOn(m.G.SubgraphRoots(unique(roots)...)); err != nil {
		return nil, err
	}
	return p, nil
}

// termNodes returns the nodes of the terms and of the loss.
func (m *Model) termNodes() G.Nodes {
	var ns G.Nodes
	for _, t := range m.Terms {
		ns = append(ns, t.Node)
	}
	if m.Loss != nil {
		ns = append(ns, m.Loss)
	}
	return ns
}

// unique returns ns without repeated nodes, in order.
func unique(ns G.Nodes) G.Nodes {
	seen := map[*G.Node]bool{}
	out := ns[:0:0]
	for _, n := range ns {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// NewGradProgram compiles m with symbolic gradients bound to the
// parameters but no solver: after Run, each parameter's Grad holds
// ∂loss/∂param (accumulated over runs until zeroed). For gradient checks.
func NewGradProgram(m *Model) (*Program, error) {
	if m.Loss == nil {
		return nil, errors.New("graph: model declares no objective term")
	}
	if _, err := G.Grad(m.Loss, m.Params...); err != nil {
		return nil, errors.Wrap(err, "graph: symbolic differentiation of the loss")
	}
	p := &Program{m: m}
	p.readTerms()
	if err := p.compile(G.BindDualValues(m.Params...)); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Program) readTerms() {
	for _, t := range p.m.Terms {
		v := new(G.Value)
		G.Read(t.Node, v)
		p.terms = append(p.terms, v)
	}
	if p.m.Loss != nil && p.m.Term(LossTerm) == nil {
		v := new(G.Value)
		G.Read(p.m.Loss, v)
		p.terms = append(p.terms, v)
	}
	p.termVals = make([]float64, len(p.terms))
}

func (p *Program) compile(opts ...G.VMOpt) error { return p.compileOn(p.m.G, opts...) }

// compileOn compiles g (the model's graph or a subgraph of it); Gorgonia's
// NewTapeMachine panics on some malformed graphs, which becomes an error.
func (p *Program) compileOn(g *G.ExprGraph, opts ...G.VMOpt) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("graph: compiling the tape machine: %v", r)
		}
	}()
	p.vm = G.NewTapeMachine(g, opts...)
	return nil
}

// Run sets every input (filled from the minibatch x and rng), runs the
// machine, steps the solver if this is a training program, and resets the
// machine. Terms and outputs are copied out before the reset.
func (p *Program) Run(x []float32, rng *rand.Rand, train bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("graph: run: %v", r)
		}
	}()
	s := p.m.Shape
	if len(x) != s.Batch*s.In {
		return errors.Errorf("graph: run: minibatch has %d values, want %d×%d", len(x), s.Batch, s.In)
	}
	if err := p.Feed(x, rng, train); err != nil {
		return err
	}
	return p.RunFed()
}

// Feed fills and sets every input without running. The minibatch input
// is copied and row inputs (Builder.RowInput) are filled on every core, in
// blocks of rows fixed by the shapes; other inputs are filled in one call.
func (p *Program) Feed(x []float32, rng *rand.Rand, train bool) error {
	s := p.m.Shape
	for _, in := range p.m.Inputs {
		n := s.Batch * in.Cols
		if in.val == nil {
			in.buf = make([]float64, n)
			if p.m.Dtype == tensor.Float32 {
				in.val = tensor.New(tensor.WithShape(s.Batch, in.Cols), tensor.WithBacking(make([]float32, n)))
			} else {
				in.val = tensor.New(tensor.WithShape(s.Batch, in.Cols), tensor.WithBacking(make([]float64, n)))
			}
		}
		switch {
		case in.batch && len(x) == n:
			grain := par.Grain(s.Batch, in.Cols) // rows per block
			par.For(s.Batch, grain, func(_, lo, hi int) {
				storeRows(in.val, x[lo*in.Cols:hi*in.Cols], lo*in.Cols)
			})
		case in.Rows && len(x) == s.Batch*s.In:
			grain := par.Grain(s.Batch, rowFillCost*in.Cols)
			chunks := par.Chunks(s.Batch, grain)
			var seed uint64
			if rng != nil {
				seed = rng.Uint64()
				for len(in.pcgs) < chunks {
					pcg := rand.NewPCG(0, 0)
					in.pcgs, in.rngs = append(in.pcgs, pcg), append(in.rngs, rand.New(pcg))
				}
			}
			par.For(s.Batch, grain, func(c, lo, hi int) {
				var r *rand.Rand
				if rng != nil {
					in.pcgs[c].Seed(seed, uint64(c))
					r = in.rngs[c]
				}
				dst := in.buf[lo*in.Cols : hi*in.Cols]
				in.Fill(dst, x[lo*s.In:hi*s.In], r, train)
				storeRows(in.val, dst, lo*in.Cols)
			})
		default:
			in.Fill(in.buf, x, rng, train)
			storeRows(in.val, in.buf, 0)
		}
		if err := G.Let(in.Node, in.val); err != nil {
			return errors.Wrapf(err, "graph: setting input %s", in.Name)
		}
	}
	return nil
}

// rowFillCost is the assumed work per entry of a row filler (a Gaussian or
// uniform draw and a store), in par.Grain's units.
const rowFillCost = 24

// storeRows writes src (float32 or float64 values) into t's data from
// offset off on, converting to t's dtype.
func storeRows[S float32 | float64](t *tensor.Dense, src []S, off int) {
	switch d := t.Data().(type) {
	case []float32:
		d = d[off : off+len(src)]
		for i, v := range src {
			d[i] = float32(v)
		}
	case []float64:
		d = d[off : off+len(src)]
		for i, v := range src {
			d[i] = float64(v)
		}
	}
}

// RunFed runs the machine on the inputs already set (see Feed), steps the
// solver if any, and resets the machine.
func (p *Program) RunFed() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("graph: run: %v", r)
		}
	}()
	defer p.vm.Reset()
	if err := p.vm.RunAll(); err != nil {
		return errors.Wrap(err, "graph: run")
	}
	for i, v := range p.terms {
		if *v == nil {
			return errors.Errorf("graph: term %d was not computed", i)
		}
		p.termVals[i] = scalarOf(*v)
	}
	for i, v := range p.outs {
		if *v == nil {
			return errors.Errorf("graph: output %s was not computed", p.outNames[i])
		}
		p.outVals[p.outNames[i]] = ToFloat64s((*v).Data(), p.outVals[p.outNames[i]])
	}
	if p.solver != nil {
		if err := p.solver.Step(p.vgs); err != nil {
			return errors.Wrap(err, "graph: solver step")
		}
	}
	return nil
}

func scalarOf(v G.Value) float64 {
	switch d := v.Data().(type) {
	case float32:
		return float64(d)
	case float64:
		return d
	case []float32:
		if len(d) == 1 {
			return float64(d[0])
		}
	case []float64:
		if len(d) == 1 {
			return d[0]
		}
	}
	panic(fmt.Sprintf("graph: value %v is not a scalar", v))
}

// Term returns the value of the named term from the last Run (LossTerm is
// always available). ok is false for an unknown name.
func (p *Program) Term(name Term) (v float64, ok bool) {
	for i, t := range p.m.Terms {
		if t.Name == name {
			return p.termVals[i], true
		}
	}
	if name == LossTerm && p.m.Loss != nil {
		return p.termVals[len(p.termVals)-1], true
	}
	return 0, false
}

// Loss returns the loss of the last Run.
func (p *Program) Loss() float64 {
	v, _ := p.Term(LossTerm)
	return v
}

// Output returns the named output of the last Run (Batch×cols, row-major),
// or nil when the program was not compiled to compute it. The slice is
// reused by the next Run.
func (p *Program) Output(name Output) []float64 { return p.outVals[name] }

// OutputNode returns the model's named output node, or nil. On a program
// that does not compute the output (see NewEvaluator; a training program
// computes only the nodes its step needs) its value may be stale; read it
// with G.Read semantics in mind.
func (p *Program) OutputNode(name Output) *G.Node { return p.m.Output(name) }

// Shape returns the shape the program's model was built for.
func (p *Program) Shape() Shape { return p.m.Shape }

// Batch returns the number of examples per run.
func (p *Program) Batch() int { return p.m.Shape.Batch }

// Dtype returns the element type of the program's model.
func (p *Program) Dtype() tensor.Dtype { return p.m.Dtype }

// Params returns the model's parameter nodes, in declaration order (the
// order of the solver's state).
func (p *Program) Params() []*G.Node { return p.m.Params }

// Terms lists the model's terms, in declaration order (LossTerm excluded
// unless the model declares it).
func (p *Program) Terms() []Term {
	names := make([]Term, len(p.m.Terms))
	for i, t := range p.m.Terms {
		names[i] = t.Name
	}
	return names
}

// BeginEpoch calls the model's schedules before epoch (0-based) of epochs.
func (p *Program) BeginEpoch(epoch, epochs int) {
	for _, f := range p.m.Schedules {
		f(epoch, epochs)
	}
}

package graph

import (
	"fmt"
	"hash"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func matrix(g *G.ExprGraph, rows, cols int, v []float64, name string) *G.Node {
	return G.NewMatrix(g, tensor.Float64, G.WithShape(rows, cols), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(v))))
}

// halfSquareOp computes x² but claims the derivative x instead of 2x: a
// deliberately wrong gradient, to prove CheckGradients can fail.
type halfSquareOp struct{}

func (halfSquareOp) Arity() int { return 1 }
func (halfSquareOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}
func (halfSquareOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (halfSquareOp) Do(v ...G.Value) (G.Value, error) {
	d := v[0].Data().([]float64)
	out := make([]float64, len(d))
	for i, x := range d {
		out[i] = x * x
	}
	return tensor.New(tensor.WithShape(v[0].Shape().Clone()...), tensor.WithBacking(out)), nil
}
func (halfSquareOp) ReturnsPtr() bool      { return false }
func (halfSquareOp) CallsExtern() bool     { return false }
func (halfSquareOp) OverwritesInput() int  { return -1 }
func (halfSquareOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "halfsquare") }
func (halfSquareOp) Hashcode() uint32      { return 12345 }
func (halfSquareOp) String() string        { return "halfsquare" }
func (halfSquareOp) DiffWRT(int) []bool    { return []bool{true} }
func (halfSquareOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := G.HadamardProd(grad, in[0])
	return G.Nodes{d}, err
}

func declareTiny(t *testing.T, wrong bool) *Model {
	t.Helper()
	m, err := Declare(Shape{In: 4, Batch: 3}, Float64(), nil, rand.New(rand.NewPCG(1, 1)), func(b *Builder) {
		x := b.Batch("x")
		h := b.Act("tanh", b.Dense("enc", x, 3).Pre)
		if wrong {
			h = b.Must(G.ApplyOp(halfSquareOp{}, h))
		}
		out := b.Dense("dec", h, 4).Pre
		d := b.Must(G.Sub(out, x))
		b.Objective(ReconTerm, b.Must(G.Mean(b.Must(G.Square(d)))))
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCheckGradients(t *testing.T) {
	x := make([]float32, 12)
	for i := range x {
		x[i] = float32(i%5) / 5
	}
	for _, tc := range []struct {
		name  string
		wrong bool
	}{{"correct", false}, {"wrong derivative", true}} {
		r, err := CheckGradients(declareTiny(t, tc.wrong), x, rand.New(rand.NewPCG(2, 2)), 1e-6, 1e-8, 0)
		if err != nil {
			t.Fatal(err)
		}
		if failed := r.MaxRel > 1e-5; failed != tc.wrong {
			t.Errorf("%s: max rel error %g at %s (analytic %g, numeric %g)", tc.name, r.MaxRel, r.Worst, r.Analytic, r.Numeric)
		}
		if r.Checked != 4*3+3+3*4+4 {
			t.Errorf("%s: checked %d entries, want %d", tc.name, r.Checked, 4*3+3+3*4+4)
		}
	}
}

// TestAdamMatchesReference compares Adam's in-place update with the
// textbook formulas over several steps.
func TestAdamMatchesReference(t *testing.T) {
	g := G.NewGraph()
	w0 := []float64{0.5, -1, 2}
	x := matrix(g, 1, 3, append([]float64(nil), w0...), "w")
	loss := G.Must(G.Sum(G.Must(G.Square(x)))) // ∂/∂w = 2w
	if _, err := G.Grad(loss, x); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(x))
	defer vm.Close()
	a := NewAdam(0.1)
	w := append([]float64(nil), w0...)
	m, v := make([]float64, 3), make([]float64, 3)
	for step := 1; step <= 5; step++ {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		if err := a.Step(G.NodesToValueGrads(G.Nodes{x})); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
		for i := range w {
			gr := 2 * w[i]
			m[i] = 0.9*m[i] + 0.1*gr
			v[i] = 0.999*v[i] + 0.001*gr*gr
			mh := m[i] / (1 - math.Pow(0.9, float64(step)))
			vh := v[i] / (1 - math.Pow(0.999, float64(step)))
			w[i] -= 0.1 * mh / (math.Sqrt(vh) + 1e-8)
		}
		got := x.Value().Data().([]float64)
		for i := range w {
			if relErr := math.Abs(got[i]-w[i]) / math.Abs(w[i]); relErr > 1e-12 {
				t.Fatalf("step %d: w[%d] = %.15g, reference %.15g", step, i, got[i], w[i])
			}
		}
	}
}

func TestStoreSharesAndChecksShapes(t *testing.T) {
	store := NewStore()
	body := func(out int) func(b *Builder) {
		return func(b *Builder) {
			x := b.Batch("x")
			b.Objective(ReconTerm, b.Must(G.Mean(b.Dense("enc", x, out).Pre)))
		}
	}
	m1, err := Declare(Shape{In: 3, Batch: 2}, Float64(), store, nil, body(2))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Declare(Shape{In: 3, Batch: 5}, Float64(), store, nil, body(2))
	if err != nil {
		t.Fatal(err)
	}
	if m1.Params[0].Value() != m2.Params[0].Value() {
		t.Error("graphs built on one store do not share the parameter tensor")
	}
	if _, err := Declare(Shape{In: 3, Batch: 2}, Float64(), store, nil, body(4)); err == nil {
		t.Error("a parameter of the wrong shape was accepted")
	}
	if _, err := Declare(Shape{In: 3, Batch: 2}, Float32(), store, nil, body(2)); err == nil {
		t.Error("a parameter of the wrong dtype was accepted")
	}
}

func TestDeclareRecoversPanics(t *testing.T) {
	_, err := Declare(Shape{In: 3, Batch: 2}, Float64(), nil, nil, func(b *Builder) {
		x := b.Batch("x")
		w := b.Param("w", []int{4, 4}, Zeros)
		b.Objective(ReconTerm, b.Must(G.Mean(b.Must(G.Mul(x, w))))) // 2×3 · 4×4: shape error
	})
	if err == nil {
		t.Fatal("shape mismatch not reported")
	}
}

// countOp is x² (with halfSquareOp's derivative) that counts its runs.
type countOp struct {
	halfSquareOp
	runs *int
}

func (c countOp) Do(v ...G.Value) (G.Value, error) { *c.runs++; return c.halfSquareOp.Do(v...) }
func (countOp) WriteHash(h hash.Hash)              { fmt.Fprint(h, "count") }
func (countOp) Hashcode() uint32                   { return 54321 }
func (countOp) String() string                     { return "count" }

// TestTrainerRunsOnlyTheStep checks that a training program skips outputs
// that the loss does not need, and that its update is the gradient of the
// full graph (a plain SGD step of rate 1 moves each parameter by −∂loss).
func TestTrainerRunsOnlyTheStep(t *testing.T) {
	var runs int
	declare := func() *Model {
		m, err := Declare(Shape{In: 4, Batch: 3}, Float64(), nil, rand.New(rand.NewPCG(1, 1)), func(b *Builder) {
			x := b.Batch("x")
			h := b.Act("tanh", b.Dense("enc", x, 3).Pre)
			b.Output("extra", b.Must(G.ApplyOp(countOp{runs: &runs}, h)))
			d := b.Must(G.Sub(b.Dense("dec", h, 4).Pre, x))
			b.Objective(ReconTerm, b.Must(G.Mean(b.Must(G.Square(d)))))
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	x := []float32{0.1, 0.5, 0.9, 0.3, 0.2, 0.8, 0.4, 0.6, 0.7, 0, 1, 0.5}
	rng := rand.New(rand.NewPCG(2, 2))

	gm := declare()
	gp, err := NewGradProgram(gm)
	if err != nil {
		t.Fatal(err)
	}
	if err := gp.Run(x, rng, true); err != nil {
		t.Fatal(err)
	}
	if runs != 1 {
		t.Fatalf("gradient program ran the output %d times, want 1", runs)
	}
	want := map[string][]float64{}
	for _, p := range gm.Params {
		w := append([]float64(nil), p.Value().Data().([]float64)...)
		g, err := p.Grad()
		if err != nil {
			t.Fatal(err)
		}
		for i, gv := range g.Data().([]float64) {
			w[i] -= gv
		}
		want[p.Name()] = w
	}

	runs = 0
	tm := declare()
	tp, err := NewTrainer(tm, G.NewVanillaSolver(G.WithLearnRate(1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.Run(x, rng, true); err != nil {
		t.Fatal(err)
	}
	if runs != 0 {
		t.Errorf("training program ran an output the loss does not need %d times", runs)
	}
	for _, p := range tm.Params {
		got := p.Value().Data().([]float64)
		for i := range got {
			if math.Abs(got[i]-want[p.Name()][i]) > 1e-12 {
				t.Fatalf("%s[%d] after one SGD step: %g, want %g", p.Name(), i, got[i], want[p.Name()][i])
			}
		}
	}
}

// TestDataMean: a DataMean parameter starts at Shape.Mean (zeros without
// one), and a mean of the wrong length is an error.
func TestDataMean(t *testing.T) {
	mean := []float64{0.5, -1, 2}
	for _, tc := range []struct {
		name string
		mean []float64
		want []float64
	}{{"with mean", mean, mean}, {"without", nil, []float64{0, 0, 0}}} {
		m, err := Declare(Shape{In: 3, Batch: 2, Mean: tc.mean}, Float64(), nil, nil, func(b *Builder) {
			x := b.Batch("x")
			c := b.Param("centre", []int{1, 3}, b.DataMean())
			b.Objective("s", b.Must(G.Sum(b.Must(G.BroadcastSub(x, c, nil, []byte{0})))))
		})
		if err != nil {
			t.Fatal(err)
		}
		got := m.Store.Floats("centre")
		for j := range tc.want {
			if got[j] != tc.want[j] {
				t.Errorf("%s: centre = %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
	if _, err := Declare(Shape{In: 3, Batch: 2, Mean: mean[:2]}, Float64(), nil, nil, func(b *Builder) { b.Batch("x") }); err == nil {
		t.Error("Declare accepted a data mean of the wrong length")
	}
}

// TestTrainerGradientPath: with this package's Adam a training program
// reads the gradient nodes (no dual values); with Gorgonia's solvers it
// keeps the dual values they zero. models.TestTrainerSameAsDualValues
// shows both train to the same bits.
func TestTrainerGradientPath(t *testing.T) {
	for _, tc := range []struct {
		solver G.Solver
		direct bool
	}{{NewAdam(1e-3), true}, {G.NewVanillaSolver(), false}} {
		m, err := Declare(Shape{In: 4, Batch: 3}, Float32(), nil, rand.New(rand.NewPCG(1, 1)), func(b *Builder) {
			x := b.Batch("x")
			h := b.Act("sigmoid", b.Dense("enc", x, 3).Pre)
			d := b.Must(G.Sub(b.Dense("dec", h, 4).Pre, x))
			b.Objective(ReconTerm, b.Must(G.Mean(b.Must(G.Square(d)))))
		})
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewTrainer(m, tc.solver)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(make([]float32, 12), rand.New(rand.NewPCG(1, 2)), true); err != nil {
			t.Fatal(err)
		}
		for i, vg := range p.vgs {
			if _, direct := vg.(gradRef); direct != tc.direct {
				t.Errorf("%T: parameter %d read from its gradient node: %v, want %v", tc.solver, i, direct, tc.direct)
			}
		}
	}
}

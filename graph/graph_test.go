package graph

import (
	"fmt"
	"hash"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func matrix(g *G.ExprGraph, rows, cols int, v []float64, name string) *G.Node {
	return G.NewMatrix(g, tensor.Float64, G.WithShape(rows, cols), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(v))))
}

func TestTopKForward(t *testing.T) {
	for _, tc := range []struct {
		name string
		row  []float64
		k    int
		want []float64
	}{
		{"distinct", []float64{0.1, 3, -2, 5, 1}, 2, []float64{0, 3, 0, 5, 0}},
		{"all", []float64{1, 2, 3}, 3, []float64{1, 2, 3}},
		{"one", []float64{-1, -3, -2}, 1, []float64{-1, 0, 0}},
		{"ties keep lower index", []float64{2, 7, 2, 2, 1}, 3, []float64{2, 7, 2, 0, 0}},
		{"negative kept if largest", []float64{-5, -1, -4, -2}, 2, []float64{0, -1, 0, -2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := G.NewGraph()
			x := matrix(g, 1, len(tc.row), append([]float64(nil), tc.row...), "x")
			k := tc.k
			y, err := TopK(x, &k)
			if err != nil {
				t.Fatal(err)
			}
			var v G.Value
			G.Read(y, &v)
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			got := v.Data().([]float64)
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("TopK(%v, %d) = %v, want %v", tc.row, tc.k, got, tc.want)
				}
			}
		})
	}
}

// TestTopKKeepsExactlyK checks every row of a random matrix, in both dtypes.
func TestTopKKeepsExactlyK(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rows, cols, k := 50, 40, 7
	s := make([]float64, rows*cols)
	for i := range s {
		s[i] = rng.NormFloat64()
	}
	mask := TopKMask(s, rows, cols, k)
	for r := 0; r < rows; r++ {
		kept, minKept, maxDropped := 0, math.Inf(1), math.Inf(-1)
		for j := 0; j < cols; j++ {
			v := s[r*cols+j]
			if mask[r*cols+j] == 1 {
				kept++
				minKept = math.Min(minKept, v)
			} else {
				maxDropped = math.Max(maxDropped, v)
			}
		}
		if kept != k || minKept < maxDropped {
			t.Fatalf("row %d: kept %d (want %d), smallest kept %g < largest dropped %g", r, kept, k, minKept, maxDropped)
		}
	}
	// float32 path agrees.
	s32 := make([]float32, len(s))
	for i, v := range s {
		s32[i] = float32(v)
	}
	out, err := maskTopK(tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(s32)), tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(s32)), k)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out.Data().([]float32) {
		if (v != 0) != (mask[i] == 1) {
			t.Fatalf("float32 mask differs at %d", i)
		}
	}
}

// TestTopKGradient: the gradient is the upstream gradient on the kept
// entries and exactly zero elsewhere; it also passes a finite-difference check.
func TestTopKGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	rows, cols, k := 4, 9, 3
	xv := make([]float64, rows*cols)
	for i := range xv {
		xv[i] = rng.NormFloat64()
	}
	wv := make([]float64, rows*cols)
	for i := range wv {
		wv[i] = rng.NormFloat64()
	}
	g := G.NewGraph()
	x := matrix(g, rows, cols, xv, "x")
	w := matrix(g, rows, cols, wv, "w")
	kk := k
	y := G.Must(TopK(x, &kk))
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, w)))) // ∂loss/∂y = w
	if _, err := G.Grad(loss, x); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(x))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	gv, _ := x.Grad()
	grad := gv.Data().([]float64)
	mask := TopKMask(xv, rows, cols, k)
	for i := range grad {
		want := wv[i] * mask[i]
		if grad[i] != want {
			t.Fatalf("grad[%d] = %g, want %g (mask %g)", i, grad[i], want, mask[i])
		}
	}
}

func TestTopKRejectsBadK(t *testing.T) {
	g := G.NewGraph()
	x := matrix(g, 2, 3, make([]float64, 6), "x")
	for _, k := range []int{0, -1, 4} {
		kk := k
		if _, err := TopK(x, &kk); err == nil {
			t.Errorf("TopK accepted k=%d for 3 columns", k)
		}
	}
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

// TestAffineT checks the transposed-weight product in a tied autoencoder
// (encoder x·W + b, decoder h·Wᵀ + c, so W gets two gradient terms): the
// forward value against plain Go, the gradients against finite differences.
func TestAffineT(t *testing.T) {
	const n, in, hid = 3, 5, 4
	var enc, dec *G.Node
	m, err := Declare(Shape{In: in, Batch: n}, Float64(), nil, rand.New(rand.NewPCG(3, 3)), func(b *Builder) {
		x := b.Batch("x")
		l := b.Dense("enc", x, hid)
		enc = b.Act("tanh", l.Pre)
		c := b.Param("dec.b", []int{1, in}, Uniform(hid))
		dec = b.Must(AffineT(enc, l.W, c))
		b.Output("h", enc)
		b.Output("y", dec)
		d := b.Must(G.Sub(dec, x))
		b.Objective(ReconTerm, b.Must(G.Sum(b.Must(G.Square(d)))))
	})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, n*in)
	for i := range x {
		x[i] = float32((i*7)%11) / 11
	}
	r, err := CheckGradients(m, x, rand.New(rand.NewPCG(2, 2)), 1e-6, 1e-8, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.MaxRel > 1e-5 || r.Checked != in*hid+hid+in {
		t.Errorf("gradients: max rel error %g at %s over %d entries", r.MaxRel, r.Worst, r.Checked)
	}
	p, err := NewEvaluator(m, "h", "y")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(x, rand.New(rand.NewPCG(1, 1)), false); err != nil {
		t.Fatal(err)
	}
	h, y := p.Output("h"), p.Output("y")
	W, c := m.Store.Floats("enc.W"), m.Store.Floats("dec.b")
	for i := 0; i < n; i++ {
		for j := 0; j < in; j++ {
			want := c[j]
			for k := 0; k < hid; k++ {
				want += h[i*hid+k] * W[j*hid+k] // (Wᵀ)_kj = W_jk
			}
			if got := y[i*in+j]; math.Abs(got-want) > 1e-12 {
				t.Fatalf("y[%d,%d] = %g, want %g", i, j, got, want)
			}
		}
	}
	for _, bad := range [][2][]int{{{3, 5}, {5, 4}}, {{3, 4}, {4, 5}}} {
		g := G.NewGraph()
		xs, ws := bad[0], bad[1]
		_, err := AffineT(matrix(g, xs[0], xs[1], make([]float64, xs[0]*xs[1]), "x"),
			matrix(g, ws[0], ws[1], make([]float64, ws[0]*ws[1]), "W"), matrix(g, 1, ws[0], make([]float64, ws[0]), "b"))
		if err == nil {
			t.Errorf("AffineT accepted x %v with W %v", xs, ws)
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

// topKReference is the rule written out: sort each row's positions by
// value, larger first, lower index first among equal values; keep k.
func topKReference(s []float64, rows, cols, k int) []float64 {
	mask := make([]float64, len(s))
	for r := 0; r < rows; r++ {
		row := s[r*cols : (r+1)*cols]
		idx := make([]int, cols)
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
		for _, j := range idx[:k] {
			mask[r*cols+j] = 1
		}
	}
	return mask
}

// TestTopKMatchesReference compares the selection with the sorting rule on
// random rows full of ties (values from a handful of levels), for every k.
func TestTopKMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, cols := range []int{1, 2, 3, 7, 64, 1000} {
		rows := 6
		s := make([]float64, rows*cols)
		for i := range s {
			s[i] = float64(rng.IntN(5)) - 2
			if rng.IntN(4) == 0 {
				s[i] = rng.NormFloat64()
			}
		}
		for k := 1; k <= cols; k += max(1, cols/13) {
			got, want := TopKMask(s, rows, cols, k), topKReference(s, rows, cols, k)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("cols %d, k %d: mask differs at row %d col %d", cols, k, i/cols, i%cols)
				}
			}
		}
	}
}

// BenchmarkTopK is one forward TopK of a training batch: 128 rows of 1000
// units, k = 25 (the sparse experiment's top-K at the end of its annealing).
func BenchmarkTopK(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	s := make([]float32, 128*1000)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	x := tensor.New(tensor.WithShape(128, 1000), tensor.WithBacking(s))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := maskTopK(x, x, 25); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEvaluatorCompilesOnlyWhatIsAsked: an evaluator asked for no output
// does not run an output's op, one asked for it runs it once per Run, and
// asking for an undeclared output is an error.
func TestEvaluatorCompilesOnlyWhatIsAsked(t *testing.T) {
	var runs int
	m, err := Declare(Shape{In: 4, Batch: 3}, Float64(), nil, rand.New(rand.NewPCG(1, 1)), func(b *Builder) {
		x := b.Batch("x")
		h := b.Output(Code, b.Act("tanh", b.Dense("enc", x, 3).Pre))
		b.Output("extra", b.Must(G.ApplyOp(countOp{runs: &runs}, h)))
		d := b.Must(G.Sub(b.Dense("dec", h, 4).Pre, x))
		b.Objective(ReconTerm, b.Must(G.Mean(b.Must(G.Square(d)))))
	})
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{0.1, 0.5, 0.9, 0.3, 0.2, 0.8, 0.4, 0.6, 0.7, 0, 1, 0.5}
	for _, tc := range []struct {
		outputs []Output
		runs    int
	}{
		{nil, 0},
		{[]Output{Code}, 0},
		{[]Output{Code, "extra"}, 1},
	} {
		runs = 0
		p, err := NewEvaluator(m, tc.outputs...)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(x, nil, false); err != nil {
			t.Fatal(err)
		}
		if runs != tc.runs {
			t.Errorf("outputs %v: the extra op ran %d times, want %d", tc.outputs, runs, tc.runs)
		}
		for _, o := range tc.outputs {
			if len(p.Output(o)) == 0 {
				t.Errorf("outputs %v: %s not computed", tc.outputs, o)
			}
		}
		if v, ok := p.Term(ReconTerm); !ok || v <= 0 {
			t.Errorf("outputs %v: recon term %v, %v", tc.outputs, v, ok)
		}
		if got := p.Output(Recon); got != nil {
			t.Errorf("an output not asked for has a value: %v", got)
		}
	}
	if _, err := NewEvaluator(m, Logits); err == nil {
		t.Error("NewEvaluator accepted an output the model does not declare")
	}
}

// TestDeclaredOutputs: outputs are listed in declaration order, Declared
// returns a declared one, and asking for an undeclared one or declaring one
// twice fails the declaration with an error naming it.
func TestDeclaredOutputs(t *testing.T) {
	var got *G.Node
	m, err := Declare(Shape{In: 3, Batch: 2}, Float64(), nil, nil, func(b *Builder) {
		x := b.Batch("x")
		h := b.Output(Code, b.Act("tanh", b.Dense("enc", x, 2).Pre))
		b.Output(Recon, b.Dense("dec", h, 3).Pre)
		got = b.Declared(Code)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != m.Output(Code) || fmt.Sprint(m.Outputs()) != "[code recon]" {
		t.Errorf("Declared %v, outputs %v", got, m.Outputs())
	}
	for name, body := range map[string]func(b *Builder){
		"logits": func(b *Builder) { b.Batch("x"); b.Declared(Logits) },
		"code": func(b *Builder) {
			x := b.Batch("x")
			b.Output(Code, x)
			b.Output(Code, x)
		},
	} {
		_, err := Declare(Shape{In: 3, Batch: 2}, Float64(), nil, nil, body)
		if err == nil || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

package ops_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/graph/ops"
	G "gorgonia.org/gorgonia"
)

// TestAffineT checks the transposed-weight product in a tied autoencoder
// (encoder x·W + b, decoder h·Wᵀ + c, so W gets two gradient terms): the
// forward value against plain Go, the gradients against finite differences.
func TestAffineT(t *testing.T) {
	const n, in, hid = 3, 5, 4
	var enc, dec *G.Node
	m, err := graph.Declare(graph.Shape{In: in, Batch: n}, graph.Float64(), nil, rand.New(rand.NewPCG(3, 3)), func(b *graph.Builder) {
		x := b.Batch("x")
		l := b.Dense("enc", x, hid)
		enc = b.Act("tanh", l.Pre)
		c := b.Param("dec.b", []int{1, in}, graph.Uniform(hid))
		dec = b.Must(ops.AffineT(enc, l.W, c))
		b.Output("h", enc)
		b.Output("y", dec)
		d := b.Must(G.Sub(dec, x))
		b.Objective(graph.ReconTerm, b.Must(G.Sum(b.Must(G.Square(d)))))
	})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, n*in)
	for i := range x {
		x[i] = float32((i*7)%11) / 11
	}
	r, err := graph.CheckGradients(m, x, rand.New(rand.NewPCG(2, 2)), 1e-6, 1e-8, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.MaxRel > 1e-5 || r.Checked != in*hid+hid+in {
		t.Errorf("gradients: max rel error %g at %s over %d entries", r.MaxRel, r.Worst, r.Checked)
	}
	p, err := graph.NewEvaluator(m, "h", "y")
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
		_, err := ops.AffineT(ops.Matrix(g, xs[0], xs[1], make([]float64, xs[0]*xs[1]), "x"),
			ops.Matrix(g, ws[0], ws[1], make([]float64, ws[0]*ws[1]), "W"), ops.Matrix(g, 1, ws[0], make([]float64, ws[0]), "b"))
		if err == nil {
			t.Errorf("AffineT accepted x %v with W %v", xs, ws)
		}
	}
}

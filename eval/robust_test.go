package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
)

func sigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

func relu(v float64) float64 { return math.Max(v, 0) }

// plainGoDenoising recomputes Denoising with plain Go for a one-layer
// encoder/decoder model: the same corruption draw, then
// x̂ = out(act(x̃·W + b)·V + c), compared with the clean x.
func plainGoDenoising(s *graph.Store, ds *data.Dataset, q data.Corruption, seed uint64, act, out func(float64) float64) float64 {
	noise := rand.New(rand.NewPCG(seed, 0xde7)).Uint64()
	xt := make([]float32, ds.N*ds.D)
	q.ApplyRows(noise, 0, ds.D, ds.X[:ds.N*ds.D], xt) // the whole set at once
	W, b, V, c := s.Floats("enc.W"), s.Floats("enc.b"), s.Floats("dec.W"), s.Floats("dec.b")
	var sse float64
	for i := 0; i < ds.N; i++ {
		h := dense(f64s(xt[i*ds.D:(i+1)*ds.D]), W, b, act)
		r := dense(h, V, c, out)
		for j, v := range ds.Row(i) {
			d := r[j] - float64(v)
			sse += d * d
		}
	}
	return sse / float64(ds.N*ds.D)
}

func TestDenoisingPlainGo(t *testing.T) {
	_, test := testSets(t)
	ds := test.Limit(120)
	cases := []struct {
		name     string
		cfg      models.Config
		act, out func(float64) float64
		q        data.Corruption
	}{
		{"plain/gaussian", config(t, "plain", func(c *models.Config) { c.Hidden = 16 }), sigmoid, sigmoid, data.Corruption{Kind: "gaussian", Level: 0.3}},
		{"plain/masking", config(t, "plain", func(c *models.Config) { c.Hidden = 16 }), sigmoid, sigmoid, data.Corruption{Kind: "masking", Level: 0.5}},
		{"denoising/gaussian", config(t, "denoising", func(c *models.Config) { c.Hidden = 16 }), sigmoid, sigmoid, data.Corruption{Kind: "gaussian", Level: 0.5}},
		{"denoising-relu-mse/masking", config(t, "denoising", func(c *models.Config) { c.Hidden, c.Activation, c.Loss = 16, "relu", "mse" }), relu, nil, data.Corruption{Kind: "masking", Level: 0.25}},
		{"lineardae/gaussian", config(t, "lineardae", func(c *models.Config) { c.Hidden = 8 }), nil, nil, data.Corruption{Kind: "gaussian", Level: 0.1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, batch := range []int{50, 500} {
				e := NewEvaluator(tc.cfg, graph.Float64(), graph.NewStore(), batch, 9)
				got, err := e.Denoising(ds, tc.q, 42)
				if err != nil {
					t.Fatal(err)
				}
				want := plainGoDenoising(e.Store, ds, tc.q, 42, tc.act, tc.out)
				if math.Abs(got-want) > 1e-9*want {
					t.Errorf("batch %d: Denoising = %.12g, plain Go %.12g", batch, got, want)
				}
				clean, err := e.Denoising(ds, data.Corruption{}, 42)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(got-clean) < 1e-6*clean {
					t.Errorf("batch %d: corrupted MSE %.9g equals the clean one", batch, got)
				}
			}
		})
	}
}

// TestDenoisingCleanIsMetricsMSE: without corruption Denoising is the
// MSE per pixel of Evaluate.
func TestDenoisingCleanIsMetricsMSE(t *testing.T) {
	_, test := testSets(t)
	ds := test.Limit(100)
	for _, name := range []string{"plain", "denoising", "contractive", "lineardae"} {
		e := NewEvaluator(config(t, name, func(c *models.Config) { c.Hidden = 12 }), graph.Float64(), graph.NewStore(), 40, 1)
		m, err := e.Evaluate(ds)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []data.Corruption{{}, {Kind: "none", Level: 0.5}, {Kind: "gaussian", Level: 0}} {
			got, err := e.Denoising(ds, q, 3)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-m.MSEPerPixel) > 1e-12 {
				t.Errorf("%s %+v: Denoising %.15g, Metrics.MSEPerPixel %.15g", name, q, got, m.MSEPerPixel)
			}
		}
	}
}

// TestDenoisingTrained: for a trained model the error grows with the
// noise level, and the table lists the six standard levels in order.
func TestDenoisingTrained(t *testing.T) {
	train, test := testSets(t)
	c := config(t, "denoising", func(c *models.Config) { c.Hidden, c.Activation = 32, "relu" })
	store := trainTiny(t, c, graph.Float32(), train, 200, 1)
	e := NewEvaluator(c, graph.Float32(), store, 250, 1)
	rows, err := e.DenoisingTable(test, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(StandardCorruptions()) {
		t.Fatalf("%d rows, want %d", len(rows), len(StandardCorruptions()))
	}
	for i, r := range rows {
		q := StandardCorruptions()[i]
		if r.Kind != q.Kind || r.Level != q.Level {
			t.Errorf("row %d is %s %g, want %s %g", i, r.Kind, r.Level, q.Kind, q.Level)
		}
		t.Logf("%-8s %.2f  MSE/pixel %.5f", r.Kind, r.Level, r.MSE)
		if i%3 > 0 && !(r.MSE > rows[i-1].MSE) {
			t.Errorf("%s: MSE %.5f at level %g is not above %.5f at level %g", r.Kind, r.MSE, r.Level, rows[i-1].MSE, rows[i-1].Level)
		}
	}
	one, err := e.Denoising(test, StandardCorruptions()[4], 5)
	if err != nil {
		t.Fatal(err)
	}
	if one != rows[4].MSE {
		t.Errorf("Denoising %.9g differs from its table row %.9g", one, rows[4].MSE)
	}
	clean, corrupted, recon, err := e.DenoisingExamples(test, StandardCorruptions()[4], 5, 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(clean) != 8 || len(corrupted) != 8 || len(recon) != 8 || len(recon[7]) != test.D {
		t.Fatalf("DenoisingExamples returned %d/%d/%d images", len(clean), len(corrupted), len(recon))
	}
	zeros := 0
	for i, v := range corrupted[0] {
		if v == 0 && clean[0][i] != 0 {
			zeros++
		}
		if v != 0 && float32(v) != test.Row(0)[i] {
			t.Fatalf("masking changed pixel %d from %g to %g", i, test.Row(0)[i], v)
		}
	}
	if zeros == 0 {
		t.Error("masking zeroed no pixel of the first image")
	}
}

func TestDenoisingErrors(t *testing.T) {
	_, test := testSets(t)
	e := NewEvaluator(config(t, "plain", func(c *models.Config) { c.Hidden = 4 }), graph.Float32(), graph.NewStore(), 100, 1)
	cases := []struct {
		name string
		ds   *data.Dataset
		q    data.Corruption
	}{
		{"unknown kind", test, data.Corruption{Kind: "blur", Level: 0.1}},
		{"negative level", test, data.Corruption{Kind: "gaussian", Level: -1}},
		{"masking ≥ 1", test, data.Corruption{Kind: "masking", Level: 1}},
		{"empty set", &data.Dataset{D: 784}, data.Corruption{Kind: "gaussian", Level: 0.1}},
		{"nil set", nil, data.Corruption{Kind: "gaussian", Level: 0.1}},
	}
	for _, tc := range cases {
		if _, err := e.Denoising(tc.ds, tc.q, 1); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestUnitDirection(t *testing.T) {
	for _, d := range []int{1, 2, 784} {
		u := UnitDirection(7, 3, d)
		var s float64
		for _, v := range u {
			s += v * v
		}
		if len(u) != d || math.Abs(s-1) > 1e-12 {
			t.Errorf("d=%d: len %d, ‖u‖² = %g", d, len(u), s)
		}
		v := UnitDirection(7, 3, d)
		w := UnitDirection(7, 4, d)
		if d > 1 && (v[0] != u[0] || w[0] == u[0]) {
			t.Errorf("d=%d: directions are not a function of (seed, i)", d)
		}
	}
}

// meanNorm is the mean over the first n examples of ‖g(i, u_i)‖.
func meanNorm(n int, g func(i int) []float64) float64 {
	var s float64
	for i := 0; i < n; i++ {
		var q float64
		for _, v := range g(i) {
			q += v * v
		}
		s += math.Sqrt(q)
	}
	return s / float64(n)
}

// TestContractionLinear: for a linear encoder x·W + b, CR(r) = mean ‖uᵀW‖
// at every radius.
func TestContractionLinear(t *testing.T) {
	_, test := testSets(t)
	ds := test.Limit(60)
	c := config(t, "lineardae", func(c *models.Config) { c.Hidden = 10 })
	e := NewEvaluator(c, graph.Float64(), graph.NewStore(), 25, 1)
	radii := []float64{0.01, 1, 30} // the float32 inputs limit smaller radii
	cr, err := e.ContractionCurve(ds, radii, 11)
	if err != nil {
		t.Fatal(err)
	}
	W := e.Store.Floats("enc.W")
	zero := make([]float64, c.Hidden)
	want := meanNorm(ds.N, func(i int) []float64 { return dense(UnitDirection(11, i, ds.D), W, zero, nil) })
	for k, r := range radii {
		if math.Abs(cr[k]-want) > 1e-4*want {
			t.Errorf("CR(%g) = %.12g, want mean ‖uᵀW‖ = %.12g", r, cr[k], want)
		}
	}
}

// TestContractionSigmoid: for h = sigmoid(x·W + b), CR(r) tends to
// mean ‖J u‖ = mean ‖h(1−h) ⊙ uᵀW‖ as r → 0, and no batch size changes
// the curve.
func TestContractionSigmoid(t *testing.T) {
	_, test := testSets(t)
	ds := test.Limit(60)
	c := config(t, "contractive", func(c *models.Config) { c.Hidden = 10 })
	store := graph.NewStore()
	e := NewEvaluator(c, graph.Float64(), store, 60, 2)
	radii := []float64{1e-3, 1e-2, 30}
	cr, err := e.ContractionCurve(ds, radii, 5)
	if err != nil {
		t.Fatal(err)
	}
	W, b := store.Floats("enc.W"), store.Floats("enc.b")
	zero := make([]float64, c.Hidden)
	ju := meanNorm(ds.N, func(i int) []float64 {
		h := dense(f64s(ds.Row(i)), W, b, sigmoid)
		uw := dense(UnitDirection(5, i, ds.D), W, zero, nil)
		for j := range uw {
			uw[j] *= h[j] * (1 - h[j])
		}
		return uw
	})
	t.Logf("mean ‖Ju‖ = %.8g; CR(r) = %.8g", ju, cr)
	if math.Abs(cr[0]-ju) > 1e-3*ju {
		t.Errorf("CR(1e-3) = %.10g, mean ‖Ju‖ = %.10g", cr[0], ju)
	}
	if math.Abs(cr[1]-ju) > 5e-3*ju {
		t.Errorf("CR(1e-2) = %.10g, mean ‖Ju‖ = %.10g", cr[1], ju)
	}
	if math.Abs(cr[2]-ju) < 1e-2*ju {
		t.Errorf("CR(30) = %.10g is still the linearization %.10g", cr[2], ju)
	}
	e2 := NewEvaluator(c, graph.Float64(), store, 7, 2)
	cr2, err := e2.ContractionCurve(ds, radii, 5)
	if err != nil {
		t.Fatal(err)
	}
	for k := range cr {
		if math.Abs(cr[k]-cr2[k]) > 1e-9*cr[k] {
			t.Errorf("CR(%g): batch 60 gives %.12g, batch 7 %.12g", radii[k], cr[k], cr2[k])
		}
	}
}

func TestContractionErrors(t *testing.T) {
	_, test := testSets(t)
	e := NewEvaluator(config(t, "plain", func(c *models.Config) { c.Hidden = 4 }), graph.Float32(), graph.NewStore(), 100, 1)
	for _, radii := range [][]float64{nil, {0}, {-1}, {math.NaN()}, {math.Inf(1)}, {0.1, 0}} {
		if _, err := e.ContractionCurve(test, radii, 1); err == nil {
			t.Errorf("radii %v: no error", radii)
		}
	}
	if _, err := e.ContractionCurve(&data.Dataset{}, []float64{1}, 1); err == nil {
		t.Error("empty data set: no error")
	}
}

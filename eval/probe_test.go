package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"gorgonia.org/tensor"
)

// blobs returns n examples of dim features in classes well-separated
// Gaussian clusters (centres 10 apart, unit noise).
func blobs(rng *rand.Rand, n, dim, classes int) ([]float64, []uint8) {
	centres := make([]float64, classes*dim)
	for i := range centres {
		centres[i] = 10 * rng.NormFloat64()
	}
	x, y := make([]float64, n*dim), make([]uint8, n)
	for i := range y {
		c := rng.IntN(classes)
		y[i] = uint8(c)
		for j := 0; j < dim; j++ {
			x[i*dim+j] = centres[c*dim+j] + rng.NormFloat64()
		}
	}
	return x, y
}

func TestLinearProbeSeparable(t *testing.T) {
	cases := []struct {
		name    string
		dim     int
		classes int
		o       ProbeOptions
	}{
		{"3 classes/float32/standardized", 5, 3, ProbeOptions{Epochs: 30, Batch: 50, LR: 0.01, Standardize: true}},
		{"4 classes/float64/raw", 8, 4, ProbeOptions{Epochs: 20, Batch: 32, LR: 0.05, Dtype: graph.Float64()}},
		{"2 classes/full batch/L2", 3, 2, ProbeOptions{Epochs: 300, Batch: 1000, LR: 0.03, L2: 1e-3, Standardize: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.dim)))
			trX, trY := blobs(rng, 300, tc.dim, tc.classes)
			// The test set shares the training set's centres.
			rng2 := rand.New(rand.NewPCG(1, uint64(tc.dim)))
			teX, teY := blobs(rng2, 450, tc.dim, tc.classes)
			teX, teY = teX[300*tc.dim:], teY[300:]
			r, err := LinearProbe(trX, trY, teX, teY, tc.dim, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", r)
			if r.TrainError > 0.01 || r.TestError > 0.01 {
				t.Errorf("separable data: train error %.3f, test error %.3f", r.TrainError, r.TestError)
			}
			if !(r.TrainLoss < 0.25) {
				t.Errorf("final training loss %.4g", r.TrainLoss)
			}
		})
	}
}

// TestLinearProbeRandomLabels: labels independent of the features cannot
// be predicted on the test set.
func TestLinearProbeRandomLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	x, _ := blobs(rng, 800, 4, 2)
	y := make([]uint8, 800)
	for i := range y {
		y[i] = uint8(rng.IntN(4))
	}
	r, err := LinearProbe(x[:400*4], y[:400], x[400*4:], y[400:], 4, DefaultProbeOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r.TestError < 0.6 {
		t.Errorf("random labels: test error %.3f, want about 0.75", r.TestError)
	}
}

// TestLinearProbeMNIST: logistic regression on raw pixels of the MNIST
// subset (2000 train, 500 test).
func TestLinearProbeMNIST(t *testing.T) {
	train, test := testSets(t)
	r, err := LinearProbe(f64s(train.X), train.Labels, f64s(test.X), test.Labels, train.D, DefaultProbeOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("raw pixels: %+v", r)
	if r.TestError > 0.2 || r.TrainError > 0.05 {
		t.Errorf("raw MNIST pixels: test error %.3f, train error %.3f", r.TestError, r.TrainError)
	}
}

// TestProbeGradients checks the probe graph's symbolic gradients against
// finite differences, with moderate and with large logits.
func TestProbeGradients(t *testing.T) {
	for _, tc := range []struct {
		name  string
		scale float64
		l2    float64
	}{{"plain", 1, 0}, {"l2", 1, 0.3}, {"large logits", 40, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			const dim, classes, batch = 6, 4, 5
			rng := rand.New(rand.NewPCG(3, 4))
			feed := &probeFeed{x: make([]float64, batch*dim), y: make([]uint8, batch)}
			for i := range feed.x {
				feed.x[i] = tc.scale * rng.NormFloat64()
			}
			for i := range feed.y {
				feed.y[i] = uint8(rng.IntN(classes))
			}
			m, err := probeModel(dim, classes, batch, tc.l2, graph.Float64(), nil, rng, feed)
			if err != nil {
				t.Fatal(err)
			}
			r, err := graph.CheckGradients(m, make([]float32, batch*dim), rng, 1e-6, 1e-6, 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.Checked != dim*classes+classes {
				t.Errorf("checked %d entries", r.Checked)
			}
			if r.MaxRel > 1e-5 {
				t.Errorf("gradient mismatch at %s: symbolic %.10g, numeric %.10g (rel %.2g)", r.Worst, r.Analytic, r.Numeric, r.MaxRel)
			}
		})
	}
}

// TestProbeLossStable: the cross-entropy stays finite and exact for
// logits of ±1000, where a naive log Σ exp overflows.
func TestProbeLossStable(t *testing.T) {
	const dim, classes, batch = 2, 3, 2
	feed := &probeFeed{x: []float64{1, 0, 0, 1}, y: []uint8{0, 2}}
	store := graph.NewStore()
	setParam(store, "probe.W", []int{dim, classes}, []float64{1000, 0, -1000, 0, 999, 1000})
	setParam(store, "probe.b", []int{1, classes}, []float64{0, 0, 0})
	m, err := probeModel(dim, classes, batch, 0, graph.Float64(), store, nil, feed)
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.NewEvaluator(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(make([]float32, batch*dim), nil, false); err != nil {
		t.Fatal(err)
	}
	// Example 0: logits (1000, 0, −1000), label 0 → loss log(1 + e^−1000 + e^−2000) ≈ 0.
	// Example 1: logits (0, 999, 1000), label 2 → loss log(1 + e^−1 + e^−1000).
	want := (0 + math.Log1p(math.Exp(-1))) / 2
	if got := p.Loss(); math.Abs(got-want) > 1e-12 {
		t.Errorf("loss %.15g, want %.15g", got, want)
	}
}

// TestLinearProbeEarlyStopping checks early stopping against its
// definition: the validation curve is rebuilt from separate probes trained
// for 1..E epochs on the first examples and tested on the held-out ones;
// the chosen epoch count must be its first minimum, and the final probe
// must equal a plain probe trained that long on every example. The data
// (overlapping blobs with 25% flipped labels, few examples, many features)
// are such that the curve is not flat.
func TestLinearProbeEarlyStopping(t *testing.T) {
	const n, dim, classes, val, epochs = 240, 20, 3, 80, 12
	rng := rand.New(rand.NewPCG(7, 7))
	x, y := blobs(rng, n+200, dim, classes)
	for i := range x {
		x[i] = 0.05*x[i] + rng.NormFloat64()
	}
	for i := range y {
		if rng.Float64() < 0.25 {
			y[i] = uint8(rng.IntN(classes))
		}
	}
	trX, trY, teX, teY := x[:n*dim], y[:n], x[n*dim:], y[n:]
	o := ProbeOptions{Epochs: epochs, Batch: 16, LR: 0.01, Validation: val, Seed: 3}
	r, err := LinearProbe(trX, trY, teX, teY, dim, o)
	if err != nil {
		t.Fatal(err)
	}
	plain := o
	plain.Validation = 0
	fit := n - val
	best, bestEpoch, worst := math.Inf(1), 0, 0.0
	for e := 1; e <= epochs; e++ {
		plain.Epochs = e
		c, err := LinearProbe(trX[:fit*dim], trY[:fit], trX[fit*dim:], trY[fit:], dim, plain)
		if err != nil {
			t.Fatal(err)
		}
		if c.TestError < best {
			best, bestEpoch = c.TestError, e
		}
		worst = max(worst, c.TestError)
	}
	t.Logf("chosen %d epochs, validation error %.3f (curve %.3f..%.3f), test %.3f", r.Epochs, r.ValError, best, worst, r.TestError)
	if worst == best || bestEpoch == 1 || bestEpoch == epochs {
		t.Fatalf("validation curve %.3f..%.3f with its minimum at epoch %d: the test needs an interior minimum", best, worst, bestEpoch)
	}
	if r.Epochs != bestEpoch || r.ValError != best {
		t.Errorf("early stopping chose %d epochs (validation error %g), want %d (%g)", r.Epochs, r.ValError, bestEpoch, best)
	}
	plain.Epochs = bestEpoch
	want, err := LinearProbe(trX, trY, teX, teY, dim, plain)
	if err != nil {
		t.Fatal(err)
	}
	if r.TestError != want.TestError || r.TrainError != want.TrainError || r.TrainLoss != want.TrainLoss {
		t.Errorf("refit %+v, want a plain %d-epoch probe %+v", r, bestEpoch, want)
	}
}

func TestLinearProbeErrors(t *testing.T) {
	x := []float64{0, 1, 1, 0}
	y := []uint8{0, 1}
	cases := []struct {
		name     string
		trX, teX []float64
		trY, teY []uint8
		dim      int
		o        ProbeOptions
	}{
		{"no features", x, x, y, y, 0, ProbeOptions{}},
		{"length mismatch", x[:3], x, y, y, 2, ProbeOptions{}},
		{"empty test", x, nil, y, nil, 2, ProbeOptions{}},
		{"label ≥ classes", x, x, []uint8{0, 3}, y, 2, ProbeOptions{Classes: 2}},
		{"one class", x, x, []uint8{0, 0}, []uint8{0, 0}, 2, ProbeOptions{}},
		{"NaN feature", []float64{0, math.NaN(), 1, 0}, x, y, y, 2, ProbeOptions{}},
		{"negative L2", x, x, y, y, 2, ProbeOptions{L2: -1}},
		{"bad dtype", x, x, y, y, 2, ProbeOptions{Dtype: tensor.Int}},
		{"validation ≥ examples", x, x, y, y, 2, ProbeOptions{Validation: 2}},
		{"negative validation", x, x, y, y, 2, ProbeOptions{Validation: -1}},
	}
	for _, tc := range cases {
		if _, err := LinearProbe(tc.trX, tc.trY, tc.teX, tc.teY, tc.dim, tc.o); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestCodes(t *testing.T) {
	_, test := testSets(t)
	ds := test.Limit(70)
	cases := []struct {
		name   string
		cfg    models.Config
		output graph.Output
		dim    int
	}{
		{"plain/code", config(t, "plain", func(c *models.Config) { c.Hidden = 9 }), graph.Code, 9},
		{"topk/features", config(t, "topk", func(c *models.Config) { c.Hidden, c.K = 20, 2 }), graph.Features, 20},
		{"vae/code", config(t, "vae", func(c *models.Config) { c.Hidden, c.Latent = 16, 3 }), graph.Code, 3},
		{"vae/logvar", config(t, "vae", func(c *models.Config) { c.Hidden, c.Latent = 16, 3 }), graph.LogVar, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEvaluator(tc.cfg, graph.Float64(), graph.NewStore(), 30, 1)
			codes, dim, err := e.Codes(ds, tc.output)
			if err != nil {
				t.Fatal(err)
			}
			if dim != tc.dim || len(codes) != ds.N*dim {
				t.Fatalf("dim %d with %d values, want %d×%d", dim, len(codes), ds.N, tc.dim)
			}
			// Compare with a single pass over the whole set.
			p, err := e.Program(ds.N, ds.D)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Run(ds.X, rand.New(rand.NewPCG(1, 1)), false); err != nil {
				t.Fatal(err)
			}
			for i, v := range p.Output(tc.output) {
				if math.Abs(v-codes[i]) > 1e-12 {
					t.Fatalf("value %d: %g in batches, %g in one pass", i, codes[i], v)
				}
			}
		})
	}
	e := NewEvaluator(cases[0].cfg, graph.Float32(), graph.NewStore(), 30, 1)
	if _, _, err := e.Codes(ds, graph.Features); err == nil {
		t.Error("plain model: Codes(features) succeeded")
	}
	if _, _, err := e.Codes(ds, graph.JF2); err != nil {
		t.Errorf("jf2 is per example: %v", err)
	}
}

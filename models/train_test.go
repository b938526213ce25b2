package models_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/density"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/aezoo/aezoo/zoo"
)

var testSets struct{ train, test *data.Dataset }

func sets(t *testing.T) (*data.Dataset, *data.Dataset) {
	t.Helper()
	if testSets.train == nil {
		tr, te, err := data.LoadMNIST(data.Testdata(), 1000, 200)
		if err != nil {
			t.Fatal(err)
		}
		testSets.train, testSets.test = tr, te
	}
	return testSets.train, testSets.test
}

// small returns a model's defaults shrunk for a quick training run.
func small(name string) models.Config {
	c, _ := models.Defaults(name)
	c.Hidden = 64
	if name == "topk" {
		c.Hidden, c.K, c.KStart = 100, 10, 30
	}
	if name == "vae" {
		c.Latent = 8
	}
	return c
}

type runResult struct {
	before, after eval.Metrics
	logs          []train.EpochLog
	// sampleFD is the Fréchet distance in pixel space between 200 samples
	// of a generative model and the test images, before and after training.
	sampleFD [2]float64
}

// sampleFD is the Fréchet distance in pixel space between 200 samples of
// the generative model of tt and its test images.
func sampleFD(t *testing.T, tt *train.Trainer) float64 {
	t.Helper()
	g, err := zoo.NewGenerator(tt.Config, tt.Dtype, tt.Store, tt.Test.D)
	if err != nil {
		t.Fatal(err)
	}
	_, x, err := g.Sample(rand.New(rand.NewPCG(9, 9)), 200)
	if err != nil {
		t.Fatal(err)
	}
	var flat []float64
	for _, r := range x {
		flat = append(flat, r...)
	}
	fd, err := density.Frechet(flat, graph.ToFloat64s(tt.Test.X, nil), tt.Test.D)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func trainSmall(t *testing.T, c models.Config, seed uint64) runResult {
	t.Helper()
	tr, te := sets(t)
	o := train.DefaultOptions()
	o.Epochs, o.Batch, o.LR, o.Seed = 3, 50, 3e-3, seed
	tt, err := train.New(c, o, tr, te, nil)
	if err != nil {
		t.Fatal(err)
	}
	var r runResult
	if r.before, err = tt.Eval.Evaluate(tt.Test); err != nil {
		t.Fatal(err)
	}
	spec, _ := models.Lookup(c.Model)
	adversarial := len(spec.Players) > 0
	if adversarial {
		r.sampleFD[0] = sampleFD(t, tt)
	}
	tt.OnEpoch = func(_ *train.Trainer, l train.EpochLog, _ eval.Metrics) error {
		l.Seconds, l.SamplesPerS = 0, 0
		r.logs = append(r.logs, l)
		return nil
	}
	if err := tt.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.after, err = tt.Eval.Evaluate(tt.Test); err != nil {
		t.Fatal(err)
	}
	if adversarial {
		r.sampleFD[1] = sampleFD(t, tt)
	}
	return r
}

// TestEveryModelTrains: a short seeded run lowers each model's total test
// loss, and the same seed reproduces every number.
func TestEveryModelTrains(t *testing.T) {
	for _, name := range models.Names() {
		t.Run(name, func(t *testing.T) {
			c := small(name)
			a := trainSmall(t, c, 1)
			t.Logf("%s: test loss %.3f → %.3f (terms %v)", name, a.before.Loss, a.after.Loss, a.after.Terms)
			if spec, _ := models.Lookup(name); len(spec.Players) > 0 {
				// The losses of an adversarial model are a game's, not a
				// quantity that must fall: its samples must come closer
				// to the test images instead.
				if !(a.sampleFD[1] < 0.8*a.sampleFD[0]) {
					t.Errorf("Fréchet distance of samples to test images %.3f → %.3f: not lowered by 20%%", a.sampleFD[0], a.sampleFD[1])
				}
			} else if !(a.after.Loss < 0.8*a.before.Loss) {
				t.Errorf("test loss %.3f → %.3f: not lowered by 20%%", a.before.Loss, a.after.Loss)
			}
			b := trainSmall(t, c, 1)
			for i := range a.logs {
				if a.logs[i].TrainLoss != b.logs[i].TrainLoss || a.logs[i].TestLoss != b.logs[i].TestLoss {
					t.Errorf("epoch %d: same seed, different numbers: %v/%v vs %v/%v", i+1,
						a.logs[i].TrainLoss, a.logs[i].TestLoss, b.logs[i].TrainLoss, b.logs[i].TestLoss)
				}
			}
		})
	}
}

// TestVAELossIsBCEPlusKL: the reported test loss is the summed BCE plus KL
// per image, and the graph's BCE term equals the BCE recomputed in Go from
// the decoder's logits.
func TestVAELossIsBCEPlusKL(t *testing.T) {
	r := trainSmall(t, small("vae"), 2)
	m := r.after
	if d := m.Loss - (m.Terms[graph.ReconTerm] + m.Terms[graph.KLTerm]); math.Abs(d) > 1e-4*m.Loss {
		t.Errorf("loss %v ≠ recon %v + kl %v", m.Loss, m.Terms[graph.ReconTerm], m.Terms[graph.KLTerm])
	}
	if d := m.BCEPerImage - m.Terms[graph.ReconTerm]; math.Abs(d) > 1e-4*m.BCEPerImage {
		t.Errorf("recon term %v ≠ BCE per image %v", m.Terms[graph.ReconTerm], m.BCEPerImage)
	}
	if m.Terms[graph.KLTerm] <= 0 {
		t.Errorf("KL %v should be positive", m.Terms[graph.KLTerm])
	}
	f := zoo.Figures(m)
	if f["test_elbo"] != -(m.Terms[graph.ReconTerm] + m.Terms[graph.KLTerm]) {
		t.Errorf("ELBO figure %v", f["test_elbo"])
	}
}

// TestVAEZeroNoiseIsDeterministic: with ε fixed to 0 the reconstruction is
// the decoder applied to the encoder mean, whatever the generator.
func TestVAEZeroNoiseIsDeterministic(t *testing.T) {
	c := small("vae")
	store := graph.NewStore()
	s := graph.Shape{In: 784, Batch: 4}
	m, err := models.Build(c, s, graph.Float64(), store, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range m.Inputs {
		if in.Name == "eps" {
			in.Fill = func(dst []float64, _ []float32, _ *rand.Rand, _ bool) { clear(dst) }
		}
	}
	p, err := graph.NewEvaluator(m, graph.Recon, graph.Code)
	if err != nil {
		t.Fatal(err)
	}
	_, te := sets(t)
	x := te.X[:4*784]
	if err := p.Run(x, rand.New(rand.NewPCG(1, 2)), true); err != nil {
		t.Fatal(err)
	}
	first := append([]float64(nil), p.Output(graph.Recon)...)
	mu := append([]float64(nil), p.Output(graph.Code)...)
	if err := p.Run(x, rand.New(rand.NewPCG(99, 100)), true); err != nil {
		t.Fatal(err)
	}
	for i, v := range p.Output(graph.Recon) {
		if v != first[i] {
			t.Fatalf("ε = 0 but the reconstruction changed with the generator at %d", i)
		}
	}
	// The decoder applied to μ gives the same images.
	g, err := zoo.NewGenerator(c, graph.Float64(), store, 784)
	if err != nil {
		t.Fatal(err)
	}
	z := make([][]float64, 4)
	for i := range z {
		z[i] = mu[i*c.Latent : (i+1)*c.Latent]
	}
	dec, err := g.Decode(z)
	if err != nil {
		t.Fatal(err)
	}
	for i := range dec {
		for j, v := range dec[i] {
			if math.Abs(v-first[i*784+j]) > 1e-12 {
				t.Fatalf("decode(μ) differs from the ε=0 reconstruction at %d,%d: %v vs %v", i, j, v, first[i*784+j])
			}
		}
	}
}

// TestVAESamplesFromPrior: Sample draws z ~ N(0, I) and returns exactly
// decoder(z), computed here in plain Go from the stored weights.
func TestVAESamplesFromPrior(t *testing.T) {
	c := small("vae")
	store := graph.NewStore()
	if _, err := models.Build(c, graph.Shape{In: 784, Batch: 1}, graph.Float64(), store, rand.New(rand.NewPCG(3, 3))); err != nil {
		t.Fatal(err)
	}
	g, err := zoo.NewGenerator(c, graph.Float64(), store, 784)
	if err != nil {
		t.Fatal(err)
	}
	z, x, err := g.Sample(rand.New(rand.NewPCG(4, 4)), 500)
	if err != nil {
		t.Fatal(err)
	}
	var sum, sq float64
	for _, zi := range z {
		for _, v := range zi {
			sum += v
			sq += v * v
		}
	}
	n := float64(len(z) * c.Latent)
	if mean, sd := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n)); math.Abs(mean) > 0.05 || math.Abs(sd-1) > 0.05 {
		t.Errorf("codes have mean %.3f and sd %.3f, want N(0, 1)", mean, sd)
	}
	W1, b1 := store.Floats("dec1.W"), store.Floats("dec1.b")
	W2, b2 := store.Floats("dec.W"), store.Floats("dec.b")
	H := c.Hidden
	for s := 0; s < 3; s++ {
		h := make([]float64, H)
		for j := range h {
			a := b1[j]
			for i, zi := range z[s] {
				a += zi * W1[i*H+j]
			}
			h[j] = math.Max(a, 0)
		}
		for p := 0; p < 784; p++ {
			a := b2[p]
			for j, hj := range h {
				a += hj * W2[j*784+p]
			}
			if want := 1 / (1 + math.Exp(-a)); math.Abs(x[s][p]-want) > 1e-12 {
				t.Fatalf("sample %d pixel %d: %v, decoder(z) = %v", s, p, x[s][p], want)
			}
		}
	}
	if _, err := g.Manifold(5); err == nil {
		t.Error("Manifold accepted a latent size of 8")
	}
}

func TestSummaryFigures(t *testing.T) {
	for _, tc := range []struct {
		model string
		keys  []string
	}{
		{"sparse", []string{"mean_activation", "active_fraction", "dead_units"}},
		{"topk", []string{"mean_activation", "active_fraction"}},
		{"contractive", []string{"mean_jacobian_frob"}},
		{"vae", []string{"test_elbo", "test_kl", "test_recon_bce"}},
	} {
		tr, te := sets(t)
		o := train.DefaultOptions()
		o.Epochs, o.Batch = 1, 100
		tt, err := train.New(small(tc.model), o, tr, te, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := tt.Eval.Evaluate(tt.Test)
		if err != nil {
			t.Fatal(err)
		}
		f := zoo.Figures(m)
		for _, k := range tc.keys {
			if _, ok := f[k]; !ok {
				t.Errorf("%s: summary figures lack %s: %v", tc.model, k, f)
			}
		}
	}
	// Top-K codes have exactly k non-zero units per example.
	tr, te := sets(t)
	c := small("topk")
	o := train.DefaultOptions()
	tt, err := train.New(c, o, tr, te, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Tied weights: no decoder matrix; the centre starts at the training mean.
	if tt.Store.Floats("dec.W") != nil {
		t.Error("tied top-K has a decoder matrix dec.W")
	}
	for j, v := range tr.Mean() {
		if got := tt.Store.Floats("centre")[j]; math.Abs(got-v) > 1e-6 {
			t.Fatalf("centre[%d] = %g, want the training mean %g", j, got, v)
		}
	}
	flat, dim, err := tt.Eval.Codes(te.Limit(50), graph.Code)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(flat)/dim; i++ {
		row := flat[i*dim : (i+1)*dim]
		nz := 0
		for _, v := range row {
			if v != 0 {
				nz++
			}
		}
		if nz != c.K {
			t.Fatalf("example %d: %d non-zero code units, want k=%d", i, nz, c.K)
		}
	}
}

package pretrain

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/classify"
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
)

func sets(t *testing.T, n int) (*data.Dataset, *data.Dataset) {
	t.Helper()
	tr, te, err := data.LoadSubset(n, 100)
	if err != nil {
		t.Fatal(err)
	}
	return tr, te
}

func stage(name string, hidden int, mod func(c *models.Config)) Stage {
	c, _ := models.Defaults(name)
	c.Hidden, c.Activation = hidden, "sigmoid"
	if mod != nil {
		mod(&c)
	}
	o := train.DefaultOptions()
	o.Epochs, o.Batch, o.Seed = 2, 50, 7
	return Stage{Model: c, Options: o}
}

func alone(t *testing.T, s Stage, tr, te *data.Dataset) *train.Trainer {
	t.Helper()
	tt, err := train.New(s.Model, s.Options, tr, te, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tt
}

func sameLayer(t *testing.T, what string, l classify.Layer, store *graph.Store) {
	t.Helper()
	w, b := store.Floats("enc.W"), store.Floats("enc.b")
	if len(w) != len(l.W) || len(b) != len(l.B) {
		t.Fatalf("%s: sizes differ", what)
	}
	for i := range w {
		if w[i] != l.W[i] {
			t.Fatalf("%s: W[%d] = %g, the autoencoder alone has %g", what, i, l.W[i], w[i])
		}
	}
	for i := range b {
		if b[i] != l.B[i] {
			t.Fatalf("%s: b[%d] = %g, the autoencoder alone has %g", what, i, l.B[i], b[i])
		}
	}
}

// TestOneStageIsTheAE: greedy pretraining of one layer gives, bit for bit,
// the encoder of that layer's autoencoder trained alone with the same seed.
func TestOneStageIsTheAE(t *testing.T) {
	tr, te := sets(t, 300)
	for _, s := range []Stage{
		stage("plain", 20, nil),
		stage("denoising", 20, func(c *models.Config) { c.NoiseLevel = 0.3 }),
		stage("contractive", 20, func(c *models.Config) { c.Lambda = 0.5 }),
	} {
		res, err := Greedy(context.Background(), []Stage{s}, tr, te, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Layers) != 1 || res.Activation != "sigmoid" || res.Stages[0].Epochs != 2 {
			t.Fatalf("%s: %d layers, %q, %+v", s.Model.Model, len(res.Layers), res.Activation, res.Stages)
		}
		sameLayer(t, s.Model.Model, res.Layers[0], alone(t, s, tr, te).Store)
	}
}

// TestGreedyStack: in a stack of two denoising layers, the second layer is
// the denoising autoencoder trained alone on the first layer's codes, and
// the layers chain (784→30→20).
func TestGreedyStack(t *testing.T) {
	tr, te := sets(t, 300)
	s1 := stage("denoising", 30, func(c *models.Config) { c.NoiseLevel = 0.1 })
	s2 := stage("denoising", 20, func(c *models.Config) { c.NoiseLevel = 0.2 })
	s2.Options.Epochs = 3
	var seen []int
	res, err := Greedy(context.Background(), []Stage{s1, s2}, tr, te, func(i int, r StageResult) { seen = append(seen, i) })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Layers) != 2 || res.Layers[0].In != 784 || res.Layers[0].Out != 30 || res.Layers[1].In != 30 || res.Layers[1].Out != 20 {
		t.Fatalf("layers %d×%d, %d×%d", res.Layers[0].In, res.Layers[0].Out, res.Layers[1].In, res.Layers[1].Out)
	}
	if len(seen) != 2 || res.Stages[1].Epochs != 3 {
		t.Errorf("stages seen %v, stage 2 epochs %d", seen, res.Stages[1].Epochs)
	}
	first := alone(t, s1, tr, te)
	sameLayer(t, "layer 1", res.Layers[0], first.Store)
	ctr, err := codes(first, tr)
	if err != nil {
		t.Fatal(err)
	}
	cte, err := codes(first, te)
	if err != nil {
		t.Fatal(err)
	}
	if ctr.D != 30 || ctr.N != tr.N || cte.N != te.N {
		t.Fatalf("codes %d×%d", ctr.N, ctr.D)
	}
	sameLayer(t, "layer 2", res.Layers[1], alone(t, s2, ctr, cte).Store)

	// The fine-tuning graph on the pretrained stack (plus one random
	// layer) has exact gradients.
	cfg := res.Classifier(classify.Config{Classes: 10, WeightDecay: 0.01}, 5)
	if len(cfg.Hidden) != 3 || cfg.Hidden[2] != 5 || cfg.Activation != "sigmoid" {
		t.Fatalf("classifier %v %s", cfg.Hidden, cfg.Activation)
	}
	labels := &classify.Labels{Y: []uint8{3, 1, 4}}
	rng := rand.New(rand.NewPCG(1, 5))
	m, err := classify.Declare(cfg, graph.Shape{In: 784, Batch: 3}, graph.Float64(), nil, rng, labels)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 3*784)
	tr.Gather([]int{0, 1, 2}, x)
	r, err := graph.CheckGradients(m, x, rng, 1e-5, 1e-4, 40)
	if err != nil {
		t.Fatal(err)
	}
	if r.MaxRel > 1e-5 {
		t.Errorf("fine-tuning graph: gradient mismatch at %s: symbolic %.10g, finite difference %.10g (rel %.2g)", r.Worst, r.Analytic, r.Numeric, r.MaxRel)
	}
}

// TestBadStages: stages that cannot form a stack are refused before any
// training.
func TestBadStages(t *testing.T) {
	tr, te := sets(t, 100)
	for _, tc := range []struct {
		stages []Stage
		want   string
	}{
		{nil, "no stages"},
		{[]Stage{stage("vae", 10, nil)}, "model"},
		{[]Stage{stage("plain", 10, func(c *models.Config) { c.Layers = "10,5" })}, "one layer"},
		{[]Stage{stage("plain", 10, nil), stage("plain", 5, func(c *models.Config) { c.Activation = "relu" })}, "activation"},
		{[]Stage{stage("plain", 10, nil), stage("plain", 5, func(c *models.Config) { c.Hidden = 0 })}, "stage 2"},
	} {
		_, err := Greedy(context.Background(), tc.stages, tr, te, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d stages: error %v, want one mentioning %q", len(tc.stages), err, tc.want)
		}
	}
}

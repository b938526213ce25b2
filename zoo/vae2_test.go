package zoo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
)

// twoLayerVAE is a small VAE with two stochastic layers trained on the
// IWAE bound (k = 3) with Burda's schedule.
func twoLayerVAE() (models.Config, train.Options) {
	c, _ := models.Defaults("vae")
	c.Layers, c.Latent, c.Latent2, c.IWK, c.Activation = "16", 6, 3, 3, "tanh"
	o := train.DefaultOptions()
	o.Epochs, o.Batch, o.TrainLimit, o.TestLimit, o.LRSchedule, o.Binarize = 2, 50, 600, 100, "burda", "dynamic"
	return c, o
}

// TestTwoLayerVAEResumeIsExact: the checkpoint of a VAE with two
// stochastic layers holds every layer's parameters and Adam state; a run
// interrupted mid-epoch and resumed equals an uninterrupted one bit for bit.
func TestTwoLayerVAEResumeIsExact(t *testing.T) {
	c, o := twoLayerVAE()
	full := t.TempDir()
	if _, err := Train(context.Background(), c, o, TrainOptions{Out: full, Data: data.Testdata()}); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Train(ctx, c, o, TrainOptions{Out: out, Data: data.Testdata(), OnStep: func(step int, _ float64) {
		if step == 17 {
			cancel()
		}
	}})
	cancel()
	var ie *InterruptedError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v, want an interruption", err)
	}
	if _, err := Resume(context.Background(), out, 0, TrainOptions{Out: out, Data: data.Testdata()}); err != nil {
		t.Fatal(err)
	}
	names, err := filepath.Glob(filepath.Join(full, "weights", "*.npy"))
	// enc, mu, logvar; q2.enc, q2.enc2, q2.mu, q2.logvar; p1.dec1, p1.dec2,
	// p1.mu, p1.logvar; dec1, dec: 13 layers, W and b each.
	if err != nil || len(names) != 26 {
		t.Fatalf("%d weight files (%v), want 26", len(names), err)
	}
	for _, f := range names {
		a, _ := os.ReadFile(f)
		b, err := os.ReadFile(filepath.Join(out, "weights", filepath.Base(f)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the uninterrupted and the resumed run (%v)", filepath.Base(f), err)
		}
	}
	ma, mb := normalizedMetrics(t, full), normalizedMetrics(t, out)
	ja, _ := json.Marshal(ma)
	jb, _ := json.Marshal(mb)
	if !bytes.Equal(ja, jb) {
		t.Errorf("metrics differ:\n%s\n%s", ja, jb)
	}
	r, err := OpenRun(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Config != c {
		t.Errorf("reloaded config %+v, want %+v", r.Config, c)
	}
}

// TestTwoLayerVAESamples: sampling a VAE with two stochastic layers draws
// z2 ~ N(0, I), then z1 ~ p(z1|z2), then decodes z1 — recomputed in plain
// Go from the stored parameters and the same draws.
func TestTwoLayerVAESamples(t *testing.T) {
	c, o := twoLayerVAE()
	o.Epochs = 1
	dir := t.TempDir()
	if _, err := Train(context.Background(), c, o, TrainOptions{Out: dir, Data: data.Testdata()}); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	g, err := r.Generator()
	if err != nil {
		t.Fatal(err)
	}
	const n = 7
	z, x, err := g.Sample(rand.New(rand.NewPCG(9, 9)), n)
	if err != nil {
		t.Fatal(err)
	}
	P := r.Store.Floats
	dense := func(name string, in []float64, act bool) []float64 {
		W, b := P(name+".W"), P(name+".b")
		out := append([]float64(nil), b...)
		for i, v := range in {
			for j := range out {
				out[j] += v * W[i*len(out)+j]
			}
		}
		if act {
			for j := range out {
				out[j] = math.Tanh(out[j])
			}
		}
		return out
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < n; i++ { // the codes z2, drawn first
		for j := 0; j < c.Latent2; j++ {
			if v := rng.NormFloat64(); z[i][j] != v {
				t.Fatalf("z2[%d][%d] = %g, want the draw %g", i, j, z[i][j], v)
			}
		}
	}
	for i := 0; i < n; i++ {
		h := dense("p1.dec2", dense("p1.dec1", z[i], true), true)
		nu, lt := dense("p1.mu", h, false), dense("p1.logvar", h, false)
		z1 := make([]float64, c.Latent)
		for j := range z1 {
			z1[j] = nu[j] + math.Exp(0.5*lt[j])*rng.NormFloat64()
		}
		l := dense("dec", dense("dec1", z1, true), false)
		for p, lp := range l {
			if want := 1 / (1 + math.Exp(-lp)); math.Abs(x[i][p]-want) > 1e-5 {
				t.Fatalf("sample %d pixel %d: %g, plain Go %g", i, p, x[i][p], want)
			}
		}
	}
	if _, err := g.Manifold(3); err == nil {
		t.Error("a manifold over a 3-D z2 was drawn")
	}
}

// TestTwoLayerVAEManifold: with a 2-D z2 the manifold is the grid over z2,
// each point decoded through the mean of p(z1|z2): the same images as
// Decode of those means.
func TestTwoLayerVAEManifold(t *testing.T) {
	c, _ := models.Defaults("vae")
	c.Latent, c.Latent2, c.Hidden, c.Activation = 5, 2, 12, "tanh"
	store := graph.NewStore()
	const in = 10
	if _, err := models.Build(c, graph.Shape{In: in, Batch: 4}, graph.Float64(), store, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	g, err := NewGenerator(c, graph.Float64(), store, in)
	if err != nil {
		t.Fatal(err)
	}
	m, err := g.Manifold(3)
	if err != nil {
		t.Fatal(err)
	}
	q := func(i int) float64 { return math.Sqrt2 * math.Erfinv(2*(float64(i)+0.5)/3-1) }
	var z2 [][]float64
	for r := 0; r < 3; r++ {
		for col := 0; col < 3; col++ {
			z2 = append(z2, []float64{q(col), -q(r)})
		}
	}
	nu, _, err := g.prior1(z2)
	if err != nil {
		t.Fatal(err)
	}
	want, err := g.Decode(nu)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 9 {
		t.Fatalf("%d images, want 9", len(m))
	}
	for i := range m {
		for p := range m[i] {
			if m[i][p] != want[i][p] {
				t.Fatalf("image %d pixel %d: %g, Decode(ν(z2)) gives %g", i, p, m[i][p], want[i][p])
			}
		}
	}
	if nu[0][0] == nu[8][0] {
		t.Error("p(z1|z2)'s mean does not vary over the grid")
	}
}

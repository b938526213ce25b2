package experiments

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aezoo/aezoo/data"
)

// TestNearestTrainingImage compares the blocked matrix-product search with
// a plain double loop, on more training images than one block.
func TestNearestTrainingImage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d = 5300, 12
	tr := &data.Dataset{N: n, D: d, X: make([]float32, n*d), Labels: make([]uint8, n)}
	for i := range tr.X {
		tr.X[i] = rng.Float32()
	}
	imgs := make([][]float64, 9)
	for i := range imgs {
		imgs[i] = make([]float64, d)
		for j := range imgs[i] {
			imgs[i][j] = rng.Float64()
		}
	}
	imgs[3] = make([]float64, d) // an exact copy of a training image of the second block
	for j := range imgs[3] {
		imgs[3][j] = float64(tr.X[5200*d+j])
	}
	sc := &scorer{env: &Env{TrainSet: tr}}
	got, err := sc.nearest(imgs)
	if err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for _, im := range imgs {
		best := math.Inf(1)
		for i := 0; i < n; i++ {
			s := 0.0
			for j, v := range im {
				u := v - float64(tr.X[i*d+j])
				s += u * u
			}
			best = math.Min(best, s)
		}
		want += math.Sqrt(best)
	}
	want /= float64(len(imgs))
	if math.Abs(got-want) > 1e-6 {
		t.Errorf("mean nearest distance %.9f, brute force %.9f", got, want)
	}
}

// TestPredictionStats: confidence is the mean top probability; the label
// entropy is that of the histogram of top classes (ln k when uniform, 0
// when every prediction is the same class).
func TestPredictionStats(t *testing.T) {
	cases := []struct {
		name          string
		p             []float64
		n, k          int
		conf, entropy float64
	}{
		{"one class", []float64{0.9, 0.1, 0.8, 0.2}, 2, 2, 0.85, 0},
		{"uniform over 3", []float64{1, 0, 0, 0, 0.6, 0.4, 0.3, 0.3, 0.4}, 3, 3, (1 + 0.6 + 0.4) / 3, math.Log(3)},
		{"half and half", []float64{0.7, 0.3, 0.2, 0.8}, 2, 2, 0.75, math.Log(2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conf, h := predictionStats(c.p, c.n, c.k)
			if math.Abs(conf-c.conf) > 1e-12 || math.Abs(h-c.entropy) > 1e-12 {
				t.Errorf("got confidence %g, entropy %g; want %g, %g", conf, h, c.conf, c.entropy)
			}
		})
	}
}

// TestCodeDecoderDecodesTheAE: the experiment's batched decoder, on more
// codes than one batch, gives the AE's reconstructions of the images
// whose codes it decodes.
func TestCodeDecoderDecodesTheAE(t *testing.T) {
	env := &Env{Ctx: context.Background(), Quick: true, Out: t.TempDir(), Seed: 3, Log: io.Discard, runs: map[string]*Run{}}
	tr, te, err := data.LoadSubset(600, 520)
	if err != nil {
		t.Fatal(err)
	}
	env.TrainSet, env.TestSet, env.Data = tr, te, data.SubsetName
	s := newGenSetup(env)
	c := aeConfig("plain", s)
	o := s.aeOpt
	o.Epochs = 1
	run, err := env.Train("AE", c, o)
	if err != nil {
		t.Fatal(err)
	}
	codes, dim, err := run.Eval.Codes(te, "code")
	if err != nil {
		t.Fatal(err)
	}
	z := make([][]float64, te.N)
	for i := range z {
		z[i] = codes[i*dim : (i+1)*dim]
	}
	dec := &codeDecoder{c: run.Config, dt: dtypeOf(run), store: run.Store, in: te.D}
	x, err := dec.decode(z)
	if err != nil {
		t.Fatal(err)
	}
	recon, _, err := run.Eval.Codes(te, "recon")
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		for j, v := range x[i] {
			if math.Abs(v-recon[i*te.D+j]) > 1e-5 {
				t.Fatalf("image %d, pixel %d: decoded %g, reconstruction %g", i, j, v, recon[i*te.D+j])
			}
		}
	}
}

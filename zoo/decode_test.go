package zoo

import (
	"context"
	"math"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
)

// tinyRun trains model name (changed by set) for one epoch on 200 digits
// and reopens its run folder.
func tinyRun(t *testing.T, name string, set func(*models.Config)) *Run {
	t.Helper()
	c, err := models.Defaults(name)
	if err != nil {
		t.Fatal(err)
	}
	c.Hidden = 16
	if set != nil {
		set(&c)
	}
	o := train.DefaultOptions()
	o.Epochs, o.Batch, o.TrainLimit, o.TestLimit = 1, 100, 200, 50
	dir := t.TempDir()
	if _, err := Train(context.Background(), c, o, TrainOptions{Out: dir, Data: data.Testdata(), NoCheckpoints: true}); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDecodeCodes checks that decoding a model's own codes gives the
// model's own reconstructions (the graph's Recon output), for untied BCE
// decoders and the top-K model's tied squared-error one.
func TestDecodeCodes(t *testing.T) {
	cases := []struct {
		name string
		set  func(*models.Config)
	}{
		{"plain", nil},
		{"sparse", nil},
		{"contractive", nil},
		{"topk", func(c *models.Config) { c.K = 4 }},
		{"topk", func(c *models.Config) { c.K, c.Tied, c.Loss = 4, false, "bce" }},
	}
	for _, tc := range cases {
		r := tinyRun(t, tc.name, tc.set)
		test, err := r.TestSet(data.Testdata())
		if err != nil {
			t.Fatal(err)
		}
		codes, dim, err := r.Eval.Codes(test, graph.Code)
		if err != nil {
			t.Fatal(err)
		}
		var h [][]float64
		for i := 0; i < test.N; i++ {
			h = append(h, codes[i*dim:(i+1)*dim])
		}
		got, err := r.DecodeCodes(h)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, want, err := Reconstruct(r.Eval, test, 0)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i := range want {
			for p := range want[i] {
				worst = math.Max(worst, math.Abs(got[i][p]-want[i][p]))
			}
		}
		if worst > 1e-4 {
			t.Errorf("%s (tied %v, %s): decoded codes differ from the reconstructions by up to %g", tc.name, r.Config.Tied, r.Config.Loss, worst)
		}
		if _, err := r.DecodeCodes([][]float64{make([]float64, dim+1)}); err == nil {
			t.Errorf("%s: a code of the wrong width decoded", tc.name)
		}
	}
	vae := tinyRun(t, "vae", func(c *models.Config) { c.Latent = 2 })
	if _, err := vae.DecodeCodes([][]float64{{0, 0}}); err == nil {
		t.Error("the VAE decoded codes without its Generator")
	}
}

func TestClampCodes(t *testing.T) {
	cases := []struct {
		c    models.Config
		h    []float64
		want []float64
	}{
		{models.Config{Model: "sparse", Activation: "relu"}, []float64{-1, 0.5, 2}, []float64{0, 0.5, 2}},
		{models.Config{Model: "contractive", Activation: "sigmoid"}, []float64{-1, 0.5, 2}, []float64{0, 0.5, 1}},
		{models.Config{Model: "topk", Activation: "linear", K: 2}, []float64{-3, 0.5, 2, 1}, []float64{0, 0, 2, 1}},
		{models.Config{Model: "plain", Activation: "linear"}, []float64{-3, 0.5}, []float64{-3, 0.5}},
	}
	for _, tc := range cases {
		r := &Run{Config: tc.c}
		got := r.ClampCodes([][]float64{append([]float64(nil), tc.h...)})[0]
		for j := range got {
			if got[j] != tc.want[j] {
				t.Errorf("%s %s: %v, want %v", tc.c.Model, tc.c.Activation, got, tc.want)
				break
			}
		}
	}
}

package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aezoo/aezoo/graph"
)

// TestCodeDecoderReproducesReconstruction: decoding the encoder's own codes
// with BuildCodeDecoder gives the autoencoder's reconstruction.
func TestCodeDecoderReproducesReconstruction(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"plain", tiny("plain", nil)},
		{"plain/layers/relu", tiny("plain", func(c *Config) { c.Layers, c.Activation = "5,3", "relu" })},
		{"plain/layers/tied/mse", tiny("plain", func(c *Config) { c.Layers, c.Tied, c.Loss, c.Activation = "4,2", true, "mse", "tanh" })},
		{"denoising/layers", tiny("denoising", func(c *Config) { c.Layers = "5,3" })},
		{"contractive", tiny("contractive", nil)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			s := graph.Shape{In: 6, Batch: 3}
			store := graph.NewStore()
			m, err := Build(tc.cfg, s, graph.Float64(), store, rng)
			if err != nil {
				t.Fatal(err)
			}
			p, err := graph.NewEvaluator(m, graph.Code, graph.Recon)
			if err != nil {
				t.Fatal(err)
			}
			x := randomBatch(rng, s.In*s.Batch)
			if err := p.Run(x, rng, false); err != nil {
				t.Fatal(err)
			}
			code := append([]float64(nil), p.Output(graph.Code)...)
			want := p.Output(graph.Recon)
			dm, err := BuildCodeDecoder(tc.cfg, s, graph.Float64(), store,
				func(dst []float64, _ []float32, _ *rand.Rand, _ bool) { copy(dst, code) })
			if err != nil {
				t.Fatal(err)
			}
			dp, err := graph.NewEvaluator(dm, graph.Recon)
			if err != nil {
				t.Fatal(err)
			}
			if err := dp.Run(x, rng, false); err != nil {
				t.Fatal(err)
			}
			for i, v := range dp.Output(graph.Recon) {
				if math.Abs(v-want[i]) > 1e-12 {
					t.Fatalf("pixel %d: decoded %.15g, reconstruction %.15g", i, v, want[i])
				}
			}
		})
	}
	if _, err := BuildCodeDecoder(tiny("vae", nil), graph.Shape{In: 6, Batch: 1}, graph.Float64(), graph.NewStore(), nil); err == nil {
		t.Error("BuildCodeDecoder accepted a VAE")
	}
	if _, err := BuildCodeDecoder(tiny("plain", nil), graph.Shape{In: 6, Batch: 1}, graph.Float64(), graph.NewStore(), nil); err == nil {
		t.Error("BuildCodeDecoder initialized missing parameters")
	}
}

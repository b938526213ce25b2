package models

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/aezoo/aezoo/graph"
	"gorgonia.org/tensor"
)

// TestFeedSameAtAnyThreadCount: the per-step random inputs (ε of the VAE,
// the corrupted input of the denoising models), filled in blocks of rows
// on every core, are the same bits at 1, 2 and 4 threads for a seed, and
// change with the seed; ε has mean ≈ 0 and variance ≈ 1.
func TestFeedSameAtAnyThreadCount(t *testing.T) {
	const batch, in = 128, 784
	x := randomBatch(rand.New(rand.NewPCG(1, 1)), batch*in)
	for _, c := range []struct {
		name  string
		cfg   Config
		input string
	}{
		{"vae", tiny("vae", nil), "eps"},
		{"denoising/gaussian", tiny("denoising", func(c *Config) { c.Noise, c.NoiseLevel = "gaussian", 0.3 }), "x_tilde"},
		{"denoising/masking", tiny("denoising", nil), "x_tilde"},
		{"lineardae", tiny("lineardae", func(c *Config) { c.NoiseLevel = 0.2 }), "x_tilde"},
	} {
		feed := func(procs int, seed uint64) []float32 {
			old := runtime.GOMAXPROCS(procs)
			defer runtime.GOMAXPROCS(old)
			m, err := Build(c.cfg, graph.Shape{In: in, Batch: batch}, tensor.Float32, nil, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			p, err := graph.NewEvaluator(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Feed(x, rand.New(rand.NewPCG(seed, 3)), true); err != nil {
				t.Fatal(err)
			}
			for _, inp := range m.Inputs {
				if inp.Name == c.input {
					if !inp.Rows {
						t.Fatalf("%s: input %s is not filled by rows", c.name, c.input)
					}
					return slices.Clone(inp.Node.Value().Data().([]float32))
				}
			}
			t.Fatalf("%s: no input %s", c.name, c.input)
			return nil
		}
		one := feed(1, 9)
		for _, procs := range []int{2, 4} {
			if !slices.Equal(feed(procs, 9), one) {
				t.Errorf("%s: %s at %d threads differs from 1 thread", c.name, c.input, procs)
			}
		}
		if slices.Equal(feed(2, 10), one) {
			t.Errorf("%s: seeds 9 and 10 give the same %s", c.name, c.input)
		}
		if c.input == "eps" {
			var s, s2 float64
			for _, v := range one {
				s += float64(v)
				s2 += float64(v) * float64(v)
			}
			n := float64(len(one))
			if mean, v := s/n, s2/n-(s/n)*(s/n); math.Abs(mean) > 0.1 || math.Abs(v-1) > 0.1 {
				t.Errorf("ε: mean %.3f, variance %.3f", mean, v)
			}
		}
	}
}

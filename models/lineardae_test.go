package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aezoo/aezoo/graph"
)

// TestMarginalizedLinearDAE: the marginalized linear DAE's loss is the
// expectation of the sampled model's loss over the Gaussian noise. With
// the same parameters, (a) its penalty is σ²‖W·V‖²_F computed in plain Go
// and (b) its loss lies within 4 standard errors of the mean of 20,000
// training losses of the sampled model (fresh noise each run), and the
// mean is far (> 10 standard errors) from the clean loss, so that the
// check can fail.
func TestMarginalizedLinearDAE(t *testing.T) {
	const sigma = 0.6
	s := graph.Shape{In: 6, Batch: 3}
	x := randomBatch(rand.New(rand.NewPCG(5, 5)), s.In*s.Batch)
	build := func(noise string, store *graph.Store) *graph.Program {
		c := tiny("lineardae", func(c *Config) { c.Hidden, c.Noise, c.NoiseLevel = 4, noise, sigma })
		m, err := Build(c, s, graph.Float64(), store, rand.New(rand.NewPCG(2, 2)))
		if err != nil {
			t.Fatal(err)
		}
		p, err := graph.NewEvaluator(m)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	mstore, sstore := graph.NewStore(), graph.NewStore()
	marg, sampled := build(Marginalized, mstore), build("gaussian", sstore)
	if err := marg.Run(x, nil, true); err != nil {
		t.Fatal(err)
	}
	want := marg.Loss()
	recon, _ := marg.Term(graph.ReconTerm)
	pen, _ := marg.Term(graph.PenaltyTerm)

	W, V := mstore.Floats("enc.W"), mstore.Floats("dec.W")
	var fro float64
	for i := 0; i < s.In; i++ {
		for j := 0; j < s.In; j++ {
			var p float64
			for k := 0; k < 4; k++ {
				p += W[i*4+k] * V[k*s.In+j]
			}
			fro += p * p
		}
	}
	if math.Abs(pen-sigma*sigma*fro) > 1e-12*fro {
		t.Errorf("penalty %.15g, plain Go σ²‖WV‖²_F %.15g", pen, sigma*sigma*fro)
	}

	for _, name := range mstore.Names() {
		copy(sstore.Floats(name), mstore.Floats(name))
	}
	rng := rand.New(rand.NewPCG(9, 9))
	const runs = 20000
	var sum, sum2 float64
	for r := 0; r < runs; r++ {
		if err := sampled.Run(x, rng, true); err != nil {
			t.Fatal(err)
		}
		l := sampled.Loss()
		sum, sum2 = sum+l, sum2+l*l
	}
	mean := sum / runs
	se := math.Sqrt((sum2/runs - mean*mean) / runs)
	if d := math.Abs(mean - want); d > 4*se {
		t.Errorf("marginalized loss %.6g, Monte-Carlo mean of the sampled loss %.6g ± %.2g (%.1f standard errors)", want, mean, se, d/se)
	}
	if mean-recon < 10*se {
		t.Errorf("the noise adds %.3g ± %.2g to the clean loss %.6g: too little to test", mean-recon, se, recon)
	}
}

// TestLinearDAENoise: the linear DAE takes gaussian or marginalized noise.
func TestLinearDAENoise(t *testing.T) {
	for _, tc := range []struct {
		noise string
		ok    bool
	}{{"gaussian", true}, {Marginalized, true}, {"", true}, {"masking", false}} {
		c := tiny("lineardae", func(c *Config) { c.Noise = tc.noise })
		s, _ := Lookup("lineardae")
		if err := s.Validate(c); (err == nil) != tc.ok {
			t.Errorf("--noise %q: error %v", tc.noise, err)
		}
	}
}

package experiments

import (
	"context"
	"io"
	"math/rand/v2"
	"testing"
)

// TestActiveUnits: units whose mean varies over examples with variance
// above 0.01 count, the others do not.
func TestActiveUnits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const n, dim = 4000, 4
	sd := []float64{1, 0.2, 0.05, 0} // variances 1, 0.04, 0.0025, 0
	mu := make([]float64, n*dim)
	for i := 0; i < n; i++ {
		for u := 0; u < dim; u++ {
			mu[i*dim+u] = 3 + sd[u]*rng.NormFloat64()
		}
	}
	if got := activeUnits(mu, dim); got != 2 {
		t.Errorf("activeUnits = %d, want 2", got)
	}
}

// TestLikelihoodOptions: an IWAE k below 2 or negative counts are refused
// before anything runs.
func TestLikelihoodOptions(t *testing.T) {
	for _, o := range []Options{
		{LikelihoodIWK: []int{1}},
		{LikelihoodEpochs: -1},
		{NLLSamples: -5},
	} {
		o.Quick, o.Out, o.Log, o.IWSamples = true, t.TempDir(), io.Discard, 10
		if _, err := Reproduce(context.Background(), []string{"vae-likelihood"}, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

package experiments

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
)

// TestWeightDecayModel: the AE with weight decay (plain-wd) has the plain
// AE's reconstruction term plus ½λ·Σ‖W‖² over enc.W and dec.W (checked in
// plain Go), and exact gradients.
func TestWeightDecayModel(t *testing.T) {
	c, err := models.Defaults("plain-wd")
	if err != nil {
		t.Fatal(err)
	}
	c.Hidden = 4
	if err := c.Extras.Set("weight-decay", 0.3); err != nil {
		t.Fatal(err)
	}
	s := graph.Shape{In: 5, Batch: 3}
	store := graph.NewStore()
	rng := rand.New(rand.NewPCG(1, 2))
	m, err := models.Build(c, s, graph.Float64(), store, rng)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, s.In*s.Batch)
	for i := range x {
		x[i] = rng.Float32()
	}
	p, err := graph.NewEvaluator(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(x, nil, false); err != nil {
		t.Fatal(err)
	}
	var want float64
	for _, name := range []string{"enc.W", "dec.W"} {
		for _, v := range store.Floats(name) {
			want += v * v
		}
	}
	want *= 0.3 / 2
	if got, _ := p.Term(graph.PenaltyTerm); math.Abs(got-want) > 1e-12*want {
		t.Errorf("penalty %.15g, plain Go %.15g", got, want)
	}
	r, err := graph.CheckGradients(m, x, rng, 1e-6, 1e-6, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.MaxRel > 1e-5 {
		t.Errorf("gradient mismatch at %s: %g vs %g", r.Worst, r.Analytic, r.Numeric)
	}
}

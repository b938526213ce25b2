package eval

import (
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
)

// TestSameAtAnyThreadCount: the evaluations that run on every core —
// Evaluate's metrics, the contraction curve, the denoising error, the
// probe's error rate — give the same bits at 1, 2 and 4 threads.
func TestSameAtAnyThreadCount(t *testing.T) {
	_, test := testSets(t)
	ds := test.Limit(300)
	cfg := config(t, "denoising", func(c *models.Config) { c.Hidden = 32 })
	store := graph.NewStore()
	if _, err := models.Build(cfg, graph.Shape{In: ds.D, Batch: 1}, graph.Float32(), store, rand.New(rand.NewPCG(3, 3))); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	const dim, classes = 40, 10
	px := make([]float64, 3000*dim)
	py := make([]uint8, 3000)
	W, b := make([]float64, dim*classes), make([]float64, classes)
	for i := range px {
		px[i] = rng.NormFloat64()
	}
	for i := range py {
		py[i] = uint8(rng.IntN(classes))
	}
	for i := range W {
		W[i] = rng.NormFloat64()
	}
	type results struct {
		M     Metrics
		CR    []float64
		Noise float64
		Probe float64
	}
	run := func(procs int) results {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		e := NewEvaluator(cfg, graph.Float32(), store, 128, 5)
		var r results
		var err error
		if r.M, err = e.Evaluate(ds); err != nil {
			t.Fatal(err)
		}
		if r.CR, err = e.ContractionCurve(ds, []float64{0.1, 1}, 7); err != nil {
			t.Fatal(err)
		}
		if r.Noise, err = e.Denoising(ds, data.Corruption{Kind: "gaussian", Level: 0.3}, 8); err != nil {
			t.Fatal(err)
		}
		r.Probe = probeError(px, py, dim, classes, W, b)
		return r
	}
	one := run(1)
	if one.Probe < 0.5 || one.CR[0] <= 0 || one.M.BCEPerImage <= 0 {
		t.Fatalf("implausible results %+v", one)
	}
	for _, procs := range []int{2, 4} {
		if got := run(procs); !reflect.DeepEqual(got, one) {
			t.Errorf("%d threads: %+v\n1 thread: %+v", procs, got, one)
		}
	}
}

package eval

import (
	"math"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
)

// TestSparsityMetrics checks the code statistics of Evaluate on a ReLU
// code h = relu(x + b) (identity encoder weights) whose values are known:
// mean activation mean|h|, the fraction of units above ActiveThreshold,
// the units never above it, and ‖J‖_F = √(number of units with h > 0).
func TestSparsityMetrics(t *testing.T) {
	x := []float32{
		0.0, 0.0, 0.0, 0.0,
		0.5, 0.0, 0.2, 0.0,
		0.0, 0.05, 0.9, 0.0,
		1.0, 0.0, 0.0, 0.0,
		0.3, 0.3, 0.3, 0.0,
	}
	ds := &data.Dataset{X: x, Labels: make([]uint8, 5), N: 5, D: 4, Rows: 2, Cols: 2}
	cases := []struct {
		name string
		b    []float64
	}{
		{"zero bias", []float64{0, 0, 0, 0}},
		{"one always active", []float64{0.5, 0, 0, 0}},
		{"negative biases", []float64{-0.4, -0.01, -0.5, -1}},
		{"all active", []float64{0.2, 0.2, 0.2, 0.2}},
	}
	c := config(t, "plain", func(c *models.Config) { c.Hidden, c.Activation = 4, "relu" })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := graph.NewStore()
			setParam(store, "enc.W", []int{4, 4}, []float64{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1})
			setParam(store, "enc.b", []int{1, 4}, tc.b)
			setParam(store, "dec.W", []int{4, 4}, make([]float64, 16))
			setParam(store, "dec.b", []int{1, 4}, make([]float64, 4))
			// Expected values, computed directly.
			var sum, active, jf float64
			ever := make([]bool, 4)
			for i := 0; i < ds.N; i++ {
				nonzero := 0
				for j := 0; j < 4; j++ {
					h := math.Max(float64(x[i*4+j])+tc.b[j], 0)
					sum += h
					if h > ActiveThreshold {
						active++
						ever[j] = true
					}
					if h > 0 {
						nonzero++
					}
				}
				jf += math.Sqrt(float64(nonzero))
			}
			dead := 0
			for _, e := range ever {
				if !e {
					dead++
				}
			}
			for _, batch := range []int{2, 5} {
				e := NewEvaluator(c, graph.Float64(), store, batch, 1)
				m, err := e.Evaluate(ds)
				if err != nil {
					t.Fatal(err)
				}
				if m.CodeUnits != 4 || m.DeadUnits != dead {
					t.Errorf("batch %d: %d units, %d dead; want 4, %d", batch, m.CodeUnits, m.DeadUnits, dead)
				}
				if math.Abs(m.MeanActivation-sum/20) > 1e-6 {
					t.Errorf("batch %d: mean activation %.9g, want %.9g", batch, m.MeanActivation, sum/20)
				}
				if math.Abs(m.ActiveFraction-active/20) > 1e-12 {
					t.Errorf("batch %d: active fraction %.9g, want %.9g", batch, m.ActiveFraction, active/20)
				}
				if math.Abs(m.MeanJacobianFrob-jf/5) > 1e-12 {
					t.Errorf("batch %d: mean ‖J‖_F %.9g, want %.9g", batch, m.MeanJacobianFrob, jf/5)
				}
			}
		})
	}
}

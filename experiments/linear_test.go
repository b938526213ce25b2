package experiments

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestExpectedLossMinimumIsTheClosedForm: L-BFGS on the analytic expected
// loss of the linear DAE reaches the ridge-shrunk projection W_k (relative
// error ≤ 1e-6), and its subspace is U_k (principal angles ≈ 0).
func TestExpectedLossMinimumIsTheClosedForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ds := syntheticSpectrum(rng, 500, 12, []float64{9, 5, 3}, 0.1)
	sp, err := newSpectrum(float64s(ds.X), ds.N, ds.D)
	if err != nil {
		t.Fatal(err)
	}
	for _, sigma := range []float64{0.3, 1.5} {
		wk, _, err := sp.ridge(3, sigma)
		if err != nil {
			t.Fatal(err)
		}
		P, iters, err := minimizeExpectedLoss(sp, 3, sigma, 1)
		if err != nil {
			t.Fatal(err)
		}
		if e := relFro(P, wk); e > 1e-6 {
			t.Errorf("σ=%g: L-BFGS (%d iterations) is %.3g from the closed form", sigma, iters, e)
		}
		angles, err := principalAngles(P.T(), sp.top(3))
		if err != nil {
			t.Fatal(err)
		}
		if a := angles[len(angles)-1]; a > 1e-3 {
			t.Errorf("σ=%g: largest principal angle %.3g°", sigma, a)
		}
	}
}

// TestPrincipalAngles: the angles between span{e1, e2} and
// span{e1, cos θ e2 + sin θ e3} are 0 and θ, whatever the bases.
func TestPrincipalAngles(t *testing.T) {
	const theta = 0.3
	a := mat.NewDense(4, 2, []float64{1, 1, 0, 2, 0, 0, 0, 0})
	b := mat.NewDense(4, 2, []float64{2, 0, 0, math.Cos(theta), 0, math.Sin(theta), 0, 0})
	got, err := principalAngles(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, theta * 180 / math.Pi}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Errorf("angles %v, want %v", got, want)
		}
	}
}

package graph

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAdamAVXSameBits: the AVX float32 Adam update gives the same bits as
// the plain loop for every length (tails included) and for gradients and
// moments over many magnitudes, zeros and denormals included, over
// several steps.
func TestAdamAVXSameBits(t *testing.T) {
	if !haveAdamAVX {
		t.Skip("no AVX on this CPU: the plain loop is the only path")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	val := func() float32 {
		switch rng.IntN(8) {
		case 0:
			return 0
		case 1:
			return float32(rng.NormFloat64() * 1e-40) // denormal
		case 2:
			return float32(rng.NormFloat64() * 1e6)
		}
		return float32(rng.NormFloat64() * math.Pow(10, -6*rng.Float64()))
	}
	for _, n := range append([]int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33}, 8192+5) {
		w, m, v := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range w {
			w[i], m[i], v[i] = val(), val(), float32(math.Abs(float64(val())))
		}
		w2, m2, v2 := slices.Clone(w), slices.Clone(m), slices.Clone(v)
		for step := 1; step <= 3; step++ {
			g := make([]float32, n)
			for i := range g {
				g[i] = val()
			}
			g2, g0 := slices.Clone(g), slices.Clone(g)
			c1, c2 := 1-math.Pow(0.9, float64(step)), 1-math.Pow(0.999, float64(step))
			zero := step != 2 // step 2 keeps the gradient (a fresh gradient node)
			adamUpdate(w, g, m, v, 1e-3, 0.9, 0.999, 1e-8, c1, c2, zero)
			adamScalarOnly = true
			adamUpdate(w2, g2, m2, v2, 1e-3, 0.9, 0.999, 1e-8, c1, c2, zero)
			adamScalarOnly = false
			for i := range g {
				if want := map[bool]float32{true: 0, false: g0[i]}[zero]; math.Float32bits(g[i]) != math.Float32bits(want) {
					t.Fatalf("n %d, step %d (zero %v): g[%d] = %g after the update, want %g", n, step, zero, i, g[i], want)
				}
			}
			for name, p := range map[string][2][]float32{"w": {w, w2}, "m": {m, m2}, "v": {v, v2}, "g": {g, g2}} {
				for i := range p[0] {
					if math.Float32bits(p[0][i]) != math.Float32bits(p[1][i]) {
						t.Fatalf("n %d, step %d: %s[%d] = %g with AVX, %g in the loop", n, step, name, i, p[0][i], p[1][i])
					}
				}
			}
		}
	}
}

// BenchmarkAdamFloat32 updates the vae's 652,824 float32 parameters (one
// block of the parallel Adam at a time, on one core) with the AVX path
// and with the plain loop.
func BenchmarkAdamFloat32(b *testing.B) {
	const n = 652824
	w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for _, scalar := range []bool{false, true} {
		name := "avx"
		if scalar {
			name = "loop"
		}
		b.Run(name, func(b *testing.B) {
			adamScalarOnly = scalar
			defer func() { adamScalarOnly = false }()
			for b.Loop() {
				for lo := 0; lo < n; lo += adamBlock {
					hi := min(lo+adamBlock, n)
					adamUpdate(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.001, true)
				}
			}
		})
	}
}

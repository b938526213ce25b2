package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// expTestValues returns float32 values that exercise the vector kernels:
// normals at many scales, values around the thresholds (|l| = 700, e^(−|l|)
// = √2 − 1, 0), signed zeros, subnormals, infinities and NaN, in blocks
// that mix them with ordinary values.
func expTestValues(rng *rand.Rand, n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -1e-45, 1e-38, -1e-38,
		700, -700, math.Nextafter32(700, 1000), -math.Nextafter32(700, 1000), 745, -745, 1e30, -1e30,
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		0.8813736, -0.8813736, 0.88137364, -0.88137364, 0.8813735, 1, -1, 0.5, -0.5, 88, -88, 104, -104}
	v := make([]float32, n)
	for i := range v {
		switch rng.IntN(8) {
		case 0:
			v[i] = special[rng.IntN(len(special))]
		case 1:
			v[i] = float32(-math.Log(math.Sqrt2-1) + 1e-6*rng.NormFloat64()) // e near √2 − 1
		case 2:
			v[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-9)))
		default:
			v[i] = float32(rng.NormFloat64() * 6)
		}
		if rng.IntN(2) == 0 {
			v[i] = -v[i]
		}
	}
	return v
}

// TestVectorKernelsSameBits compares the float32 BCE and sigmoid kernels
// and the float32 activation gradients (AVX2/FMA blocks where the CPU has
// them, scalar code for the rest) with plain loops over math.Exp,
// log1pUnit, sigmoid and the gradients' formulas, bit for bit, at
// lengths with ragged tails and offsets.
func TestVectorKernelsSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 11))
	for _, n := range []int{0, 1, 3, 4, 5, 17, 1000, 200003} {
		l := expTestValues(rng, n)
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32()
		}
		// Inputs without NaN and ±Inf (the sum is compared bit for bit).
		finite := append([]float32(nil), l...)
		for i, v := range finite {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				finite[i] = 3
			}
		}
		for _, in := range [][]float32{finite, l} {
			e := make([]float64, n)
			got := bceChunk32(in, x, e)
			var want float64
			for i, li := range in {
				lf := float64(li)
				ei := math.Exp(-math.Abs(lf))
				if math.Float64bits(e[i]) != math.Float64bits(ei) && !(math.IsNaN(e[i]) && math.IsNaN(ei)) {
					t.Fatalf("n %d: e[%d] = %v for l = %v, want %v", n, i, e[i], li, ei)
				}
				want += softplus32(lf, ei) - float64(x[i])*lf
			}
			if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Fatalf("n %d: sum %v, want %v", n, got, want)
			}
			for _, c := range []float64{1, 1.0 / 128, -0.37} {
				g := make([]float32, n)
				bceGrad(g, in, x, e, c, false)
				for i, li := range in {
					want := float32(c * (sigmoidE(float64(li), e[i]) - float64(x[i])))
					if math.Float32bits(g[i]) != math.Float32bits(want) && !(isNaN32(g[i]) && isNaN32(want)) {
						t.Fatalf("n %d, c %g: grad[%d] = %v for l = %v, want %v", n, c, i, g[i], li, want)
					}
				}
			}
			dx := make([]float32, n)
			for _, act := range []string{"sigmoid", "relu", "tanh"} {
				activateGrad(act, dx, in, x)
				for i, v := range in {
					var want float32
					switch act {
					case "sigmoid":
						want = x[i] * v * (1 - v)
					case "relu":
						if v > 0 {
							want = x[i]
						}
					case "tanh":
						want = x[i] * (1 - v*v)
					}
					if math.Float32bits(dx[i]) != math.Float32bits(want) && !(isNaN32(dx[i]) && isNaN32(want)) {
						t.Fatalf("n %d: %s gradient at y = %v: %v, want %v", n, act, v, dx[i], want)
					}
				}
			}
			y := make([]float32, n)
			sigmoid32(y, in)
			for i, v := range in {
				want := float32(sigmoid(float64(v)))
				if math.Float32bits(y[i]) != math.Float32bits(want) && !(isNaN32(y[i]) && isNaN32(want)) {
					t.Fatalf("n %d: sigmoid(%v) = %v, want %v", n, v, y[i], want)
				}
			}
		}
	}
}

func isNaN32(v float32) bool { return v != v }

// BenchmarkBCEChunk32 times the float32 BCE sum over one ae512 batch
// (128×784) on one core.
func BenchmarkBCEChunk32(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 128 * 784
	l, x, e := make([]float32, n), make([]float32, n), make([]float64, n)
	for i := range l {
		l[i], x[i] = float32(4*rng.NormFloat64()), rng.Float32()
	}
	for b.Loop() {
		bceChunk32(l, x, e)
	}
}

func BenchmarkBCEChunk32Scalar(b *testing.B) {
	old := haveExpAVX
	haveExpAVX = false
	defer func() { haveExpAVX = old }()
	BenchmarkBCEChunk32(b)
}

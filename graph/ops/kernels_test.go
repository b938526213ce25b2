package ops

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestKernelsMatchPlainLoops runs the parallel kernels at 1 and 4 threads
// on shapes that split into several chunks and compares them, bit for bit,
// with plain sequential loops written from the formulas.
func TestKernelsMatchPlainLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const n, d = 129, 787 // odd sizes: ragged last chunks
	randv := func(scale float32) []float32 {
		s := make([]float32, n*d)
		for i := range s {
			s[i] = scale * float32(rng.NormFloat64())
		}
		return s
	}
	l, x, dy := randv(4), randv(1), randv(1)
	for i := range x {
		x[i] = float32(math.Abs(float64(x[i])) / 4)
	}
	b := randv(1)[:d]
	for _, procs := range []int{1, 4} {
		old := runtime.GOMAXPROCS(procs)
		// Bias rows.
		y := append([]float32(nil), l...)
		addRows(y, b, n, d)
		for i := range y {
			if want := l[i] + b[i%d]; y[i] != want {
				t.Fatalf("procs %d: addRows[%d] = %g, want %g", procs, i, y[i], want)
			}
		}
		// Column sums and sums of squares, rows in order.
		cs, css := make([]float32, d), make([]float32, d)
		colSums(cs, l, n, d)
		colSumSq(css, l, n, d)
		for j := 0; j < d; j++ {
			s, sq := l[j], float32(0)
			for i := 1; i < n; i++ {
				s += l[i*d+j]
			}
			for i := 0; i < n; i++ {
				sq += l[i*d+j] * l[i*d+j]
			}
			if cs[j] != s || css[j] != sq {
				t.Fatalf("procs %d: column %d: sums %g, %g, want %g, %g", procs, j, cs[j], css[j], s, sq)
			}
		}
		g := make([]float32, n*d)
		colSumSqGrad(g, l, dy[:d], n, d)
		for i := range g {
			if want := 2 * l[i] * dy[i%d]; g[i] != want {
				t.Fatalf("procs %d: colSumSqGrad[%d] = %g, want %g", procs, i, g[i], want)
			}
		}
		// BCE: the loss within rounding of a sequential sum, the gradient
		// bit for bit with and without the forward pass's cache.
		var want float64
		for i, li := range l {
			lf := float64(li)
			want += math.Max(lf, 0) + math.Log1p(math.Exp(-math.Abs(lf))) - float64(x[i])*lf
		}
		st, cache := new(outBuf), new(bceCache)
		// float32 data use log1pUnit (relative error < 2e-12).
		if got := bceSum(st, cache, l, x); math.Abs(got-want) > 1e-10*math.Abs(want) {
			t.Fatalf("procs %d: bceSum = %g, want %g", procs, got, want)
		}
		for _, e := range [][]float64{cache.e, nil} {
			bceGrad(g, l, x, e, 0.5, false)
			for i, li := range l {
				if want := float32(0.5 * (sigmoid(float64(li)) - float64(x[i]))); g[i] != want {
					t.Fatalf("procs %d (cache %v): bceGrad[%d] = %g, want %g", procs, e != nil, i, g[i], want)
				}
			}
		}
		// Activations and their gradients.
		for _, act := range []string{"sigmoid", "relu", "tanh"} {
			activate(act, y, l)
			activateGrad(act, g, y, dy)
			for i, v := range l {
				var f, fp float32
				switch act {
				case "sigmoid":
					f = float32(sigmoid(float64(v)))
					fp = dy[i] * f * (1 - f)
				case "relu":
					f = max(v, 0)
					if f > 0 {
						fp = dy[i]
					}
				case "tanh":
					f = float32(math.Tanh(float64(v)))
					fp = dy[i] * (1 - f*f)
				}
				if y[i] != f || g[i] != fp {
					t.Fatalf("procs %d: %s at %d: %g, %g, want %g, %g", procs, act, i, y[i], g[i], f, fp)
				}
			}
		}
		runtime.GOMAXPROCS(old)
	}
}

// TestLog1pUnit: log1pUnit is within 2e-12 of math.Log1p, relatively, on
// [0, 1] (evenly spaced points and e^(−t) down to 1e-300), and exact at 0.
func TestLog1pUnit(t *testing.T) {
	worst := 0.0
	check := func(x float64) {
		if want := math.Log1p(x); want != 0 {
			worst = max(worst, math.Abs(log1pUnit(x)-want)/want)
		}
	}
	for i := 0; i <= 1_000_000; i++ {
		check(float64(i) / 1_000_000)
		check(math.Exp(-float64(i) / 1450))
	}
	if worst > 2e-12 || log1pUnit(0) != 0 {
		t.Errorf("log1pUnit: worst relative error %g, log1pUnit(0) = %g", worst, log1pUnit(0))
	}
}

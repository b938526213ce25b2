package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// restoreSplit puts back the default split options and the thread count.
func restoreSplit() {
	_ = SetSplit(SplitOptions{})
	SetThreads(runtime.GOMAXPROCS(0))
}

func needOpenBLAS(t testing.TB) {
	if err := Set(OpenBLAS); err != nil {
		t.Skipf("no OpenBLAS: %v", err)
	}
}

// TestSplitAgainstNaive runs the reference comparison (every transpose,
// padding, alpha and beta, odd sizes) with OpenBLAS's products split into
// blocks as small as 1 FLOP allows, at several thread counts.
func TestSplitAgainstNaive(t *testing.T) {
	defer Set(Auto)
	defer restoreSplit()
	needOpenBLAS(t)
	for _, p := range []int{2, 3, 4, 7, 16} {
		if err := SetSplit(SplitOptions{Mode: SplitOn, MinBlockFLOPs: 1}); err != nil {
			t.Fatal(err)
		}
		SetThreads(p)
		if _, on := Split(); !on {
			t.Fatal("split mode on, but not splitting")
		}
		t.Run(fmt.Sprintf("threads=%d", p), testGemmAgainstNaive)
	}
}

// benchProducts are the matrix products of an ae512 and a vae training
// step (batch 128) and some odd sizes.
var benchProducts = []Call{
	{false, false, 128, 512, 784, false}, {false, false, 128, 784, 512, false}, {true, false, 512, 784, 128, false},
	{false, true, 128, 512, 784, false}, {true, false, 784, 512, 128, false},
	{false, false, 128, 400, 784, false}, {false, false, 128, 20, 400, false}, {true, false, 400, 20, 128, false},
	{false, true, 128, 400, 20, false}, {false, false, 128, 784, 400, false},
	{false, false, 131, 509, 77, false}, {true, true, 97, 333, 1001, false}, {false, true, 1, 700, 900, false},
	{false, false, 128, 512, 784, true}, {true, false, 784, 512, 128, true}, {true, true, 97, 333, 1001, true},
}

// runProduct runs c on operands made from seed (C = op(A)·op(B), the
// training steps' alpha and beta) and returns C as float64s.
func runProduct(c Call, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 9))
	lda, ldb := c.K, c.N
	if c.TA {
		lda = c.M
	}
	if c.TB {
		ldb = c.K
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if c.TA {
		ta = blas.Trans
	}
	if c.TB {
		tb = blas.Trans
	}
	a, b, d := randSlice(rng, c.M*c.K), randSlice(rng, c.K*c.N), randSlice(rng, c.M*c.N)
	if c.F64 {
		BLAS{}.Dgemm(ta, tb, c.M, c.N, c.K, 1, a, lda, b, ldb, 0, d, c.N)
		return d
	}
	d32 := f32(d)
	BLAS{}.Sgemm(ta, tb, c.M, c.N, c.K, 1, f32(a), lda, f32(b), ldb, 0, d32, c.N)
	out := make([]float64, len(d32))
	for i, v := range d32 {
		out[i] = float64(v)
	}
	return out
}

// TestOpenBLASConcurrentCalls checks that the single-threaded OpenBLAS the
// split mode relies on gives the serial results when many OS threads call
// it at once: 32 goroutines, each product several times, compared bit for
// bit with the same products run one after another.
func TestOpenBLASConcurrentCalls(t *testing.T) {
	defer Set(Auto)
	defer restoreSplit()
	needOpenBLAS(t)
	if err := SetSplit(SplitOptions{Mode: SplitOff}); err != nil {
		t.Fatal(err)
	}
	SetThreads(1) // OpenBLAS on one thread, as in the split mode
	want := make([][]float64, len(benchProducts))
	for i, c := range benchProducts {
		want[i] = runProduct(c, uint64(i))
	}
	old := runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), 4))
	defer runtime.GOMAXPROCS(old)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 3 {
				i := (g + r*7) % len(benchProducts)
				if got := runProduct(benchProducts[i], uint64(i)); !sameBits(got, want[i]) {
					errs <- fmt.Sprintf("goroutine %d: product %+v differs from the serial result", g, benchProducts[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestSplitSameBitsAsOneThread compares the split products at 2, 4, 8 and
// 16 threads with single-threaded OpenBLAS, bit for bit. Every block is a
// single-threaded OpenBLAS product over the full inner size, so an entry
// of C is the same sum in the same order unless OpenBLAS's kernels treat
// an entry differently by its position in the block (edge kernels). The
// test reports such differences; it fails only if they exceed the float
// tolerance of the reference test. (Measured with Debian's OpenBLAS
// 0.3.21, Haswell kernels: the float64 products are the same bits, the
// float32 ones are not — nor are OpenBLAS's own multi-threaded float32
// products the same bits as its single-threaded ones.)
func TestSplitSameBitsAsOneThread(t *testing.T) {
	defer Set(Auto)
	defer restoreSplit()
	needOpenBLAS(t)
	if err := SetSplit(SplitOptions{Mode: SplitOff}); err != nil {
		t.Fatal(err)
	}
	SetThreads(1)
	want := make([][]float64, len(benchProducts))
	for i, c := range benchProducts {
		want[i] = runProduct(c, uint64(i))
	}
	if err := SetSplit(SplitOptions{Mode: SplitOn}); err != nil {
		t.Fatal(err)
	}
	differ := 0
	for _, p := range []int{2, 4, 8, 16} {
		SetThreads(p)
		for i, c := range benchProducts {
			got := runProduct(c, uint64(i))
			if sameBits(got, want[i]) {
				continue
			}
			differ++
			worst := 0.0
			for j := range got {
				worst = max(worst, math.Abs(got[j]-want[i][j])/(1+math.Abs(want[i][j])))
			}
			t.Logf("threads %d, product %+v: not the same bits as one thread (largest relative difference %.3g)", p, c, worst)
			if tol := 1e-5 * float64(c.K+1); worst > tol {
				t.Errorf("threads %d, product %+v: differs from one thread by %g (> %g)", p, c, worst, tol)
			}
		}
	}
	core, _ := CoreName()
	t.Logf("OpenBLAS %s: %d of %d split products differ in some bit from one thread", core, differ, 4*len(benchProducts))
}

// TestSplitAuto: the automatic mode keeps OpenBLAS's own threading below
// MinThreads (and the kernel's name unchanged) and splits from there on.
func TestSplitAuto(t *testing.T) {
	defer Set(Auto)
	defer restoreSplit()
	needOpenBLAS(t)
	plain := Name()
	for _, tc := range []struct {
		mode    string
		min     int
		threads int
		want    bool
	}{
		{SplitAuto, 0, 1, false}, {SplitAuto, 0, 2, false}, {SplitAuto, 0, 3, false}, {SplitAuto, 0, 4, true},
		{SplitAuto, 0, 16, true}, {SplitAuto, 8, 4, false}, {SplitAuto, 8, 8, true}, {SplitAuto, 1, 1, true},
		{SplitOff, 0, 16, false}, {SplitOn, 0, 1, true}, {SplitOn, 0, 2, true},
	} {
		if err := SetSplit(SplitOptions{Mode: tc.mode, MinThreads: tc.min}); err != nil {
			t.Fatal(err)
		}
		SetThreads(tc.threads)
		_, got := Split()
		if got != tc.want {
			t.Errorf("mode %s, min threads %d, %d threads: splitting = %v, want %v", tc.mode, tc.min, tc.threads, got, tc.want)
		}
		if name := Name(); strings.HasSuffix(name, "+split") != tc.want || !strings.HasPrefix(name, strings.TrimSuffix(plain, "+split")) {
			t.Errorf("mode %s, %d threads: Name() = %q", tc.mode, tc.threads, name)
		}
	}
	if err := SetSplit(SplitOptions{Mode: "sideways"}); err == nil {
		t.Error("SetSplit accepted an unknown mode")
	}
	// vek never splits (it runs on every core itself).
	if err := Set(Vek); err != nil {
		t.Fatal(err)
	}
	if err := SetSplit(SplitOptions{Mode: SplitOn}); err != nil {
		t.Fatal(err)
	}
	if _, on := Split(); on {
		t.Error("vek kernel reports splitting")
	}
}

func TestSplitFromEnv(t *testing.T) {
	for _, tc := range []struct {
		mode, min, mflop string
		want             SplitOptions
		bad              bool
	}{
		{"", "", "", SplitOptions{SplitAuto, DefaultSplitMinThreads, DefaultSplitMinBlockFLOPs}, false},
		{"on", "", "", SplitOptions{SplitOn, DefaultSplitMinThreads, DefaultSplitMinBlockFLOPs}, false},
		{"off", "", "", SplitOptions{SplitOff, DefaultSplitMinThreads, DefaultSplitMinBlockFLOPs}, false},
		{"auto", "8", "0.5", SplitOptions{SplitAuto, 8, 5e5}, false},
		{"yes", "", "", SplitOptions{}, true},
		{"auto", "0", "", SplitOptions{}, true},
		{"auto", "x", "", SplitOptions{}, true},
		{"auto", "", "-1", SplitOptions{}, true},
		{"auto", "", "Inf", SplitOptions{}, true},
		{"auto", "", "NaN", SplitOptions{}, true},
	} {
		t.Setenv(EnvSplit, tc.mode)
		t.Setenv(EnvSplitMinThreads, tc.min)
		t.Setenv(EnvSplitMinMFLOP, tc.mflop)
		got, err := SplitFromEnv()
		if (err != nil) != tc.bad {
			t.Errorf("%q %q %q: error %v, want error %v", tc.mode, tc.min, tc.mflop, err, tc.bad)
			continue
		}
		if !tc.bad && got != tc.want {
			t.Errorf("%q %q %q: %+v, want %+v", tc.mode, tc.min, tc.mflop, got, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("error is not one line: %q", err)
		}
	}
}

// TestGrid: the blocks cover C, there are at most p of them, each has at
// least the minimum work, sizes are multiples of the alignment (but the
// last), and small products are not split.
func TestGrid(t *testing.T) {
	for _, tc := range []struct {
		m, n, k, p, align int
		min               float64
	}{
		{128, 512, 784, 16, 16, 2e6}, {128, 784, 512, 16, 16, 2e6}, {512, 784, 128, 16, 16, 2e6},
		{784, 512, 128, 8, 16, 2e6}, {128, 400, 784, 4, 16, 2e6}, {128, 20, 400, 16, 16, 2e6},
		{400, 20, 128, 16, 16, 2e6}, {1, 700, 900, 16, 16, 1e5}, {37, 29, 131, 7, 8, 1},
		{128, 512, 784, 2, 16, 2e6}, {3, 3, 3, 16, 16, 1}, {1000, 1, 1000, 16, 16, 1e4},
	} {
		gm, gn, bm, bn := grid(tc.m, tc.n, tc.k, tc.p, tc.align, tc.min)
		name := fmt.Sprintf("%dx%dx%d p=%d", tc.m, tc.n, tc.k, tc.p)
		if gm*gn > tc.p || gm < 1 || gn < 1 {
			t.Errorf("%s: %d×%d blocks", name, gm, gn)
		}
		if (gm-1)*bm >= tc.m || gm*bm < tc.m || (gn-1)*bn >= tc.n || gn*bn < tc.n {
			t.Errorf("%s: %d×%d blocks of %d×%d do not cover C exactly", name, gm, gn, bm, bn)
		}
		if gm*gn > 1 {
			if f := 2 * float64(bm) * float64(bn) * float64(tc.k); f < tc.min {
				t.Errorf("%s: blocks of %d×%d have %g FLOPs < %g", name, bm, bn, f, tc.min)
			}
			if (gm > 1 && bm%tc.align != 0) || (gn > 1 && bn%tc.align != 0) {
				t.Errorf("%s: block %d×%d not a multiple of %d", name, bm, bn, tc.align)
			}
		}
		t.Logf("%s: %d×%d blocks of %d×%d", name, gm, gn, bm, bn)
	}
	if gm, gn, _, _ := grid(128, 20, 400, 16, 16, 2e6); gm*gn != 1 {
		t.Errorf("a 2 MFLOP product is split into %d blocks", gm*gn)
	}
}

// TestInstallFromEnvBadSettings: a bad split or spin setting is a one-line
// error naming the variable, and the defaults stay in force.
func TestInstallFromEnvBadSettings(t *testing.T) {
	defer restoreSplit()
	for _, env := range [][2]string{{EnvSplit, "sideways"}, {EnvSplitMinThreads, "-2"}, {EnvSplitMinMFLOP, "x"}, {"AEZOO_PAR_SPIN_US", "-5"}} {
		t.Setenv(env[0], env[1])
		err := InstallFromEnv()
		if err == nil || !strings.Contains(err.Error(), env[0]) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%q: InstallFromEnv() = %v, want a one-line error naming it", env[0], env[1], err)
		}
		if o, _ := Split(); o != (SplitOptions{}).withDefaults() {
			t.Errorf("%s=%q: split options %+v after the error, want the defaults", env[0], env[1], o)
		}
		t.Setenv(env[0], "")
	}
}

// TestSplitBlocksFixedBySetThreads: the blocks follow the thread count of
// SetThreads, not GOMAXPROCS, so changing GOMAXPROCS alone (as some
// thread-invariance tests do) gives the same bits, as OpenBLAS's own
// thread count did.
func TestSplitBlocksFixedBySetThreads(t *testing.T) {
	defer Set(Auto)
	defer restoreSplit()
	needOpenBLAS(t)
	if err := SetSplit(SplitOptions{Mode: SplitOn}); err != nil {
		t.Fatal(err)
	}
	SetThreads(8)
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	c := benchProducts[0]
	one := runProduct(c, 1)
	for _, procs := range []int{2, 3, 4, 8} {
		runtime.GOMAXPROCS(procs)
		if got := runProduct(c, 1); !sameBits(got, one) {
			t.Errorf("GOMAXPROCS %d: not the same bits as GOMAXPROCS 1 at the same SetThreads", procs)
		}
	}
}

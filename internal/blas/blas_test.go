package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
)

// naiveGemm is the reference: C = alpha·op(A)·op(B) + beta·C, in float64.
func naiveGemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				var av, bv float64
				if tA {
					av = a[l*lda+i]
				} else {
					av = a[i*lda+l]
				}
				if tB {
					bv = b[j*ldb+l]
				} else {
					bv = b[l*ldb+j]
				}
				s += av * bv
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.Float64()*2 - 1
	}
	return s
}

// kernels returns the GEMM kernels to test: vek, and OpenBLAS when it can
// be loaded (required when $AEZOO_REQUIRE_OPENBLAS is set, as in CI). The
// caller restores the default with Set(Auto).
func kernels(t testing.TB) []string {
	ks := []string{Vek}
	if _, err := loadOpenBLAS(); err == nil {
		ks = append(ks, OpenBLAS)
	} else if os.Getenv("AEZOO_REQUIRE_OPENBLAS") != "" {
		t.Fatalf("AEZOO_REQUIRE_OPENBLAS is set but OpenBLAS cannot be loaded: %v", err)
	} else {
		t.Logf("OpenBLAS kernel not tested: %v", err)
	}
	return ks
}

func TestGemmAgainstNaive(t *testing.T) {
	defer Set(Auto)
	for _, kernel := range kernels(t) {
		if err := Set(kernel); err != nil {
			t.Fatal(err)
		}
		t.Run(kernel, testGemmAgainstNaive)
	}
}

func testGemmAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sizes := [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 1, 9}, {1, 33, 4}, {37, 29, 131}, {128, 130, 67}, {5, 300, 2}}
	coefs := [][2]float64{{1, 0}, {0.5, 0}, {1, 1}, {-2, 0.25}, {0, 3}, {0, 0}}
	for _, sz := range sizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, pad := range []int{0, 3} {
					for _, ab := range coefs {
						name := fmt.Sprintf("%dx%dx%d/tA=%v/tB=%v/pad=%d/a=%g/b=%g", m, n, k, tA, tB, pad, ab[0], ab[1])
						ar, ac := m, k
						if tA {
							ar, ac = k, m
						}
						br, bc := k, n
						if tB {
							br, bc = n, k
						}
						lda, ldb, ldc := ac+pad, bc+pad, n+pad
						a, b := randSlice(rng, (ar-1)*lda+ac), randSlice(rng, (br-1)*ldb+bc)
						c0 := randSlice(rng, (m-1)*ldc+n)
						want := append([]float64(nil), c0...)
						naiveGemm(tA, tB, m, n, k, ab[0], a, lda, b, ldb, ab[1], want, ldc)
						ta, tb := blas.NoTrans, blas.NoTrans
						if tA {
							ta = blas.Trans
						}
						if tB {
							tb = blas.Trans
						}
						c64 := append([]float64(nil), c0...)
						BLAS{}.Dgemm(ta, tb, m, n, k, ab[0], a, lda, b, ldb, ab[1], c64, ldc)
						c32 := f32(c0)
						BLAS{}.Sgemm(ta, tb, m, n, k, float32(ab[0]), f32(a), lda, f32(b), ldb, float32(ab[1]), c32, ldc)
						for i := range want {
							if d := math.Abs(c64[i] - want[i]); d > 1e-12*float64(k+1) {
								t.Fatalf("%s: float64 C[%d] = %g, want %g", name, i, c64[i], want[i])
							}
							if d := math.Abs(float64(c32[i]) - want[i]); d > 1e-5*float64(k+1) {
								t.Fatalf("%s: float32 C[%d] = %g, want %g", name, i, c32[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

func f32(s []float64) []float32 {
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(v)
	}
	return o
}

func TestMain(m *testing.M) {
	if got := Name(); got != "gonum" {
		fmt.Fprintf(os.Stderr, "before Install, Name() = %q: something installs a BLAS at import\n", got)
		os.Exit(1)
	}
	testFirstCore = os.Getenv("AEZOO_TEST_FIRST_CORE") // see TestOpenBLASReload
	if err := InstallFromEnv(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func TestFastBLASInstalled(t *testing.T) {
	if _, ok := G.WhichBLAS().(BLAS); !ok {
		t.Fatalf("Gorgonia uses %T, want blas.BLAS", G.WhichBLAS())
	}
	if Name() == "gonum" {
		t.Fatal("Name says gonum")
	}
	defer Set(Auto)
	for _, k := range kernels(t) {
		if err := Set(k); err != nil {
			t.Fatal(err)
		}
		if got := Name(); !strings.HasPrefix(got, k) {
			t.Errorf("after Set(%q), Name() = %q", k, got)
		}
	}
	if err := Set("mkl"); err == nil {
		t.Error("Set accepted an unknown kernel")
	}
}

func benchGemm(b *testing.B, impl blas.Float32, tA, tB blas.Transpose, m, n, k int) {
	if _, ok := impl.(BLAS); ok {
		for _, kernel := range kernels(b) {
			b.Run(kernel, func(b *testing.B) {
				if err := Set(kernel); err != nil {
					b.Fatal(err)
				}
				defer Set(Auto)
				benchGemmKernel(b, impl, tA, tB, m, n, k)
			})
			if kernel != OpenBLAS {
				continue
			}
			// OpenBLAS with the products split into blocks on goroutines
			// (at -cpu N: N blocks at most, OpenBLAS on one thread).
			b.Run(kernel+"-split", func(b *testing.B) {
				if err := Set(kernel); err != nil {
					b.Fatal(err)
				}
				defer Set(Auto)
				defer restoreSplit()
				if err := SetSplit(SplitOptions{Mode: SplitOn}); err != nil {
					b.Fatal(err)
				}
				SetThreads(runtime.GOMAXPROCS(0))
				benchGemmKernel(b, impl, tA, tB, m, n, k)
			})
		}
		return
	}
	benchGemmKernel(b, impl, tA, tB, m, n, k)
}

func benchGemmKernel(b *testing.B, impl blas.Float32, tA, tB blas.Transpose, m, n, k int) {
	rng := rand.New(rand.NewPCG(1, 1))
	a, bb, c := f32(randSlice(rng, m*k)), f32(randSlice(rng, k*n)), make([]float32, m*n)
	lda, ldb := k, n
	if tA == blas.Trans {
		lda = m
	}
	if tB == blas.Trans {
		ldb = k
	}
	b.ResetTimer()
	for range b.N {
		impl.Sgemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// The products of one ae512 step (batch 128, 784→512→784).
func BenchmarkSgemmFastNN(b *testing.B) {
	benchGemm(b, BLAS{}, blas.NoTrans, blas.NoTrans, 128, 512, 784)
}
func BenchmarkSgemmFastNT(b *testing.B) {
	benchGemm(b, BLAS{}, blas.NoTrans, blas.Trans, 128, 512, 784)
}
func BenchmarkSgemmFastTN(b *testing.B) {
	benchGemm(b, BLAS{}, blas.Trans, blas.NoTrans, 784, 512, 128)
}
func BenchmarkSgemmGonumNN(b *testing.B) {
	benchGemm(b, gonum.Implementation{}, blas.NoTrans, blas.NoTrans, 128, 512, 784)
}

func TestCoreUpgrade(t *testing.T) {
	for _, tc := range []struct {
		core         string
		avx2, avx512 bool
		want         string
	}{
		{"Prescott", true, true, "SkylakeX"},
		{"Prescott", true, false, "Haswell"},
		{"Prescott", false, false, ""},
		{"Haswell", true, true, "SkylakeX"},
		{"Zen", true, true, "SkylakeX"},
		{"Haswell", true, false, ""},
		{"SkylakeX", true, true, ""},
		{"Cooperlake", true, true, ""},
		{"SapphireRapids", true, true, ""},
		{"Sandybridge", true, false, "Haswell"},
	} {
		if got := coreUpgrade(tc.core, tc.avx2, tc.avx512); got != tc.want {
			t.Errorf("coreUpgrade(%q, avx2=%v, avx512=%v) = %q, want %q", tc.core, tc.avx2, tc.avx512, got, tc.want)
		}
	}
}

// TestOpenBLASCore: the loaded OpenBLAS uses kernels that match the CPU
// (unless $OPENBLAS_CORETYPE chose them).
func TestOpenBLASCore(t *testing.T) {
	defer Set(Auto)
	if err := Set(OpenBLAS); err != nil {
		t.Skipf("no OpenBLAS: %v", err)
	}
	core, how := CoreName()
	t.Logf("OpenBLAS core %s (%s), CPU AVX2=%v AVX-512=%v", core, how, cpuAVX2(), cpuAVX512())
	if how != "$"+EnvCoreType && coreUpgrade(core, cpuAVX2(), cpuAVX512()) != "" {
		t.Errorf("OpenBLAS runs %s kernels on a CPU with AVX2=%v AVX-512=%v (%s)", core, cpuAVX2(), cpuAVX512(), how)
	}
}

// TestOpenBLASReload makes OpenBLAS first choose its generic Prescott
// kernels (in a child process) and checks that the zoo loads it again with
// kernels that use the CPU's AVX2 or AVX-512.
func TestOpenBLASReload(t *testing.T) {
	if os.Getenv("AEZOO_TEST_FIRST_CORE") != "" {
		core, how := CoreName()
		fmt.Printf("core=%s how=%s\n", core, how)
		return
	}
	if err := Set(OpenBLAS); err != nil {
		t.Skipf("no OpenBLAS: %v", err)
	}
	want := coreUpgrade("Prescott", cpuAVX2(), cpuAVX512())
	if want == "" {
		t.Skip("the CPU has neither AVX2 nor AVX-512")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestOpenBLASReload$", "-test.v")
	cmd.Env = append(os.Environ(), "AEZOO_TEST_FIRST_CORE=Prescott", EnvCoreType+"=", EnvKernel+"="+OpenBLAS)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "core="+want+" how=aezoo: OpenBLAS chose Prescott") {
		t.Errorf("after a Prescott first choice, want %s kernels; child says:\n%s", want, out)
	}
}

package graph

import (
	"runtime"

	"github.com/aezoo/aezoo/internal/blas"
)

// SetThreads sets the number of threads the zoo computes on: GOMAXPROCS
// (the chunked ops and the Go GEMM kernel) and, when OpenBLAS is in use,
// OpenBLAS's own thread count, so that the two do not compete — or, from
// 4 threads on by default, the number of blocks OpenBLAS's products are
// split into, with OpenBLAS itself on one thread ($AEZOO_GEMM_SPLIT; see
// internal/blas). n ≤ 0 means every core (runtime.NumCPU). Call it before
// running programs, not during.
func SetThreads(n int) error {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	runtime.GOMAXPROCS(n)
	blas.SetThreads(n)
	return nil
}

// Threads returns the thread count SetThreads last set (GOMAXPROCS).
func Threads() int { return runtime.GOMAXPROCS(0) }

// UseBLAS installs the zoo's matrix-product backend in Gorgonia, as the zoo
// command and the tests do: a system OpenBLAS (loaded without cgo) when one
// is installed, else a SIMD Go kernel on every core; $AEZOO_BLAS (auto,
// openblas or vek) chooses. A program that trains or evaluates models
// through the library (zoo.Train, zoo.OpenRun, a notebook cell) calls it
// once before running programs: without it Gorgonia multiplies with gonum's
// pure-Go BLAS, which took twice the CPU time to train notebook 02's six
// models. On an error (an unknown $AEZOO_BLAS, or "openblas" with no
// library) the backend is installed with the automatic choice and the error
// says why.
func UseBLAS() error { return blas.InstallFromEnv() }

// BLAS names the matrix-product kernel in use: "openblas-CORE" (CORE:
// OpenBLAS's kernel set, e.g. openblas-Haswell), "vek-avx2", "vek-go",
// "gonum" (UseBLAS not called) or "other".
func BLAS() string { return blas.Name() }

package graph

import (
	"runtime"

	"github.com/aezoo/aezoo/internal/blas"
)

// SetThreads sets the number of threads the zoo computes on: GOMAXPROCS
// (the chunked ops and the Go GEMM kernel) and, when OpenBLAS is in use,
// OpenBLAS's own thread count, so that the two do not compete. n ≤ 0 means
// every core (runtime.NumCPU). Call it before running programs, not during.
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

package graph

import (
	"runtime"

	"github.com/ebitengine/purego"
	"github.com/pkg/errors"
)

// SetThreads sets the number of threads the zoo computes on: GOMAXPROCS
// (the Go GEMM kernel and the chunked ops) and, when OpenBLAS is loaded,
// OpenBLAS's own thread count. n ≤ 0 means every core (runtime.NumCPU).
// Call it before running programs, not during.
func SetThreads(n int) error {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	runtime.GOMAXPROCS(n)
	ob, err := loadOpenBLAS() // loaded at init; nil when absent
	if err != nil || ob == nil || ob.lib == "" {
		return nil
	}
	// dlopen of an already loaded library returns its handle.
	h, err := purego.Dlopen(ob.lib, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return errors.Wrap(err, "graph: setting the OpenBLAS thread count")
	}
	sym, err := purego.Dlsym(h, "openblas_set_num_threads")
	if err != nil {
		return nil // an OpenBLAS without the setter runs with its own count
	}
	var set func(int32)
	purego.RegisterFunc(&set, sym)
	set(int32(n))
	return nil
}

// Threads returns the thread count SetThreads last set (GOMAXPROCS).
func Threads() int { return runtime.GOMAXPROCS(0) }

package graph

import (
	"runtime"
	"testing"
)

func TestSetThreads(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	if err := SetThreads(1); err != nil {
		t.Fatal(err)
	}
	if Threads() != 1 || runtime.GOMAXPROCS(0) != 1 {
		t.Errorf("after SetThreads(1): GOMAXPROCS %d", runtime.GOMAXPROCS(0))
	}
	if err := SetThreads(0); err != nil {
		t.Fatal(err)
	}
	if Threads() != runtime.NumCPU() {
		t.Errorf("after SetThreads(0): %d threads, want NumCPU %d", Threads(), runtime.NumCPU())
	}
}

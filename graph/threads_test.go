package graph

import (
	"runtime"
	"strings"
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

func TestUseBLAS(t *testing.T) {
	t.Cleanup(func() { // after t.Setenv's cleanup: as TestMain left it
		if err := UseBLAS(); err != nil {
			t.Error(err)
		}
	})
	for _, c := range []struct {
		env     string
		want    string // prefix of BLAS()
		wantErr bool
	}{
		{"vek", "vek-", false},
		{"no-such-kernel", "", true},
	} {
		t.Setenv("AEZOO_BLAS", c.env)
		err := UseBLAS()
		if (err != nil) != c.wantErr {
			t.Errorf("AEZOO_BLAS=%s: error %v, want error %v", c.env, err, c.wantErr)
		}
		if got := BLAS(); c.want != "" && !strings.HasPrefix(got, c.want) {
			t.Errorf("AEZOO_BLAS=%s: BLAS() = %q, want %s…", c.env, got, c.want)
		}
		if got := BLAS(); got == "gonum" || got == "other" {
			t.Errorf("AEZOO_BLAS=%s: BLAS() = %q: the zoo's backend is not installed", c.env, got)
		}
	}
}

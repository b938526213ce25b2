package par

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestForCoversEachIndexOnce(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		old := runtime.GOMAXPROCS(procs)
		for _, tc := range []struct{ n, grain int }{{0, 3}, {1, 1}, {7, 3}, {100, 7}, {1000, 1000}, {5, 0}} {
			hits := make([]atomic.Int32, tc.n)
			var chunks atomic.Int32
			For(tc.n, tc.grain, func(c, lo, hi int) {
				chunks.Add(1)
				g := max(tc.grain, 1)
				if lo != c*g || hi != min((c+1)*g, tc.n) {
					t.Errorf("n=%d grain=%d: chunk %d is [%d,%d)", tc.n, tc.grain, c, lo, hi)
				}
				for i := lo; i < hi; i++ {
					hits[i].Add(1)
				}
			})
			for i := range hits {
				if hits[i].Load() != 1 {
					t.Fatalf("procs=%d n=%d grain=%d: index %d ran %d times", procs, tc.n, tc.grain, i, hits[i].Load())
				}
			}
			if got, want := int(chunks.Load()), Chunks(tc.n, tc.grain); got != want {
				t.Errorf("n=%d grain=%d: %d chunks, want %d", tc.n, tc.grain, got, want)
			}
		}
		runtime.GOMAXPROCS(old)
	}
}

func TestGrain(t *testing.T) {
	for _, tc := range []struct{ n, cost, want int }{{10, 1, 10}, {1 << 20, 1, 1 << 14}, {1 << 20, 16, 1 << 10}, {0, 1, 1}} {
		if got := Grain(tc.n, tc.cost); got != tc.want {
			t.Errorf("Grain(%d, %d) = %d, want %d", tc.n, tc.cost, got, tc.want)
		}
	}
}

// BenchmarkForOverhead is the cost of one For call that hands out
// GOMAXPROCS chunks of almost no work (the hand-off alone).
func BenchmarkForOverhead(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	var sink atomic.Int64
	b.ReportAllocs()
	for range b.N {
		For(procs, 1, func(c, lo, hi int) { sink.Add(int64(hi - lo)) })
	}
}

// TestForNestedAndConcurrent: loops inside loops and loops from many
// goroutines at once each cover every index once, with and without
// spinning workers.
func TestForNestedAndConcurrent(t *testing.T) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	defer SetSpin(0)
	for _, spin := range []time.Duration{0, 50 * time.Microsecond} {
		SetSpin(spin)
		const outer, inner = 37, 101
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hits := make([]atomic.Int32, outer*inner)
				For(outer, 3, func(_, lo, hi int) {
					for i := lo; i < hi; i++ {
						For(inner, 7, func(_, lo2, hi2 int) {
							for k := lo2; k < hi2; k++ {
								hits[i*inner+k].Add(1)
							}
						})
					}
				})
				for i := range hits {
					if hits[i].Load() != 1 {
						t.Errorf("spin %v, goroutine %d: index %d ran %d times", spin, g, i, hits[i].Load())
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}

func TestSpinFromEnv(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want time.Duration
		bad  bool
	}{{"", 0, false}, {"0", 0, false}, {"50", 50 * time.Microsecond, false}, {"-1", 0, true}, {"x", 0, true}, {"1.5", 0, true}} {
		t.Setenv(EnvSpin, tc.s)
		got, err := SpinFromEnv()
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("%s=%q: %v, %v; want %v, error %v", EnvSpin, tc.s, got, err, tc.want, tc.bad)
		}
	}
}

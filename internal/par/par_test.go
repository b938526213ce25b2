package par

import (
	"runtime"
	"sync/atomic"
	"testing"
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

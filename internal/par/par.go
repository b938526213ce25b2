// Package par runs loops over index ranges on every core (GOMAXPROCS), in
// chunks whose boundaries depend only on the range and the grain, never on
// the number of threads: a reduction that combines per-chunk results in
// chunk order gives the same bits at every thread count.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Chunks returns the number of chunks For splits n items into with the
// given grain (items per chunk, at least 1): ⌈n/grain⌉, and 0 for n ≤ 0.
func Chunks(n, grain int) int {
	if n <= 0 {
		return 0
	}
	grain = max(grain, 1)
	return (n + grain - 1) / grain
}

// For calls fn(c, lo, hi) for every chunk c of [0, n): chunk c covers
// [c·grain, min((c+1)·grain, n)). The chunks run on up to GOMAXPROCS
// goroutines (the caller's included) and For returns when all are done. fn
// must be safe to call concurrently on distinct chunks. With one chunk or
// GOMAXPROCS=1, everything runs on the caller's goroutine.
func For(n, grain int, fn func(c, lo, hi int)) {
	grain = max(grain, 1)
	chunks := Chunks(n, grain)
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		for c := 0; c < chunks; c++ {
			fn(c, c*grain, min((c+1)*grain, n))
		}
		return
	}
	var next atomic.Int64
	run := func() {
		for {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			fn(c, c*grain, min((c+1)*grain, n))
		}
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for range workers - 1 {
		go func() {
			defer wg.Done()
			run()
		}()
	}
	run()
	wg.Wait()
}

// Grain returns a grain for n items of about cost units of work each
// (1 for an add, ~20 for an exp or log): about 16k units per chunk, enough
// to pay for handing the chunk to another goroutine, and at most n. It
// depends on n and cost only, so the chunks do not depend on GOMAXPROCS.
func Grain(n, cost int) int {
	const units = 1 << 14
	g := max(units/max(cost, 1), 1)
	return max(min(g, n), 1)
}

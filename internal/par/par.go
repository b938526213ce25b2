// Package par runs loops over index ranges on every core (GOMAXPROCS), in
// chunks whose boundaries depend only on the range and the grain, never on
// the number of threads: a reduction that combines per-chunk results in
// chunk order gives the same bits at every thread count.
//
// The chunks run on the caller's goroutine and on a pool of persistent
// worker goroutines (started on first use, up to GOMAXPROCS−1 of them),
// so a loop starts no goroutines. Workers that have no chunk to run may
// spin for a while before they sleep (SetSpin, $AEZOO_PAR_SPIN_US), so the
// next loop a few microseconds later finds them awake.
package par

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"
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

// job is one For call: its chunks go to whoever claims them first.
type job struct {
	fn     func(c, lo, hi int)
	n      int
	grain  int
	chunks int64
	next   atomic.Int64  // the next chunk to claim
	done   atomic.Int64  // chunks finished
	fin    chan struct{} // receives once when the last chunk is finished
}

// run claims and runs chunks until none is left.
func (j *job) run() {
	for {
		c := j.next.Add(1) - 1
		if c >= j.chunks {
			return
		}
		lo := int(c) * j.grain
		j.fn(int(c), lo, min(lo+j.grain, j.n))
		if j.done.Add(1) == j.chunks {
			j.fin <- struct{}{}
		}
	}
}

var (
	poolMu  sync.Mutex
	started int                     // workers started (under poolMu)
	running atomic.Int32            // started, for the check without the lock
	queue   = make(chan *job, 1024) // jobs offered to the workers
	spinNs  atomic.Int64            // how long an idle worker spins before it sleeps
	spinSet atomic.Bool             // SetSpin or the environment has set spinNs
	spinEnv sync.Once               // reads $AEZOO_PAR_SPIN_US once
)

// EnvSpin is the environment variable read (once, at the first loop that
// uses workers) for the spin time in microseconds, unless SetSpin was
// called.
const EnvSpin = "AEZOO_PAR_SPIN_US"

// SetSpin sets how long an idle worker keeps looking for chunks before it
// sleeps (0: it sleeps at once, the default). Spinning shortens the time a
// loop takes to reach all cores when loops follow each other closely, at
// the price of CPU time. It changes no result.
func SetSpin(d time.Duration) {
	spinSet.Store(true)
	spinNs.Store(int64(max(d, 0)))
}

// SpinFromEnv parses $AEZOO_PAR_SPIN_US (a non-negative integer of
// microseconds; empty: 0).
func SpinFromEnv() (time.Duration, error) {
	s := os.Getenv(EnvSpin)
	if s == "" {
		return 0, nil
	}
	us, err := strconv.Atoi(s)
	if err != nil || us < 0 {
		return 0, errors.Errorf("%s=%q: want a non-negative integer (microseconds)", EnvSpin, s)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// ensureWorkers starts workers until there are at least k.
func ensureWorkers(k int) {
	spinEnv.Do(func() {
		if !spinSet.Load() {
			if d, err := SpinFromEnv(); err == nil {
				spinNs.Store(int64(d))
			}
		}
	})
	if int(running.Load()) >= k {
		return
	}
	poolMu.Lock()
	defer poolMu.Unlock()
	for ; started < k; started++ {
		go worker(queue)
	}
	running.Store(int32(started))
}

// worker runs the chunks of the jobs it receives; between jobs it spins
// for up to spinNs before it sleeps on the queue.
func worker(q chan *job) {
	for {
		if s := spinNs.Load(); s > 0 {
			deadline := time.Now().Add(time.Duration(s))
			for {
				select {
				case j := <-q:
					j.run()
					deadline = time.Now().Add(time.Duration(spinNs.Load()))
					continue
				default:
				}
				if time.Now().After(deadline) {
					break
				}
				runtime.Gosched()
			}
		}
		(<-q).run()
	}
}

// For calls fn(c, lo, hi) for every chunk c of [0, n): chunk c covers
// [c·grain, min((c+1)·grain, n)). The chunks run on up to GOMAXPROCS
// goroutines (the caller's and pool workers) and For returns when all are
// done. fn must be safe to call concurrently on distinct chunks; it may
// call For itself. With one chunk or GOMAXPROCS=1, everything runs on the
// caller's goroutine.
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
	ensureWorkers(workers - 1)
	j := &job{fn: fn, n: n, grain: grain, chunks: int64(chunks), fin: make(chan struct{}, 1)}
	for range workers - 1 {
		select {
		case queue <- j:
		default: // the queue is full: the caller and the workers that have it do the rest
		}
	}
	j.run()
	if j.done.Load() == j.chunks {
		return
	}
	if s := spinNs.Load(); s > 0 {
		deadline := time.Now().Add(time.Duration(s))
		for j.done.Load() != j.chunks && time.Now().Before(deadline) {
			runtime.Gosched()
		}
		if j.done.Load() == j.chunks {
			return
		}
	}
	<-j.fin
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

package blas

import (
	"math"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"

	"github.com/aezoo/aezoo/internal/par"
	"github.com/pkg/errors"
)

// The split modes of OpenBLAS's matrix products (the values of
// $AEZOO_GEMM_SPLIT; see SplitOptions).
const (
	// SplitAuto splits when the thread count is at least
	// SplitOptions.MinThreads, and leaves OpenBLAS's own threading below.
	SplitAuto = "auto"
	// SplitOff never splits: OpenBLAS runs every product on its own
	// threads (the zoo's behaviour before the split existed).
	SplitOff = "off"
	// SplitOn always splits.
	SplitOn = "on"
)

// Environment variables SplitFromEnv reads.
const (
	EnvSplit           = "AEZOO_GEMM_SPLIT"             // auto (default), off or on
	EnvSplitMinThreads = "AEZOO_GEMM_SPLIT_MIN_THREADS" // SplitOptions.MinThreads
	EnvSplitMinMFLOP   = "AEZOO_GEMM_SPLIT_MIN_MFLOP"   // SplitOptions.MinBlockFLOPs in MFLOP
)

// Defaults of SplitOptions.
const (
	// DefaultSplitMinThreads is 4: at 1 and 2 threads the products stay
	// OpenBLAS's own, so results there are the same bits as without the
	// split (the seeded documents were made on a 2-core machine).
	DefaultSplitMinThreads = 4
	// DefaultSplitMinBlockFLOPs: a block of fewer floating-point
	// operations (some 10–20 µs on one core) does not pay for handing it
	// to another goroutine.
	DefaultSplitMinBlockFLOPs = 2e6
)

// SplitOptions choose how OpenBLAS's matrix products use the threads.
//
// OpenBLAS's own threading scales poorly on the zoo's small products
// (batch 128: e.g. 128×784 · 784×400), and its idle workers spin between
// products, taking the cores from the Go kernels. When a product is split,
// OpenBLAS runs on one thread, and the product's output C is cut into a
// grid of blocks (rows × columns, sizes multiples of the SIMD width) that
// goroutines compute concurrently, each with a single-threaded OpenBLAS
// call on its block: every block is C's rows and columns of op(A)·op(B)
// over the full inner size, so no sum is split.
type SplitOptions struct {
	// Mode is SplitAuto (also for ""), SplitOff or SplitOn.
	Mode string
	// MinThreads is the thread count (SetThreads) from which SplitAuto
	// splits; 0 means DefaultSplitMinThreads.
	MinThreads int
	// MinBlockFLOPs is the fewest floating-point operations (2·m·n·k) of a
	// block; a product with fewer than twice as many is not split. 0
	// means DefaultSplitMinBlockFLOPs.
	MinBlockFLOPs float64
}

func (o SplitOptions) withDefaults() SplitOptions {
	if o.Mode == "" {
		o.Mode = SplitAuto
	}
	if o.MinThreads <= 0 {
		o.MinThreads = DefaultSplitMinThreads
	}
	if o.MinBlockFLOPs <= 0 {
		o.MinBlockFLOPs = DefaultSplitMinBlockFLOPs
	}
	return o
}

var (
	splitOpts atomic.Pointer[SplitOptions] // nil: the defaults
	// gemmThreads is the thread count SetThreads last set (0: GOMAXPROCS
	// when OpenBLAS was loaded).
	gemmThreads atomic.Int32
	// splitting is whether OpenBLAS's products are split now (and
	// OpenBLAS runs on one thread).
	splitting atomic.Bool
	// splitBlocks is the most blocks a product is split into: the thread
	// count when the split was decided. It is fixed then, like OpenBLAS's
	// own thread count, so the blocks — and so the results — do not change
	// when GOMAXPROCS alone changes.
	splitBlocks atomic.Int32
)

// SetSplit sets how OpenBLAS's products use the threads (see
// SplitOptions) and applies it at the current thread count. Call it
// before running programs, not during.
func SetSplit(o SplitOptions) error {
	o = o.withDefaults()
	switch o.Mode {
	case SplitAuto, SplitOff, SplitOn:
	default:
		return errors.Errorf("blas: unknown GEMM split mode %q: want auto, off or on", o.Mode)
	}
	if math.IsNaN(o.MinBlockFLOPs) || math.IsInf(o.MinBlockFLOPs, 0) {
		return errors.Errorf("blas: invalid minimum block size %g FLOPs", o.MinBlockFLOPs)
	}
	splitOpts.Store(&o)
	applyThreads()
	return nil
}

// Split returns the split options in use (defaults filled in) and whether
// products are split at the current thread count.
func Split() (SplitOptions, bool) {
	return currentSplit(), splitting.Load()
}

func currentSplit() SplitOptions {
	if p := splitOpts.Load(); p != nil {
		return *p
	}
	return SplitOptions{}.withDefaults()
}

// SplitFromEnv reads the split options from $AEZOO_GEMM_SPLIT (auto, off,
// on), $AEZOO_GEMM_SPLIT_MIN_THREADS (a positive integer) and
// $AEZOO_GEMM_SPLIT_MIN_MFLOP (a positive number); unset variables give
// the defaults.
func SplitFromEnv() (SplitOptions, error) {
	o := SplitOptions{Mode: os.Getenv(EnvSplit)}
	switch o.Mode {
	case "", SplitAuto, SplitOff, SplitOn:
	default:
		return SplitOptions{}, errors.Errorf("%s=%q: want auto, off or on", EnvSplit, o.Mode)
	}
	if s := os.Getenv(EnvSplitMinThreads); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return SplitOptions{}, errors.Errorf("%s=%q: want a positive integer", EnvSplitMinThreads, s)
		}
		o.MinThreads = n
	}
	if s := os.Getenv(EnvSplitMinMFLOP); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || !(f > 0) || math.IsInf(f, 0) {
			return SplitOptions{}, errors.Errorf("%s=%q: want a positive number", EnvSplitMinMFLOP, s)
		}
		o.MinBlockFLOPs = f * 1e6
	}
	return o.withDefaults(), nil
}

// threadCount is the thread count of the products: SetThreads's, or
// GOMAXPROCS before any.
func threadCount() int {
	if n := gemmThreads.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// applyThreads decides whether to split at the current thread count and
// sets OpenBLAS's threads: 1 when splitting, else the thread count.
func applyThreads() {
	o := useOpenBLAS.Load()
	n := threadCount()
	s := currentSplit()
	split := o != nil && (s.Mode == SplitOn || (s.Mode == SplitAuto && n >= s.MinThreads))
	splitBlocks.Store(int32(n))
	splitting.Store(split)
	if o != nil && o.setThreads != nil {
		if split {
			o.setThreads(1)
		} else {
			o.setThreads(int32(n))
		}
	}
}

// grid chooses how to cut an m×n product with inner size k into at most p
// blocks: gm row blocks of bm rows and gn column blocks of bn columns
// (multiples of align, the last block of each taking the rest). It
// minimizes a block's estimated cost — its multiply-adds, the packing of
// its operands (OpenBLAS packs each block's rows of op(A) and columns of
// op(B), so thin blocks pack the same data many times) and the hand-off
// of each block — among grids whose blocks have at least minFLOPs. It
// depends only on its arguments.
func grid(m, n, k, p, align int, minFLOPs float64) (gm, gn, bm, bn int) {
	if p <= 1 || 2*float64(m)*float64(n)*float64(k) < 2*minFLOPs {
		return 1, 1, m, n
	}
	const (
		pack     = 16  // cost of packing one operand entry, in multiply-adds' FLOPs
		dispatch = 2e5 // cost of one more block, in FLOPs (a few µs)
	)
	best := math.Inf(1)
	gm, gn, bm, bn = 1, 1, m, n
	for i := 1; i <= p && i <= m; i++ {
		rm := roundUp((m+i-1)/i, align, m)
		ri := (m + rm - 1) / rm
		for j := 1; i*j <= p && j <= n; j++ {
			rn := roundUp((n+j-1)/j, align, n)
			rj := (n + rn - 1) / rn
			if ri*rj < 2 {
				continue
			}
			f := 2 * float64(rm) * float64(rn) * float64(k)
			if f < minFLOPs {
				continue
			}
			cost := f + pack*float64(rm+rn)*float64(k) + dispatch*float64(ri*rj)
			if cost < best {
				best, gm, gn, bm, bn = cost, ri, rj, rm, rn
			}
		}
	}
	if best == math.Inf(1) {
		return 1, 1, m, n
	}
	return gm, gn, bm, bn
}

// roundUp rounds v up to a multiple of align, at most max.
func roundUp(v, align, max int) int {
	v = (v + align - 1) / align * align
	return min(v, max)
}

// splitGemm runs one product as a grid of single-threaded OpenBLAS calls
// on concurrent goroutines (par.For's, one block per chunk); block (r, c) covers C's rows [r·bm, …) and
// columns [c·bn, …). call computes the block with the given rows, columns
// and element offsets of A, B and C.
func splitGemm(tA, tB bool, m, n, k, lda, ldb, ldc, align int, call func(bm, bn, offA, offB, offC int)) bool {
	gm, gn, bm, bn := grid(m, n, k, int(splitBlocks.Load()), align, currentSplit().MinBlockFLOPs)
	blocks := gm * gn
	if blocks < 2 {
		return false
	}
	run := func(b int) {
		r, c := b/gn, b%gn
		i0, j0 := r*bm, c*bn
		rows, cols := min(bm, m-i0), min(bn, n-j0)
		offA := i0 * lda // A is m×k: rows i0…
		if tA {
			offA = i0 // A is stored k×m: columns i0…
		}
		offB := j0 // B is k×n: columns j0…
		if tB {
			offB = j0 * ldb // B is stored n×k: rows j0…
		}
		call(rows, cols, offA, offB, i0*ldc+j0)
	}
	par.For(blocks, 1, func(b, _, _ int) { run(b) })
	return true
}

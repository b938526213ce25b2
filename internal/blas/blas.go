// Package blas is the zoo's matrix-product backend: a gonum BLAS whose two
// matrix products, Sgemm and Dgemm, run on a fast kernel — a system
// OpenBLAS loaded at run time without cgo when one is installed, else a
// SIMD kernel (github.com/viterin/vek: AVX2/FMA Go assembly, run on every
// core, with a pure-Go fallback on other CPUs). Building needs no cgo and
// no system library.
//
// Nothing happens at import: the zoo command and the tests that train
// install it explicitly with Install (or InstallFromEnv, which reads
// $AEZOO_BLAS).
package blas

import (
	"os"
	"sync"
	"sync/atomic"

	"github.com/aezoo/aezoo/internal/par"
	"github.com/pkg/errors"

	"github.com/viterin/vek"
	"github.com/viterin/vek/vek32"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
)

// BLAS is the BLAS implementation Install puts in Gorgonia (and in the
// tensor package): gonum's pure-Go BLAS with Sgemm and Dgemm replaced by
// the kernel chosen with Set.
type BLAS struct{ gonum.Implementation }

// The GEMM kernels Set accepts (the values of $AEZOO_BLAS).
const (
	Auto     = "auto"     // OpenBLAS when it can be loaded, else vek
	OpenBLAS = "openblas" // a system OpenBLAS (libopenblas.so.0), loaded with purego
	Vek      = "vek"      // github.com/viterin/vek on every core
)

// EnvKernel is the environment variable InstallFromEnv reads.
const EnvKernel = "AEZOO_BLAS"

var (
	useBLAS     sync.Once
	useOpenBLAS atomic.Pointer[openBLAS] // nil: vek
)

// Install installs BLAS in Gorgonia (gorgonia.Use, once) and chooses its
// kernel with Set. Call it before building or running programs; call
// gorgonia.Use yourself afterwards to choose another BLAS.
func Install(kernel string) error {
	useBLAS.Do(func() { G.Use(BLAS{}) })
	return Set(kernel)
}

// InstallFromEnv is Install with the kernel named by $AEZOO_BLAS (empty:
// Auto). On an error (an unknown name, or "openblas" with no library) the
// kernel is Auto and the error says why, for the caller to report.
//
// It also sets the split of OpenBLAS's products from $AEZOO_GEMM_SPLIT and
// its knobs (SplitFromEnv) and the spin of the parallel loops' idle
// workers from $AEZOO_PAR_SPIN_US (par.SpinFromEnv); on an error there
// those are the defaults and the error says why.
func InstallFromEnv() error {
	if err := Install(os.Getenv(EnvKernel)); err != nil {
		_ = Set(Auto)
		return errors.Wrap(err, EnvKernel)
	}
	spin, err := par.SpinFromEnv()
	if err != nil {
		par.SetSpin(0)
		return err
	}
	par.SetSpin(spin)
	o, err := SplitFromEnv()
	if err != nil {
		_ = SetSplit(SplitOptions{})
		return err
	}
	return SetSplit(o)
}

// Set chooses the kernel of BLAS's matrix products: Auto (also for ""),
// OpenBLAS (an error when no OpenBLAS can be loaded) or Vek. Call it
// before running programs, not during.
func Set(kernel string) error {
	switch kernel {
	case "", Auto, OpenBLAS:
		ob, err := loadOpenBLAS() // ob is nil when err is not
		if err != nil && kernel == OpenBLAS {
			return err
		}
		useOpenBLAS.Store(ob)
	case Vek:
		useOpenBLAS.Store(nil)
	default:
		return errors.Errorf("blas: unknown GEMM kernel %q: want auto, openblas or vek", kernel)
	}
	applyThreads()
	return nil
}

// Name names the matrix-product kernel Gorgonia uses: "openblas-CORE"
// (CORE: OpenBLAS's kernel set, e.g. openblas-SkylakeX), "vek-avx2",
// "vek-go", "gonum" (nothing installed) or "other". When OpenBLAS's
// products are split (see SplitOptions), the name ends in "+split".
func Name() string {
	switch G.WhichBLAS().(type) {
	case BLAS, *BLAS:
		if o := useOpenBLAS.Load(); o != nil {
			name := "openblas"
			if o.core != "" {
				name += "-" + o.core
			}
			if splitting.Load() {
				name += "+split"
			}
			return name
		}
		if vekAVX2() {
			return "vek-avx2"
		}
		return "vek-go"
	case gonum.Implementation:
		return "gonum"
	}
	return "other"
}

// SetThreads sets the number of threads of the matrix products: with
// OpenBLAS, its thread count, or, when its products are split (see
// SplitOptions), the number of blocks they run as (OpenBLAS itself then
// runs on one thread); vek uses GOMAXPROCS. Set GOMAXPROCS to the same
// number, so that the two do not compete.
func SetThreads(n int) {
	if n > 0 {
		gemmThreads.Store(int32(n))
		applyThreads()
	}
}

// Call is one matrix product: C (M×N) = op(A)·op(B) with inner size K.
type Call struct {
	TA, TB  bool
	M, N, K int
	F64     bool // Dgemm (else Sgemm)
}

// FLOPs is the product's floating-point operations, 2·M·N·K.
func (c Call) FLOPs() float64 { return 2 * float64(c.M) * float64(c.N) * float64(c.K) }

// Recorder collects the matrix products BLAS runs between Record and its
// stop function (for benchmarks: the products of one training step).
type Recorder struct {
	mu    sync.Mutex
	calls []Call
}

var recording atomic.Pointer[Recorder]

// Record starts recording every matrix product into a new Recorder; stop
// ends the recording and returns the products in call order.
func Record() (stop func() []Call) {
	r := new(Recorder)
	recording.Store(r)
	return func() []Call {
		recording.CompareAndSwap(r, nil)
		r.mu.Lock()
		defer r.mu.Unlock()
		return append([]Call(nil), r.calls...)
	}
}

func record(tA, tB blas.Transpose, m, n, k int, f64 bool) {
	if r := recording.Load(); r != nil {
		r.mu.Lock()
		r.calls = append(r.calls, Call{tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, f64})
		r.mu.Unlock()
	}
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C in float32.
func (BLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	record(tA, tB, m, n, k, false)
	if !gemmArgsOK(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if ob := useOpenBLAS.Load(); ob != nil {
		ta, tb := cblasTranspose(tA), cblasTranspose(tB)
		if splitting.Load() && splitGemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, lda, ldb, ldc, 16, func(bm, bn, offA, offB, offC int) {
			ob.sgemm(cblasRowMajor, ta, tb, int32(bm), int32(bn), int32(k), alpha, &a[offA], int32(lda), &b[offB], int32(ldb), beta, &c[offC], int32(ldc))
		}) {
			return
		}
		ob.sgemm(cblasRowMajor, ta, tb, int32(m), int32(n), int32(k),
			alpha, &a[0], int32(lda), &b[0], int32(ldb), beta, &c[0], int32(ldc))
		return
	}
	gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, &pool32, matmul32)
}

// Dgemm computes C = alpha·op(A)·op(B) + beta·C in float64.
func (BLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	record(tA, tB, m, n, k, true)
	if !gemmArgsOK(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		gonum.Implementation{}.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if ob := useOpenBLAS.Load(); ob != nil {
		ta, tb := cblasTranspose(tA), cblasTranspose(tB)
		if splitting.Load() && splitGemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, lda, ldb, ldc, 8, func(bm, bn, offA, offB, offC int) {
			ob.dgemm(cblasRowMajor, ta, tb, int32(bm), int32(bn), int32(k), alpha, &a[offA], int32(lda), &b[offB], int32(ldb), beta, &c[offC], int32(ldc))
		}) {
			return
		}
		ob.dgemm(cblasRowMajor, ta, tb, int32(m), int32(n), int32(k),
			alpha, &a[0], int32(lda), &b[0], int32(ldb), beta, &c[0], int32(ldc))
		return
	}
	gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, &pool64, matmul64)
}

func matmul32(dst, x, y []float32, k int) { vek32.MatMul_Into(dst, x, y, k) }
func matmul64(dst, x, y []float64, k int) { vek.MatMul_Into(dst, x, y, k) }

// gemmArgsOK reports whether the arguments are valid and non-degenerate;
// anything else goes to gonum, which panics with BLAS's own messages (as
// Gorgonia expects) or handles the empty cases.
func gemmArgsOK(tA, tB blas.Transpose, m, n, k, la, lda, lb, ldb, lc, ldc int) bool {
	if m <= 0 || n <= 0 || k <= 0 {
		return false
	}
	ok := func(t blas.Transpose) bool { return t == blas.NoTrans || t == blas.Trans || t == blas.ConjTrans }
	if !ok(tA) || !ok(tB) || ldc < n {
		return false
	}
	const maxInt32 = 1<<31 - 1 // CBLAS takes 32-bit sizes
	if m > maxInt32 || n > maxInt32 || k > maxInt32 || lda > maxInt32 || ldb > maxInt32 || ldc > maxInt32 {
		return false
	}
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	return lda >= ac && ldb >= bc && la >= (ar-1)*lda+ac && lb >= (br-1)*ldb+bc && lc >= (m-1)*ldc+n
}

// scratch holds the packed operands and the product of one gemm call.
type scratch[T float32 | float64] struct{ a, b, c []T }

var (
	pool32 = sync.Pool{New: func() any { return new(scratch[float32]) }}
	pool64 = sync.Pool{New: func() any { return new(scratch[float64]) }}
)

func resize[T float32 | float64](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// gemm packs op(A) (m×k) and op(B) (k×n) row-major and contiguous when
// they are not already, multiplies them with mm, and combines the product
// into C with alpha and beta. The scratch buffers come from a pool, so a
// steady stream of same-sized calls allocates nothing.
func gemm[T float32 | float64](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int,
	pool *sync.Pool, mm func(dst, x, y []T, k int)) {
	s := pool.Get().(*scratch[T])
	defer pool.Put(s)
	var pa, pb []T
	switch {
	case tA == blas.NoTrans && lda == k:
		pa = a[:m*k]
	case tA == blas.NoTrans:
		s.a = resize(s.a, m*k)
		for i := 0; i < m; i++ {
			copy(s.a[i*k:(i+1)*k], a[i*lda:i*lda+k])
		}
		pa = s.a
	default: // A is stored k×m
		s.a = resize(s.a, m*k)
		transpose(s.a, a, k, m, lda)
		pa = s.a
	}
	switch {
	case tB == blas.NoTrans && ldb == n:
		pb = b[:k*n]
	case tB == blas.NoTrans:
		s.b = resize(s.b, k*n)
		for i := 0; i < k; i++ {
			copy(s.b[i*n:(i+1)*n], b[i*ldb:i*ldb+n])
		}
		pb = s.b
	default: // B is stored n×k
		s.b = resize(s.b, k*n)
		transpose(s.b, b, n, k, ldb)
		pb = s.b
	}
	if alpha == 1 && beta == 0 && ldc == n {
		mm(c[:m*n], pa, pb, k)
		return
	}
	s.c = resize(s.c, m*n)
	if alpha != 0 {
		mm(s.c, pa, pb, k)
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		prod := s.c[i*n : (i+1)*n]
		switch {
		case alpha == 0 && beta == 0:
			clear(row)
		case alpha == 0:
			for j := range row {
				row[j] *= beta
			}
		case beta == 0:
			for j, p := range prod {
				row[j] = alpha * p
			}
		case beta == 1:
			for j, p := range prod {
				row[j] += alpha * p
			}
		default:
			for j, p := range prod {
				row[j] = alpha*p + beta*row[j]
			}
		}
	}
}

// transpose writes the transpose of the rows×cols matrix src (row stride
// ld) into dst (cols×rows, contiguous), in cache-sized tiles.
func transpose[T float32 | float64](dst, src []T, rows, cols, ld int) {
	const tile = 32
	for i0 := 0; i0 < rows; i0 += tile {
		i1 := min(i0+tile, rows)
		for j0 := 0; j0 < cols; j0 += tile {
			j1 := min(j0+tile, cols)
			for i := i0; i < i1; i++ {
				r := src[i*ld : i*ld+j1]
				for j := j0; j < j1; j++ {
					dst[j*rows+i] = r[j]
				}
			}
		}
	}
}

func vekAVX2() bool { return vek.Info().Acceleration }

// Replay runs the products calls once on zero operands of the right sizes,
// taken from bufs (grown as needed and returned for the next call), with
// the kernel in use: the time of the matrix products alone.
func Replay(calls []Call, bufs *ReplayBuffers) {
	for _, c := range calls {
		ta, tb := blas.NoTrans, blas.NoTrans
		lda, ldb := c.K, c.N
		if c.TA {
			ta, lda = blas.Trans, c.M
		}
		if c.TB {
			tb, ldb = blas.Trans, c.K
		}
		if c.F64 {
			a, b, d := bufs.f64(c.M*c.K, c.K*c.N, c.M*c.N)
			BLAS{}.Dgemm(ta, tb, c.M, c.N, c.K, 1, a, lda, b, ldb, 0, d, c.N)
		} else {
			a, b, d := bufs.f32(c.M*c.K, c.K*c.N, c.M*c.N)
			BLAS{}.Sgemm(ta, tb, c.M, c.N, c.K, 1, a, lda, b, ldb, 0, d, c.N)
		}
	}
}

// ReplayBuffers are the operands Replay reuses.
type ReplayBuffers struct {
	a32, b32, c32 []float32
	a64, b64, c64 []float64
}

func (r *ReplayBuffers) f32(na, nb, nc int) (a, b, c []float32) {
	r.a32, r.b32, r.c32 = resize(r.a32, na), resize(r.b32, nb), resize(r.c32, nc)
	return r.a32, r.b32, r.c32
}

func (r *ReplayBuffers) f64(na, nb, nc int) (a, b, c []float64) {
	r.a64, r.b64, r.c64 = resize(r.a64, na), resize(r.b64, nb), resize(r.c64, nc)
	return r.a64, r.b64, r.c64
}

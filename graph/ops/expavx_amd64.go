package ops

import (
	"math"

	"golang.org/x/sys/cpu"
)

// haveExpAVX reports whether the AVX2/FMA kernels of expavx_amd64.s can run.
// They evaluate math.Exp four float64 lanes at a time with the operations
// of the standard library's amd64 assembly (its FMA path, which math.Exp
// takes on every CPU with AVX and FMA), so they give math.Exp's bits.
var haveExpAVX = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// avxK holds the kernels' constants, each broadcast to four lanes (one
// 32-byte row per constant, in the order of the kx… indices). The exp
// constants are the decimal literals of math/exp_amd64.s; the log1pUnit
// ones are the Go expressions log1pUnit uses, so both round alike.
var avxK [kxCount][4]float64

const (
	kxSign  = iota // the sign bit
	kxLimit        // 700: |l| above it (or NaN) goes to the scalar code
	kxLog2E        // exp: log₂e
	kxLn2U         // exp: upper half of ln 2
	kxLn2L         // exp: lower half of ln 2
	kxSixt         // exp: 1/16
	kxE8           // exp: Taylor coefficients, highest first
	kxE7
	kxE6
	kxE5
	kxE4
	kxE3
	kxHalf
	kxOne
	kxTwo
	kxS2m1 // log1pUnit: √2 − 1
	kxLn2  // log1pUnit: ln 2
	kxC15  // log1pUnit: 1/15, 1/13, …, 1/3
	kxC13
	kxC11
	kxC9
	kxC7
	kxC5
	kxC3
	kxBias // exp: the exponent bias 1023 as four int32s (first 16 bytes)
	kxCount
)

func init() {
	set := func(i int, v float64) { avxK[i] = [4]float64{v, v, v, v} }
	set(kxSign, math.Float64frombits(1<<63))
	set(kxLimit, 700)
	set(kxLog2E, 1.4426950408889634073599246810018920)
	set(kxLn2U, 0.69314718055966295651160180568695068359375)
	set(kxLn2L, 0.28235290563031577122588448175013436025525412068e-12)
	set(kxSixt, 0.0625)
	set(kxE8, 2.4801587301587301587e-5)
	set(kxE7, 1.9841269841269841270e-4)
	set(kxE6, 1.3888888888888888889e-3)
	set(kxE5, 8.3333333333333333333e-3)
	set(kxE4, 4.1666666666666666667e-2)
	set(kxE3, 1.6666666666666666667e-1)
	set(kxHalf, 0.5)
	set(kxOne, 1)
	set(kxTwo, 2)
	set(kxS2m1, math.Sqrt2-1)
	set(kxLn2, math.Ln2)
	set(kxC15, 1.0/15)
	set(kxC13, 1.0/13)
	set(kxC11, 1.0/11)
	set(kxC9, 1.0/9)
	set(kxC7, 1.0/7)
	set(kxC5, 1.0/5)
	set(kxC3, 1.0/3)
	set(kxBias, math.Float64frombits(1023|1023<<32))
}

// bceSumAVX adds softplus32(l, e) − x·l to s, entry after entry in order,
// and stores e = e^(−|l|), for the first entries of l, four at a time; it
// stops before the first block of four holding a NaN or an |l| > 700 and
// returns the sum and the number of entries done (a multiple of 4). x and
// e must be at least as long as l.
//
//go:noescape
func bceSumAVX(l, x []float32, e []float64, s float64, k *[kxCount][4]float64) (sum float64, n int)

// bceGradAVX writes float32(c·(sigmoidE(l, e) − x)) into dst for the
// first len(l)/4·4 entries. dst, x and e must be at least as long as l.
//
//go:noescape
func bceGradAVX(dst, l, x []float32, e []float64, c float64, k *[kxCount][4]float64)

// sigmoidAVX writes float32(sigmoid(x)) into y for the first entries of
// x, four at a time; it stops before the first block of four holding a
// NaN or an |x| > 700 and returns the number of entries done. y must be at
// least as long as x.
//
//go:noescape
func sigmoidAVX(y, x []float32, k *[kxCount][4]float64) int

// actGradAVX runs activateGrad's float32 loop for kind (0 sigmoid, 1
// relu, 2 tanh) on the first len(y)/8·8 entries with AVX, with the same
// bits, and returns how many it did. dx and dy must be at least as long
// as y.
//
//go:noescape
func actGradAVX(kind int, dx, y, dy []float32) int

package data

import (
	"math/rand/v2"
	"strconv"
)

// Dataset is an image set with pixels scaled to [0,1].
type Dataset struct {
	X      []float32 // N×D row-major
	Labels []uint8   // len N
	N, D   int       // number of examples and pixels per example

	Rows, Cols int // image geometry, Rows*Cols*max(Channels, 1) == D
	// Channels is 3 for RGB images (pixels interleaved: R, G, B), and 1
	// or 0 for grey ones.
	Channels int
}

// ShapeString describes the image shape, such as "28×28" or "32×32×3".
func (d *Dataset) ShapeString() string {
	s := strconv.Itoa(d.Rows) + "×" + strconv.Itoa(d.Cols)
	if d.Channels > 1 {
		s += "×" + strconv.Itoa(d.Channels)
	}
	return s
}

// Mean returns the mean of every feature over the examples (nil for an
// empty set).
func (d *Dataset) Mean() []float64 {
	if d == nil || d.N == 0 {
		return nil
	}
	m := make([]float64, d.D)
	for i := 0; i < d.N; i++ {
		for j, v := range d.Row(i) {
			m[j] += float64(v)
		}
	}
	for j := range m {
		m[j] /= float64(d.N)
	}
	return m
}

// Row returns example i as a slice of length D that shares memory with X.
// It returns nil if i is outside [0, N).
func (d *Dataset) Row(i int) []float32 {
	if d == nil || i < 0 || i >= d.N || d.D < 0 || (i+1)*d.D > len(d.X) {
		return nil
	}
	return d.X[i*d.D : (i+1)*d.D : (i+1)*d.D]
}

// Gather copies the rows idx[0], idx[1], … into consecutive blocks of D
// elements of dst, which should have length len(idx)*D. Only the first
// len(dst)/D indices are copied if dst is shorter, and the block of an
// index outside [0, N) is filled with zeros.
func (d *Dataset) Gather(idx []int, dst []float32) {
	if d == nil || d.D <= 0 {
		return
	}
	for k, i := range idx {
		if (k+1)*d.D > len(dst) {
			return
		}
		out := dst[k*d.D : (k+1)*d.D]
		if row := d.Row(i); row != nil {
			copy(out, row)
		} else {
			clear(out)
		}
	}
}

// Limit returns the first n examples of d, sharing memory with d. If n <= 0
// or n >= N it returns all of them.
func (d *Dataset) Limit(n int) *Dataset {
	if d == nil {
		return nil
	}
	if n <= 0 || n > d.N {
		n = d.N
	}
	out := *d
	out.N = n
	if end := n * d.D; end >= 0 && end <= len(d.X) {
		out.X = d.X[:end:end]
	}
	if n >= 0 && n <= len(d.Labels) {
		out.Labels = d.Labels[:n:n]
	}
	return &out
}

// Binarized returns a copy of d whose pixels are 1 where the pixel of d is
// greater than threshold and 0 elsewhere. The labels are copied too.
func (d *Dataset) Binarized(threshold float32) *Dataset {
	if d == nil {
		return nil
	}
	out := *d
	out.X = make([]float32, len(d.X))
	for i, v := range d.X {
		if v > threshold {
			out.X[i] = 1
		}
	}
	out.Labels = append([]uint8(nil), d.Labels...)
	return &out
}

// SampleBinary draws a stochastic binarization of src into dst: dst[i] is 1
// with probability src[i] and 0 otherwise (values below 0 count as 0 and
// values above 1 as 1). dst may be src. Only the first min(len(src),
// len(dst)) elements are written. A nil rng uses the global source of
// math/rand/v2.
func SampleBinary(rng *rand.Rand, src, dst []float32) {
	n := min(len(src), len(dst))
	for i := range n {
		if uniform(rng) < src[i] {
			dst[i] = 1
		} else {
			dst[i] = 0
		}
	}
}

// uniform returns a uniform sample in [0,1) from rng, or from the global
// source if rng is nil.
func uniform(rng *rand.Rand) float32 {
	if rng == nil {
		return rand.Float32()
	}
	return rng.Float32()
}

// normal returns a standard normal sample from rng, or from the global
// source if rng is nil.
func normal(rng *rand.Rand) float64 {
	if rng == nil {
		return rand.NormFloat64()
	}
	return rng.NormFloat64()
}

// GuessShape returns an image shape for d values when none is recorded:
// a square grey image if d is a square, else a square RGB image if d/3 is
// one. ok is false if neither holds.
func GuessShape(d int) (rows, cols, channels int, ok bool) {
	for _, ch := range []int{1, 3} {
		if d <= 0 || d%ch != 0 {
			continue
		}
		s := isqrt(d / ch)
		if s*s == d/ch {
			return s, s, ch, true
		}
	}
	return 0, 0, 0, false
}

// isqrt returns ⌊√n⌋ for n ≥ 0.
func isqrt(n int) int {
	s := 0
	for (s+1)*(s+1) <= n {
		s++
	}
	return s
}

package data

import (
	"math"
	"runtime"
	"slices"
	"testing"
)

// TestSeededSameAtAnyThreadCount: the row-seeded binarization and
// corruptions give the same bits at 1, 2 and 4 threads and when applied to
// a set in two parts (first ≠ 0), differ between seeds, and have
// the right statistics (mean of a Bernoulli(p) draw p; masking keeps 1−Level
// of the pixels; Gaussian noise of standard deviation Level).
func TestSeededSameAtAnyThreadCount(t *testing.T) {
	const d = 784
	const n = 20*d + 123 // ragged last row
	src := make([]float32, n)
	for i := range src {
		src[i] = float32(i%97) / 96
	}
	cases := []struct {
		name string
		fn   func(seed uint64, dst []float32)
		stat func(dst []float32) (got, want float64)
	}{
		{"binary", func(seed uint64, dst []float32) { SampleBinaryRows(seed, 0, d, src, dst) },
			func(dst []float32) (float64, float64) { return mean(dst), mean(src) }},
		{"masking", func(seed uint64, dst []float32) { Corruption{CorruptMasking, 0.3}.ApplyRows(seed, 0, d, src, dst) },
			func(dst []float32) (float64, float64) { return mean(dst), 0.7 * mean(src) }},
		{"gaussian", func(seed uint64, dst []float32) { Corruption{CorruptGaussian, 0.5}.ApplyRows(seed, 0, d, src, dst) },
			func(dst []float32) (float64, float64) {
				var s float64
				for i := range dst {
					d := float64(dst[i] - src[i])
					s += d * d
				}
				return math.Sqrt(s / n), 0.5
			}},
	}
	for _, c := range cases {
		var first []float32
		for _, procs := range []int{1, 2, 4} {
			old := runtime.GOMAXPROCS(procs)
			dst := make([]float32, n)
			c.fn(42, dst)
			runtime.GOMAXPROCS(old)
			if first == nil {
				first = dst
				if got, want := c.stat(dst); math.Abs(got-want) > 0.02 {
					t.Errorf("%s: statistic %.4f, want %.4f", c.name, got, want)
				}
				continue
			}
			if !slices.Equal(dst, first) {
				t.Errorf("%s: %d threads differ from 1 thread", c.name, procs)
			}
		}
		// In two parts, the second starting at row 7: the same values.
		parts := make([]float32, n)
		switch c.name {
		case "binary":
			SampleBinaryRows(42, 0, d, src[:7*d], parts[:7*d])
			SampleBinaryRows(42, 7, d, src[7*d:], parts[7*d:])
		default:
			q := Corruption{CorruptMasking, 0.3}
			if c.name == "gaussian" {
				q = Corruption{CorruptGaussian, 0.5}
			}
			q.ApplyRows(42, 0, d, src[:7*d], parts[:7*d])
			q.ApplyRows(42, 7, d, src[7*d:], parts[7*d:])
		}
		if !slices.Equal(parts, first) {
			t.Errorf("%s: applied in two parts, the values differ", c.name)
		}
		other := make([]float32, n)
		c.fn(43, other)
		if slices.Equal(other, first) {
			t.Errorf("%s: seeds 42 and 43 give the same values", c.name)
		}
		if c.name == "gaussian" { // distinct blocks draw distinct streams
			same := 0
			for i := range d {
				if first[i]-src[i] == first[d+i]-src[d+i] {
					same++
				}
			}
			if same > d/100 {
				t.Errorf("gaussian: blocks 0 and 1 share %d of %d noise values", same, d)
			}
		}
	}
}

func mean(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	return s / float64(len(v))
}

package data

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestCorruptionValidate(t *testing.T) {
	for _, test := range []struct {
		c       Corruption
		wantErr string // empty for valid
	}{
		{Corruption{}, ""},
		{Corruption{"none", 0}, ""},
		{Corruption{"none", 3}, ""},
		{Corruption{"gaussian", 0}, ""},
		{Corruption{"gaussian", 0.3}, ""},
		{Corruption{"gaussian", 2}, ""},
		{Corruption{"masking", 0}, ""},
		{Corruption{"masking", 0.999}, ""},
		{Corruption{"saltpepper", 0.5}, ""},
		{Corruption{"masking", 1}, "[0,1)"},
		{Corruption{"saltpepper", 1.5}, "[0,1)"},
		{Corruption{"gaussian", -0.1}, "negative"},
		{Corruption{"masking", -0.1}, "negative"},
		{Corruption{"none", -1}, "negative"},
		{Corruption{"gaussian", math.NaN()}, "finite"},
		{Corruption{"gaussian", math.Inf(1)}, "finite"},
		{Corruption{"dropout", 0.1}, "unknown corruption kind"},
		{Corruption{"Gaussian", 0.1}, "unknown corruption kind"},
	} {
		err := test.c.Validate()
		if test.wantErr == "" {
			if err != nil {
				t.Errorf("%+v: %v", test.c, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), test.wantErr) {
			t.Errorf("%+v: error %v, want one mentioning %q", test.c, err, test.wantErr)
		}
	}
}

// stats summarizes a corrupted vector whose source was all x0.
type stats struct {
	zeros, ones, same float64 // fractions equal to 0, 1 and x0
	mean, std         float64 // of dst - x0
}

func summarize(dst []float32, x0 float32) stats {
	var s stats
	var sum, sum2 float64
	for _, v := range dst {
		if v == 0 {
			s.zeros++
		}
		if v == 1 {
			s.ones++
		}
		if v == x0 {
			s.same++
		}
		d := float64(v - x0)
		sum += d
		sum2 += d * d
	}
	n := float64(len(dst))
	s.zeros, s.ones, s.same = s.zeros/n, s.ones/n, s.same/n
	s.mean = sum / n
	s.std = math.Sqrt(sum2/n - s.mean*s.mean)
	return s
}

func TestCorruptionApply(t *testing.T) {
	const n = 50000
	const tol = 0.015 // at least 5 standard deviations of every fraction here
	for _, test := range []struct {
		c    Corruption
		x0   float32
		want stats
	}{
		{Corruption{"none", 0.5}, 0.3, stats{same: 1}},
		{Corruption{}, 0, stats{zeros: 1, same: 1}},
		{Corruption{"masking", 0}, 0.3, stats{same: 1}},
		{Corruption{"masking", 0.25}, 0.3, stats{zeros: 0.25, same: 0.75, mean: -0.3 * 0.25, std: 0.3 * math.Sqrt(0.25*0.75)}},
		{Corruption{"masking", 0.7}, 1, stats{zeros: 0.7, ones: 0.3, same: 0.3, mean: -0.7, std: math.Sqrt(0.7 * 0.3)}},
		{Corruption{"saltpepper", 0.4}, 0.3, stats{zeros: 0.2, ones: 0.2, same: 0.6, mean: 0.2*(-0.3) + 0.2*0.7, std: math.Sqrt(0.2*0.09 + 0.2*0.49 - 0.08*0.08)}},
		{Corruption{"saltpepper", 0.1}, 0.5, stats{zeros: 0.05, ones: 0.05, same: 0.9, std: math.Sqrt(0.1 * 0.25)}},
		{Corruption{"gaussian", 0.2}, 0.5, stats{mean: 0, std: 0.2}},
		{Corruption{"gaussian", 1}, 0.5, stats{mean: 0, std: 1}},
		{Corruption{"gaussian", 0}, 0.5, stats{same: 1}},
		// Invalid corruptions copy.
		{Corruption{"masking", 1}, 0.3, stats{same: 1}},
		{Corruption{"bogus", 0.5}, 0.3, stats{same: 1}},
	} {
		for _, inPlace := range []bool{false, true} {
			rng := rand.New(rand.NewPCG(3, 4))
			src := make([]float32, n)
			for i := range src {
				src[i] = test.x0
			}
			dst := make([]float32, n)
			if inPlace {
				dst = src
			}
			test.c.Apply(rng, src, dst)
			got := summarize(dst, test.x0)
			name := test.c.Kind
			if inPlace {
				name += "/in-place"
			}
			check := func(what string, got, want, tol float64) {
				if math.Abs(got-want) > tol {
					t.Errorf("%s level %v on %v: %s = %.4f, want %.4f", name, test.c.Level, test.x0, what, got, want)
				}
			}
			check("fraction of zeros", got.zeros, test.want.zeros, tol)
			check("fraction of ones", got.ones, test.want.ones, tol)
			check("fraction unchanged", got.same, test.want.same, tol)
			check("mean change", got.mean, test.want.mean, tol)
			check("std of change", got.std, test.want.std, 0.05*test.want.std+1e-6)
		}
	}
}

// TestCorruptionGaussianNoClip checks that Gaussian noise is not clipped and
// that pixels get independent draws.
func TestCorruptionGaussianNoClip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	src := make([]float32, 10000)
	for i := range src {
		src[i] = float32(i%2) * 0.9 // alternate 0 and 0.9
	}
	dst := make([]float32, len(src))
	Corruption{"gaussian", 0.5}.Apply(rng, src, dst)
	below, above := 0, 0
	var diffs [2]float64
	for i, v := range dst {
		if v < 0 {
			below++
		}
		if v > 1 {
			above++
		}
		diffs[i%2] += float64(v - src[i])
	}
	if below < 1000 || above < 1000 {
		t.Errorf("%d values below 0 and %d above 1: noise looks clipped", below, above)
	}
	for k, d := range diffs {
		if m := d / 5000; math.Abs(m) > 0.04 {
			t.Errorf("mean noise on pixels of parity %d is %.3f, want 0", k, m)
		}
	}
}

func TestCorruptionApplyLengths(t *testing.T) {
	dst := []float32{9, 9, 9}
	Corruption{"none", 0}.Apply(nil, []float32{1, 2}, dst)
	if dst[0] != 1 || dst[1] != 2 || dst[2] != 9 {
		t.Errorf("got %v, want [1 2 9]", dst)
	}
	dst = []float32{9}
	Corruption{"masking", 0.5}.Apply(nil, []float32{1, 2, 3}, dst)
	if dst[0] != 0 && dst[0] != 1 {
		t.Errorf("got %v", dst)
	}
}

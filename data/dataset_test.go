package data

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// smallDataset has N=3 examples of 2 pixels: row i is {i, i+0.5}/10.
func smallDataset() *Dataset {
	return &Dataset{
		X:      []float32{0, 0.05, 0.1, 0.15, 0.2, 0.25},
		Labels: []uint8{7, 8, 9},
		N:      3, D: 2, Rows: 1, Cols: 2,
	}
}

func TestMean(t *testing.T) {
	got := smallDataset().Mean()
	want := []float64{0.1, 0.15}
	for j := range want {
		if math.Abs(got[j]-want[j]) > 1e-7 {
			t.Fatalf("Mean() = %v, want %v", got, want)
		}
	}
	if m := (&Dataset{D: 2}).Mean(); m != nil {
		t.Errorf("empty set: Mean() = %v, want nil", m)
	}
}

func TestRow(t *testing.T) {
	d := smallDataset()
	for _, test := range []struct {
		i    int
		want []float32
	}{
		{0, []float32{0, 0.05}},
		{2, []float32{0.2, 0.25}},
		{-1, nil},
		{3, nil},
	} {
		got := d.Row(test.i)
		if !reflect.DeepEqual(got, test.want) {
			t.Errorf("Row(%d) = %v, want %v", test.i, got, test.want)
		}
	}
	// Row shares memory, but appending must not clobber the next row.
	r := d.Row(0)
	r[0] = 42
	if d.X[0] != 42 {
		t.Error("Row does not share memory with X")
	}
	_ = append(r, -1)
	if d.X[2] != 0.1 {
		t.Error("appending to a row overwrote the next row")
	}
	var nilSet *Dataset
	if nilSet.Row(0) != nil {
		t.Error("nil Dataset: Row not nil")
	}
}

func TestGather(t *testing.T) {
	for _, test := range []struct {
		name string
		idx  []int
		dst  int // len(dst)
		want []float32
	}{
		{"all", []int{0, 1, 2}, 6, []float32{0, 0.05, 0.1, 0.15, 0.2, 0.25}},
		{"reversed-repeat", []int{2, 0, 2}, 6, []float32{0.2, 0.25, 0, 0.05, 0.2, 0.25}},
		{"empty", nil, 0, []float32{}},
		{"short-dst", []int{1, 2}, 3, []float32{0.1, 0.15, -1}},
		{"out-of-range", []int{5, -1, 1}, 6, []float32{0, 0, 0, 0, 0.1, 0.15}},
	} {
		dst := make([]float32, test.dst)
		for i := range dst {
			dst[i] = -1
		}
		smallDataset().Gather(test.idx, dst)
		if !reflect.DeepEqual(dst, test.want) {
			t.Errorf("%s: got %v, want %v", test.name, dst, test.want)
		}
	}
}

func TestLimit(t *testing.T) {
	for _, test := range []struct {
		n, wantN int
	}{
		{-1, 3}, {0, 3}, {1, 1}, {2, 2}, {3, 3}, {10, 3},
	} {
		d := smallDataset()
		l := d.Limit(test.n)
		if l.N != test.wantN || len(l.X) != test.wantN*2 || len(l.Labels) != test.wantN || l.D != 2 || l.Rows != 1 || l.Cols != 2 {
			t.Errorf("Limit(%d): N=%d len(X)=%d len(Labels)=%d, want N=%d", test.n, l.N, len(l.X), len(l.Labels), test.wantN)
		}
		if !reflect.DeepEqual(l.X, d.X[:2*test.wantN]) || !reflect.DeepEqual(l.Labels, d.Labels[:test.wantN]) {
			t.Errorf("Limit(%d): content differs", test.n)
		}
		if d.N != 3 {
			t.Errorf("Limit(%d) changed the original N to %d", test.n, d.N)
		}
	}
}

func TestBinarized(t *testing.T) {
	d := &Dataset{
		X:      []float32{0, 0.3, 0.5, 0.50001, 0.9, 1},
		Labels: []uint8{1, 2},
		N:      2, D: 3, Rows: 3, Cols: 1,
	}
	for _, test := range []struct {
		threshold float32
		want      []float32
	}{
		{0.5, []float32{0, 0, 0, 1, 1, 1}},
		{0, []float32{0, 1, 1, 1, 1, 1}},
		{-1, []float32{1, 1, 1, 1, 1, 1}},
		{1, []float32{0, 0, 0, 0, 0, 0}},
		{0.25, []float32{0, 1, 1, 1, 1, 1}},
	} {
		b := d.Binarized(test.threshold)
		if !reflect.DeepEqual(b.X, test.want) {
			t.Errorf("threshold %v: got %v, want %v", test.threshold, b.X, test.want)
		}
		if b.N != 2 || b.D != 3 || b.Rows != 3 || b.Cols != 1 || !reflect.DeepEqual(b.Labels, d.Labels) {
			t.Errorf("threshold %v: shape or labels changed: %+v", test.threshold, b)
		}
		b.X[0], b.Labels[0] = 7, 7
		if d.X[0] != 0 || d.Labels[0] != 1 {
			t.Fatalf("threshold %v: the copy shares memory with the original", test.threshold)
		}
	}
}

func TestSampleBinary(t *testing.T) {
	const n = 20000
	rng := rand.New(rand.NewPCG(1, 2))
	for _, test := range []struct {
		p    float32
		want float64
	}{
		{0, 0}, {0.1, 0.1}, {0.5, 0.5}, {0.9, 0.9}, {1, 1}, {-0.5, 0}, {1.5, 1},
	} {
		src := make([]float32, n)
		for i := range src {
			src[i] = test.p
		}
		for _, inPlace := range []bool{false, true} {
			dst := make([]float32, n)
			if inPlace {
				dst = src
			}
			SampleBinary(rng, src, dst)
			ones := 0
			for _, v := range dst {
				switch v {
				case 1:
					ones++
				case 0:
				default:
					t.Fatalf("p=%v: value %v is not binary", test.p, v)
				}
			}
			// The standard deviation of the frequency is at most 0.0036.
			if got := float64(ones) / n; math.Abs(got-test.want) > 0.015 {
				t.Errorf("p=%v in place %v: frequency of ones %v, want %v", test.p, inPlace, got, test.want)
			}
		}
	}
	// Different pixels get independent draws: a mixed row keeps its means.
	src := []float32{0.2, 0.8}
	var sum [2]float64
	dst := make([]float32, 2)
	for range n {
		SampleBinary(rng, src, dst)
		sum[0] += float64(dst[0])
		sum[1] += float64(dst[1])
	}
	if math.Abs(sum[0]/n-0.2) > 0.015 || math.Abs(sum[1]/n-0.8) > 0.015 {
		t.Errorf("means %v, want 0.2 and 0.8", [2]float64{sum[0] / n, sum[1] / n})
	}
	// Lengths differ: only the common prefix is written; nil rng works.
	short := []float32{5, 5}
	SampleBinary(nil, []float32{1}, short)
	if short[0] != 1 || short[1] != 5 {
		t.Errorf("short: %v", short)
	}
}

// TestDatasetInconsistent checks that methods on a Dataset whose fields
// disagree return without panicking.
func TestDatasetInconsistent(t *testing.T) {
	for _, d := range []*Dataset{
		nil,
		{N: 3, D: 2, X: []float32{1}},
		{N: 3, D: -2, X: []float32{1, 2}, Labels: []uint8{1}},
		{N: -1, D: 2},
	} {
		_ = d.Row(1)
		d.Gather([]int{0, 1, 2}, make([]float32, 6))
		_ = d.Limit(2)
		_ = d.Limit(0)
		_ = d.Binarized(0.5)
	}
}

func TestGuessShape(t *testing.T) {
	for _, tc := range []struct {
		d, rows, cols, ch int
		ok                bool
	}{{784, 28, 28, 1, true}, {3072, 32, 32, 3, true}, {1, 1, 1, 1, true}, {30, 0, 0, 0, false}, {0, 0, 0, 0, false}, {12, 2, 2, 3, true}} {
		r, c, ch, ok := GuessShape(tc.d)
		if r != tc.rows || c != tc.cols || ch != tc.ch || ok != tc.ok {
			t.Errorf("GuessShape(%d) = %d, %d, %d, %v", tc.d, r, c, ch, ok)
		}
	}
}

package ops

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestTopKForward(t *testing.T) {
	for _, tc := range []struct {
		name string
		row  []float64
		k    int
		want []float64
	}{
		{"distinct", []float64{0.1, 3, -2, 5, 1}, 2, []float64{0, 3, 0, 5, 0}},
		{"all", []float64{1, 2, 3}, 3, []float64{1, 2, 3}},
		{"one", []float64{-1, -3, -2}, 1, []float64{-1, 0, 0}},
		{"ties keep lower index", []float64{2, 7, 2, 2, 1}, 3, []float64{2, 7, 2, 0, 0}},
		{"negative kept if largest", []float64{-5, -1, -4, -2}, 2, []float64{0, -1, 0, -2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := G.NewGraph()
			x := matrix(g, 1, len(tc.row), append([]float64(nil), tc.row...), "x")
			k := tc.k
			y, err := TopK(x, &k)
			if err != nil {
				t.Fatal(err)
			}
			var v G.Value
			G.Read(y, &v)
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			got := v.Data().([]float64)
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("TopK(%v, %d) = %v, want %v", tc.row, tc.k, got, tc.want)
				}
			}
		})
	}
}

// TestTopKKeepsExactlyK checks every row of a random matrix, in both dtypes.
func TestTopKKeepsExactlyK(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rows, cols, k := 50, 40, 7
	s := make([]float64, rows*cols)
	for i := range s {
		s[i] = rng.NormFloat64()
	}
	mask := TopKMask(s, rows, cols, k)
	for r := 0; r < rows; r++ {
		kept, minKept, maxDropped := 0, math.Inf(1), math.Inf(-1)
		for j := 0; j < cols; j++ {
			v := s[r*cols+j]
			if mask[r*cols+j] == 1 {
				kept++
				minKept = math.Min(minKept, v)
			} else {
				maxDropped = math.Max(maxDropped, v)
			}
		}
		if kept != k || minKept < maxDropped {
			t.Fatalf("row %d: kept %d (want %d), smallest kept %g < largest dropped %g", r, kept, k, minKept, maxDropped)
		}
	}
	// float32 path agrees.
	s32 := make([]float32, len(s))
	for i, v := range s {
		s32[i] = float32(v)
	}
	out, err := maskTopK(new(outBuf), tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(s32)), tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(s32)), k)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out.Data().([]float32) {
		if (v != 0) != (mask[i] == 1) {
			t.Fatalf("float32 mask differs at %d", i)
		}
	}
}

// TestTopKGradient: the gradient is the upstream gradient on the kept
// entries and exactly zero elsewhere; it also passes a finite-difference check.
func TestTopKGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	rows, cols, k := 4, 9, 3
	xv := make([]float64, rows*cols)
	for i := range xv {
		xv[i] = rng.NormFloat64()
	}
	wv := make([]float64, rows*cols)
	for i := range wv {
		wv[i] = rng.NormFloat64()
	}
	g := G.NewGraph()
	x := matrix(g, rows, cols, xv, "x")
	w := matrix(g, rows, cols, wv, "w")
	kk := k
	y := G.Must(TopK(x, &kk))
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, w)))) // ∂loss/∂y = w
	if _, err := G.Grad(loss, x); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(x))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	gv, _ := x.Grad()
	grad := gv.Data().([]float64)
	mask := TopKMask(xv, rows, cols, k)
	for i := range grad {
		want := wv[i] * mask[i]
		if grad[i] != want {
			t.Fatalf("grad[%d] = %g, want %g (mask %g)", i, grad[i], want, mask[i])
		}
	}
}

func TestTopKRejectsBadK(t *testing.T) {
	g := G.NewGraph()
	x := matrix(g, 2, 3, make([]float64, 6), "x")
	for _, k := range []int{0, -1, 4} {
		kk := k
		if _, err := TopK(x, &kk); err == nil {
			t.Errorf("TopK accepted k=%d for 3 columns", k)
		}
	}
}

// topKReference is the rule written out: sort each row's positions by
// value, larger first, lower index first among equal values; keep k.
func topKReference(s []float64, rows, cols, k int) []float64 {
	mask := make([]float64, len(s))
	for r := 0; r < rows; r++ {
		row := s[r*cols : (r+1)*cols]
		idx := make([]int, cols)
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
		for _, j := range idx[:k] {
			mask[r*cols+j] = 1
		}
	}
	return mask
}

// TestTopKMatchesReference compares the selection with the sorting rule on
// random rows full of ties (values from a handful of levels), for every k.
func TestTopKMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, cols := range []int{1, 2, 3, 7, 64, 1000} {
		rows := 6
		s := make([]float64, rows*cols)
		for i := range s {
			s[i] = float64(rng.IntN(5)) - 2
			if rng.IntN(4) == 0 {
				s[i] = rng.NormFloat64()
			}
		}
		for k := 1; k <= cols; k += max(1, cols/13) {
			got, want := TopKMask(s, rows, cols, k), topKReference(s, rows, cols, k)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("cols %d, k %d: mask differs at row %d col %d", cols, k, i/cols, i%cols)
				}
			}
		}
	}
}

// BenchmarkTopK is one forward TopK of a training batch: 128 rows of 1000
// units, k = 25 (the sparse experiment's top-K at the end of its annealing).
func BenchmarkTopK(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	s := make([]float32, 128*1000)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	x := tensor.New(tensor.WithShape(128, 1000), tensor.WithBacking(s))
	st := new(outBuf)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := maskTopK(st, x, x, 25); err != nil {
			b.Fatal(err)
		}
	}
}

package ops

import (
	"math"
	"testing"
)

// TestLogMeanExpStable: log weights near −1000 (whose exponentials
// underflow, in float32 and float64 alike) give log (1/k) Σ exp exactly,
// and the gradient weights of each group sum to dy.
func TestLogMeanExpStable(t *testing.T) {
	const k = 3
	v := []float32{-1000, -1001, -1002, 5, 5, 5}
	y := make([]float32, 2)
	logMeanExp(y, v, k)
	want0 := -1000 + math.Log((1+math.Exp(-1)+math.Exp(-2))/3)
	if math.Abs(float64(y[0])-want0) > 1e-3 || math.Abs(float64(y[1])-5) > 1e-6 {
		t.Errorf("LogMeanExp = %v, want [%v 5]", y, want0)
	}
	g := make([]float32, 6)
	logMeanExpGrad(g, v, y, []float32{2, -1}, k)
	var s0, s1 float64
	for j := 0; j < k; j++ {
		s0 += float64(g[j])
		s1 += float64(g[k+j])
	}
	// y is float32: at −1000 its unit in the last place is 6.1e-5.
	if math.Abs(s0-2) > 2*2*6.1e-5 || math.Abs(s1+1) > 1e-6 || math.Abs(float64(g[3])+1.0/3) > 1e-6 {
		t.Errorf("gradient %v: group sums %v, %v, want 2, −1", g, s0, s1)
	}
}

// TestRepeatAndFold: RepeatRows copies each row k times and its gradient
// sums the copies; Unfold regroups B×(k·c) into (B·k)×c.
func TestRepeatAndFold(t *testing.T) {
	a := []float64{1, 2, 3, 4} // 2×2
	r := make([]float64, 12)
	repeatRows(r, a, 2, 2, 3)
	want := []float64{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}
	for i := range want {
		if r[i] != want[i] {
			t.Fatalf("repeatRows = %v, want %v", r, want)
		}
	}
	s := make([]float64, 4)
	sumRowGroups(s, r, 2, 2, 3)
	for i, v := range []float64{3, 6, 9, 12} {
		if s[i] != v {
			t.Fatalf("sumRowGroups = %v", s)
		}
	}
	f := make([]float64, 2)
	firstOfGroups(f, []float64{7, 8, 9, 10}, 2, 1, 2)
	if f[0] != 7 || f[1] != 9 {
		t.Errorf("firstOfGroups = %v", f)
	}
}

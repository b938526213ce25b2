package viz

import (
	"math"
	"testing"
)

func TestErrorBars(t *testing.T) {
	img, err := ErrorBars(Axes{Title: "t", XLabel: "λ", YLabel: "BCE", LogX: true, Width: 320, Height: 240},
		[]ErrSeries{{Name: "hidden=64", X: []float64{0.01, 0.1, 1}, Y: []float64{100, 98, 97}, Err: []float64{1, 0.5, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 240 {
		t.Errorf("size %v", b)
	}
	for _, bad := range [][]ErrSeries{
		nil,
		{{X: []float64{1, 2}, Y: []float64{1, 2}, Err: []float64{1}}},
		{{X: []float64{1}, Y: []float64{1}, Err: []float64{-1}}},
		{{X: []float64{1}, Y: []float64{1}, Err: []float64{math.NaN()}}},
		{{X: []float64{1}, Y: []float64{math.Inf(1)}, Err: []float64{0}}},
	} {
		if _, err := ErrorBars(Axes{}, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

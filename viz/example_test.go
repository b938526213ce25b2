package viz_test

import (
	"fmt"

	"github.com/aezoo/aezoo/viz"
)

// Contraction-ratio curves of two models on log-log axes, as PNG bytes.
func ExampleLines() {
	r := []float64{0.01, 0.1, 1, 10}
	img, err := viz.Lines(viz.Axes{Title: "contraction ratio", XLabel: "r", YLabel: "CR(r)", LogX: true, LogY: true}, []viz.Series{
		{Name: "plain", X: r, Y: []float64{0.42, 0.41, 0.33, 0.08}},
		{Name: "contractive", X: r, Y: []float64{0.12, 0.12, 0.11, 0.05}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := viz.PNG(img)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.Bounds().Size(), len(b) > 1000)
	// Output: (640,480) true
}

// Filters of a dense layer with 4 inputs (a 2×2 image) and 3 hidden units,
// drawn in a grid.
func ExampleFilters() {
	w := []float64{
		1, 0, -1,
		0, 1, -1,
		0, 0, 1,
		1, 0, 1,
	}
	f, err := viz.Filters(w, 4, 3, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f[2])
	img := viz.Grid(f, 2, 2, 3, 4)
	fmt.Println(img.Bounds().Size())
	// Output:
	// [0 0 1 1]
	// (28,10)
}

package viz

import (
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func TestSegmentMeets(t *testing.T) {
	r := vg.Rectangle{Min: vg.Point{X: 10, Y: 10}, Max: vg.Point{X: 20, Y: 20}}
	cases := []struct {
		name           string
		x0, y0, x1, y1 vg.Length
		want           bool
	}{
		{"inside", 12, 12, 18, 18, true},
		{"crosses", 0, 15, 30, 15, true},
		{"diagonal through", 0, 0, 30, 30, true},
		{"ends on the edge", 0, 10, 10, 10, true},
		{"left of it", 0, 0, 9, 30, false},
		{"above it", 0, 21, 30, 21, false},
		{"misses the corner", 0, 45, 45, 0, false},
		{"clips the corner", 0, 38, 38, 0, true},
		{"a point inside", 15, 15, 15, 15, true},
		{"a point outside", 5, 15, 5, 15, false},
	}
	for _, tc := range cases {
		if got := segmentMeets(r, tc.x0, tc.y0, tc.x1, tc.y1); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestFreeCorner checks that the legend goes to the first corner no shape
// touches, and nowhere inside when every corner is taken.
func TestFreeCorner(t *testing.T) {
	xy := func(v ...float64) plotter.XYs {
		var s plotter.XYs
		for i := 0; i < len(v); i += 2 {
			s = append(s, plotter.XY{X: v[i], Y: v[i+1]})
		}
		return s
	}
	cases := []struct {
		name   string
		shapes []plotter.XYs
		want   *corner // nil: outside
	}{
		{"nothing", nil, &corner{top: true}},
		{"a falling line", []plotter.XYs{xy(0, 1, 1, 0)}, &corner{top: true}},
		{"a rising line", []plotter.XYs{xy(0, 0, 1, 1)}, &corner{top: true, left: true}},
		{"a line along the top", []plotter.XYs{xy(0, 1, 0.5, 1, 1, 0.9)}, &corner{}},
		{"the top and bottom right", []plotter.XYs{xy(0, 1, 1, 1), xy(0.5, 0, 1, 0)}, &corner{left: true}},
		{"all corners", []plotter.XYs{xy(0, 1, 1, 1), xy(0, 0, 1, 0)}, nil},
		{"points in all corners", []plotter.XYs{xy(0, 0), xy(1, 1), xy(0, 1), xy(1, 0)}, nil},
		{"points in three corners", []plotter.XYs{xy(0, 0), xy(1, 1), xy(0, 1), xy(0.5, 0.5)}, &corner{}},
	}
	for _, tc := range cases {
		p := plot.New()
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		c := draw.New(vgimg.New(400, 300))
		sz := vg.Point{X: 60, Y: 30}
		box, ok := freeCorner(p, c, sz, tc.shapes, markerRadius+legendMargin)
		if tc.want == nil {
			if ok {
				t.Errorf("%s: legend inside at %v, want outside", tc.name, box)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: legend outside, want inside", tc.name)
			continue
		}
		if want := legendBox(p.DataCanvas(c), sz, *tc.want); box != want {
			t.Errorf("%s: legend at %v, want %v (corner %+v)", tc.name, box, want, *tc.want)
		}
	}
}

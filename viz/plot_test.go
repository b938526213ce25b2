package viz

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"
)

// countColor counts the pixels of img exactly equal to c.
func countColor(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) == c {
				n++
			}
		}
	}
	return n
}

func TestLines(t *testing.T) {
	radii := []float64{0.01, 0.1, 1, 10}
	cases := []struct {
		name   string
		ax     Axes
		series []Series
		w, h   int
	}{
		{"loss curves", Axes{Title: "loss", XLabel: "epoch", YLabel: "nats"}, []Series{
			{Name: "train", X: []float64{1, 2, 3}, Y: []float64{120, 100, 95}},
			{Name: "test", X: []float64{1, 2, 3}, Y: []float64{118, 101, 97}},
		}, 640, 480},
		{"log-log CR", Axes{Title: "CR(r)", XLabel: "r", YLabel: "CR", LogX: true, LogY: true, Width: 500, Height: 300}, []Series{
			{Name: "plain", X: radii, Y: []float64{0.5, 0.5, 0.4, 0.1}},
			{Name: "contractive", X: radii, Y: []float64{0.1, 0.1, 0.09, 0.05}},
			{Name: "denoising", X: radii, Y: []float64{0.3, 0.3, 0.25, 0.08}},
		}, 500, 300},
		{"one point", Axes{}, []Series{{X: []float64{1}, Y: []float64{1}}}, 640, 480},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Lines(tc.ax, tc.series)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Errorf("size %v, want %d×%d", b.Size(), tc.w, tc.h)
			}
			for i := range tc.series {
				if n := countColor(img, Palette()[i]); n < 10 {
					t.Errorf("series %d: %d pixels of its colour", i, n)
				}
			}
			if n := countColor(img, Palette()[len(tc.series)]); n != 0 {
				t.Errorf("%d pixels of an unused series colour", n)
			}
			b, err := PNG(img)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(bytes.NewReader(b)); err != nil {
				t.Errorf("PNG does not decode: %v", err)
			}
		})
	}
}

func TestLinesErrors(t *testing.T) {
	ok := []float64{1, 2}
	cases := []struct {
		name   string
		ax     Axes
		series []Series
	}{
		{"no series", Axes{}, nil},
		{"length mismatch", Axes{}, []Series{{X: ok, Y: []float64{1}}}},
		{"empty series", Axes{}, []Series{{}}},
		{"NaN", Axes{}, []Series{{X: ok, Y: []float64{1, math.NaN()}}}},
		{"Inf", Axes{}, []Series{{X: []float64{math.Inf(1), 1}, Y: ok}}},
		{"zero on log y", Axes{LogY: true}, []Series{{X: ok, Y: []float64{0, 1}}}},
		{"negative on log x", Axes{LogX: true}, []Series{{X: []float64{-1, 1}, Y: ok}}},
	}
	for _, tc := range cases {
		if _, err := Lines(tc.ax, tc.series); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestScatter(t *testing.T) {
	var pts [][2]float64
	var labels []uint8
	for d := 0; d < 10; d++ {
		for k := 0; k < 20; k++ {
			a := 2 * math.Pi * float64(d) / 10
			pts = append(pts, [2]float64{3*math.Cos(a) + 0.1*float64(k%5), 3*math.Sin(a) + 0.1*float64(k/5)})
			labels = append(labels, uint8(d))
		}
	}
	img, err := Scatter(pts, labels, "latent codes")
	if err != nil {
		t.Fatal(err)
	}
	for d := 0; d < 10; d++ {
		if n := countColor(img, Palette()[d]); n < 10 {
			t.Errorf("digit %d: %d pixels of its colour", d, n)
		}
	}
	// Only digits 0 and 1: no pixel of digit 2's colour.
	img, err = Scatter(pts[:40], labels[:40], "")
	if err != nil {
		t.Fatal(err)
	}
	if countColor(img, Palette()[1]) == 0 || countColor(img, Palette()[2]) != 0 {
		t.Error("two digits: wrong colours")
	}
	img, err = Scatter(pts, nil, "unlabelled")
	if err != nil {
		t.Fatal(err)
	}
	if countColor(img, Palette()[0]) == 0 || countColor(img, Palette()[1]) != 0 {
		t.Error("unlabelled points are not all in the first colour")
	}
	for _, bad := range []struct {
		name   string
		pts    [][2]float64
		labels []uint8
	}{
		{"no points", nil, nil},
		{"label count", pts, labels[:3]},
		{"NaN", [][2]float64{{math.NaN(), 0}}, nil},
	} {
		if _, err := Scatter(bad.pts, bad.labels, ""); err == nil {
			t.Errorf("%s: no error", bad.name)
		}
	}
}

func TestFilters(t *testing.T) {
	// A 3×2 layer: column 0 is (1, 2, 3), column 1 is (−1, 0, −1).
	w := []float64{1, -1, 2, 0, 3, -1}
	cases := []struct {
		n    int
		want [][]float64
	}{
		{0, [][]float64{{0, 0.5, 1}, {0, 1, 0}}},
		{1, [][]float64{{0, 0.5, 1}}},
		{5, [][]float64{{0, 0.5, 1}, {0, 1, 0}}},
	}
	for _, tc := range cases {
		got, err := Filters(w, 3, 2, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("n=%d: %d filters, want %d", tc.n, len(got), len(tc.want))
		}
		for j := range got {
			for i := range got[j] {
				if math.Abs(got[j][i]-tc.want[j][i]) > 1e-15 {
					t.Errorf("n=%d: filter %d = %v, want %v", tc.n, j, got[j], tc.want[j])
					break
				}
			}
		}
	}
	for _, bad := range []struct {
		w       []float64
		in, out int
	}{{w, 2, 2}, {w, 0, 6}, {[]float64{math.NaN(), 0}, 1, 2}} {
		if _, err := Filters(bad.w, bad.in, bad.out, 0); err == nil {
			t.Errorf("Filters(%v, %d, %d): no error", bad.w, bad.in, bad.out)
		}
	}
}

func TestCompare(t *testing.T) {
	white := []float64{1, 1, 1, 1}
	black := []float64{0, 0, 0, 0}
	img := Compare(2, 2, 3, [][]float64{white, white, white}, [][]float64{black}, nil)
	// 3 images per row of (2·3+1) pixels plus the border; 3 rows.
	if b := img.Bounds(); b.Dx() != 3*7+1 || b.Dy() != 3*7+1 {
		t.Fatalf("size %v", img.Bounds().Size())
	}
	if g := img.GrayAt(1+7+1, 1).Y; g != 255 {
		t.Errorf("row 0, image 1: gray %d, want 255", g)
	}
	if g := img.GrayAt(1, 1+7).Y; g != 0 {
		t.Errorf("row 1, image 0: gray %d, want 0", g)
	}
	if g := img.GrayAt(1+7, 1+7).Y; g != 0 {
		t.Errorf("row 1, padding: gray %d, want 0 (blank)", g)
	}
}

func TestLogTicks(t *testing.T) {
	cases := []struct {
		lo, hi float64
		labels []string
	}{
		{0.01, 10, []string{"0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1", "2", "5", "10"}},
		{0.05, 0.5, []string{"0.05", "0.1", "0.2", "0.5"}},
		{1e-3, 1e3, []string{"0.001", "0.01", "0.1", "1", "10", "100", "1000"}},
		{0, 1, nil},
	}
	for _, tc := range cases {
		var got []string
		minor := 0
		for _, tk := range (logTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			} else {
				minor++
			}
		}
		if len(got) != len(tc.labels) {
			t.Errorf("[%g, %g]: labels %v, want %v", tc.lo, tc.hi, got, tc.labels)
			continue
		}
		for i := range got {
			if got[i] != tc.labels[i] {
				t.Errorf("[%g, %g]: labels %v, want %v", tc.lo, tc.hi, got, tc.labels)
				break
			}
		}
		if tc.labels != nil && minor == 0 {
			t.Errorf("[%g, %g]: no minor ticks", tc.lo, tc.hi)
		}
	}
}

// TestLinesPairs checks that a SameColor series shares the colour of the
// one before it, so a train/test pair takes one palette colour.
func TestLinesPairs(t *testing.T) {
	x := []float64{1, 2, 3}
	img, err := Lines(Axes{}, []Series{
		{Name: "a: test", X: x, Y: []float64{3, 2, 1}},
		{Name: "a: train", X: x, Y: []float64{2.5, 1.5, 0.5}, Dashed: true, SameColor: true},
		{Name: "b: test", X: x, Y: []float64{1, 2, 3}},
		{Name: "b: train", X: x, Y: []float64{1.5, 2.5, 3.5}, Dashed: true, SameColor: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if countColor(img, Palette()[0]) < 10 || countColor(img, Palette()[1]) < 10 {
		t.Error("a pair's colour is missing")
	}
	if n := countColor(img, Palette()[2]); n != 0 {
		t.Errorf("%d pixels of a third colour for two pairs", n)
	}
}

// TestLinesPoints checks that a Points series draws markers only: two
// far-apart points leave the middle of the plot free of their colour.
func TestLinesPoints(t *testing.T) {
	img, err := Lines(Axes{Width: 400, Height: 300}, []Series{{Name: "measured", X: []float64{0, 1}, Y: []float64{0, 1}, Points: true}})
	if err != nil {
		t.Fatal(err)
	}
	if countColor(img, Palette()[0]) < 10 {
		t.Error("no markers")
	}
	line, err := Lines(Axes{Width: 400, Height: 300}, []Series{{Name: "line", X: []float64{0, 1}, Y: []float64{0, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	mid := func(img image.Image) int {
		n := 0
		for y := 120; y < 180; y++ {
			for x := 170; x < 230; x++ {
				if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) == Palette()[0] {
					n++
				}
			}
		}
		return n
	}
	if mid(img) != 0 || mid(line) == 0 {
		t.Errorf("middle of the plot: %d pixels of the points' colour (want 0), %d of the line's (want > 0)", mid(img), mid(line))
	}
}

func TestBars(t *testing.T) {
	img, err := Bars("FD", []string{"a", "b", "c"}, []float64{3, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("image of %v", b)
	}
	for _, bad := range [][]float64{{1, math.NaN(), 2}, {1, -1, 2}, {1, 2}} {
		if _, err := Bars("FD", []string{"a", "b", "c"}, bad); err == nil {
			t.Errorf("Bars accepted %v", bad)
		}
	}
}

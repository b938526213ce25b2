package viz

import "testing"

func TestGridRGB(t *testing.T) {
	// One 1×2 image: a red pixel, then a blue one; scale 1, one per row.
	img := GridRGB([][]float64{{1, 0, 0, 0, 0, 1}}, 1, 2, 1, 1)
	if b := img.Bounds(); b.Dx() != 4 || b.Dy() != 3 {
		t.Fatalf("bounds %v, want 4×3", b)
	}
	if c := img.RGBAAt(1, 1); c.R != 255 || c.G != 0 || c.B != 0 {
		t.Errorf("first pixel %v, want red", c)
	}
	if c := img.RGBAAt(2, 1); c.R != 0 || c.G != 0 || c.B != 255 {
		t.Errorf("second pixel %v, want blue", c)
	}
	if c := img.RGBAAt(0, 0); c.R != 64 || c.A != 255 {
		t.Errorf("gap %v, want grey 64", c)
	}
}

func TestLabelRows(t *testing.T) {
	row := func(v float64, n int) [][]float64 {
		var r [][]float64
		for range n {
			im := make([]float64, 28*28)
			for i := range im {
				im[i] = v
			}
			r = append(r, im)
		}
		return r
	}
	plain := Compare(28, 28, 2, row(1, 5), row(0.5, 3))
	img, err := CompareLabeled(28, 28, 2, []string{"clean", "a long label"}, row(1, 5), row(0.5, 3))
	if err != nil {
		t.Fatal(err)
	}
	pb, b := plain.Bounds(), img.Bounds()
	margin := b.Dx() - pb.Dx()
	if b.Dy() != pb.Dy() || margin < 40 {
		t.Fatalf("labelled %v, plain %v", b, pb)
	}
	// The grid is unchanged to the right of the margin.
	for y := 0; y < pb.Dy(); y++ {
		for x := 0; x < pb.Dx(); x++ {
			g := plain.GrayAt(x, y).Y
			if c := img.RGBAAt(margin+x, y); c.R != g || c.G != g || c.B != g {
				t.Fatalf("pixel (%d,%d): %v, want gray %d", x, y, c, g)
			}
		}
	}
	// Each label inks its own row of the margin, and only that row.
	rowH := 28*2 + 1
	for i := 0; i < 2; i++ {
		dark := 0
		for y := 1 + i*rowH; y < 1+(i+1)*rowH; y++ {
			for x := 0; x < margin; x++ {
				if img.RGBAAt(x, y).R < 128 {
					dark++
				}
			}
		}
		if dark < 20 {
			t.Errorf("row %d: %d dark pixels in the margin", i, dark)
		}
	}
	if _, err := CompareLabeled(28, 28, 2, []string{"a", "b", "c"}, row(1, 5)); err == nil {
		t.Error("more labels than rows accepted")
	}
	if _, err := LabelRows(plain, 0, []string{"a"}); err == nil {
		t.Error("row height 0 accepted")
	}
	// No labels: no margin.
	if img, err := LabelRows(plain, rowH, nil); err != nil || img.Bounds().Dx() != pb.Dx() {
		t.Errorf("no labels: %v, %v", img.Bounds(), err)
	}
}

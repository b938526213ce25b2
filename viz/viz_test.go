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

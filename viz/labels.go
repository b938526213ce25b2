package viz

import (
	"image"
	"image/color"
	"image/draw"
	"sync"

	"github.com/pkg/errors"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// labelSize is the height of row labels in pixels.
const labelSize = 14

var (
	labelFaceOnce sync.Once
	labelFace     font.Face
	labelFaceErr  error
)

// face returns the font of row labels (Go Regular, labelSize pixels).
func face() (font.Face, error) {
	labelFaceOnce.Do(func() {
		f, err := opentype.Parse(goregular.TTF)
		if err != nil {
			labelFaceErr = errors.Wrap(err, "viz: parsing the label font")
			return
		}
		labelFace, labelFaceErr = opentype.NewFace(f, &opentype.FaceOptions{Size: labelSize, DPI: 72, Hinting: font.HintingFull})
		labelFaceErr = errors.Wrap(labelFaceErr, "viz: the label font")
	})
	return labelFace, labelFaceErr
}

// LabelRows returns img with a white margin on its left that names each
// row of the grid: labels[i] is written, right-aligned and vertically
// centred, beside the pixels [1 + i·rowHeight, 1 + (i+1)·rowHeight) — the
// i-th row of images of Grid, Compare or GridRGB, whose rowHeight is the
// image height times the scale, plus 1. Empty labels leave their row
// unnamed.
func LabelRows(img image.Image, rowHeight int, labels []string) (*image.RGBA, error) {
	if rowHeight <= 0 {
		return nil, errors.Errorf("viz: row labels: row height %d", rowHeight)
	}
	f, err := face()
	if err != nil {
		return nil, err
	}
	width := 0
	for _, l := range labels {
		width = max(width, font.MeasureString(f, l).Ceil())
	}
	margin := 0
	if width > 0 {
		margin = width + 12
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, margin+b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, image.Rect(margin, 0, margin+b.Dx(), b.Dy()), img, b.Min, draw.Src)
	m := f.Metrics()
	textH := (m.Ascent + m.Descent).Ceil()
	d := font.Drawer{Dst: out, Src: image.NewUniform(color.Black), Face: f}
	for i, l := range labels {
		if l == "" {
			continue
		}
		top := 1 + i*rowHeight
		if top >= b.Dy() {
			return nil, errors.Errorf("viz: row labels: %d labels for an image of %d rows of %d pixels", len(labels), (b.Dy()-1)/rowHeight, rowHeight)
		}
		y := top + (rowHeight-textH)/2 + m.Ascent.Ceil()
		x := margin - 6 - font.MeasureString(f, l).Ceil()
		d.Dot = fixed.P(x, y)
		d.DrawString(l)
	}
	return out, nil
}

// CompareLabeled is Compare with a label beside each row (see LabelRows):
// labels[i] names rows[i].
func CompareLabeled(h, w, scale int, labels []string, rows ...[][]float64) (*image.RGBA, error) {
	if len(labels) > len(rows) {
		return nil, errors.Errorf("viz: %d labels for %d rows", len(labels), len(rows))
	}
	return LabelRows(Compare(h, w, scale, rows...), h*max(scale, 1)+1, labels)
}

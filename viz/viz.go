// Package viz draws the zoo's pictures: grids of images (inputs above their
// reconstructions, samples, filters) as image.Image values or PNG bytes.
package viz

import (
	"bufio"
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"

	"github.com/pkg/errors"
)

// Grid lays out images of rows×cols pixels (each a row-major slice of values
// in [0,1], clamped) in a grid with perRow images per row, a 1-pixel gap and
// each pixel drawn scale×scale. Values are drawn white-on-black like MNIST.
func Grid(imgs [][]float64, rows, cols, perRow, scale int) *image.Gray {
	perRow, scale, r := gridGeometry(len(imgs), rows, cols, perRow, scale)
	img := image.NewGray(r)
	for i := range img.Pix {
		img.Pix[i] = 64 // gaps
	}
	paintGrid(imgs, rows, cols, perRow, scale, 1, func(x, y int, px [3]uint8) { img.SetGray(x, y, color.Gray{px[0]}) })
	return img
}

// gridGeometry returns the defaults of perRow and scale and the bounds of
// a grid of n images of rows×cols pixels with 1-pixel gaps.
func gridGeometry(n, rows, cols, perRow, scale int) (int, int, image.Rectangle) {
	if perRow <= 0 {
		perRow = 8
	}
	if scale <= 0 {
		scale = 1
	}
	gridRows := (n + perRow - 1) / perRow
	cw, ch := cols*scale+1, rows*scale+1
	return perRow, scale, image.Rect(0, 0, perRow*cw+1, max(gridRows, 1)*ch+1)
}

// paintGrid calls set for every grid pixel covered by an image: image k's
// pixel (x, y) becomes a scale×scale block at its place in the grid. Each
// image holds rows×cols pixels of channels interleaved values in [0,1]
// (clamped; missing values are 0).
func paintGrid(imgs [][]float64, rows, cols, perRow, scale, channels int, set func(x, y int, px [3]uint8)) {
	cw, ch := cols*scale+1, rows*scale+1
	for k, im := range imgs {
		ox, oy := 1+(k%perRow)*cw, 1+(k/perRow)*ch
		for y := 0; y < rows; y++ {
			for x := 0; x < cols; x++ {
				var px [3]uint8
				for c := 0; c < channels; c++ {
					if i := channels*(y*cols+x) + c; i < len(im) {
						px[c] = uint8(math.Round(255 * math.Min(math.Max(im[i], 0), 1)))
					}
				}
				for dy := 0; dy < scale; dy++ {
					for dx := 0; dx < scale; dx++ {
						set(ox+x*scale+dx, oy+y*scale+dy, px)
					}
				}
			}
		}
	}
}

// Normalize rescales v linearly to [0,1] (for filters, whose weights have
// any sign); a constant v maps to 0.5.
func Normalize(v []float64) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	out := make([]float64, len(v))
	for i, x := range v {
		if hi > lo {
			out[i] = (x - lo) / (hi - lo)
		} else {
			out[i] = 0.5
		}
	}
	return out
}

// PNG encodes img as PNG bytes.
func PNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, errors.Wrap(err, "encoding PNG")
	}
	return buf.Bytes(), nil
}

// SavePNG writes img to path as a PNG file.
func SavePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return errors.Wrap(err, "saving PNG")
	}
	w := bufio.NewWriter(f)
	if err := png.Encode(w, img); err != nil {
		f.Close()
		return errors.Wrapf(err, "encoding %s", path)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return errors.Wrapf(err, "writing %s", path)
	}
	return errors.Wrapf(f.Close(), "closing %s", path)
}

// GridRGB is Grid for colour images: each image is rows×cols pixels of
// interleaved R, G, B values in [0,1] (clamped).
func GridRGB(imgs [][]float64, rows, cols, perRow, scale int) *image.RGBA {
	perRow, scale, r := gridGeometry(len(imgs), rows, cols, perRow, scale)
	img := image.NewRGBA(r)
	for i := range img.Pix {
		img.Pix[i] = 64 // gaps
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	paintGrid(imgs, rows, cols, perRow, scale, 3, func(x, y int, px [3]uint8) {
		img.SetRGBA(x, y, color.RGBA{px[0], px[1], px[2], 255})
	})
	return img
}

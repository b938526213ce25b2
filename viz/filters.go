package viz

import (
	"image"
	"math"

	"github.com/pkg/errors"
)

// Filters returns the first n (all if n ≤ 0 or n > out) encoder filters of
// a dense layer as images, for Grid: filter j is the j-th column W[:, j] of
// the in×out row-major weight matrix w — the incoming weights of hidden
// unit j, i.e. the input of unit norm that excites it most (Ng's
// visualization) — rescaled to [0,1] by Normalize. Reshape by passing the
// image geometry (e.g. 28×28) to Grid.
func Filters(w []float64, in, out, n int) ([][]float64, error) {
	if in <= 0 || out <= 0 || len(w) != in*out {
		return nil, errors.Errorf("viz: filters: %d weights for a %d×%d layer", len(w), in, out)
	}
	if n <= 0 || n > out {
		n = out
	}
	imgs := make([][]float64, n)
	col := make([]float64, in)
	for j := range imgs {
		for i := range col {
			col[i] = w[i*out+j]
			if math.IsNaN(col[i]) || math.IsInf(col[i], 0) {
				return nil, errors.Errorf("viz: filters: weight [%d,%d] is %g", i, j, col[i])
			}
		}
		imgs[j] = Normalize(col)
	}
	return imgs, nil
}

// Compare draws rows of images of h×w pixels, one grid row per argument —
// e.g. inputs, their corrupted copies and the reconstructions — with each
// pixel drawn scale×scale. Rows shorter than the longest are left blank at
// the end.
func Compare(h, w, scale int, rows ...[][]float64) *image.Gray {
	perRow := 1
	for _, r := range rows {
		perRow = max(perRow, len(r))
	}
	var imgs [][]float64
	blank := make([]float64, h*w)
	for _, r := range rows {
		imgs = append(imgs, r...)
		for k := len(r); k < perRow; k++ {
			imgs = append(imgs, blank)
		}
	}
	return Grid(imgs, h, w, perRow, scale)
}

package viz

import (
	"image"
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Bars draws a horizontal bar chart: one bar of length values[i] per label,
// the first label at the top (e.g. Fréchet distances of generators). The
// values must be finite and non-negative.
func Bars(title string, labels []string, values []float64) (image.Image, error) {
	if len(labels) == 0 || len(labels) != len(values) {
		return nil, errors.Errorf("viz: bars: %d labels for %d values", len(labels), len(values))
	}
	n := len(values)
	v := make(plotter.Values, n)
	names := make([]string, n)
	for i, x := range values {
		if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			return nil, errors.Errorf("viz: bars: value %g of %q is not a finite non-negative number", x, labels[i])
		}
		// gonum/plot draws the first bar at the bottom: reverse.
		v[n-1-i], names[n-1-i] = x, labels[i]
	}
	p := plot.New()
	p.Title.Text = title
	p.Add(plotter.NewGrid())
	b, err := plotter.NewBarChart(v, vg.Points(12))
	if err != nil {
		return nil, errors.Wrap(err, "viz: bars")
	}
	b.Horizontal = true
	b.Color = palette[0]
	b.LineStyle.Width = 0
	p.Add(b)
	p.NominalY(names...)
	p.X.Min = 0
	return render(p, Axes{Width: 900, Height: 120 + 22*n}, nil, 0) // no legend
}

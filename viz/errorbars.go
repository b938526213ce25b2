package viz

import (
	"fmt"
	"image"
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ErrSeries is one named curve with vertical error bars: points (X[i],
// Y[i]) with bars from Y[i]-Err[i] to Y[i]+Err[i].
type ErrSeries struct {
	Name      string
	X, Y, Err []float64
}

type xyErrs struct {
	plotter.XYs
	plotter.YErrors
}

// ErrorBars draws the series as lines with point markers and vertical
// error bars (a metric against a swept setting, mean ± std over seeds),
// with a legend of their names. Errors must be finite and ≥ 0.
func ErrorBars(ax Axes, series []ErrSeries) (image.Image, error) {
	if len(series) == 0 {
		return nil, errors.New("viz: error bars: no series")
	}
	p := newPlot(ax)
	var shapes []plotter.XYs
	for i, s := range series {
		if len(s.X) != len(s.Y) || len(s.X) != len(s.Err) || len(s.X) == 0 {
			return nil, errors.Errorf("viz: error bars: series %q has %d x, %d y and %d error values", s.Name, len(s.X), len(s.Y), len(s.Err))
		}
		d := xyErrs{XYs: make(plotter.XYs, len(s.X)), YErrors: make(plotter.YErrors, len(s.X))}
		for j := range s.X {
			e := s.Err[j]
			if !(e >= 0) || math.IsInf(e, 0) {
				return nil, errors.Errorf("viz: error bars: series %q: bad error %g", s.Name, e)
			}
			d.XYs[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
			d.YErrors[j] = struct{ Low, High float64 }{e, e}
			if ax.LogY && s.Y[j]-e <= 0 {
				d.YErrors[j].Low = 0
			}
		}
		if err := checkPoints(d.XYs, ax, "series "+fmt.Sprintf("%q", s.Name)); err != nil {
			return nil, err
		}
		l, pts, err := plotter.NewLinePoints(d.XYs)
		if err != nil {
			return nil, errors.Wrapf(err, "viz: error bars: series %q", s.Name)
		}
		bars, err := plotter.NewYErrorBars(d)
		if err != nil {
			return nil, errors.Wrapf(err, "viz: error bars: series %q", s.Name)
		}
		c := Palette()[i%len(Palette())]
		l.Color, l.Width = c, vg.Points(1.5)
		pts.Color, pts.Shape, pts.Radius = c, draw.CircleGlyph{}, markerRadius
		bars.Color, bars.Width, bars.CapWidth = c, vg.Points(1), vg.Points(6)
		p.Add(l, pts, bars)
		shapes = append(shapes, d.XYs)
		for j, pt := range d.XYs {
			lo, hi := pt.Y-d.YErrors[j].Low, pt.Y+d.YErrors[j].High
			shapes = append(shapes, plotter.XYs{{X: pt.X, Y: lo}, {X: pt.X, Y: hi}})
		}
		if s.Name != "" {
			p.Legend.Add(s.Name, l, pts)
		}
	}
	// Keep end points and their bars off the frame.
	if !ax.LogX {
		d := 0.04 * math.Max(p.X.Max-p.X.Min, 1e-9)
		p.X.Min, p.X.Max = p.X.Min-d, p.X.Max+d
	}
	if !ax.LogY {
		d := 0.06 * math.Max(p.Y.Max-p.Y.Min, 1e-9)
		p.Y.Min, p.Y.Max = p.Y.Min-d, p.Y.Max+d
	}
	return render(p, ax, shapes, vg.Points(3)+legendMargin)
}

package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"
	"strconv"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// palette holds the ten colours of the zoo's plots (see Palette).
var palette = [10]color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff},
}

// Palette returns the ten colours of the zoo's plots (matplotlib's
// "tab10"): digit d is drawn in Palette()[d], series i of a line plot in
// Palette()[i%10].
func Palette() [10]color.RGBA { return palette }

// Axes describes a plot's labels, scales and size. A log axis needs
// positive values. Width and Height are in pixels (0: 640×480).
type Axes struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Width, Height         int
}

// Series is one named curve of a line plot: points (X[i], Y[i]).
type Series struct {
	Name string
	X, Y []float64
	// Dashed draws a dashed line without point markers (e.g. a training
	// loss beside its solid test loss).
	Dashed bool
	// Points draws larger point markers without a line (e.g. measured
	// values against a closed-form curve).
	Points bool
	// SameColor draws the series in the colour of the one before it (a
	// train/test pair); otherwise each series takes the next palette colour.
	SameColor bool
}

// dpi is the resolution plots are rendered at.
const dpi = 96

// markerRadius is the radius of the point markers of line plots, and
// scatterRadius that of scatter plots.
const (
	markerRadius  = vg.Length(2)
	scatterRadius = vg.Length(1.5)
)

// Lines draws the series as lines with point markers (dashed lines
// without them where Series.Dashed, large dots without a line where
// Series.Points) on one plot, with a legend of their
// names (loss curves, contraction-ratio curves) placed off the data. It
// returns an error for mismatched or non-finite coordinates, or for
// non-positive ones on a log axis.
func Lines(ax Axes, series []Series) (image.Image, error) {
	if len(series) == 0 {
		return nil, errors.New("viz: lines: no series")
	}
	p := newPlot(ax)
	var shapes []plotter.XYs
	color := -1
	for _, s := range series {
		if !s.SameColor || color < 0 {
			color++
		}
		if len(s.X) != len(s.Y) || len(s.X) == 0 {
			return nil, errors.Errorf("viz: lines: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		xy := make(plotter.XYs, len(s.X))
		for j := range s.X {
			xy[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		if err := checkPoints(xy, ax, "series "+fmt.Sprintf("%q", s.Name)); err != nil {
			return nil, err
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, errors.Wrapf(err, "viz: lines: series %q", s.Name)
		}
		c := palette[color%len(palette)]
		l.Color = c
		l.Width = vg.Points(1.5)
		pts.Color = c
		pts.Shape = draw.CircleGlyph{}
		pts.Radius = markerRadius
		thumbs := []plot.Thumbnailer{l, pts}
		switch {
		case s.Points:
			pts.Radius = 2 * markerRadius
			p.Add(pts)
			thumbs = thumbs[1:]
		case s.Dashed:
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			p.Add(l)
			thumbs = thumbs[:1]
		default:
			p.Add(l, pts)
		}
		if s.Points {
			for _, pt := range xy {
				shapes = append(shapes, plotter.XYs{pt})
			}
		} else {
			shapes = append(shapes, xy)
		}
		if s.Name != "" {
			p.Legend.Add(s.Name, thumbs...)
		}
	}
	return render(p, ax, shapes, markerRadius+legendMargin)
}

// Scatter draws 2-D points coloured by their labels (digit d in
// Palette[d%10]) with a legend of the labels, e.g. a VAE's 2-D latent
// codes of the test set. labels may be nil (one colour, no legend);
// otherwise it needs one label per point.
func Scatter(points [][2]float64, labels []uint8, title string) (image.Image, error) {
	return ScatterAxes(Axes{Title: title, XLabel: "z₁", YLabel: "z₂"}, points, labels)
}

// ScatterAxes is Scatter with axis labels, scales and size of its own.
func ScatterAxes(ax Axes, points [][2]float64, labels []uint8) (image.Image, error) {
	if len(points) == 0 {
		return nil, errors.New("viz: scatter: no points")
	}
	if labels != nil && len(labels) != len(points) {
		return nil, errors.Errorf("viz: scatter: %d points, %d labels", len(points), len(labels))
	}
	groups := map[int]plotter.XYs{}
	for i, pt := range points {
		g := -1
		if labels != nil {
			g = int(labels[i])
		}
		groups[g] = append(groups[g], plotter.XY{X: pt[0], Y: pt[1]})
	}
	keys := make([]int, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	p := newPlot(ax)
	var shapes []plotter.XYs
	for _, k := range keys {
		xy := groups[k]
		if err := checkPoints(xy, ax, "points"); err != nil {
			return nil, err
		}
		s, err := plotter.NewScatter(xy)
		if err != nil {
			return nil, errors.Wrap(err, "viz: scatter")
		}
		s.Shape = draw.CircleGlyph{}
		s.Radius = scatterRadius
		s.Color = palette[0]
		if k >= 0 {
			s.Color = palette[k%len(palette)]
		}
		p.Add(s)
		for _, pt := range xy {
			shapes = append(shapes, plotter.XYs{pt})
		}
		if k >= 0 {
			// A bigger marker in the legend than on the plot.
			thumb := *s
			thumb.GlyphStyle.Radius = 2 * scatterRadius
			p.Legend.Add(fmt.Sprint(k), &thumb)
		}
	}
	return render(p, ax, shapes, scatterRadius+legendMargin)
}

func newPlot(ax Axes) *plot.Plot {
	p := plot.New()
	p.Title.Text = ax.Title
	p.X.Label.Text = ax.XLabel
	p.Y.Label.Text = ax.YLabel
	p.Add(plotter.NewGrid())
	if ax.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if ax.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	return p
}

// checkPoints rejects non-finite coordinates and non-positive ones on a
// log axis (where gonum/plot would panic).
func checkPoints(xy plotter.XYs, ax Axes, what string) error {
	for _, pt := range xy {
		if math.IsNaN(pt.X) || math.IsInf(pt.X, 0) || math.IsNaN(pt.Y) || math.IsInf(pt.Y, 0) {
			return errors.Errorf("viz: %s: non-finite point (%g, %g)", what, pt.X, pt.Y)
		}
		if ax.LogX && pt.X <= 0 {
			return errors.Errorf("viz: %s: x = %g on a log axis", what, pt.X)
		}
		if ax.LogY && pt.Y <= 0 {
			return errors.Errorf("viz: %s: y = %g on a log axis", what, pt.Y)
		}
	}
	return nil
}

// render draws p on a white canvas of the axes' size, with its legend off
// the shapes (see drawWithLegend).
func render(p *plot.Plot, ax Axes, shapes []plotter.XYs, clearance vg.Length) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, errors.Errorf("viz: drawing the plot: %v", r)
		}
	}()
	w, h := ax.Width, ax.Height
	if w <= 0 {
		w = 640
	}
	if h <= 0 {
		h = 480
	}
	c := vgimg.NewWith(
		vgimg.UseWH(vg.Length(w)*vg.Inch/dpi, vg.Length(h)*vg.Inch/dpi),
		vgimg.UseDPI(dpi),
		vgimg.UseBackgroundColor(color.White),
	)
	drawWithLegend(p, draw.New(c), shapes, clearance)
	return c.Image(), nil
}

// logTicks marks 1, 2, …, 9 × 10^k on a log axis, labelling 1, 2 and 5 ×
// 10^k when the axis spans at most three decades and only 10^k otherwise.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi >= lo) {
		return nil
	}
	k0, k1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	dense := k1-k0 <= 3
	var ticks []plot.Tick
	for k := k0; k <= k1; k++ {
		for m := 1; m <= 9; m++ {
			v, _ := strconv.ParseFloat(strconv.Itoa(m)+"e"+strconv.Itoa(k), 64)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || dense && (m == 2 || m == 5) {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

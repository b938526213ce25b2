package viz

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Legend placement. gonum/plot draws a legend in a fixed corner, on top of
// whatever data is there. The zoo's plots instead put the legend, on a
// white box, in the first corner of the data area that no curve, marker or
// error bar touches — top right, top left, bottom right, bottom left — and,
// when every corner is taken, outside the data area to the right of the
// plot, which is narrowed to make room.

// legendPad is the space between the legend's box and its entries, and
// legendMargin the space between the box and the data area's frame.
const (
	legendPad    = vg.Length(4)
	legendMargin = vg.Length(6)
)

// corner is one place for the legend inside the data area.
type corner struct{ top, left bool }

// corners are the places tried, in order of preference.
var corners = []corner{{true, false}, {true, true}, {false, false}, {false, true}}

// legendBox returns the legend's box (entries plus padding) in corner k
// of the data canvas dc, for a legend of size sz.
func legendBox(dc draw.Canvas, sz vg.Point, k corner) vg.Rectangle {
	w, h := sz.X+2*legendPad, sz.Y+2*legendPad
	var r vg.Rectangle
	if k.left {
		r.Min.X = dc.Min.X + legendMargin
	} else {
		r.Min.X = dc.Max.X - legendMargin - w
	}
	if k.top {
		r.Min.Y = dc.Max.Y - legendMargin - h
	} else {
		r.Min.Y = dc.Min.Y + legendMargin
	}
	r.Max = vg.Point{X: r.Min.X + w, Y: r.Min.Y + h}
	return r
}

// freeCorner returns the first corner of p's data area, drawn on c, where a
// legend of size sz touches none of the shapes (polylines in data
// coordinates; a single point is a marker), keeping clear of them by
// clearance; ok is false when every corner is taken.
func freeCorner(p *plot.Plot, c draw.Canvas, sz vg.Point, shapes []plotter.XYs, clearance vg.Length) (vg.Rectangle, bool) {
	dc := p.DataCanvas(c)
	if sz.X+2*legendPad+2*legendMargin > dc.Size().X || sz.Y+2*legendPad+2*legendMargin > dc.Size().Y {
		return vg.Rectangle{}, false
	}
	tx, ty := p.Transforms(&dc)
	for _, k := range corners {
		box := legendBox(dc, sz, k)
		grown := vg.Rectangle{
			Min: vg.Point{X: box.Min.X - clearance, Y: box.Min.Y - clearance},
			Max: vg.Point{X: box.Max.X + clearance, Y: box.Max.Y + clearance},
		}
		if !touches(grown, shapes, tx, ty) {
			return box, true
		}
	}
	return vg.Rectangle{}, false
}

// touches reports whether any shape, transformed to canvas coordinates by
// tx and ty, meets the rectangle r.
func touches(r vg.Rectangle, shapes []plotter.XYs, tx, ty func(float64) vg.Length) bool {
	for _, s := range shapes {
		if len(s) == 1 {
			if inside(r, tx(s[0].X), ty(s[0].Y)) {
				return true
			}
			continue
		}
		for i := 1; i < len(s); i++ {
			if segmentMeets(r, tx(s[i-1].X), ty(s[i-1].Y), tx(s[i].X), ty(s[i].Y)) {
				return true
			}
		}
	}
	return false
}

func inside(r vg.Rectangle, x, y vg.Length) bool {
	return x >= r.Min.X && x <= r.Max.X && y >= r.Min.Y && y <= r.Max.Y
}

// segmentMeets reports whether the segment from (x0, y0) to (x1, y1) meets
// the rectangle r (Liang–Barsky clipping).
func segmentMeets(r vg.Rectangle, x0, y0, x1, y1 vg.Length) bool {
	dx, dy := float64(x1-x0), float64(y1-y0)
	t0, t1 := 0.0, 1.0
	clip := func(p, q float64) bool { // the part with p·t ≤ q
		switch {
		case p == 0:
			return q >= 0
		case p < 0:
			if t := q / p; t > t0 {
				t0 = t
			}
		default:
			if t := q / p; t < t1 {
				t1 = t
			}
		}
		return t0 <= t1
	}
	return clip(-dx, float64(x0-r.Min.X)) && clip(dx, float64(r.Max.X-x0)) &&
		clip(-dy, float64(y0-r.Min.Y)) && clip(dy, float64(r.Max.Y-y0))
}

// drawWithLegend draws p on c with its legend off the data (see the top of
// this file); shapes are what the legend must not cover, clearance how far
// it keeps from them (marker radius plus a margin).
func drawWithLegend(p *plot.Plot, c draw.Canvas, shapes []plotter.XYs, clearance vg.Length) {
	leg := p.Legend
	p.Legend = plot.NewLegend()
	leg.Top, leg.Left, leg.XOffs, leg.YOffs = true, false, 0, 0
	sz := leg.Rectangle(c).Size()
	if sz.X <= 0 || sz.Y <= 0 { // no entries
		p.Draw(c)
		return
	}
	box, ok := freeCorner(p, c, sz, shapes, clearance)
	if !ok {
		// Outside, to the right: the plot gives up the legend's width.
		w := sz.X + 2*legendPad + legendMargin
		pc := draw.Crop(c, 0, -w, 0, 0)
		p.Draw(pc)
		dc := p.DataCanvas(pc)
		box = vg.Rectangle{Min: vg.Point{X: c.Max.X - sz.X - 2*legendPad, Y: dc.Max.Y - sz.Y - 2*legendPad}}
		box.Max = vg.Point{X: box.Min.X + sz.X + 2*legendPad, Y: dc.Max.Y}
	} else {
		p.Draw(c)
	}
	c.SetColor(color.White)
	c.Fill(box.Path())
	c.SetLineStyle(draw.LineStyle{Color: color.Gray{0xcc}, Width: vg.Points(0.75)})
	c.Stroke(box.Path())
	inner := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: box.Min.X + legendPad, Y: box.Min.Y + legendPad},
		Max: vg.Point{X: box.Max.X - legendPad, Y: box.Max.Y - legendPad},
	}}
	leg.Draw(inner)
}

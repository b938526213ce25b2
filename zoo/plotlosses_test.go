package zoo

import (
	"image"
	"image/color"
	"testing"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/train"
	"github.com/aezoo/aezoo/viz"
)

func countRGBA(img image.Image, c color.RGBA) int {
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

// TestPlotLosses checks that each log gets one colour, for its training
// and its test loss, and that logs without lines are left out.
func TestPlotLosses(t *testing.T) {
	evaluated := map[graph.Term]float64{graph.ReconTerm: 1}
	log := []train.EpochLog{
		{Epoch: 1, TrainLoss: 200, TestLoss: 190, TestTerms: evaluated},
		{Epoch: 2, TrainLoss: 150},
		{Epoch: 3, TrainLoss: 120, TestLoss: 125, TestTerms: evaluated},
	}
	img, err := PlotLosses("loss", []string{"a", "empty", "b"}, log, nil, log[:2])
	if err != nil {
		t.Fatal(err)
	}
	p := viz.Palette()
	if countRGBA(img, p[0]) < 10 || countRGBA(img, p[1]) < 10 {
		t.Error("a log's colour is missing")
	}
	if n := countRGBA(img, p[2]); n != 0 {
		t.Errorf("%d pixels of a third colour for two logs", n)
	}
	if _, err := PlotLosses("loss", nil, nil, []train.EpochLog{}); err == nil {
		t.Error("no lines: no error")
	}
}

package zoo

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/internal/npy"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
)

// smallConfig returns model's defaults shrunk for a one-epoch test.
func smallConfig(t *testing.T, model string) models.Config {
	t.Helper()
	c, err := models.Defaults(model)
	if err != nil {
		t.Fatal(err)
	}
	c.Hidden = 16
	if c.K > 4 {
		c.K = 4
	}
	if c.KStart > 0 {
		c.KStart = 8
	}
	if c.Latent > 4 {
		c.Latent = 4
	}
	return c
}

// genSources writes a generated .npy (with labels), a .npz in the Keras
// layout, and grey and colour image folders, and returns their sources
// with the image shape each must give.
func genSources(t *testing.T) map[string]struct {
	src   data.Source
	shape string
} {
	dir := t.TempDir()
	const n, h, w = 48, 6, 5
	pix := make([]byte, n*h*w)
	for i := range pix {
		pix[i] = byte((i * 37) % 251)
	}
	labels := make([]int64, n)
	for i := range labels {
		labels[i] = int64(i % 3)
	}
	write := func(name string, f func(*bytes.Buffer) error) string {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	x := &npy.Array{Dtype: "u1", Shape: []int{n, h, w}, Data: pix}
	xp := write("x.npy", func(b *bytes.Buffer) error { return npy.Write(b, x) })
	yp := write("y.npy", func(b *bytes.Buffer) error { return npy.Write(b, npy.FromInt64s(labels, n)) })
	flat := make([]float32, n*h*w)
	for i, p := range pix {
		flat[i] = float32(p) / 255
	}
	zp := write("keras.npz", func(b *bytes.Buffer) error {
		return npy.WriteNpz(b, map[string]*npy.Array{
			"x_train": npy.FromFloat32s(flat[:36*h*w], 36, h*w), "y_train": npy.FromInt64s(labels[:36], 36),
			"x_test": npy.FromFloat32s(flat[36*h*w:], 12, h*w), "y_test": npy.FromInt64s(labels[36:], 12),
		})
	})
	folder := func(name string, grey bool) string {
		root := filepath.Join(dir, name)
		for i := range 24 {
			img := image.NewRGBA(image.Rect(0, 0, w, h))
			for y := range h {
				for x := range w {
					v := byte((i*31 + y*17 + x*7) % 256)
					c := color.RGBA{v, v, v, 255}
					if !grey {
						c = color.RGBA{v, byte(x * 50), byte(y * 40), 255}
					}
					img.SetRGBA(x, y, c)
				}
			}
			class := filepath.Join(root, []string{"a", "b", "c"}[i%3])
			os.MkdirAll(class, 0o755)
			write(filepath.Join(name, filepath.Base(class), string(rune('a'+i))+".png"), func(b *bytes.Buffer) error { return png.Encode(b, img) })
		}
		return root
	}
	return map[string]struct {
		src   data.Source
		shape string
	}{
		"npy":         {data.Source{Path: xp, Labels: yp}, "6×5"},
		"npz":         {data.Source{Path: zp}, "1×30"},
		"grey images": {data.Source{Path: folder("grey", true)}, "6×5"},
		"rgb images":  {data.Source{Path: folder("rgb", false)}, "6×5×3"},
	}
}

// TestTrainEveryModelOnEveryFormat trains each model one epoch on a
// generated .npy, .npz and grey and colour image folder, evaluates the
// run again, and checks that a model refuses data of another shape.
func TestTrainEveryModelOnEveryFormat(t *testing.T) {
	srcs := genSources(t)
	for name, s := range srcs {
		for _, model := range models.Names() {
			t.Run(name+"/"+model, func(t *testing.T) {
				c := smallConfig(t, model)
				o := train.DefaultOptions()
				o.Epochs, o.Batch, o.EvalBatch = 1, 8, 8
				out := t.TempDir()
				sum, err := Train(context.Background(), c, o, TrainOptions{Out: out, Source: s.src, NoCheckpoints: true})
				if err != nil {
					t.Fatal(err)
				}
				if sum.Epochs != 1 || !(sum.TestLoss > 0) {
					t.Errorf("summary: %d epochs, test loss %v", sum.Epochs, sum.TestLoss)
				}
				figure := ReconFile
				if spec, _ := models.Lookup(model); len(spec.Players) > 0 {
					figure = SamplesFile // an adversarial model reconstructs nothing
				}
				if _, err := os.Stat(filepath.Join(out, figure)); err != nil {
					t.Error(err)
				}
				e, err := EvalSource(out, s.src)
				if err != nil {
					t.Fatal(err)
				}
				if e.Test.N != sum.Test.N {
					t.Errorf("eval on %d test examples, training evaluated %d", e.Test.N, sum.Test.N)
				}
				other := srcs["rgb images"].src
				if name == "rgb images" {
					other = srcs["npy"].src
				}
				if _, err := EvalSource(out, other); err == nil || !strings.Contains(err.Error(), "evaluate it on the data it was trained on") {
					t.Errorf("eval on data of another shape: %v", err)
				}
			})
		}
	}
	// The colour reconstruction figure is in colour.
	out := t.TempDir()
	if _, err := Train(context.Background(), smallConfig(t, "plain"), func() train.Options {
		o := train.DefaultOptions()
		o.Epochs, o.Batch = 1, 8
		return o
	}(), TrainOptions{Out: out, Source: srcs["rgb images"].src, NoCheckpoints: true}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(out, ReconFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := img.(*image.Gray); ok {
		t.Error("the reconstruction figure of colour data is grey")
	}
}

// TestTrainFashionMNIST trains each model one epoch on (the first 600
// images of) Debian's Fashion-MNIST when it is installed; under
// AEZOO_REQUIRE_FASHION_MNIST (set by CI) its absence is a failure.
func TestTrainFashionMNIST(t *testing.T) {
	if _, err := data.Find(data.FashionMNIST, data.LookupOptions{}); err != nil {
		if os.Getenv("AEZOO_REQUIRE_FASHION_MNIST") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	for _, model := range models.Names() {
		t.Run(model, func(t *testing.T) {
			o := train.DefaultOptions()
			o.Epochs, o.Batch, o.TrainLimit, o.TestLimit = 1, 50, 600, 200
			s, err := Train(context.Background(), smallConfig(t, model), o,
				TrainOptions{Out: t.TempDir(), Source: data.Source{Dataset: data.FashionMNIST}, NoCheckpoints: true})
			if err != nil {
				t.Fatal(err)
			}
			if s.Test.N != 200 || !strings.Contains(s.Data, "fashion-mnist") || !(s.TestLoss > 0) {
				t.Errorf("trained on %d test images of %s, loss %v", s.Test.N, s.Data, s.TestLoss)
			}
		})
	}
}

// TestEvalRefusesAnotherShapeOfTheSameSize: a model trained on 6×5 images
// refuses rows of 1×30 values, though both have D = 30.
func TestEvalRefusesAnotherShapeOfTheSameSize(t *testing.T) {
	srcs := genSources(t)
	o := train.DefaultOptions()
	o.Epochs, o.Batch = 1, 8
	out := t.TempDir()
	if _, err := Train(context.Background(), smallConfig(t, "plain"), o, TrainOptions{Out: out, Source: srcs["npy"].src, NoCheckpoints: true}); err != nil {
		t.Fatal(err)
	}
	_, err := EvalSource(out, srcs["npz"].src)
	if err == nil || !strings.Contains(err.Error(), "has images of 1×30, the model in "+out+" was trained on images of 6×5") {
		t.Errorf("eval of a 6×5 model on 1×30 rows: %v", err)
	}
	e, err := EvalSource(out, srcs["npy"].src)
	if err != nil || len(e.Shape) != 3 || e.Shape[0] != 6 || e.Shape[1] != 5 || e.Shape[2] != 1 {
		t.Errorf("eval on its own data: shape %v, %v", e.Shape, err)
	}
}

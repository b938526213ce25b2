package zoo

import (
	"context"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/aezoo/aezoo/viz"
)

// TestOpenRun trains a tiny model, reloads its run folder as a notebook
// does and draws its pictures as images and PNG bytes.
func TestOpenRun(t *testing.T) {
	c, _ := models.Defaults("vae")
	c.Hidden, c.Latent = 32, 2
	o := train.DefaultOptions()
	o.Epochs, o.Batch, o.TrainLimit, o.TestLimit = 2, 100, 300, 50
	dir := t.TempDir()
	s, err := Train(context.Background(), c, o, TrainOptions{Out: dir, Data: data.Testdata(), NoCheckpoints: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Config != s.Config || r.Options.TestLimit != 50 || r.Epochs != 2 || r.In != 784 {
		t.Errorf("reloaded run: %+v", r)
	}
	if r.Summary == nil || r.Summary.TestLoss != s.TestLoss {
		t.Errorf("summary %+v, want test loss %g", r.Summary, s.TestLoss)
	}
	if len(r.Logs) != 2 || r.Logs[1].Epoch != 2 {
		t.Errorf("logs: %+v", r.Logs)
	}
	test, err := r.TestSet(data.Testdata())
	if err != nil {
		t.Fatal(err)
	}
	if test.N != 50 {
		t.Errorf("test set of %d images, want 50", test.N)
	}
	m, err := r.Eval.Evaluate(test)
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Loss - s.TestLoss; d > 1e-6 || d < -1e-6 {
		t.Errorf("re-evaluated loss %g, summary %g", m.Loss, s.TestLoss)
	}
	img, err := ReconImage(r.Eval, test, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	if sz := img.Bounds().Size(); sz.X != 5*57+1 || sz.Y != 2*57+1 {
		t.Errorf("recon image %v", sz)
	}
	if b, err := viz.PNG(img); err != nil || len(b) < 100 {
		t.Errorf("PNG: %d bytes, %v", len(b), err)
	}
	if len(Images(test, 3)) != 3 {
		t.Error("Images(test, 3)")
	}
	w, shape, err := r.Weights("dec.W")
	if err != nil || len(w) != shape[0]*shape[1] {
		t.Errorf("weights: %d values, shape %v, %v", len(w), shape, err)
	}
	if _, _, err := r.Weights("nope"); err == nil {
		t.Error("an unknown parameter gave no error")
	}
	g, err := r.Generator()
	if err != nil {
		t.Fatal(err)
	}
	if x, err := g.Manifold(3); err != nil || len(x) != 9 {
		t.Errorf("manifold: %d images, %v", len(x), err)
	}
	// Interpolations: pairs rows of steps images, each row running from the
	// decoded code of one test digit to the next one's.
	rows, err := g.Interpolations(r.Eval, test, 3, 4)
	if err != nil || len(rows) != 12 {
		t.Fatalf("interpolations: %d images, %v", len(rows), err)
	}
	mu, dim, err := r.Eval.Codes(test.Limit(6), graph.Code)
	if err != nil || dim != 2 {
		t.Fatalf("codes: dim %d, %v", dim, err)
	}
	for p := range 3 {
		ends, err := g.Decode([][]float64{mu[2*p*dim : (2*p+1)*dim], mu[(2*p+1)*dim : (2*p+2)*dim]})
		if err != nil {
			t.Fatal(err)
		}
		for j, want := range [][]float64{ends[0], ends[1]} {
			got := rows[4*p+3*j]
			for k := range want {
				if d := got[k] - want[k]; d > 1e-6 || d < -1e-6 {
					t.Fatalf("pair %d, end %d, pixel %d: %g, decoded code %g", p, j, k, got[k], want[k])
				}
			}
		}
	}
	if _, err := LossCurves("loss", []string{"vae"}, r); err != nil {
		t.Error(err)
	}
	if _, err := OpenRun(t.TempDir()); err == nil {
		t.Error("opening an empty folder succeeded")
	}
}

package sweep

import (
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
)

// testSweep is a 4-task sweep (hidden × seed) of the denoising model on
// the repository's MNIST subset, each task `epochs` short epochs.
func testSweep(t *testing.T, epochs int, extra ...string) Spec {
	t.Helper()
	c, _ := models.Defaults("denoising")
	o := train.DefaultOptions()
	o.Epochs, o.Batch, o.TrainLimit, o.TestLimit = epochs, 100, 1000, 200
	s, err := New(c, o, mustAxes(t, append([]string{"hidden=16,24", "seed=1,2"}, extra...)...))
	if err != nil {
		t.Fatal(err)
	}
	s.Data = data.Testdata()
	return s
}

package zoo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
)

// TestGANResumeIsExact: the adversarial model's checkpoint holds both
// players' Adam states; a run interrupted mid-epoch and resumed equals an
// uninterrupted one bit for bit, and its run folder samples.
func TestGANResumeIsExact(t *testing.T) {
	c, _ := models.Defaults("gan")
	c.Hidden, c.Latent = 16, 4
	o := train.DefaultOptions()
	o.Epochs, o.Batch, o.TrainLimit, o.TestLimit = 2, 100, 1000, 200
	full := t.TempDir()
	if _, err := Train(context.Background(), c, o, TrainOptions{Out: full, Data: data.Testdata()}); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Train(ctx, c, o, TrainOptions{Out: out, Data: data.Testdata(), OnStep: func(step int, _ float64) {
		if step == 13 {
			cancel()
		}
	}})
	cancel()
	var ie *InterruptedError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v, want an interruption", err)
	}
	if _, err := Resume(context.Background(), out, 0, TrainOptions{Out: out, Data: data.Testdata()}); err != nil {
		t.Fatal(err)
	}
	names, err := filepath.Glob(filepath.Join(full, "weights", "*.npy"))
	if err != nil || len(names) != 8 {
		t.Fatalf("%d weight files (%v), want the 8 of generator and discriminator", len(names), err)
	}
	for _, f := range names {
		a, _ := os.ReadFile(f)
		b, err := os.ReadFile(filepath.Join(out, "weights", filepath.Base(f)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the uninterrupted and the resumed run (%v)", filepath.Base(f), err)
		}
	}
	ma, mb := normalizedMetrics(t, full), normalizedMetrics(t, out)
	ja, _ := json.Marshal(ma)
	jb, _ := json.Marshal(mb)
	if !bytes.Equal(ja, jb) {
		t.Errorf("metrics differ:\n%s\n%s", ja, jb)
	}
	for _, dir := range []string{full, out} {
		if _, err := os.Stat(filepath.Join(dir, SamplesFile)); err != nil {
			t.Error(err)
		}
	}
}

package zoo

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
)

func TestTrainWritesRunFolderAndEvalReproduces(t *testing.T) {
	c, _ := models.Defaults("plain")
	c.Hidden = 32
	o := train.DefaultOptions()
	o.Epochs, o.Batch, o.TestLimit = 2, 100, 300
	out := t.TempDir()
	s, err := Train(context.Background(), c, o, TrainOptions{Out: out, Data: data.Testdata()})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{MetricsFile, SummaryFile, ReconFile, "config.json", "weights/enc.W.npy", "weights/enc.b.npy", "weights/dec.W.npy", "weights/dec.b.npy"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("run folder lacks %s: %v", f, err)
		}
	}
	// metrics.jsonl: one object per epoch with the required keys.
	b, err := os.ReadFile(filepath.Join(out, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := splitLines(b)
	if len(lines) != o.Epochs {
		t.Fatalf("metrics.jsonl has %d lines, want %d", len(lines), o.Epochs)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"epoch", "train_loss", "test_loss", "test_recon", "test_penalty", "seconds", "samples_per_s"} {
			if _, ok := m[k]; !ok {
				t.Errorf("metrics line lacks %q: %s", k, l)
			}
		}
	}
	var sum map[string]any
	b, _ = os.ReadFile(filepath.Join(out, SummaryFile))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"model", "config", "train", "test_loss", "test_bce_per_image", "test_mse_per_pixel"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary.json lacks %q", k)
		}
	}
	if s.Test.N != 300 {
		t.Errorf("evaluated %d test images, want 300", s.Test.N)
	}
	// Reloading the saved weights reproduces the test metrics exactly.
	e, err := Eval(out, data.Testdata())
	if err != nil {
		t.Fatal(err)
	}
	if e.TestLoss != s.TestLoss || e.TestBCE != s.TestBCE || e.TestMSE != s.TestMSE {
		t.Errorf("reloaded model: loss %v bce %v mse %v; trained: %v %v %v", e.TestLoss, e.TestBCE, e.TestMSE, s.TestLoss, s.TestBCE, s.TestMSE)
	}
	// For the plain BCE model the loss is the BCE per image.
	if d := s.TestLoss - s.TestBCE; d > 1e-3*s.TestLoss || d < -1e-3*s.TestLoss {
		t.Errorf("plain AE: test loss %v but test BCE %v", s.TestLoss, s.TestBCE)
	}
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	start := 0
	for i, c := range b {
		if c == '\n' {
			if i > start {
				out = append(out, b[start:i])
			}
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, b[start:])
	}
	return out
}

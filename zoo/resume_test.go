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

func resumeConfig() (models.Config, train.Options) {
	c, _ := models.Defaults("denoising") // draws noise from the run's generator every step
	c.Hidden = 24
	o := train.DefaultOptions()
	o.Epochs, o.Batch, o.TrainLimit, o.TestLimit = 3, 100, 1000, 200
	return c, o
}

// normalizedMetrics returns metrics.jsonl with the timings removed.
func normalizedMetrics(t *testing.T, dir string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "seconds")
		delete(m, "samples_per_s")
		out = append(out, m)
	}
	return out
}

func sameRuns(t *testing.T, a, b string) {
	t.Helper()
	for _, name := range []string{"enc.W", "enc.b", "dec.W", "dec.b"} {
		wa, err := os.ReadFile(filepath.Join(a, "weights", name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		wb, err := os.ReadFile(filepath.Join(b, "weights", name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(wa, wb) {
			t.Errorf("%s differs between the uninterrupted and the resumed run", name)
		}
	}
	ma, mb := normalizedMetrics(t, a), normalizedMetrics(t, b)
	if len(ma) != len(mb) {
		t.Fatalf("%d metrics lines vs %d", len(ma), len(mb))
	}
	for i := range ma {
		ja, _ := json.Marshal(ma[i])
		jb, _ := json.Marshal(mb[i])
		if !bytes.Equal(ja, jb) {
			t.Errorf("epoch %d metrics differ:\n%s\n%s", i+1, ja, jb)
		}
	}
}

// TestResumeIsExact interrupts a run mid-epoch and at an epoch boundary,
// resumes it, and requires bit-identical weights and metrics to an
// uninterrupted run with the same seed.
var stopPoints = []int{15, 10, 1}

func TestResumeIsExact(t *testing.T) {
	c, o := resumeConfig()
	full := t.TempDir()
	if _, err := Train(context.Background(), c, o, TrainOptions{Out: full, Data: data.Testdata()}); err != nil {
		t.Fatal(err)
	}
	for _, stopAt := range stopPoints { // mid-epoch 2, end of epoch 1, first step
		out := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		_, err := Train(ctx, c, o, TrainOptions{Out: out, Data: data.Testdata(), OnStep: func(step int, _ float64) {
			if step == stopAt {
				cancel()
			}
		}})
		cancel()
		var ie *InterruptedError
		if !errors.As(err, &ie) || !errors.Is(err, context.Canceled) {
			t.Fatalf("stop at %d: got %v, want an interruption", stopAt, err)
		}
		if ie.Step != stopAt {
			t.Errorf("interrupted after step %d, want %d", ie.Step, stopAt)
		}
		if _, err := os.Stat(filepath.Join(out, "checkpoint.json")); err != nil {
			t.Fatal("no checkpoint after the interruption")
		}
		if _, err := Resume(context.Background(), out, 0, TrainOptions{Out: out, Data: data.Testdata()}); err != nil {
			t.Fatal(err)
		}
		sameRuns(t, full, out)
	}
}

// TestResumeAfterFinishedEpochsWithMoreEpochs: a run of 1 epoch continued
// to 3 equals a run of 3 (the denoising model has no epoch schedule).
func TestResumeExtendsEpochs(t *testing.T) {
	c, o := resumeConfig()
	full := t.TempDir()
	if _, err := Train(context.Background(), c, o, TrainOptions{Out: full, Data: data.Testdata()}); err != nil {
		t.Fatal(err)
	}
	short := o
	short.Epochs = 1
	out := t.TempDir()
	if _, err := Train(context.Background(), c, short, TrainOptions{Out: out, Data: data.Testdata()}); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if _, err := Resume(context.Background(), out, 3, TrainOptions{Out: other, Data: data.Testdata()}); err != nil {
		t.Fatal(err)
	}
	// Options differ only in epochs; weights and metrics must match.
	sameRuns(t, full, other)
	if _, err := Resume(context.Background(), out, 3, TrainOptions{Out: t.TempDir(), Data: data.Testdata(), Model: "plain"}); err == nil {
		t.Error("resuming a denoising checkpoint as plain succeeded")
	}
}

func TestResumeRejectsDamagedCheckpoints(t *testing.T) {
	c, o := resumeConfig()
	o.Epochs = 1
	out := t.TempDir()
	if _, err := Train(context.Background(), c, o, TrainOptions{Out: out, Data: data.Testdata()}); err != nil {
		t.Fatal(err)
	}
	var ptr struct{ Path string }
	b, _ := os.ReadFile(filepath.Join(out, "checkpoint.json"))
	if err := json.Unmarshal(b, &ptr); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(out, ptr.Path)
	state, _ := os.ReadFile(filepath.Join(dir, "state.json"))
	encW, _ := os.ReadFile(filepath.Join(dir, "weights", "enc.W.npy"))
	restore := func() {
		os.WriteFile(filepath.Join(dir, "state.json"), state, 0o644)
		os.WriteFile(filepath.Join(dir, "weights", "enc.W.npy"), encW, 0o644)
	}
	for _, tc := range []struct {
		name   string
		damage func()
	}{
		{"truncated weights", func() { os.WriteFile(filepath.Join(dir, "weights", "enc.W.npy"), encW[:len(encW)/2], 0o644) }},
		{"garbage weights", func() { os.WriteFile(filepath.Join(dir, "weights", "enc.W.npy"), []byte("not numpy"), 0o644) }},
		{"damaged state", func() { os.WriteFile(filepath.Join(dir, "state.json"), state[:len(state)/3], 0o644) }},
		{"wrong shapes", func() {
			os.WriteFile(filepath.Join(dir, "state.json"), bytes.Replace(state, []byte(`"hidden": 24`), []byte(`"hidden": 25`), 1), 0o644)
		}},
		{"unknown model", func() {
			os.WriteFile(filepath.Join(dir, "state.json"), bytes.Replace(state, []byte(`"model": "denoising"`), []byte(`"model": "diffusion"`), 1), 0o644)
		}},
	} {
		tc.damage()
		if _, err := Resume(context.Background(), out, 2, TrainOptions{Out: t.TempDir(), Data: data.Testdata()}); err == nil {
			t.Errorf("%s: resume succeeded", tc.name)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
		restore()
	}
	if _, err := Resume(context.Background(), out, 2, TrainOptions{Out: t.TempDir(), Data: data.Testdata()}); err != nil {
		t.Errorf("restored checkpoint: %v", err)
	}
}

package ckpt

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
)

func smallCheckpoint(t *testing.T) (State, *graph.Store) {
	t.Helper()
	c, _ := models.Defaults("plain")
	c.Hidden = 3
	store := graph.NewStore()
	if _, err := models.Build(c, graph.Shape{In: 4, Batch: 1}, graph.Float32(), store, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	rng, _ := rand.NewPCG(1, 2).MarshalBinary()
	return State{Model: c, Train: []byte(`{"epochs":3}`), Dtype: "float32", In: 4, Epoch: 1, Step: 5, RNG: rng}, store
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestCheckpointWriteFailure makes a checkpoint write fail (an injected
// ENOSPC, see TestHookEnv) after its first file: the error names the
// cause, the half-written folder is gone, and the pointer still names the
// previous checkpoint, which loads.
func TestCheckpointWriteFailure(t *testing.T) {
	dir := t.TempDir()
	st, store := smallCheckpoint(t)
	if err := SaveCheckpoint(dir, st, store, Moments{}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(TestHookEnv, fmt.Sprintf("fail@%d", checkpoints.Load()+1))
	st2 := st
	st2.Epoch, st2.Step = 2, 10
	err := SaveCheckpoint(dir, st2, store, Moments{})
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("got %v, want a no-space error", err)
	}
	if got := entries(t, filepath.Join(dir, CheckpointsDir)); len(got) != 1 || got[0] != "step-00000005-epoch-1" {
		t.Errorf("checkpoints after the failure: %v, want only the previous one", got)
	}
	back, _, _, err := LoadCheckpoint(dir)
	if err != nil || back.Step != 5 {
		t.Fatalf("loading after the failure: step %d, %v", back.Step, err)
	}
	// The next write succeeds and clears the way.
	if err := SaveCheckpoint(dir, st2, store, Moments{}); err != nil {
		t.Fatal(err)
	}
	if back, _, _, err := LoadCheckpoint(dir); err != nil || back.Step != 10 {
		t.Fatalf("step %d, %v", back.Step, err)
	}
}

// TestCheckpointSameStepTwice re-saves a checkpoint of the step the pointer
// names (as an interrupted run does at an epoch's end): the pointed-to
// folder is never rewritten in place, and a crashed writer's partial
// folder is swept.
func TestCheckpointSameStepTwice(t *testing.T) {
	dir := t.TempDir()
	st, store := smallCheckpoint(t)
	if err := SaveCheckpoint(dir, st, store, Moments{}); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, CheckpointsDir, ".partial-step-00000007-123", "weights"), 0o755)
	st.EpochSeconds = 42
	if err := SaveCheckpoint(dir, st, store, Moments{}); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, filepath.Join(dir, CheckpointsDir)); len(got) != 1 || got[0] != "step-00000005-epoch-1-1" {
		t.Errorf("checkpoints: %v", got)
	}
	back, _, _, err := LoadCheckpoint(dir)
	if err != nil || back.EpochSeconds != 42 {
		t.Fatalf("loaded %v, %v", back.EpochSeconds, err)
	}
}

// TestSaveDiskFull saves a model into a tmpfs with room for one copy, then
// saves changed weights: the save fails naming the full disk, and the
// model saved before loads unchanged, with no temporary files left.
func TestSaveDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=32k"); err != nil {
		t.Skipf("cannot mount a small tmpfs (needs root and CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	st, store := smallCheckpoint(t)
	saved := Saved{Model: st.Model, Dtype: "float32", In: 4, Epoch: 1}
	if err := Save(dir, saved, store); err != nil {
		t.Fatalf("the first save should fit: %v", err)
	}
	before := map[string][]float64{}
	for _, n := range store.Names() {
		before[n] = store.Floats(n)
	}
	for _, n := range store.Names() {
		d := store.Get(n).Data().([]float32)
		for i := range d {
			d[i] += 1
		}
	}
	saved.Epoch = 2
	err := Save(dir, saved, store)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("got %v, want a no-space error", err)
	}
	back, loaded, err := Load(dir)
	if err != nil || back.Epoch != 1 {
		t.Fatalf("loading after the failed save: epoch %d, %v", back.Epoch, err)
	}
	for n, want := range before {
		for i, v := range loaded.Floats(n) {
			if v != want[i] {
				t.Fatalf("%s[%d] = %v, saved %v", n, i, v, want[i])
			}
		}
	}
	for _, d := range []string{dir, filepath.Join(dir, WeightsDir)} {
		for _, e := range entries(t, d) {
			if strings.Contains(e, ".tmp") {
				t.Errorf("temporary file %s left in %s", e, d)
			}
		}
	}
}

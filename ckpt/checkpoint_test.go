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
	if _, err := models.Build(c, graph.Shape{In: 4, Batch: 1}, graph.Float32, store, rand.New(rand.NewPCG(1, 1))); err != nil {
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

package zoo

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/internal/runlock"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/pkg/errors"
)

// RunFiles are the entries a run writes into its folder; --overwrite
// removes these and nothing else.
var runFiles = []string{
	MetricsFile, SummaryFile, ReconFile, SamplesFile, ckpt.ConfigFile, ckpt.WeightsDir, ckpt.PointerFile, ckpt.CheckpointsDir,
}

// ignored reports entries that do not make a folder non-empty: the lock
// file and the probe of checkWritable.
func ignored(name string) bool {
	return name == runlock.File || strings.HasPrefix(name, ".write-test")
}

// FolderInUseError is returned when another process (or another run of
// this process) holds a run folder; it is a *runlock.BusyError.
type FolderInUseError = runlock.BusyError

// OccupiedError refuses an output folder that is not empty.
type OccupiedError struct {
	Dir   string
	Run   string   // the run found there, described ("" if none)
	Other []string // entries that are not a run's
}

func (e *OccupiedError) Error() string {
	if e.Run != "" {
		return fmt.Sprintf("%s already holds %s: continue it with --resume %s, or replace it with --overwrite", e.Dir, e.Run, e.Dir)
	}
	return fmt.Sprintf("%s is not empty (%s) and holds no run: choose an empty or new folder, or write the run among these files with --overwrite", e.Dir, listFew(e.Other))
}

func listFew(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
}

// FinishedRun reopens the run in dir if it finished (summary.json is
// written only after training, evaluation and saving completed) with
// exactly the model c, the options o and the data where; otherwise it
// returns nil. Tools that rerun a plan of runs (reproductions, sweeps)
// reuse such runs instead of training them again.
func FinishedRun(dir string, c models.Config, o train.Options, where string) *Run {
	r, err := OpenRun(dir)
	if err != nil || r.Summary == nil || r.Summary.Config != c || r.Summary.Train != o || r.Summary.Data != where {
		return nil
	}
	return r
}

// DescribeRun describes the run in dir for messages: "a finished plain run
// (10 epochs, test loss 98.1234)", "an unfinished vae run (checkpoint after
// epoch 3, step 1404)", …; "" when dir holds no run files.
func DescribeRun(dir string) string {
	var s Summary
	if b, err := os.ReadFile(filepath.Join(dir, SummaryFile)); err == nil {
		if json.Unmarshal(b, &s) == nil && s.Model != "" {
			return fmt.Sprintf("a finished %s run (%d epochs, test loss %.4f)", s.Model, s.Epochs, s.TestLoss)
		}
		return "a run with a damaged " + SummaryFile
	}
	var saved ckpt.Saved
	model := "model"
	if b, err := os.ReadFile(filepath.Join(dir, ckpt.ConfigFile)); err == nil && json.Unmarshal(b, &saved) == nil && saved.Model.Model != "" {
		model = saved.Model.Model
	}
	var p struct{ Epoch, Step int }
	if b, err := os.ReadFile(filepath.Join(dir, ckpt.PointerFile)); err == nil && json.Unmarshal(b, &p) == nil {
		return fmt.Sprintf("an unfinished %s run (checkpoint after epoch %d, step %d)", model, p.Epoch, p.Step)
	}
	if model != "model" {
		return fmt.Sprintf("an unfinished %s run (model saved after epoch %d, no checkpoint)", model, saved.Epoch)
	}
	for _, f := range runFiles {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			return "the beginning of a run (no model saved yet)"
		}
	}
	return ""
}

// ClaimFolder gives this process the folder dir for a new run: it locks
// dir (creating it; a folder in use gives a *FolderInUseError naming the
// holder's pid), then requires it to be empty. With overwrite, the files of
// a run found there are removed instead (and the replacement stated on
// log, when not nil); other files are kept. A refused folder gives an
// *OccupiedError naming the run found and the options. The caller must
// Release the lock when the run ends; the kernel drops it if the process
// dies.
//
// Train, TrainOn and Resume claim their folders themselves; ClaimFolder is
// for tools that write many runs (sweeps, reproductions).
func ClaimFolder(dir string, overwrite bool, log io.Writer) (*runlock.Lock, error) {
	if dir == "" {
		return nil, errors.New("no output folder (--out DIR)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, errors.Errorf("cannot create output folder %s: %v", dir, err)
	}
	lock, err := LockFolder(dir)
	if err != nil {
		return nil, err
	}
	if err := claim(dir, overwrite, log); err != nil {
		lock.Release()
		return nil, err
	}
	return lock, nil
}

// LockFolder locks an existing run folder (for --resume) without looking
// at its contents; see ClaimFolder.
func LockFolder(dir string) (*runlock.Lock, error) {
	lock, err := runlock.Acquire(dir)
	if err != nil {
		return nil, err
	}
	if err := checkWritable(dir); err != nil {
		lock.Release()
		return nil, err
	}
	return lock, nil
}

func claim(dir string, overwrite bool, log io.Writer) error {
	es, err := os.ReadDir(dir)
	if err != nil {
		return errors.Wrapf(err, "reading output folder %s", dir)
	}
	isRun := map[string]bool{}
	for _, f := range runFiles {
		isRun[f] = true
	}
	var found, other []string
	for _, e := range es {
		switch {
		case ignored(e.Name()):
		case isRun[e.Name()]:
			found = append(found, e.Name())
		default:
			other = append(other, e.Name())
		}
	}
	if len(found) == 0 && len(other) == 0 {
		return nil
	}
	sort.Strings(other)
	desc := DescribeRun(dir)
	if !overwrite {
		return &OccupiedError{Dir: dir, Run: desc, Other: other}
	}
	if log != nil {
		if desc != "" {
			fmt.Fprintf(log, "--overwrite: replacing %s in %s\n", desc, dir)
		}
		if len(other) > 0 {
			fmt.Fprintf(log, "--overwrite: writing the run into %s beside files that are not a run's, which are kept: %s\n", dir, listFew(other))
		}
	}
	for _, f := range found {
		if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
			return errors.Wrapf(err, "--overwrite: removing %s", filepath.Join(dir, f))
		}
	}
	return nil
}

package ckpt

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Checkpoint files: a run folder's checkpoint.json points to the folder of
// the latest complete checkpoint under checkpoints/.
const (
	PointerFile    = "checkpoint.json"
	CheckpointsDir = "checkpoints"
	StateFile      = "state.json"
	stateVersion   = 1
)

// State is everything besides tensors that a training run needs to
// continue exactly where it stopped.
type State struct {
	Version int             `json:"version"`
	Model   models.Config   `json:"model"`
	Train   json.RawMessage `json:"train"` // the trainer's options
	Dtype   string          `json:"dtype"`
	In      int             `json:"in"`

	Epoch        int     `json:"epoch"`      // epochs finished
	Step         int     `json:"step"`       // steps taken
	EpochStep    int     `json:"epoch_step"` // steps taken in the unfinished epoch
	LossSum      float64 `json:"loss_sum"`   // sum of the unfinished epoch's step losses
	EpochSeconds float64 `json:"epoch_seconds"`
	Perm         []int   `json:"perm,omitempty"` // the unfinished epoch's example order
	RNG          []byte  `json:"rng"`            // the training stream (PCG state)
	AdamT        int     `json:"adam_t"`
	// LogEvery is the run's step-log interval (--log-every; 0: none), and
	// LogSum and LogSteps its running mean: the sum of the step losses
	// since the last step line, and their count.
	LogEvery int     `json:"log_every,omitempty"`
	LogSum   float64 `json:"log_sum,omitempty"`
	LogSteps int     `json:"log_steps,omitempty"`

	Params  []Param `json:"params"`
	Moments []Param `json:"moments"` // Adam m and v, named m/NAME and v/NAME
}

// Moments are the Adam moment tensors by parameter name.
type Moments struct{ M, V map[string]*tensor.Dense }

type pointer struct {
	Path  string `json:"path"`
	Epoch int    `json:"epoch"`
	Step  int    `json:"step"`
}

// SaveCheckpoint writes a complete checkpoint into a new folder
// checkpoints/step-NNNNNNNN of runDir, every file fsynced, then atomically
// points checkpoint.json at it and removes older checkpoints. The files
// are first written into a hidden .partial-* folder, renamed into place
// once complete: a crash at any moment leaves the previous checkpoint and
// the pointer intact (a stray .partial-* folder is removed by the next
// checkpoint), and a write that fails (disk full) removes what it wrote and
// returns the cause.
func SaveCheckpoint(runDir string, st State, store *graph.Store, mom Moments) (err error) {
	hook := newTestHook()
	name := fmt.Sprintf("step-%08d", st.Step)
	if st.EpochStep == 0 {
		name = fmt.Sprintf("step-%08d-epoch-%d", st.Step, st.Epoch)
	}
	root := filepath.Join(runDir, CheckpointsDir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return errors.Wrap(err, "checkpoint")
	}
	dir, err := os.MkdirTemp(root, ".partial-"+name+"-*")
	if err != nil {
		return errors.Wrap(err, "checkpoint")
	}
	final := ""
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
			if final != "" {
				os.RemoveAll(final)
			}
		}
	}()
	for _, sub := range []string{"weights", "adam"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			return errors.Wrap(err, "checkpoint")
		}
	}
	write := func(file string, t *tensor.Dense) error {
		if err := hook.file(filepath.Join(dir, file)); err != nil {
			return err
		}
		return WriteAtomic(filepath.Join(dir, file), func(w *bufio.Writer) error { return WriteNpy(w, t) })
	}
	st.Version = stateVersion
	st.Params, st.Moments = nil, nil
	for _, n := range store.Names() {
		t := store.Get(n)
		file := filepath.Join("weights", n+".npy")
		if err := write(file, t); err != nil {
			return errors.Wrapf(err, "checkpoint: parameter %s", n)
		}
		st.Params = append(st.Params, Param{Name: n, File: file, Shape: []int(t.Shape())})
		for _, k := range []struct {
			prefix string
			m      map[string]*tensor.Dense
		}{{"m", mom.M}, {"v", mom.V}} {
			mt := k.m[n]
			if mt == nil {
				continue
			}
			file := filepath.Join("adam", k.prefix+"."+n+".npy")
			if err := write(file, mt); err != nil {
				return errors.Wrapf(err, "checkpoint: Adam state of %s", n)
			}
			st.Moments = append(st.Moments, Param{Name: k.prefix + "/" + n, File: file, Shape: []int(mt.Shape())})
		}
	}
	if err := hook.file(filepath.Join(dir, StateFile)); err != nil {
		return errors.Wrap(err, "checkpoint: state")
	}
	if err := WriteJSON(filepath.Join(dir, StateFile), st); err != nil {
		return errors.Wrap(err, "checkpoint")
	}
	for _, sub := range []string{"weights", "adam", ""} {
		syncDir(filepath.Join(dir, sub))
	}
	// A checkpoint of the same step may exist (one written at an epoch's
	// end, then again on interruption): never replace the folder the
	// pointer may name, take a fresh name.
	rel := ""
	for i := 0; rel == ""; i++ {
		n := name
		if i > 0 {
			n = fmt.Sprintf("%s-%d", name, i)
		}
		if _, err := os.Lstat(filepath.Join(root, n)); os.IsNotExist(err) {
			rel, name = filepath.Join(CheckpointsDir, n), n
		}
	}
	if err := os.Rename(dir, filepath.Join(runDir, rel)); err != nil {
		return errors.Wrap(err, "checkpoint")
	}
	final = filepath.Join(runDir, rel)
	syncDir(root)
	if err := hook.file(filepath.Join(runDir, PointerFile)); err != nil {
		return errors.Wrap(err, "checkpoint: pointer")
	}
	if err := WriteJSON(filepath.Join(runDir, PointerFile), pointer{Path: rel, Epoch: st.Epoch, Step: st.Step}); err != nil {
		return errors.Wrap(err, "checkpoint")
	}
	// Remove the checkpoints that are no longer pointed to, and what
	// crashed writers left behind.
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if e.Name() != name {
			os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
	return nil
}

// LoadCheckpoint reads the latest checkpoint of runDir and checks it
// thoroughly: a known model with valid hyperparameters, parameters that
// fit that model's architecture, Adam moments of matching shapes, a
// permutation of the right length.
func LoadCheckpoint(runDir string) (State, *graph.Store, Moments, error) {
	var st State
	mom := Moments{M: map[string]*tensor.Dense{}, V: map[string]*tensor.Dense{}}
	var p pointer
	if err := readJSONFile(filepath.Join(runDir, PointerFile), &p); err != nil {
		return st, nil, mom, errors.Wrapf(err, "no checkpoint in %s", runDir)
	}
	if p.Path == "" || strings.Contains(p.Path, "..") || filepath.IsAbs(p.Path) {
		return st, nil, mom, errors.Errorf("damaged checkpoint pointer %s", filepath.Join(runDir, PointerFile))
	}
	dir := filepath.Join(runDir, p.Path)
	if err := readJSONFile(filepath.Join(dir, StateFile), &st); err != nil {
		return st, nil, mom, errors.Wrap(err, "damaged checkpoint")
	}
	if st.Version != stateVersion {
		return st, nil, mom, errors.Errorf("checkpoint %s has version %d, this zoo reads version %d", dir, st.Version, stateVersion)
	}
	spec, err := models.SpecOf(st.Model)
	if err != nil {
		return st, nil, mom, errors.Wrapf(err, "checkpoint %s", dir)
	}
	if err := spec.Validate(st.Model); err != nil {
		return st, nil, mom, errors.Wrapf(err, "checkpoint %s", dir)
	}
	dt, err := graph.ParseDtype(st.Dtype)
	if err != nil {
		return st, nil, mom, errors.Wrapf(err, "checkpoint %s", dir)
	}
	if st.In <= 0 || st.Epoch < 0 || st.Step < 0 || st.EpochStep < 0 || len(st.RNG) == 0 || st.AdamT < 0 {
		return st, nil, mom, errors.Errorf("damaged checkpoint %s: bad counters or missing generator state", dir)
	}
	store := graph.NewStore()
	read := func(p Param) (*tensor.Dense, error) {
		if strings.Contains(p.File, "..") || filepath.IsAbs(p.File) {
			return nil, errors.Errorf("bad file name %q", p.File)
		}
		t, err := ReadNpyFile(filepath.Join(dir, p.File))
		if err != nil {
			return nil, err
		}
		if t.Dtype() != dt {
			return nil, errors.Errorf("%s has dtype %v, the checkpoint says %v", p.File, t.Dtype(), dt)
		}
		return t, nil
	}
	for _, p := range st.Params {
		t, err := read(p)
		if err != nil {
			return st, nil, mom, errors.Wrapf(err, "checkpoint %s: parameter %s", dir, p.Name)
		}
		store.Set(p.Name, t)
	}
	store.Frozen = true
	m, err := models.Build(st.Model, graph.Shape{In: st.In, Batch: 1}, dt, store, nil)
	store.Frozen = false
	if err != nil {
		return st, nil, mom, errors.Wrapf(err, "checkpoint %s does not fit the %s model", dir, st.Model.Model)
	}
	if len(m.Params) != len(st.Params) || len(store.Names()) != len(st.Params) {
		return st, nil, mom, errors.Errorf("checkpoint %s: %d parameters, the %s model has %d", dir, len(st.Params), st.Model.Model, len(m.Params))
	}
	for _, p := range st.Moments {
		kind, name, ok := strings.Cut(p.Name, "/")
		w := store.Get(name)
		if !ok || (kind != "m" && kind != "v") || w == nil {
			return st, nil, mom, errors.Errorf("checkpoint %s: unknown optimizer state %q", dir, p.Name)
		}
		t, err := read(p)
		if err != nil {
			return st, nil, mom, errors.Wrapf(err, "checkpoint %s: optimizer state %s", dir, p.Name)
		}
		if !t.Shape().Eq(w.Shape()) {
			return st, nil, mom, errors.Errorf("checkpoint %s: optimizer state %s has shape %v, the parameter %v", dir, p.Name, t.Shape(), w.Shape())
		}
		if kind == "m" {
			mom.M[name] = t
		} else {
			mom.V[name] = t
		}
	}
	if st.AdamT > 0 && (len(mom.M) != len(st.Params) || len(mom.V) != len(st.Params)) {
		return st, nil, mom, errors.Errorf("checkpoint %s: Adam state for %d/%d of %d parameters", dir, len(mom.M), len(mom.V), len(st.Params))
	}
	return st, store, mom, nil
}

// WriteJSON writes v as indented JSON to path, atomically (see WriteAtomic).
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return errors.Wrapf(err, "encoding %s", path)
	}
	return WriteAtomic(path, func(w *bufio.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

func readJSONFile(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() > 64<<20 {
		return errors.Errorf("%s is too large (%d bytes)", path, st.Size())
	}
	dec := json.NewDecoder(bufio.NewReader(f))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.Wrapf(err, "%s: damaged JSON", path)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return errors.Wrap(err, "checkpoint")
	}
	defer d.Close()
	d.Sync() // best effort: not every file system syncs folders
	return nil
}

package classify

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/graph"
	"github.com/pkg/errors"
)

// File names a saved classifier's description inside its folder; the
// weights are in ckpt.WeightsDir, one .npy file per parameter.
const File = "classifier.json"

// saved is the JSON description of a saved classifier.
type saved struct {
	Config    Config       `json:"config"`
	Options   Options      `json:"options"`
	In        int          `json:"in"`
	Dtype     string       `json:"dtype"`
	Epochs    int          `json:"epochs"`
	BestEpoch int          `json:"best_epoch"`
	ValError  *float64     `json:"val_error"` // null without a validation split
	History   []EpochLog   `json:"-"`
	Params    []ckpt.Param `json:"params"`
}

// Save writes the classifier into dir: dir/classifier.json and
// dir/weights/NAME.npy for every parameter (readable by numpy), each
// written atomically. The training history is not saved.
func (cl *Classifier) Save(dir string) error {
	wdir := filepath.Join(dir, ckpt.WeightsDir)
	if err := os.MkdirAll(wdir, 0o755); err != nil {
		return errors.Wrap(err, "classify: saving")
	}
	s := saved{Config: cl.Config, Options: cl.Options, In: cl.In, Dtype: cl.Dtype.String(), Epochs: cl.Epochs, BestEpoch: cl.BestEpoch}
	if !math.IsNaN(cl.ValError) {
		v := cl.ValError
		s.ValError = &v
	}
	for _, name := range cl.Store.Names() {
		t := cl.Store.Get(name)
		file := filepath.Join(ckpt.WeightsDir, name+".npy")
		if err := ckpt.WriteAtomic(filepath.Join(dir, file), func(w *bufio.Writer) error { return ckpt.WriteNpy(w, t) }); err != nil {
			return errors.Wrapf(err, "classify: saving parameter %s", name)
		}
		s.Params = append(s.Params, ckpt.Param{Name: name, File: file, Shape: []int(t.Shape())})
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return errors.Wrap(err, "classify: encoding the description")
	}
	return errors.Wrap(ckpt.WriteAtomic(filepath.Join(dir, File), func(w *bufio.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	}), "classify: saving")
}

// Load reads a classifier saved by Save, checking every parameter's
// presence, shape and dtype against the saved architecture.
func Load(dir string) (*Classifier, error) {
	b, err := os.ReadFile(filepath.Join(dir, File))
	if err != nil {
		return nil, errors.Wrapf(err, "classify: loading from %s (is it a folder written by Classifier.Save?)", dir)
	}
	var s saved
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, errors.Wrapf(err, "classify: %s is damaged", filepath.Join(dir, File))
	}
	if err := s.Config.Validate(s.In); err != nil {
		return nil, errors.Wrapf(err, "classify: loading %s", dir)
	}
	dt, err := graph.ParseDtype(s.Dtype)
	if err != nil {
		return nil, errors.Wrapf(err, "classify: loading %s", dir)
	}
	store := graph.NewStore()
	for _, p := range s.Params {
		if strings.Contains(p.File, "..") || filepath.IsAbs(p.File) {
			return nil, errors.Errorf("classify: loading %s: bad parameter path %q", dir, p.File)
		}
		t, err := ckpt.ReadNpyFile(filepath.Join(dir, p.File))
		if err != nil {
			return nil, errors.Wrapf(err, "classify: loading parameter %s", p.Name)
		}
		if t.Dtype() != dt {
			return nil, errors.Errorf("classify: loading parameter %s: dtype %v, the description says %v", p.Name, t.Dtype(), dt)
		}
		store.Set(p.Name, t)
	}
	store.Frozen = true
	m, err := Declare(s.Config, graph.Shape{In: s.In, Batch: 1}, dt, store, nil, nil)
	store.Frozen = false
	if err != nil {
		return nil, errors.Wrapf(err, "classify: loading %s: the weights do not fit the classifier", dir)
	}
	if len(m.Params) != len(store.Names()) {
		return nil, errors.Errorf("classify: loading %s: %d saved parameters, the classifier has %d", dir, len(store.Names()), len(m.Params))
	}
	cl := &Classifier{Config: s.Config, Options: s.Options, In: s.In, Dtype: dt, Store: store,
		Epochs: s.Epochs, BestEpoch: s.BestEpoch, ValError: math.NaN()}
	if s.ValError != nil {
		cl.ValError = *s.ValError
	}
	return cl, nil
}

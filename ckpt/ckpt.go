// Package ckpt saves and loads trained models: a JSON config and one .npy
// file per parameter (readable by numpy and PyTorch), written atomically.
package ckpt

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/pkg/errors"
)

// ConfigFile and WeightsDir name the parts of a saved model inside its folder.
const (
	ConfigFile = "config.json"
	WeightsDir = "weights"
)

// Param records one saved parameter.
type Param struct {
	Name  string `json:"name"`
	File  string `json:"file"`
	Shape []int  `json:"shape"`
}

// Saved is the JSON description of a saved model.
type Saved struct {
	Model  models.Config   `json:"model"`
	Train  json.RawMessage `json:"train,omitempty"` // the trainer's options
	Dtype  string          `json:"dtype"`
	In     int             `json:"in"` // input features
	Epoch  int             `json:"epoch"`
	Params []Param         `json:"params"`
}

// Save writes the model in dir: dir/weights/NAME.npy for each parameter
// (weights of a Dense layer are in×out: PyTorch's Linear.weight is their
// transpose) and dir/config.json. Every file is first written in full to a
// temporary file and fsynced; only when all are written are they renamed
// into place, so a write that fails (disk full) leaves the model saved
// before intact.
func Save(dir string, s Saved, store *graph.Store) (err error) {
	wdir := filepath.Join(dir, WeightsDir)
	if err := os.MkdirAll(wdir, 0o755); err != nil {
		return errors.Wrap(err, "saving model")
	}
	var temps, finals []string
	defer func() {
		if err != nil {
			for _, t := range temps {
				os.Remove(t)
			}
		}
	}()
	s.Params = nil
	for _, name := range store.Names() {
		t := store.Get(name)
		file := filepath.Join(WeightsDir, name+".npy")
		tmp, err := writeTemp(filepath.Join(dir, file), func(w *bufio.Writer) error { return WriteNpy(w, t) })
		if err != nil {
			return errors.Wrapf(err, "saving parameter %s", name)
		}
		temps, finals = append(temps, tmp), append(finals, filepath.Join(dir, file))
		s.Params = append(s.Params, Param{Name: name, File: file, Shape: []int(t.Shape())})
	}
	if s.Dtype == "" && len(s.Params) > 0 {
		s.Dtype = store.Get(s.Params[0].Name).Dtype().String()
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return errors.Wrap(err, "encoding config")
	}
	tmp, err := writeTemp(filepath.Join(dir, ConfigFile), func(w *bufio.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
	if err != nil {
		return errors.Wrap(err, "saving model")
	}
	temps, finals = append(temps, tmp), append(finals, filepath.Join(dir, ConfigFile))
	for i := range temps {
		if err := os.Rename(temps[i], finals[i]); err != nil {
			return errors.Wrapf(err, "renaming into %s", finals[i])
		}
	}
	return nil
}

// Load reads a model saved by Save and checks that the parameters match
// the model's architecture (names, shapes and dtype).
func Load(dir string) (Saved, *graph.Store, error) {
	var s Saved
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return s, nil, errors.Wrapf(err, "loading model from %s (is it a folder written by `zoo train`?)", dir)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, nil, errors.Wrapf(err, "loading %s: damaged config", filepath.Join(dir, ConfigFile))
	}
	spec, err := models.SpecOf(s.Model)
	if err != nil {
		return s, nil, errors.Wrapf(err, "loading %s", dir)
	}
	if err := spec.Validate(s.Model); err != nil {
		return s, nil, errors.Wrapf(err, "loading %s", dir)
	}
	dt, err := graph.ParseDtype(s.Dtype)
	if err != nil {
		return s, nil, errors.Wrapf(err, "loading %s", dir)
	}
	if s.In <= 0 {
		return s, nil, errors.Errorf("loading %s: config has no input size", dir)
	}
	store := graph.NewStore()
	for _, p := range s.Params {
		if strings.Contains(p.File, "..") {
			return s, nil, errors.Errorf("loading %s: bad parameter path %q", dir, p.File)
		}
		t, err := ReadNpyFile(filepath.Join(dir, p.File))
		if err != nil {
			return s, nil, errors.Wrapf(err, "loading parameter %s", p.Name)
		}
		if t.Dtype() != dt {
			return s, nil, errors.Errorf("loading parameter %s: dtype %v, config says %v", p.Name, t.Dtype(), dt)
		}
		store.Set(p.Name, t)
	}
	// Building the model checks every parameter's presence and shape.
	store.Frozen = true
	m, err := models.Build(s.Model, graph.Shape{In: s.In, Batch: 1}, dt, store, nil)
	store.Frozen = false
	if err != nil {
		return s, nil, errors.Wrapf(err, "loading %s: weights do not fit the %s model", dir, s.Model.Model)
	}
	if len(m.Params) != len(s.Params) || len(store.Names()) != len(s.Params) {
		return s, nil, errors.Errorf("loading %s: %d saved parameters, the %s model has %d", dir, len(s.Params), s.Model.Model, len(m.Params))
	}
	return s, store, nil
}

// WriteAtomic writes a file through a temporary file in the same folder,
// fsyncs it and renames it into place, so readers never see a partial file.
func WriteAtomic(path string, write func(w *bufio.Writer) error) error {
	tmp, err := writeTemp(path, write)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return errors.Wrapf(err, "renaming into %s", path)
	}
	return nil
}

// writeTemp writes a complete, fsynced temporary file beside path and
// returns its name; on failure it removes it.
func writeTemp(path string, write func(w *bufio.Writer) error) (name string, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", errors.Wrap(err, "creating temporary file")
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<16)
	if err = write(w); err != nil {
		return "", err
	}
	if err = w.Flush(); err != nil {
		return "", errors.Wrapf(err, "writing %s", path)
	}
	if err = f.Chmod(0o644); err != nil {
		return "", errors.Wrapf(err, "writing %s", path)
	}
	if err = f.Sync(); err != nil {
		return "", errors.Wrapf(err, "syncing %s", path)
	}
	if err = f.Close(); err != nil {
		return "", errors.Wrapf(err, "closing %s", path)
	}
	return f.Name(), nil
}

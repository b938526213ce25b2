package sweep

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/pkg/errors"
)

// Files and folders inside a sweep folder.
const (
	SpecFile    = "sweep.json"
	RunsDir     = "runs"
	StateDir    = "state"
	LogsDir     = "logs"
	SbatchFile  = "sweep.sbatch"
	K8sFile     = "sweep-job.yaml"
	ReportFile  = "report.md"
	ResultsFile = "results.json"
)

// SeedKey is the key aggregated over: report rows are grid points without
// it, with mean ± std over its values.
const SeedKey = "seed"

// Axis is one swept key and its values, as written on the command line.
type Axis struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// Param is one key's value in a task.
type Param struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Task is one point of the grid.
type Task struct {
	Index  int     `json:"index"`
	Name   string  `json:"name"` // the run folder's name under DIR/runs
	Params []Param `json:"params"`
}

// Spec is a sweep: a model, its base settings (those not swept), and the
// axes. It is stored as DIR/sweep.json.
type Spec struct {
	Model  string        `json:"model"`
	Config models.Config `json:"config"` // the base hyperparameters
	Train  train.Options `json:"train"`  // the base train options
	Axes   []Axis        `json:"axes"`
	// Data is the data folder every task reads ("" locates it at run
	// time: $AEZOO_DATA, then the GoMNIST module).
	Data string `json:"data,omitempty"`
	// Dataset is a named data set every task reads instead (--dataset).
	Dataset data.Name `json:"dataset,omitempty"`
	// Labels is a .npy file of labels for a .npy Data file (--labels).
	Labels string `json:"labels,omitempty"`
	// Rows and Cols, when positive, resize the images of an image-folder
	// Data (--size HxW).
	Rows int `json:"rows,omitempty"`
	Cols int `json:"cols,omitempty"`
	// CheckpointEvery also checkpoints every this many steps (0: at
	// epoch ends only).
	CheckpointEvery int `json:"checkpoint_every,omitempty"`
	// Threads is every task's GOMAXPROCS under the launchers (0: 1). It
	// is part of the spec because OpenBLAS's products, and so the trained
	// weights, depend on the thread count in their last bits: with the same
	// threads a task gives bit-identical numbers under every launcher.
	Threads int `json:"threads,omitempty"`
	// Tasks lists the expanded grid, for readers of sweep.json; it is
	// recomputed from the axes when loading.
	Tasks []Task `json:"tasks"`
}

// KeyError reports a bad sweep key or value; the CLI makes it a usage
// error.
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string { return fmt.Sprintf("sweep key %q: %v", e.Key, e.Err) }

// Unwrap returns the underlying error.
func (e *KeyError) Unwrap() error { return e.Err }

// trainKeys are the train options a sweep may vary, bound on a flag set.
func bindTrain(fs *flag.FlagSet, o *train.Options) {
	fs.IntVar(&o.Epochs, "epochs", o.Epochs, "")
	fs.IntVar(&o.Batch, "batch", o.Batch, "")
	fs.Float64Var(&o.LR, "lr", o.LR, "")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "")
	fs.StringVar(&o.Dtype, "dtype", o.Dtype, "")
	fs.StringVar(&o.Binarize, "binarize", o.Binarize, "")
	fs.IntVar(&o.TrainLimit, "train-limit", o.TrainLimit, "")
	fs.IntVar(&o.TestLimit, "test-limit", o.TestLimit, "")
	fs.IntVar(&o.EvalBatch, "eval-batch", o.EvalBatch, "")
	fs.StringVar(&o.LRSchedule, "lr-schedule", o.LRSchedule, "")
	fs.IntVar(&o.EvalEvery, "eval-every", o.EvalEvery, "")
}

// Keys lists the keys a sweep of the model may vary: its hyperparameters,
// then the train options.
func Keys(model string) ([]string, error) {
	spec, err := models.Lookup(model)
	if err != nil {
		return nil, err
	}
	keys := append([]string(nil), spec.Hypers...)
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	o := train.DefaultOptions()
	bindTrain(fs, &o)
	fs.VisitAll(func(f *flag.Flag) { keys = append(keys, f.Name) })
	return keys, nil
}

// canonicalKey accepts noise_level for noise-level.
func canonicalKey(k string) string { return strings.ReplaceAll(strings.TrimSpace(k), "_", "-") }

// ParseAxis parses one override "key=v1,v2,...".
func ParseAxis(arg string) (Axis, error) {
	k, v, ok := strings.Cut(arg, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return Axis{}, errors.Errorf("bad sweep argument %q: want KEY=V1,V2,...", arg)
	}
	key := canonicalKey(k)
	if v == "" {
		return Axis{}, &KeyError{key, errors.New("no values")}
	}
	var vals []string
	seen := map[string]bool{}
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			return Axis{}, &KeyError{key, errors.Errorf("empty value in %q", v)}
		}
		if strings.ContainsAny(s, "/\\=") || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
			return Axis{}, &KeyError{key, errors.Errorf("value %q: no '/', '\\', '=' or spaces allowed (it names the run folder)", s)}
		}
		if seen[s] {
			return Axis{}, &KeyError{key, errors.Errorf("value %q given twice", s)}
		}
		seen[s] = true
		vals = append(vals, s)
	}
	return Axis{Key: key, Values: vals}, nil
}

// New returns the sweep of model over axes, with base settings c and o.
// It checks every key (a hyperparameter of the model or a train option),
// parses every value, and validates the settings of every task, so that a
// bad sweep fails before anything runs; such errors are *KeyError.
func New(c models.Config, o train.Options, axes []Axis) (Spec, error) {
	s := Spec{Model: c.Model, Config: c, Train: o, Axes: axes}
	if err := s.check(); err != nil {
		return Spec{}, err
	}
	s.Tasks = s.expand()
	return s, nil
}

func (s *Spec) check() error {
	mspec, err := models.Lookup(s.Model)
	if err != nil {
		return err
	}
	if len(s.Axes) == 0 {
		return errors.New("nothing to sweep: give at least one KEY=V1,V2,...")
	}
	keys, _ := Keys(s.Model)
	known := map[string]bool{}
	for _, k := range keys {
		known[k] = true
	}
	seen := map[string]bool{}
	for i, a := range s.Axes {
		a.Key = canonicalKey(a.Key)
		s.Axes[i].Key = a.Key
		if !known[a.Key] {
			if _, isHyper := models.LookupHyper(a.Key); isHyper {
				return &KeyError{a.Key, errors.Errorf("model %s has no hyperparameter %q (it has %s)", s.Model, a.Key, strings.Join(mspec.Hypers, ", "))}
			}
			return &KeyError{a.Key, errors.Errorf("unknown key (known for %s: %s)", s.Model, strings.Join(keys, ", "))}
		}
		if seen[a.Key] {
			return &KeyError{a.Key, errors.New("swept twice")}
		}
		seen[a.Key] = true
		if len(a.Values) == 0 {
			return &KeyError{a.Key, errors.New("no values")}
		}
		// Each value alone must parse.
		for _, v := range a.Values {
			if _, _, err := s.apply([]Param{{a.Key, v}}); err != nil {
				return err
			}
		}
	}
	// Every task's settings must be valid together (e.g. k ≤ hidden).
	for _, t := range s.expand() {
		c, o, err := s.apply(t.Params)
		if err != nil {
			return err
		}
		if err := mspec.Validate(c); err != nil {
			return &KeyError{firstKeyIn(err.Error(), t.Params), errors.Wrapf(err, "task %s", t.Name)}
		}
		if err := o.Validate(); err != nil {
			return &KeyError{firstKeyIn(err.Error(), t.Params), errors.Wrapf(err, "task %s", t.Name)}
		}
	}
	return nil
}

// firstKeyIn names the swept key a validation message is about.
func firstKeyIn(msg string, ps []Param) string {
	for _, p := range ps {
		for rest := msg; ; {
			i := strings.Index(rest, "--"+p.Key)
			if i < 0 {
				break
			}
			rest = rest[i+2+len(p.Key):]
			if rest == "" || !(rest[0] == '-' || rest[0] == '_' || unicode.IsLetter(rune(rest[0]))) {
				return p.Key
			}
		}
	}
	if len(ps) > 0 {
		return ps[0].Key
	}
	return ""
}

// apply returns the base settings with the params set.
func (s *Spec) apply(ps []Param) (models.Config, train.Options, error) {
	c, o := s.Config, s.Train
	c.Model = s.Model
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	spec, err := models.SpecOf(c)
	if err != nil {
		return c, o, err
	}
	spec.BindFlags(fs, &c)
	bindTrain(fs, &o)
	for _, p := range ps {
		if err := fs.Set(p.Key, p.Value); err != nil {
			return c, o, &KeyError{p.Key, errors.Errorf("bad value %q: %v", p.Value, unwrapFlagErr(err))}
		}
	}
	return c, o, nil
}

func unwrapFlagErr(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// expand lists the grid's tasks: the product of the axes in order, the
// last axis varying fastest.
func (s *Spec) expand() []Task {
	n := 1
	for _, a := range s.Axes {
		n *= len(a.Values)
	}
	tasks := make([]Task, n)
	for i := range tasks {
		ps := make([]Param, len(s.Axes))
		r := i
		for j := len(s.Axes) - 1; j >= 0; j-- {
			a := s.Axes[j]
			ps[j] = Param{a.Key, a.Values[r%len(a.Values)]}
			r /= len(a.Values)
		}
		tasks[i] = Task{Index: i, Name: TaskName(i, ps), Params: ps}
	}
	return tasks
}

// TaskName is a task's run folder name: "<index>-<key=value,...>".
func TaskName(index int, ps []Param) string {
	kv := make([]string, len(ps))
	for i, p := range ps {
		kv[i] = p.Key + "=" + p.Value
	}
	return fmt.Sprintf("%d-%s", index, strings.Join(kv, ","))
}

// Len is the number of tasks.
func (s *Spec) Len() int { return len(s.Tasks) }

// Task returns task i, or an error when i is out of range.
func (s *Spec) Task(i int) (Task, error) {
	if i < 0 || i >= len(s.Tasks) {
		return Task{}, errors.Errorf("task index %d out of range: the sweep has %d tasks (0..%d)", i, len(s.Tasks), len(s.Tasks)-1)
	}
	return s.Tasks[i], nil
}

// Settings returns task t's model config and train options.
func (s *Spec) Settings(t Task) (models.Config, train.Options, error) {
	return s.apply(t.Params)
}

// RunDir is task t's run folder in the sweep folder dir.
func RunDir(dir string, t Task) string { return filepath.Join(dir, RunsDir, t.Name) }

// Create writes the spec to dir/sweep.json. If dir already holds a sweep,
// it must be the same one (a rerun continues it); a different one is an
// error, so that no finished run is mixed with another sweep's.
func Create(dir string, s Spec) error {
	if err := os.MkdirAll(filepath.Join(dir, RunsDir), 0o755); err != nil {
		return errors.Wrapf(err, "creating sweep folder %s", dir)
	}
	path := filepath.Join(dir, SpecFile)
	if old, err := Load(dir); err == nil {
		a, _ := json.Marshal(old)
		b, _ := json.Marshal(s)
		if !bytes.Equal(a, b) {
			return errors.Errorf("%s already holds a different sweep (%s %s); use another --out folder", dir, old.Model, describeAxes(old.Axes))
		}
		return nil
	} else if !os.IsNotExist(errors.Cause(err)) {
		return err
	}
	return ckpt.WriteJSON(path, s)
}

// Source is where every task's data come from.
func (s *Spec) Source() data.Source {
	return data.Source{Dataset: s.Dataset, Path: s.Data, Labels: s.Labels, Rows: s.Rows, Cols: s.Cols}
}

func describeAxes(axes []Axis) string {
	var parts []string
	for _, a := range axes {
		parts = append(parts, a.Key+"="+strings.Join(a.Values, ","))
	}
	return strings.Join(parts, " ")
}

// Load reads dir/sweep.json and checks it.
func Load(dir string) (Spec, error) {
	var s Spec
	b, err := os.ReadFile(filepath.Join(dir, SpecFile))
	if err != nil {
		if os.IsNotExist(err) {
			return s, errors.WithMessagef(err, "%s is not a sweep folder (no %s)", dir, SpecFile)
		}
		return s, errors.Wrap(err, "reading the sweep spec")
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, errors.Wrapf(err, "%s: damaged %s", dir, SpecFile)
	}
	if err := s.check(); err != nil {
		return s, errors.Wrapf(err, "%s: bad %s", dir, SpecFile)
	}
	s.Tasks = s.expand()
	return s, nil
}

// swept reports whether key is one of the axes.
func (s *Spec) swept(key string) bool {
	for _, a := range s.Axes {
		if a.Key == key {
			return true
		}
	}
	return false
}

// gridKeys are the swept keys other than the seed, in axis order.
func (s *Spec) gridKeys() []string {
	var ks []string
	for _, a := range s.Axes {
		if a.Key != SeedKey {
			ks = append(ks, a.Key)
		}
	}
	return ks
}

// settingValue returns the value of key in c or o.
func settingValue(key string, c models.Config, o train.Options) any {
	if h, ok := models.LookupHyper(key); ok {
		return h.Value(c)
	}
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	bindTrain(fs, &o)
	if f := fs.Lookup(key); f != nil {
		return f.Value.(flag.Getter).Get()
	}
	return nil
}

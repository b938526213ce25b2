// Package zoo is the zoo's high-level API, shared by the `zoo` command and
// notebooks: train a registered model on MNIST (or any IDX data) and write
// its run folder, reload a run folder and evaluate it.
//
// A run folder holds metrics.jsonl (one JSON object per epoch),
// summary.json (model, config, final test metrics), config.json and
// weights/*.npy (the trained model, see package ckpt) and recon.png.
//
// A run folder is never silently overwritten or shared: Train, TrainOn and
// Resume claim their folder (ClaimFolder: an exclusive lock for the life of
// the run, and a new run only in an absent or empty folder unless
// TrainOptions.Overwrite); FinishedRun tells a finished run that can be
// reused.
package zoo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/internal/progress"
	"github.com/aezoo/aezoo/internal/runlock"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/aezoo/aezoo/viz"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Files inside a run folder.
const (
	MetricsFile = "metrics.jsonl"
	SummaryFile = "summary.json"
	ReconFile   = "recon.png"
	// SamplesFile holds samples of an adversarial model (which has no
	// reconstruction to draw), in place of ReconFile.
	SamplesFile = "samples.png"
)

// LoadData locates MNIST (see data.Locate: dir, then $AEZOO_DATA, then the
// GoMNIST module) and loads both splits with the given limits.
// A dir that names a .npy or .npz file or an image folder is read as
// data.Open does.
func LoadData(dir string, trainLimit, testLimit int) (trainSet, testSet *data.Dataset, where string, err error) {
	return data.Open(data.Source{Path: dir}, trainLimit, testLimit)
}

// source returns the data source of to: to.Source, with to.Data as its
// path when it has none.
func (to TrainOptions) source(seed uint64) data.Source {
	src := to.Source
	if src.Path == "" && src.Dataset == "" {
		src.Path = to.Data
	}
	if src.Seed == 0 {
		src.Seed = seed
	}
	return src
}

// TrainOptions are the options of Train and Resume beyond the model and
// trainer settings.
type TrainOptions struct {
	Out  string // run folder: created, or empty (see Overwrite)
	Data string // data folder ("" to locate)
	// Source, when set, is where the data comes from (a named data set,
	// a .npy/.npz file, an image folder); it overrides Data. Its held-out
	// split is seeded with the training seed unless Source.Seed is set.
	Source   data.Source
	Progress io.Writer // progress bar, or nil
	Log      io.Writer // one line per epoch, or nil
	// OnStep, when set, is called after every training step.
	OnStep func(step int, loss float64)
	// NoCheckpoints skips the per-epoch checkpoints (the final model is
	// still saved); for short experiment runs of many tiny epochs.
	NoCheckpoints bool
	// Model, when set, is the model a resumed checkpoint must hold.
	Model string
	// CheckpointEvery writes a checkpoint every this many steps as well as
	// at every epoch end (0: epoch ends only).
	CheckpointEvery int
	// Overwrite replaces the run found in Out (its files are removed, other
	// files kept; the replacement is stated on Log) instead of refusing.
	Overwrite bool
	// LogEvery also writes the mean training loss every this many steps
	// to metrics.jsonl (0: epoch lines only; see train.StepLog). Resume
	// with 0 continues the checkpoint's step log, its running mean included.
	LogEvery int
	// OnStart, when set, is called once the run folder is claimed, just
	// before training (not when the folder is refused).
	OnStart func()
}

// loadData loads the data of a run (to.Source, or to.Data), saying so on
// to.Progress.
func loadData(to TrainOptions, o train.Options) (trainSet, testSet *data.Dataset, where string, err error) {
	src := to.source(o.Seed)
	what := src.Path
	if src.Dataset != "" {
		what = string(src.Dataset)
	}
	if what == "" {
		what = "MNIST"
	}
	stop := progress.Status(to.Progress, "loading data from "+what)
	defer stop()
	return data.Open(src, o.TrainLimit, o.TestLimit)
}

// InterruptedError reports a run stopped by its context (SIGINT, SIGTERM)
// after its checkpoint was written.
type InterruptedError struct {
	Out         string
	Epoch, Step int // epochs finished, steps taken
	EpochStep   int // steps into the unfinished epoch
	Cause       error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted after %s and %s (%d into epoch %d); checkpoint written to %s — continue with: zoo train --resume %s",
		count(e.Epoch, "epoch"), count(e.Step, "step"), e.EpochStep, e.Epoch+1, e.Out, e.Out)
}

// Unwrap returns the context's error.
func (e *InterruptedError) Unwrap() error { return e.Cause }

// count returns "1 epoch", "2 epochs".
func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Train trains model c with options o and writes the run folder to.Out,
// which must be absent or empty unless to.Overwrite (see ClaimFolder); the
// folder is locked while the run lasts.
func Train(ctx context.Context, c models.Config, o train.Options, to TrainOptions) (Summary, error) {
	// Load the data before claiming the folder: bad data leave no folder.
	trainSet, testSet, where, err := loadData(to, o)
	if err != nil {
		return Summary{}, err
	}
	lock, err := begin(c, o, to)
	if err != nil {
		return Summary{}, err
	}
	defer lock.Release()
	s, _, err := trainOn(ctx, c, o, trainSet, testSet, where, to)
	return s, err
}

// TrainOn is Train on data sets already in memory (any IDX-like data, or
// synthetic data); where names them in the summary. It also returns the
// trainer, whose Store and Eval give the trained model.
func TrainOn(ctx context.Context, c models.Config, o train.Options, trainSet, testSet *data.Dataset, where string, to TrainOptions) (Summary, *train.Trainer, error) {
	lock, err := begin(c, o, to)
	if err != nil {
		return Summary{}, nil, err
	}
	defer lock.Release()
	return trainOn(ctx, c, o, trainSet, testSet, where, to)
}

// begin checks the settings of a new run and claims its folder.
func begin(c models.Config, o train.Options, to TrainOptions) (*runlock.Lock, error) {
	spec, err := models.Lookup(c.Model)
	if err != nil {
		return nil, err
	}
	if err := spec.Validate(c); err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return ClaimFolder(to.Out, to.Overwrite, to.Log)
}

func trainOn(ctx context.Context, c models.Config, o train.Options, trainSet, testSet *data.Dataset, where string, to TrainOptions) (Summary, *train.Trainer, error) {
	if to.OnStart != nil {
		to.OnStart()
	}
	t, err := train.New(c, o, trainSet, testSet, nil)
	if err != nil {
		return Summary{}, nil, err
	}
	if err := os.WriteFile(filepath.Join(to.Out, MetricsFile), nil, 0o644); err != nil {
		return Summary{}, nil, errors.Wrap(err, "creating metrics log")
	}
	s, err := run(ctx, t, to, where)
	return s, t, err
}

// Resume continues the run whose checkpoint is in the folder from, writing
// into to.Out (which may be the same folder; another folder must be absent
// or empty unless to.Overwrite). epochs > 0 changes the total number of
// epochs; every other setting comes from the checkpoint. The metrics log
// keeps the epochs the checkpoint had finished. Both folders are locked
// while the run lasts.
func Resume(ctx context.Context, from string, epochs int, to TrainOptions) (Summary, error) {
	var s Summary
	if fi, err := os.Stat(from); err != nil || !fi.IsDir() {
		return s, errors.Errorf("no checkpoint in %s: not a folder", from)
	}
	lock, err := LockFolder(from)
	if err != nil {
		return s, err
	}
	defer lock.Release()
	if to.Out == "" {
		to.Out = from
	}
	if !sameFolder(from, to.Out) {
		outLock, err := ClaimFolder(to.Out, to.Overwrite, to.Log)
		if err != nil {
			return s, err
		}
		defer outLock.Release()
	}
	st, store, mom, err := ckpt.LoadCheckpoint(from)
	if err != nil {
		return s, err
	}
	if to.Model != "" && to.Model != st.Model.Model {
		return s, errors.Errorf("the checkpoint in %s is of model %s, not %s", from, st.Model.Model, to.Model)
	}
	o := train.DefaultOptions()
	if err := json.Unmarshal(st.Train, &o); err != nil {
		return s, errors.Wrapf(err, "checkpoint in %s: damaged training options", from)
	}
	if epochs > 0 {
		o.Epochs = epochs
	}
	trainSet, testSet, where, err := loadData(to, o)
	if err != nil {
		return s, err
	}
	if trainSet.D != st.In {
		return s, errors.Errorf("the data (%s) has images of %s = %d values, the checkpointed %s model takes %d: resume on the data it was trained on",
			where, trainSet.ShapeString(), trainSet.D, st.Model.Model, st.In)
	}
	if err := checkShape(from, trainSet, where); err != nil {
		return s, err
	}
	t, err := train.New(st.Model, o, trainSet, testSet, store)
	if err != nil {
		return s, err
	}
	if to.LogEvery == 0 {
		to.LogEvery = st.LogEvery // continue the run's step log
	}
	if err := t.Restore(st, mom); err != nil {
		return s, errors.Wrapf(err, "resuming from %s", from)
	}
	if err := keepMetrics(filepath.Join(from, MetricsFile), filepath.Join(to.Out, MetricsFile), st.Step); err != nil {
		return s, err
	}
	return run(ctx, t, to, where)
}

// keepMetrics rewrites dst with the lines of src up to step steps (the
// checkpoint's): the finished epochs and the step lines before it.
func keepMetrics(src, dst string, steps int) error {
	b, err := os.ReadFile(src)
	if err != nil && !os.IsNotExist(err) {
		return errors.Wrap(err, "reading metrics log")
	}
	var keep []byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		var l struct {
			Step int `json:"step"`
		}
		if len(line) == 0 || json.Unmarshal(line, &l) != nil || l.Step > steps {
			continue
		}
		keep = append(append(keep, line...), '\n')
	}
	return ckpt.WriteAtomic(dst, func(w *bufio.Writer) error {
		_, err := w.Write(keep)
		return err
	})
}

// sameFolder reports whether a and b name the same folder.
func sameFolder(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// run trains t to the end, writing the run folder as it goes: a metrics
// line, the model and a checkpoint after every epoch; on interruption a
// checkpoint of the unfinished epoch; at the end summary.json and recon.png.
func run(ctx context.Context, t *train.Trainer, to TrainOptions, where string) (Summary, error) {
	var s Summary
	start := time.Now()
	t.Progress = to.Progress
	t.CheckpointEvery = to.CheckpointEvery
	t.OnStep = to.OnStep
	t.LogEvery = to.LogEvery
	mf, err := os.OpenFile(filepath.Join(to.Out, MetricsFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return s, errors.Wrap(err, "opening metrics log")
	}
	defer mf.Close()
	saved := ckpt.Saved{Model: t.Config, Dtype: t.Opt.Dtype, In: t.Train.D}
	saved.Train, _ = json.Marshal(t.Opt)
	checkpoint := func(t *train.Trainer) error {
		st, mom, err := t.State()
		if err != nil {
			return err
		}
		return ckpt.SaveCheckpoint(to.Out, st, t.Store, mom)
	}
	if !to.NoCheckpoints {
		t.Checkpoint = checkpoint
	}
	t.OnLog = func(l train.StepLog) error {
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		_, err = mf.Write(append(b, '\n'))
		return errors.Wrap(err, "writing metrics log")
	}
	// The last epoch's test metrics and saved model are the run's: an
	// epoch that ended the run is neither evaluated nor saved again.
	var last eval.Metrics
	lastEpoch := -1
	t.OnEpoch = func(t *train.Trainer, l train.EpochLog, mt eval.Metrics) error {
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		if _, err := mf.Write(append(b, '\n')); err != nil {
			return errors.Wrap(err, "writing metrics log")
		}
		if to.Log != nil {
			writeEpochLine(to.Log, l)
		}
		last, lastEpoch = mt, t.Epoch
		// Without checkpoints (runs of many tiny epochs) only the last
		// epoch's model is saved and synced: an interrupted run is trained
		// again anyway.
		if to.NoCheckpoints && t.Epoch < t.Opt.Epochs {
			return nil
		}
		if err := mf.Sync(); err != nil {
			return errors.Wrap(err, "writing metrics log")
		}
		saved.Epoch = t.Epoch
		return ckpt.Save(to.Out, saved, t.Store)
	}
	if err := t.Run(ctx); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			if cerr := checkpoint(t); cerr != nil {
				return s, errors.Wrapf(cerr, "interrupted, and writing the checkpoint failed")
			}
			st, _, _ := t.State()
			return s, &InterruptedError{Out: to.Out, Epoch: st.Epoch, Step: st.Step, EpochStep: st.EpochStep, Cause: ctx.Err()}
		}
		var div *train.DivergedError
		if errors.As(err, &div) {
			return s, errors.Wrapf(err, "the last good checkpoint (epoch %d) is kept in %s", t.Epoch, to.Out)
		}
		return s, err
	}
	if lastEpoch != t.Epoch {
		// No epoch ran here (--epochs 0, or resuming a finished run).
		stop := progress.Status(to.Progress, fmt.Sprintf("evaluating the final model on %d test images", t.Test.N))
		m, err := t.Eval.Evaluate(t.Test)
		stop()
		if err != nil {
			return s, err
		}
		saved.Epoch = t.Epoch
		if err := ckpt.Save(to.Out, saved, t.Store); err != nil {
			return s, err
		}
		last = m
	}
	s = Summary{Model: t.Config.Model, Config: t.Config, Train: t.Opt, Data: where, Shape: imageShape(t.Test), Epochs: t.Epoch, Steps: t.Step}
	summarize(&s, last)
	if t.Epoch == 0 && !to.NoCheckpoints {
		if err := checkpoint(t); err != nil {
			return s, err
		}
	}
	if spec, err := models.SpecOf(t.Config); err == nil && len(spec.Players) > 0 {
		// An adversarial model reconstructs nothing: draw samples instead.
		if err := SampleGrid(filepath.Join(to.Out, SamplesFile), t.Config, t.Dtype, t.Store, t.Test, 64, t.Opt.Seed); err != nil {
			return s, err
		}
	} else if err := ReconGrid(filepath.Join(to.Out, ReconFile), t.Eval, t.Test, 10); err != nil {
		return s, err
	}
	s.Seconds = time.Since(start).Seconds()
	return s, ckpt.WriteJSON(filepath.Join(to.Out, SummaryFile), s)
}

// Eval reloads the run folder dir and recomputes its test metrics on the
// same test data (dataDir "" locates it as for training): OpenRun, then
// Run.Evaluate.
func Eval(dir, dataDir string) (Summary, error) {
	return EvalSource(dir, data.Source{Path: dataDir})
}

// EvalSource is Eval on the test set of src (see data.Open; a held-out
// split is seeded with the run's training seed unless src.Seed is set).
func EvalSource(dir string, src data.Source) (Summary, error) {
	r, err := OpenRun(dir)
	if err != nil {
		return Summary{}, err
	}
	s, err := r.EvaluateSource(src)
	if err != nil {
		return s, err
	}
	if old, err := ReadSummary(dir); err == nil && old.Epochs == s.Epochs {
		s.Steps, s.Seconds = old.Steps, old.Seconds // the run's, when its summary is of this model
	}
	return s, nil
}

// PrepareTest applies the run's binarization to a test set, as the trainer does.
func PrepareTest(ds *data.Dataset, o train.Options) *data.Dataset {
	switch o.Binarize {
	case "fixed":
		return ds.Binarized(0.5)
	case "dynamic":
		return train.BinarizeTest(ds, o.Seed)
	}
	return ds
}

// ReconGrid draws n test inputs above their reconstructions into a PNG.
func ReconGrid(path string, ev *eval.Evaluator, test *data.Dataset, n int) error {
	n = min(n, test.N)
	sub := test.Limit(n)
	var imgs [][]float64
	var recons [][]float64
	err := ev.Batches(sub, func(p *graph.Program, x []float32, start int) error {
		r := p.Output(graph.Recon)
		for i := 0; i < p.Batch(); i++ {
			imgs = append(imgs, graph.ToFloat64s(x[i*test.D:(i+1)*test.D], nil))
			recons = append(recons, append([]float64(nil), r[i*test.D:(i+1)*test.D]...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if test.Channels == 3 {
		return viz.SavePNG(path, viz.GridRGB(append(imgs, recons...), test.Rows, test.Cols, n, 2))
	}
	return viz.SavePNG(path, viz.Grid(append(imgs, recons...), test.Rows, test.Cols, n, 2))
}

// SampleGrid draws n samples of the generative model c (parameters in
// store) from its prior, seeded by seed, and saves them as a grid of
// images shaped like those of test at path.
func SampleGrid(path string, c models.Config, dt tensor.Dtype, store *graph.Store, test *data.Dataset, n int, seed uint64) error {
	g, err := NewGenerator(c, dt, store, test.D)
	if err != nil {
		return err
	}
	_, x, err := g.Sample(rand.New(rand.NewPCG(seed, 0x5a)), n)
	if err != nil {
		return err
	}
	if test.Channels == 3 {
		return viz.SavePNG(path, viz.GridRGB(x, test.Rows, test.Cols, 8, 2))
	}
	return viz.SavePNG(path, viz.Grid(x, test.Rows, test.Cols, 8, 2))
}

func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".write-test*")
	if err != nil {
		return errors.Errorf("output folder %s is not writable: %v", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// imageShape returns the rows, columns and channels of ds's images.
func imageShape(ds *data.Dataset) []int {
	if ds == nil {
		return nil
	}
	return []int{ds.Rows, ds.Cols, max(ds.Channels, 1)}
}

// checkShape compares the image shape of ds with the one recorded in the
// summary.json of the run folder dir, if there is one: a model trained on
// 28×28 images refuses 1×784 rows of the same size too.
func checkShape(dir string, ds *data.Dataset, where string) error {
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		return nil // no summary yet (an interrupted run): the input size check stands
	}
	var saved struct {
		Shape []int `json:"image_shape"`
	}
	if json.Unmarshal(b, &saved) != nil || len(saved.Shape) != 3 {
		return nil // a run saved before shapes were recorded
	}
	if got := imageShape(ds); !slices.Equal(got, saved.Shape) {
		want := &data.Dataset{Rows: saved.Shape[0], Cols: saved.Shape[1], Channels: saved.Shape[2]}
		return errors.Errorf("the data (%s) has images of %s, the model in %s was trained on images of %s: use the data it was trained on",
			where, ds.ShapeString(), dir, want.ShapeString())
	}
	return nil
}

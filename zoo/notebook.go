package zoo

// Helpers for notebooks (see notebooks/). In a GoNB notebook every cell is
// compiled and run as a fresh process, so the run folder is what carries a
// trained model from the cell that trains it to the cells that look at it:
// OpenRun reloads it, and the functions below return pictures as
// image.Image values (viz.PNG turns them into PNG bytes) and metrics as
// plain structs.

import (
	"bufio"
	"encoding/json"
	"image"
	"os"
	"path/filepath"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/aezoo/aezoo/viz"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Run is a trained model reloaded from its run folder.
type Run struct {
	Dir     string
	Config  models.Config
	Options train.Options // the training options (defaults if the folder has none)
	Dtype   tensor.Dtype
	In      int // input features (pixels per image)
	Epochs  int // epochs trained
	Store   *graph.Store
	Eval    *eval.Evaluator
	// Summary is summary.json, or nil when the run has none (unfinished).
	Summary *Summary
	// Logs are the lines of metrics.jsonl, one per epoch.
	Logs []train.EpochLog
}

// OpenRun reloads the model in the run folder dir (written by Train,
// TrainOn or `zoo train`), with its summary and metrics log.
func OpenRun(dir string) (*Run, error) {
	saved, store, err := ckpt.Load(dir)
	if err != nil {
		return nil, err
	}
	o := train.DefaultOptions()
	if len(saved.Train) > 0 {
		if err := json.Unmarshal(saved.Train, &o); err != nil {
			return nil, errors.Wrapf(err, "loading %s: damaged training options", dir)
		}
	}
	dt, err := graph.ParseDtype(saved.Dtype)
	if err != nil {
		return nil, errors.Wrapf(err, "loading %s", dir)
	}
	r := &Run{Dir: dir, Config: saved.Model, Options: o, Dtype: dt, In: saved.In, Epochs: saved.Epoch, Store: store,
		Eval: eval.NewEvaluator(saved.Model, dt, store, o.EvalBatch, o.Seed)}
	if s, err := ReadSummary(dir); err == nil {
		r.Summary = &s
	} else if !os.IsNotExist(errors.Cause(err)) {
		return nil, err
	}
	if r.Logs, err = ReadLogs(dir); err != nil && !os.IsNotExist(errors.Cause(err)) {
		return nil, err
	}
	return r, nil
}

// ReadSummary reads summary.json of a run folder.
func ReadSummary(dir string) (Summary, error) {
	var s Summary
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		return s, errors.WithStack(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, errors.Wrapf(err, "reading %s", filepath.Join(dir, SummaryFile))
	}
	return s, nil
}

// ReadLogs reads metrics.jsonl of a run folder: one EpochLog per epoch
// (the lines of --log-every, of kind "step", are skipped; see
// train.StepLog).
func ReadLogs(dir string) ([]train.EpochLog, error) {
	path := filepath.Join(dir, MetricsFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.WithStack(err)
	}
	defer f.Close()
	var logs []train.EpochLog
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var l struct {
			train.EpochLog
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, errors.Wrapf(err, "reading %s", path)
		}
		if l.Kind == "" {
			logs = append(logs, l.EpochLog)
		}
	}
	return logs, errors.Wrapf(sc.Err(), "reading %s", path)
}

// TestSet loads the run's test set (its --test-limit, binarized as in
// training) from dataDir ("" locates MNIST as Train does).
func (r *Run) TestSet(dataDir string) (*data.Dataset, error) {
	return r.TestSetSource(data.Source{Path: dataDir})
}

// TestSetSource is TestSet on the test set of src (see data.Open).
func (r *Run) TestSetSource(src data.Source) (*data.Dataset, error) {
	ds, _, err := r.testSet(src)
	return ds, err
}

func (r *Run) testSet(src data.Source) (*data.Dataset, string, error) {
	if src.Seed == 0 {
		src.Seed = r.Options.Seed
	}
	_, test, where, err := data.Open(src, r.Options.TrainLimit, r.Options.TestLimit)
	if err != nil {
		return nil, "", err
	}
	if test.D != r.In {
		return nil, "", errors.Errorf("the test images (%s) have %s = %d values, the %s model in %s takes %d: evaluate it on the data it was trained on",
			where, test.ShapeString(), test.D, r.Config.Model, r.Dir, r.In)
	}
	if err := checkShape(r.Dir, test, where); err != nil {
		return nil, "", err
	}
	return PrepareTest(test, r.Options), where, nil
}

// Evaluate recomputes the run's test metrics on its test set from dataDir
// ("" locates MNIST as Train does), as a Summary (without the timings).
func (r *Run) Evaluate(dataDir string) (Summary, error) {
	return r.EvaluateSource(data.Source{Path: dataDir})
}

// EvaluateSource is Evaluate on the test set of src (see data.Open; a
// held-out split is seeded with the run's training seed unless src.Seed is
// set).
func (r *Run) EvaluateSource(src data.Source) (Summary, error) {
	test, where, err := r.testSet(src)
	if err != nil {
		return Summary{}, err
	}
	m, err := r.Eval.Evaluate(test)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{Model: r.Config.Model, Config: r.Config, Train: r.Options, Data: where, Shape: imageShape(test), Epochs: r.Epochs}
	summarize(&s, m)
	return s, nil
}

// Generator returns the decoder of a generative run (the VAE) for sampling.
func (r *Run) Generator() (*Generator, error) {
	return NewGenerator(r.Config, r.Dtype, r.Store, r.In)
}

// Weights returns the named parameter ("enc.W", "dec.W", …) as row-major
// values and its shape; a dense layer's W is in×out.
func (r *Run) Weights(name string) ([]float64, []int, error) {
	t := r.Store.Get(name)
	if t == nil {
		return nil, nil, errors.Errorf("model %s has no parameter %q (it has %v)", r.Config.Model, name, r.Store.Sorted())
	}
	return r.Store.Floats(name), append([]int(nil), t.Shape()...), nil
}

// Images returns the first n examples of ds (all if n ≤ 0 or n > N) as
// float64 rows, the form viz.Grid and viz.Compare draw.
func Images(ds *data.Dataset, n int) [][]float64 {
	ds = ds.Limit(n)
	out := make([][]float64, ds.N)
	for i := range out {
		out[i] = graph.ToFloat64s(ds.Row(i), nil)
	}
	return out
}

// Reconstruct returns the first n examples of ds and the model's
// reconstructions of them.
func Reconstruct(ev *eval.Evaluator, ds *data.Dataset, n int) (inputs, recons [][]float64, err error) {
	sub := ds.Limit(n)
	err = ev.Batches(sub, func(p *graph.Program, x []float32, _ int) error {
		r := p.Output(graph.Recon)
		if len(r) != len(x) {
			return errors.Errorf("model %s has no per-pixel recon output", ev.Config.Model)
		}
		for i := 0; i < len(x)/ds.D; i++ {
			lo, hi := i*ds.D, (i+1)*ds.D
			inputs = append(inputs, graph.ToFloat64s(x[lo:hi], nil))
			recons = append(recons, append([]float64(nil), r[lo:hi]...))
		}
		return nil
	})
	return inputs, recons, err
}

// ReconImage draws the first n examples of ds (top row) above their
// reconstructions, each pixel scale×scale: recon.png as an image.
func ReconImage(ev *eval.Evaluator, ds *data.Dataset, n, scale int) (*image.Gray, error) {
	in, rec, err := Reconstruct(ev, ds, n)
	if err != nil {
		return nil, err
	}
	return viz.Compare(ds.Rows, ds.Cols, scale, in, rec), nil
}

// LossCurves plots the training loss (dashed) and the test loss (solid)
// per epoch of runs, named by names (the model names when names is nil).
func LossCurves(title string, names []string, runs ...*Run) (image.Image, error) {
	all := make([]string, len(runs))
	logs := make([][]train.EpochLog, len(runs))
	for i, r := range runs {
		all[i], logs[i] = r.Config.Model, r.Logs
		if i < len(names) {
			all[i] = names[i]
		}
	}
	return PlotLosses(title, all, logs...)
}

// PlotLosses plots metrics logs (see ReadLogs), a pair of lines per log in
// one colour named by names: the training loss of every epoch (dashed; the
// mean over the epoch's minibatches while the weights moved, on the inputs
// the model trains on — corrupted ones for a denoising model) and the test
// loss of every evaluated epoch (solid). Logs without lines are left out.
func PlotLosses(title string, names []string, logs ...[]train.EpochLog) (image.Image, error) {
	var series []viz.Series
	for i, ls := range logs {
		name := ""
		if i < len(names) {
			name = names[i]
		}
		trainS := viz.Series{Name: joinName(name, "train"), Dashed: true}
		testS := viz.Series{Name: joinName(name, "test")}
		for _, l := range ls {
			trainS.X = append(trainS.X, float64(l.Epoch))
			trainS.Y = append(trainS.Y, l.TrainLoss)
			if l.Evaluated() {
				testS.X = append(testS.X, float64(l.Epoch))
				testS.Y = append(testS.Y, l.TestLoss)
			}
		}
		var pair []viz.Series
		if len(testS.X) > 0 {
			pair = append(pair, testS)
		}
		if len(trainS.X) > 0 {
			pair = append(pair, trainS)
		}
		if len(pair) == 2 {
			pair[1].SameColor = true
		}
		series = append(series, pair...)
	}
	if len(series) == 0 {
		return nil, errors.New("loss curves: no run has a metrics log")
	}
	return viz.Lines(viz.Axes{Title: title, XLabel: "epoch", YLabel: "loss per image (dashed: train, solid: test)"}, series)
}

// joinName is "name: what", or what alone for an empty name.
func joinName(name, what string) string {
	if name == "" {
		return what
	}
	return name + ": " + what
}

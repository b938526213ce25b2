// Package experiments declares the zoo's classic comparisons — denoising,
// contraction, sparsity, the VAE and the linear DAE's closed form — as runs
// of registered models plus the metrics and figures that compare them, and
// writes each as a report (report.md, results.json, PNG figures, the
// trained models' folders).
//
// Each experiment has a quick version (the MNIST subset embedded in the binary, a few
// epochs: all together in about two minutes on two cores) and a full
// version (full MNIST).
package experiments

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"image"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/aezoo/aezoo/viz"
	"github.com/aezoo/aezoo/zoo"
	"github.com/pkg/errors"
)

// Experiment is one declared comparison.
type Experiment struct {
	Name  string // as given to `zoo reproduce`
	Title string
	Run   func(env *Env) (*Result, error)
	// Runs declares the experiment's independent training runs: those on
	// the environment's data or on a set derived from it alone, which a
	// parallel reproduction trains as tasks of their own before the
	// experiment runs (see Env.Plan). Run trains them from the same specs
	// (Env.TrainSpec); training an undeclared run, or not training a
	// declared one, is an error. Runs that depend on other runs (a
	// pretraining stage on the codes of the stage below) are not declared:
	// the experiment trains them itself.
	Runs func(env *Env) ([]RunSpec, error)
}

// Catalogue lists the experiments in report order.
func Catalogue() []Experiment {
	return []Experiment{denoisingExperiment, contractiveExperiment, sparseExperiment, vaeExperiment, linearExperiment, overcompleteExperiment, generationExperiment, likelihoodExperiment, pretrainingExperiment}
}

// Lookup returns the named experiment.
func Lookup(name string) (Experiment, error) {
	var names []string
	for _, e := range Catalogue() {
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return Experiment{}, errors.Errorf("unknown experiment %q (known: %s, all)", name, strings.Join(names, ", "))
}

// Options are the settings of a reproduction.
type Options struct {
	// Quick runs few epochs on a small subset: the MNIST subset embedded in
	// the binary, or the first QuickTrain and QuickTest images of Data when
	// it is set.
	Quick bool
	Out   string // folder of the whole reproduction
	Data  string // the data (an MNIST-style folder, .npy/.npz, image folder; "" to locate MNIST, see data.Locate)
	Log   io.Writer
	// Overwrite starts the reproduction in Out afresh, removing the runs
	// and reports of an earlier one. Without it, an earlier reproduction in
	// Out is continued: its finished runs are reused.
	Overwrite bool
	// IWSamples is the number of importance samples of the VAE's IW-NLL
	// estimate in full runs (quick runs use 20); 0 means DefaultIWSamples.
	IWSamples int
	// The vae-likelihood experiment's full run: the epochs of the truncated
	// Burda schedule (0: DefaultLikelihoodEpochs), the importance samples of
	// its NLL (0: DefaultNLLSamples) and the k of the IWAEs trained beside
	// the VAE (nil: 5).
	LikelihoodEpochs int
	NLLSamples       int
	LikelihoodIWK    []int
	// Task marks this process as one task of a parallel reproduction (the
	// sweep package's launchers run `zoo reproduce NAMES --task --run KEY`
	// for each run of the plan, see TrainPlanned, then `zoo reproduce NAME
	// --task` for each experiment): the launcher claims Out, the task locks
	// only the report folders Out/NAME of its experiments, reuses an
	// experiment already reported there with the same Settings, and writes
	// no combined report. Runs that several experiments share are trained
	// once: a task that finds a run's folder in use by another task waits
	// for it and reuses the run.
	Task bool
}

// QuickTrain and QuickTest are the training and test images of a quick
// run on Options.Data (the size of the embedded MNIST subset).
const (
	QuickTrain = 2000
	QuickTest  = 500
)

// DefaultIWSamples is the default of Options.IWSamples.
const DefaultIWSamples = 1000

// Env is what experiments run in: the data, the output folder and the
// trained runs, shared between experiments so that `all` trains each
// configuration once.
type Env struct {
	Ctx      context.Context
	Quick    bool
	Out      string // folder of the whole reproduction
	Data     string // where MNIST came from
	TrainSet *data.Dataset
	TestSet  *data.Dataset
	Log      io.Writer
	Seed     uint64
	// IWSamples is the number of importance samples of the VAE's IW-NLL in
	// full runs (quick runs use 20).
	IWSamples int
	// LikelihoodEpochs, NLLSamples and LikelihoodIWK are the vae-likelihood
	// experiment's settings in full runs (see Options).
	LikelihoodEpochs int
	NLLSamples       int
	LikelihoodIWK    []int

	// convRows adds the convolutional models' rows to the denoising and
	// vae experiments (declared runs, like the MLPs'): in full runs only,
	// as a conv model trains several times slower than the MLP, beyond
	// the quick runs' budget.
	convRows bool

	runs  map[string]*Run
	check *check // the runs the running experiment declared and trained
}

// NewEnv loads MNIST (the repo's subset when quick). The output folder is
// the caller's to claim (see Reproduce).
func NewEnv(ctx context.Context, o Options) (*Env, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	iw := o.IWSamples
	if iw == 0 {
		iw = DefaultIWSamples
	}
	env := &Env{Ctx: ctx, Quick: o.Quick, Out: o.Out, Log: log, Seed: 1, IWSamples: iw, runs: map[string]*Run{}, convRows: !o.Quick,
		LikelihoodEpochs: o.LikelihoodEpochs, NLLSamples: o.NLLSamples, LikelihoodIWK: o.LikelihoodIWK}
	if env.LikelihoodEpochs == 0 {
		env.LikelihoodEpochs = DefaultLikelihoodEpochs
	}
	if env.NLLSamples == 0 {
		env.NLLSamples = DefaultNLLSamples
	}
	if env.LikelihoodIWK == nil {
		env.LikelihoodIWK = []int{5}
	}
	var err error
	switch {
	case o.Quick && o.Data == "":
		env.Data = data.SubsetName
		env.TrainSet, env.TestSet, err = data.LoadSubset(0, 0)
	case o.Quick:
		var where string
		env.TrainSet, env.TestSet, where, err = zoo.LoadData(o.Data, QuickTrain, QuickTest)
		env.Data = fmt.Sprintf("%s (quick: its first %d training and %d test images)", where, QuickTrain, QuickTest)
	default:
		env.TrainSet, env.TestSet, env.Data, err = zoo.LoadData(o.Data, 0, 0)
	}
	if err != nil {
		return nil, err
	}
	// The experiments' figures and configurations are those of the
	// lecture: 28×28 grey images (MNIST, Fashion-MNIST, KMNIST).
	if tr := env.TrainSet; tr.Rows != 28 || tr.Cols != 28 || tr.D != 784 {
		return nil, errors.Errorf("the experiments need 28×28 grey images (MNIST, Fashion-MNIST, KMNIST); %s has %s", env.Data, tr.ShapeString())
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, errors.Errorf("cannot create output folder %s: %v", o.Out, err)
	}
	return env, nil
}

// Run is a trained model of an experiment.
type Run struct {
	Label   string // row label in tables
	Config  models.Config
	Options train.Options
	Dir     string // its run folder
	Summary zoo.Summary
	Store   *graph.Store
	Eval    *eval.Evaluator
	Test    *data.Dataset // the test set it was evaluated on (binarized if asked)
	Logs    []train.EpochLog
}

// Options returns the training options of a run: batch 128, Adam 1e-3,
// the given epochs (quick runs, on 2,000 images, use batch 50, Adam 3e-3
// and quickEpochs).
func (env *Env) Options(epochs, quickEpochs int) train.Options {
	o := train.DefaultOptions()
	o.Seed = env.Seed
	o.Epochs = epochs
	if env.Quick {
		o.Epochs, o.Batch, o.LR = quickEpochs, 50, 3e-3
	}
	return o
}

// Train trains c with o on the environment's data, or returns the run
// already trained with the same settings.
func (env *Env) Train(label string, c models.Config, o train.Options) (*Run, error) {
	return env.TrainSpec(env.Spec(label, c, o))
}

// TrainOn is Train on other data (e.g. synthetic); where names the data.
func (env *Env) TrainOn(label string, c models.Config, o train.Options, trainSet, testSet *data.Dataset, where string) (*Run, error) {
	return env.TrainSpec(SpecOn(label, c, o, trainSet, testSet, where))
}

// TrainSpec trains the run s, or returns the run already trained with the
// same settings (in this environment, or in its run folder by an earlier
// or a parallel task). Inside an experiment, s must be one of the runs
// the experiment declares (Experiment.Runs).
func (env *Env) TrainSpec(s RunSpec) (*Run, error) { return env.trainSpec(s, false) }

// trainDependent is TrainSpec for a run that depends on another run (a
// pretraining stage on the codes of the stage below): not declared.
func (env *Env) trainDependent(s RunSpec) (*Run, error) { return env.trainSpec(s, true) }

func (env *Env) trainSpec(s RunSpec, dependent bool) (*Run, error) {
	label, c, o, trainSet, testSet, where := s.Label, s.Config, s.Options, s.Train, s.Test, s.Where
	key := s.Key()
	if err := env.mark(s, key, dependent); err != nil {
		return nil, err
	}
	if r, ok := env.runs[key]; ok {
		return r, nil
	}
	dir := env.runDir(label, key)
	r := &Run{Label: label, Config: c, Options: o, Dir: dir}
	waiting := false
	for {
		// The folder's lock tells a run that another task of a parallel
		// reproduction is training (wait for it, then reuse its run) from a
		// finished one (reuse it) and from one left unfinished by an
		// interruption (train it again from the start).
		lock, err := zoo.LockFolder(dir)
		var busy *zoo.FolderInUseError
		if errors.As(err, &busy) {
			if !waiting {
				fmt.Fprintf(env.Log, "  waiting for %s: %v\n", label, err)
				waiting = true
			}
			select {
			case <-env.Ctx.Done():
				return nil, errors.Wrapf(env.Ctx.Err(), "waiting for %s", label)
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			return nil, errors.Wrapf(err, "training %s", label)
		}
		done := zoo.FinishedRun(dir, c, o, where)
		lock.Release()
		if done != nil {
			// A finished run of an earlier, interrupted reproduction, or of
			// another task of this one.
			fmt.Fprintf(env.Log, "  reusing %s (%s, %d epochs): test loss %.3f, from %s\n", label, c.Model, o.Epochs, done.Summary.TestLoss, dir)
			r.Summary, r.Store, r.Eval, r.Test, r.Logs = *done.Summary, done.Store, done.Eval, zoo.PrepareTest(testSet, o), done.Logs
			env.runs[key] = r
			return r, nil
		}
		start := time.Now()
		// An unfinished run folder here is this reproduction's own, left by an
		// interruption: train it again from the start. The line is written
		// once the folder is claimed: a task that loses the folder to another
		// between the check above and the claim says nothing and waits.
		started := false
		to := zoo.TrainOptions{Out: dir, NoCheckpoints: true, Overwrite: true, OnStart: func() {
			started = true
			fmt.Fprintf(env.Log, "  training %s (%s, %d epochs) …", label, c.Model, o.Epochs)
		}}
		sum, t, err := zoo.TrainOn(env.Ctx, c, o, trainSet, testSet, where, to)
		if errors.As(err, &busy) { // another task took it meanwhile
			continue
		}
		if err != nil {
			if started {
				fmt.Fprintln(env.Log)
			}
			return nil, errors.Wrapf(err, "training %s", label)
		}
		fmt.Fprintf(env.Log, " test loss %.3f (%.1fs)\n", sum.TestLoss, time.Since(start).Seconds())
		r.Summary, r.Store, r.Eval, r.Test = sum, t.Store, t.Eval, t.Test
		r.Logs, err = zoo.ReadLogs(dir)
		if err != nil {
			return nil, err
		}
		env.runs[key] = r
		return r, nil
	}
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '-'
	}, s)
}

// Result is what an experiment reports.
type Result struct {
	Name, Title string
	Intro       string
	Tables      []Table
	Figures     []Figure
	Checks      []Check
	// Values holds every number of the report, for results.json.
	Values map[string]any
	// Rows feeds the combined comparison table: model label → metric → value.
	Rows map[string]map[string]float64
	// Numbers are the measured numbers that the claims read, by stable ID
	// ("sparse.topk_probe_error"): display labels may change, IDs do not.
	Numbers map[string]float64
	// Seconds is the experiment's wall time.
	Seconds float64
	// Settings are those the experiment ran with.
	Settings Settings
}

// Table is a titled table of formatted cells.
type Table struct {
	Title   string
	Columns []string
	Rows    [][]string
}

// Figure is a PNG figure of a report.
type Figure struct {
	File    string // file name inside the report folder
	Caption string
	Image   image.Image
}

// Check is one claim of the lecture, tested on the measured numbers.
type Check struct {
	ID     string // stable: "sparse.topk_probe_error"
	Claim  string // for people: "top-K probe error ≤ 2% …"
	Pass   bool
	Detail string
	// Numbers are the measured numbers the claim was tested on, by ID.
	Numbers map[string]float64
}

func newResult(name, title, intro string) *Result {
	return &Result{Name: name, Title: title, Intro: intro, Values: map[string]any{}, Rows: map[string]map[string]float64{},
		Numbers: map[string]float64{}}
}

// Unmet returns the claims of r that do not hold: in quick runs as in full
// ones, every claim is checked and every unmet one counts (each is a ❌ in
// the report).
func (r *Result) Unmet() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.Pass {
			out = append(out, c)
		}
	}
	return out
}

// measure records the number id, for claims to read.
func (r *Result) measure(id string, v float64) { r.Numbers[id] = v }

// claim tests a claim on the numbers named by reads (IDs given to
// measure): test gets their values in the order of reads and says whether
// the claim holds, with a detail for people. A number that was never
// measured is an error naming it, not a silent zero.
func (r *Result) claim(id, text string, reads []string, test func(v []float64) (bool, string)) error {
	v := make([]float64, len(reads))
	used := make(map[string]float64, len(reads))
	for i, n := range reads {
		x, ok := r.Numbers[n]
		if !ok {
			return errors.Errorf("experiment %s: claim %s reads number %q, which was not measured", r.Name, id, n)
		}
		v[i], used[n] = x, x
	}
	pass, detail := test(v)
	r.Checks = append(r.Checks, Check{ID: id, Claim: text, Pass: pass, Detail: detail, Numbers: used})
	return nil
}

func (r *Result) row(label, metric string, v float64) {
	if r.Rows[label] == nil {
		r.Rows[label] = map[string]float64{}
	}
	r.Rows[label][metric] = v
}

func (r *Result) figure(file, caption string, img image.Image, err error) error {
	if err != nil {
		return errors.Wrapf(err, "figure %s", file)
	}
	r.Figures = append(r.Figures, Figure{File: file, Caption: caption, Image: img})
	return nil
}

// lossCurves plots test loss per epoch of runs.
func lossCurves(title string, runs ...*Run) (image.Image, error) {
	names := make([]string, len(runs))
	logs := make([][]train.EpochLog, len(runs))
	for i, r := range runs {
		names[i], logs[i] = r.Label, r.Logs
	}
	return zoo.PlotLosses(title, names, logs...)
}

// Validate checks the options' counts (Reproduce and the launchers call it
// before anything is written).
func (o Options) Validate() error {
	if o.IWSamples <= 0 {
		return errors.Errorf("invalid IW-NLL sample count %d: must be positive", o.IWSamples)
	}
	if o.LikelihoodEpochs < 0 || o.NLLSamples < 0 {
		return errors.Errorf("invalid likelihood epochs %d or NLL samples %d: must be positive", o.LikelihoodEpochs, o.NLLSamples)
	}
	for _, k := range o.LikelihoodIWK {
		if k < 2 {
			return errors.Errorf("invalid IWAE k %d: must be ≥ 2 (k = 1 is the VAE, always trained)", k)
		}
	}
	return nil
}

// Resolve returns the named experiments ("all" for every one), in the
// order named, each once.
func Resolve(names []string) ([]Experiment, error) {
	var exps []Experiment
	seen := map[string]bool{}
	for _, n := range names {
		if n == "all" {
			return Catalogue(), nil
		}
		e, err := Lookup(n)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			exps = append(exps, e)
			seen[n] = true
		}
	}
	if len(exps) == 0 {
		return nil, errors.New("no experiment named")
	}
	return exps, nil
}

// Reproduce runs the named experiments ("all" for every one) and writes
// their reports under o.Out (o.Out/NAME/ each; and o.Out/report.md
// combining them when there are several). o.Out is locked while it runs;
// it must be absent, empty or hold an earlier reproduction, which is
// continued (its finished runs reused) unless o.Overwrite. With o.Task,
// see Options.Task.
func Reproduce(ctx context.Context, names []string, o Options) ([]*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	exps, err := Resolve(names)
	if err != nil {
		return nil, err
	}
	if o.Task {
		return reproduceTask(ctx, exps, o)
	}
	lock, err := ClaimFolder(o.Out, o.Overwrite, o.Log)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	env, err := NewEnv(ctx, o)
	if err != nil {
		return nil, err
	}
	out, quick := o.Out, o.Quick
	start := time.Now()
	var results []*Result
	for _, e := range exps {
		r, err := env.run(e)
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	if len(results) > 1 {
		if err := WriteCombined(out, results, quick, time.Since(start).Seconds()); err != nil {
			return results, err
		}
	}
	return results, nil
}

// run runs the experiment e and writes its report into env.Out/NAME.
func (env *Env) run(e Experiment) (*Result, error) {
	fmt.Fprintf(env.Log, "== %s: %s\n", e.Name, e.Title)
	t0 := time.Now()
	if err := env.begin(e); err != nil {
		return nil, err
	}
	r, err := e.Run(env)
	if err != nil {
		env.check = nil
		return nil, errors.Wrapf(err, "experiment %s", e.Name)
	}
	if err := env.end(); err != nil {
		return nil, err
	}
	r.Seconds = time.Since(t0).Seconds()
	r.Settings = env.Settings()
	if err := r.Write(filepath.Join(env.Out, e.Name), env.Quick); err != nil {
		return nil, err
	}
	return r, nil
}

// reproduceTask is Reproduce for one task of a parallel reproduction.
func reproduceTask(ctx context.Context, exps []Experiment, o Options) ([]*Result, error) {
	if o.Overwrite {
		return nil, errors.New("a task of a parallel reproduction does not overwrite: its launcher claims the folder")
	}
	env, err := NewEnv(ctx, o)
	if err != nil {
		return nil, err
	}
	var results []*Result
	for _, e := range exps {
		dir := filepath.Join(o.Out, e.Name)
		lock, err := zoo.LockFolder(dir)
		if err != nil {
			return results, errors.Wrapf(err, "experiment %s", e.Name)
		}
		r, err := LoadResult(dir)
		if err == nil && r.Settings == env.Settings() {
			fmt.Fprintf(env.Log, "== %s: reported already in %s (reused)\n", e.Name, dir)
		} else {
			r, err = env.run(e)
		}
		lock.Release()
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	return results, nil
}

// Settings are what an experiment's numbers depend on besides the code: a
// report written with other settings is not reused.
type Settings struct {
	Quick     bool   `json:"quick"`
	Data      string `json:"data"`       // where the data came from
	IWSamples int    `json:"iw_samples"` // of the VAE's IW-NLL in full runs
	// The vae-likelihood experiment's full-run settings (Options).
	LikelihoodEpochs int    `json:"likelihood_epochs,omitempty"`
	NLLSamples       int    `json:"nll_samples,omitempty"`
	LikelihoodIWK    string `json:"likelihood_iw_k,omitempty"` // comma-separated
	// ConvRows: the denoising and vae experiments have their conv rows
	// (full runs); a report written before they had them is not reused.
	ConvRows bool `json:"conv_rows,omitempty"`
}

// Settings returns the settings of the environment's experiments.
func (env *Env) Settings() Settings {
	iwk := make([]string, len(env.LikelihoodIWK))
	for i, k := range env.LikelihoodIWK {
		iwk[i] = strconv.Itoa(k)
	}
	return Settings{Quick: env.Quick, Data: env.Data, IWSamples: env.IWSamples,
		LikelihoodEpochs: env.LikelihoodEpochs, NLLSamples: env.NLLSamples, LikelihoodIWK: strings.Join(iwk, ","),
		ConvRows: env.convRows}
}

// LoadResult reads the result an experiment wrote into dir (its
// results.json; the figures stay files, with Image nil).
func LoadResult(dir string) (*Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return nil, err
	}
	var f struct {
		Name, Title, Intro string
		Seconds            float64
		Settings           *Settings
		Values             map[string]json.RawMessage // kept as written: its key order too
		Rows               map[string]map[string]float64
		Numbers            map[string]float64
		Tables             []struct {
			Title   string
			Columns []string
			Rows    [][]string
		}
		Figures []struct{ File, Caption string }
		Checks  []struct {
			ID, Claim, Detail string
			Pass              bool
			Numbers           map[string]float64
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, errors.Wrapf(err, "reading %s", filepath.Join(dir, "results.json"))
	}
	if f.Name == "" || f.Settings == nil {
		return nil, errors.Errorf("%s: not the results of an experiment, or written by an older zoo", filepath.Join(dir, "results.json"))
	}
	r := newResult(f.Name, f.Title, f.Intro)
	r.Seconds, r.Settings = f.Seconds, *f.Settings
	for k, v := range f.Values {
		r.Values[k] = v
	}
	if f.Rows != nil {
		r.Rows = f.Rows
	}
	if f.Numbers != nil {
		r.Numbers = f.Numbers
	}
	for _, t := range f.Tables {
		r.Tables = append(r.Tables, Table{Title: t.Title, Columns: t.Columns, Rows: t.Rows})
	}
	for _, g := range f.Figures {
		r.Figures = append(r.Figures, Figure{File: g.File, Caption: g.Caption})
	}
	for _, c := range f.Checks {
		r.Checks = append(r.Checks, Check{ID: c.ID, Claim: c.Claim, Pass: c.Pass, Detail: c.Detail, Numbers: c.Numbers})
	}
	return r, nil
}

// Combine writes the combined report of the named experiments from the
// reports their tasks wrote under out (see Options.Task), with the given
// settings; seconds is the reproduction's wall time. An experiment not yet
// reported there, or reported with other settings, is an error naming it.
func Combine(out string, names []string, s Settings, seconds float64) ([]*Result, error) {
	exps, err := Resolve(names)
	if err != nil {
		return nil, err
	}
	var results []*Result
	for _, e := range exps {
		r, err := LoadResult(filepath.Join(out, e.Name))
		if err != nil {
			return nil, errors.Wrapf(err, "experiment %s has no report", e.Name)
		}
		if r.Settings != s {
			return nil, errors.Errorf("experiment %s in %s was reported with other settings (%+v, not %+v)", e.Name, out, r.Settings, s)
		}
		results = append(results, r)
	}
	if len(results) > 1 {
		if err := WriteCombined(out, results, s.Quick, seconds); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// Write writes report.md, results.json and the figures into dir.
func (r *Result) Write(dir string, quick bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Wrap(err, "report folder")
	}
	for _, f := range r.Figures {
		if err := viz.SavePNG(filepath.Join(dir, f.File), f.Image); err != nil {
			return err
		}
	}
	var b strings.Builder
	r.markdown(&b, quick, "", 1)
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(b.String()), 0o644); err != nil {
		return errors.Wrap(err, "writing report")
	}
	return ckpt.WriteJSON(filepath.Join(dir, "results.json"), r.jsonValue(quick))
}

func (r *Result) jsonValue(quick bool) map[string]any {
	checks := []map[string]any{}
	for _, c := range r.Checks {
		checks = append(checks, map[string]any{"id": c.ID, "claim": c.Claim, "pass": c.Pass, "detail": c.Detail, "numbers": c.Numbers})
	}
	tables := []map[string]any{}
	for _, t := range r.Tables {
		tables = append(tables, map[string]any{"title": t.Title, "columns": t.Columns, "rows": t.Rows})
	}
	figures := []map[string]any{}
	for _, f := range r.Figures {
		figures = append(figures, map[string]any{"file": f.File, "caption": f.Caption})
	}
	return map[string]any{"name": r.Name, "title": r.Title, "quick": quick, "seconds": r.Seconds, "values": r.Values, "rows": r.Rows,
		"numbers": r.Numbers, "checks": checks, "intro": r.Intro, "tables": tables, "figures": figures, "settings": r.Settings}
}

func (r *Result) markdown(b *strings.Builder, quick bool, figPrefix string, level int) {
	h := strings.Repeat("#", level)
	fmt.Fprintf(b, "%s %s\n\n", h, r.Title)
	if quick {
		fmt.Fprintf(b, "_Quick run: %s, a few epochs, some models smaller. "+
			"Every claim is checked as in full runs; a claim that needs the full data or training fails here with its measured number._\n\n", quickData(r.Settings.Data))
	}
	if r.Intro != "" {
		fmt.Fprintf(b, "%s\n\n", r.Intro)
	}
	for _, t := range r.Tables {
		fmt.Fprintf(b, "%s# %s\n\n", h, t.Title)
		writeTable(b, t.Columns, t.Rows)
	}
	if len(r.Checks) > 0 {
		fmt.Fprintf(b, "%s# Claims\n\n", h)
		for _, c := range r.Checks {
			mark := "✅"
			if !c.Pass {
				mark = "❌"
			}
			fmt.Fprintf(b, "- %s %s — %s\n", mark, c.Claim, c.Detail)
		}
		b.WriteString("\n")
	}
	for _, f := range r.Figures {
		fmt.Fprintf(b, "![%s](%s%s)\n\n_%s_\n\n", f.Caption, figPrefix, f.File, f.Caption)
	}
	fmt.Fprintf(b, "_Wall time: %.0f s._\n\n", r.Seconds)
}

func writeTable(b *strings.Builder, cols []string, rows [][]string) {
	b.WriteString("| " + strings.Join(cols, " | ") + " |\n|")
	for range cols {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	b.WriteString("\n")
}

// comparisonMetrics are the columns of the combined table, in order.
var comparisonMetrics = []struct{ Key, Name, Format string }{
	{"bce", "BCE nats/img", "%.2f"},
	{"mse", "MSE/px", "%.4f"},
	{"denoise_gaussian_0.3", "denoise MSE σ=0.3", "%.4f"},
	{"denoise_masking_0.25", "denoise MSE ν=0.25", "%.4f"},
	{"jacobian", "mean ‖J‖_F", "%.3f"},
	{"cr_min_r", "CR(smallest r)", "%.3f"},
	{"mean_activation", "mean act.", "%.3f"},
	{"active_fraction", "active frac.", "%.3f"},
	{"dead_units", "dead units", "%.0f"},
	{"probe_error", "probe error", "%.2f%%"},
	{"test_loss", "test loss", "%.2f"},
	{"iw_nll", "IW-NLL", "%.2f"},
}

// WriteCombined writes out/report.md and out/results.json for several
// experiments, with a comparison table (rows: models; columns: metrics).
func WriteCombined(out string, results []*Result, quick bool, seconds float64) error {
	rows := map[string]map[string]float64{}
	var order []string
	for _, r := range results {
		labels := make([]string, 0, len(r.Rows))
		for l := range r.Rows {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		for _, l := range labels {
			if rows[l] == nil {
				rows[l] = map[string]float64{}
				order = append(order, l)
			}
			for k, v := range r.Rows[l] {
				rows[l][k] = v
			}
		}
	}
	var b strings.Builder
	b.WriteString("# aezoo: what each regularizer does to the code\n\n")
	if quick {
		fmt.Fprintf(&b, "_Quick run (%s, few epochs): not the reference numbers, but every claim is checked as in full runs._\n\n", quickData(results[0].Settings.Data))
	} else if d := results[0].Settings.Data; d != "" {
		fmt.Fprintf(&b, "Data: %s.\n\n", d)
	}
	claims, unmet := 0, 0
	for _, r := range results {
		claims += len(r.Checks)
		unmet += len(r.Unmet())
	}
	fmt.Fprintf(&b, "All experiments: %.0f s. Claims: %d of %d met (%d ❌).\n\n## Comparison\n\n", seconds, claims-unmet, claims, unmet)
	cols := []string{"model"}
	for _, m := range comparisonMetrics {
		cols = append(cols, m.Name)
	}
	var cells [][]string
	for _, l := range order {
		row := []string{l}
		for _, m := range comparisonMetrics {
			v, ok := rows[l][m.Key]
			if !ok {
				row = append(row, "")
				continue
			}
			if strings.HasSuffix(m.Format, "%%") {
				v *= 100
			}
			row = append(row, fmt.Sprintf(m.Format, v))
		}
		cells = append(cells, row)
	}
	writeTable(&b, cols, cells)
	for _, r := range results {
		r.markdown(&b, false, r.Name+"/", 2)
	}
	if err := os.WriteFile(filepath.Join(out, "report.md"), []byte(b.String()), 0o644); err != nil {
		return errors.Wrap(err, "writing the combined report")
	}
	all := map[string]any{"quick": quick, "seconds": seconds, "rows": rows}
	var exps []any
	for _, r := range results {
		exps = append(exps, r.jsonValue(quick))
	}
	all["experiments"] = exps
	return ckpt.WriteJSON(filepath.Join(out, "results.json"), all)
}

// quickData describes the data of a quick run for its report.
func quickData(where string) string {
	if where == "" || where == data.SubsetName {
		return "the MNIST subset embedded in the binary (2,000 train / 500 test)"
	}
	return where
}

func f3(v float64) string { return fmt.Sprintf("%.3f", v) }
func f4(v float64) string { return fmt.Sprintf("%.4f", v) }

// Package train runs the zoo's training loop: seeded shuffling,
// minibatches, the per-step random inputs, Adam, per-epoch evaluation, a
// progress bar and the metrics log. The same seed gives the same numbers.
package train

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/internal/progress"
	"github.com/aezoo/aezoo/models"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Options are the training settings shared by every model.
type Options struct {
	Epochs     int     `json:"epochs"`
	Batch      int     `json:"batch"`
	LR         float64 `json:"lr"`
	Seed       uint64  `json:"seed"`
	Dtype      string  `json:"dtype"`       // float32 or float64
	Binarize   string  `json:"binarize"`    // none, fixed (x>0.5) or dynamic (resampled every step)
	TrainLimit int     `json:"train_limit"` // 0: all
	TestLimit  int     `json:"test_limit"`  // 0: all
	EvalBatch  int     `json:"eval_batch"`
	// LRSchedule is "constant" (or ""), "cosine": lr·½(1+cos(π·step/steps)),
	// decaying to 0 at the last step, or "burda": lr·10^(−i/7) for 3^i
	// epochs, i = 0…7 (Burda et al. 2016: 3,280 epochs; Epochs truncates it,
	// and epochs past the last stage keep its rate).
	LRSchedule string `json:"lr_schedule,omitempty"`
	// AdamEps is Adam's ε (0: 1e-8, PyTorch's default; Burda et al. use 1e-4).
	AdamEps float64 `json:"adam_eps,omitempty"`
	// EvalEvery evaluates on the test set every this many epochs (0 or 1:
	// every epoch); the last epoch is always evaluated.
	EvalEvery int `json:"eval_every,omitempty"`
}

// DefaultOptions are PyTorch-example defaults: 10 epochs, batch 128, Adam 1e-3.
func DefaultOptions() Options {
	return Options{Epochs: 10, Batch: 128, LR: 1e-3, Seed: 1, Dtype: "float32", Binarize: "none", EvalBatch: 500}
}

// Validate checks the options.
func (o Options) Validate() error {
	switch {
	case o.Epochs < 0:
		return errors.Errorf("invalid --epochs %d: must be ≥ 0", o.Epochs)
	case o.Batch <= 0:
		return errors.Errorf("invalid --batch %d: must be positive", o.Batch)
	case !(o.LR > 0) || math.IsInf(o.LR, 0):
		return errors.Errorf("invalid --lr %g: must be positive", o.LR)
	case o.TrainLimit < 0 || o.TestLimit < 0:
		return errors.New("invalid --train-limit/--test-limit: must be ≥ 0")
	}
	if _, err := graph.ParseDtype(o.Dtype); err != nil {
		return err
	}
	switch o.Binarize {
	case "", "none", "fixed", "dynamic":
	default:
		return errors.Errorf("invalid --binarize %q (want none, fixed or dynamic)", o.Binarize)
	}
	switch o.LRSchedule {
	case "", "constant", "cosine", "burda":
	default:
		return errors.Errorf("invalid --lr-schedule %q (want constant, cosine or burda)", o.LRSchedule)
	}
	if o.AdamEps < 0 || math.IsNaN(o.AdamEps) || math.IsInf(o.AdamEps, 0) {
		return errors.Errorf("invalid --adam-eps %g: must be ≥ 0 (0: 1e-8)", o.AdamEps)
	}
	if o.EvalEvery < 0 {
		return errors.Errorf("invalid --eval-every %d", o.EvalEvery)
	}
	return nil
}

// EpochLog is the metrics.jsonl line of one epoch. Every epoch has one;
// the test fields are set (and written) only for epochs evaluated on the
// test set (see Options.EvalEvery and Evaluated).
type EpochLog struct {
	Epoch       int                    `json:"epoch"`
	Step        int                    `json:"step"`
	TrainLoss   float64                `json:"train_loss"`
	TestLoss    float64                `json:"test_loss"`
	TestRecon   float64                `json:"test_recon"`
	TestPenalty float64                `json:"test_penalty"`
	TestTerms   map[graph.Term]float64 `json:"test_terms"`
	TestBCE     float64                `json:"test_bce_per_image"`
	TestMSE     float64                `json:"test_mse_per_pixel"`
	Seconds     float64                `json:"seconds"` // training time of this epoch (no evaluation)
	SamplesPerS float64                `json:"samples_per_s"`
}

// Evaluated reports whether the epoch was evaluated on the test set.
func (l EpochLog) Evaluated() bool { return l.TestTerms != nil }

// MarshalJSON writes the test fields only for an evaluated epoch.
func (l EpochLog) MarshalJSON() ([]byte, error) {
	type full EpochLog
	if l.Evaluated() {
		return json.Marshal(full(l))
	}
	return json.Marshal(struct {
		Epoch       int     `json:"epoch"`
		Step        int     `json:"step"`
		TrainLoss   float64 `json:"train_loss"`
		Seconds     float64 `json:"seconds"`
		SamplesPerS float64 `json:"samples_per_s"`
	}{l.Epoch, l.Step, l.TrainLoss, l.Seconds, l.SamplesPerS})
}

// StepLog is a metrics.jsonl line written every Trainer.LogEvery steps:
// the mean training loss of the steps since the previous one. Its Kind is
// "step", which tells it from the epoch lines (which have no kind).
type StepLog struct {
	Kind      string  `json:"kind"`  // "step"
	Epoch     int     `json:"epoch"` // the epoch in progress (1-based)
	Step      int     `json:"step"`  // steps taken
	TrainLoss float64 `json:"train_loss"`
	Steps     int     `json:"steps"` // steps averaged in TrainLoss
}

// Trainer trains one model. Create it with New, then call Run.
type Trainer struct {
	Config      models.Config
	Opt         Options
	Dtype       tensor.Dtype
	Train, Test *data.Dataset
	Store       *graph.Store
	Adam        *graph.Adam
	Eval        *eval.Evaluator
	Prog        *graph.Program

	Epoch int // epochs finished
	Step  int // steps taken

	// Progress, when set, receives a progress bar and what the trainer is
	// doing (use a terminal; see package internal/progress).
	Progress io.Writer
	// OnEpoch, when set, is called after every epoch, after its evaluation
	// when it has one (log.Evaluated(); test is zero otherwise).
	OnEpoch func(t *Trainer, log EpochLog, test eval.Metrics) error
	// LogEvery, when positive, calls OnLog every this many steps.
	LogEvery int
	OnLog    func(StepLog) error

	// OnStep, when set, is called after every step with the step count and
	// the step's loss (e.g. for a live loss plot).
	OnStep func(step int, loss float64)
	// Checkpoint, when set, is called after each epoch (after OnEpoch) and
	// every CheckpointEvery steps (0: only at epoch ends).
	Checkpoint      func(t *Trainer) error
	CheckpointEvery int

	// Players are the programs of an adversarial model (models.Spec.Players),
	// run in turn on every minibatch, each with its own Adam; Prog and Adam
	// are the first player's. Empty for the other models.
	Players []Player
	others  []Player // Players[1:]

	PCG *rand.PCG // the training stream: shuffling, noise, ε
	rng *rand.Rand

	idx       []int
	batch     []float32
	epochStep int     // steps taken in the unfinished epoch
	lossSum   float64 // their summed losses
	epochSecs float64 // their training time
	logSum    float64 // losses since the last StepLog
	logN      int
}

// New prepares training of c on train, evaluating on test. A nil store
// initializes the parameters from the seed.
func New(c models.Config, o Options, trainSet, testSet *data.Dataset, store *graph.Store) (*Trainer, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if trainSet == nil || trainSet.N < o.Batch {
		n := 0
		if trainSet != nil {
			n = trainSet.N
		}
		return nil, errors.Errorf("training set has %d examples, fewer than one batch of %d", n, o.Batch)
	}
	if testSet == nil || testSet.N == 0 {
		return nil, errors.New("empty test set")
	}
	if testSet.D != trainSet.D {
		return nil, errors.Errorf("test images have %d pixels, training images %d", testSet.D, trainSet.D)
	}
	dt, err := graph.ParseDtype(o.Dtype) // checked by Validate; kept honest here
	if err != nil {
		return nil, err
	}
	t := &Trainer{Config: c, Opt: o, Dtype: dt, Train: trainSet, Test: testSet, Store: store}
	switch o.Binarize {
	case "fixed":
		t.Train, t.Test = trainSet.Binarized(0.5), testSet.Binarized(0.5)
	case "dynamic":
		t.Test = BinarizeTest(testSet, o.Seed)
	}
	if t.Store == nil {
		t.Store = graph.NewStore()
	}
	spec, err := models.SpecOf(c)
	if err != nil {
		return nil, err
	}
	shape := graph.Shape{In: trainSet.D, Batch: o.Batch, Mean: t.Train.Mean()}
	initRNG := rand.New(rand.NewPCG(o.Seed, 0x1))
	if len(spec.Players) > 0 {
		if err := t.buildPlayers(spec, shape, dt, initRNG); err != nil {
			return nil, err
		}
	} else {
		m, err := models.Build(c, shape, dt, t.Store, initRNG)
		if err != nil {
			return nil, err
		}
		t.Adam = graph.NewAdam(o.LR)
		if o.AdamEps > 0 {
			t.Adam.Eps = o.AdamEps
		}
		if t.Prog, err = graph.NewTrainer(m, t.Adam); err != nil {
			return nil, errors.Wrapf(err, "compiling %s", c.Model)
		}
	}
	t.Eval = eval.NewEvaluator(c, dt, t.Store, o.EvalBatch, o.Seed)
	t.PCG = rand.NewPCG(o.Seed, 0x2)
	t.rng = rand.New(t.PCG)
	t.idx = make([]int, trainSet.N)
	t.batch = make([]float32, o.Batch*trainSet.D)
	return t, nil
}

// StepsPerEpoch is the number of full minibatches per epoch (the remainder
// of the shuffled training set is skipped).
func (t *Trainer) StepsPerEpoch() int { return t.Train.N / t.Opt.Batch }

// Run trains the remaining epochs. It stops early, with ctx's error, when
// ctx is cancelled (after finishing the current step).
func (t *Trainer) Run(ctx context.Context) error {
	for t.Epoch < t.Opt.Epochs {
		if err := t.RunEpoch(ctx); err != nil {
			return err
		}
	}
	return nil
}

// RunEpoch trains (the rest of) one epoch, evaluates on the test set and
// calls OnEpoch and Checkpoint. When ctx is cancelled it returns, after the
// current step, an error wrapping ctx.Err() that says where it stopped.
func (t *Trainer) RunEpoch(ctx context.Context) error {
	steps := t.StepsPerEpoch()
	t.Prog.BeginEpoch(t.Epoch, t.Opt.Epochs)
	if t.epochStep == 0 {
		// Stop before the shuffle draws from the generator, so that a
		// checkpoint taken now resumes exactly.
		if err := ctx.Err(); err != nil {
			return errors.Wrapf(err, "interrupted before epoch %d", t.Epoch+1)
		}
		for i := range t.idx {
			t.idx[i] = i
		}
		t.rng.Shuffle(len(t.idx), func(i, j int) { t.idx[i], t.idx[j] = t.idx[j], t.idx[i] })
		t.lossSum, t.epochSecs = 0, 0
	}
	bar := progress.NewEpoch(t.Progress, t.Epoch+1, t.Opt.Epochs, steps, t.Opt.Batch, t.epochStep)
	start := time.Now()
	for t.epochStep < steps {
		if err := ctx.Err(); err != nil {
			t.epochSecs += time.Since(start).Seconds()
			bar.Done()
			return errors.Wrapf(err, "interrupted in epoch %d after step %d of %d", t.Epoch+1, t.epochStep, steps)
		}
		s := t.epochStep
		t.Train.Gather(t.idx[s*t.Opt.Batch:(s+1)*t.Opt.Batch], t.batch)
		if t.Opt.Binarize == "dynamic" {
			data.SampleBinaryRows(t.rng.Uint64(), 0, t.Train.D, t.batch, t.batch) // on every core
		}
		t.Adam.LR = t.learningRate()
		if err := t.Prog.Run(t.batch, t.rng, true); err != nil {
			bar.Done()
			return errors.Wrapf(err, "epoch %d, step %d", t.Epoch+1, t.Step+1)
		}
		for _, p := range t.others {
			p.Adam.LR = t.Adam.LR
			if err := p.Prog.Run(t.batch, t.rng, true); err != nil {
				bar.Done()
				return errors.Wrapf(err, "epoch %d, step %d, %s", t.Epoch+1, t.Step+1, p.Name)
			}
		}
		if err := t.checkFinite(t.Step%paramCheckEvery == 0 || t.epochStep+1 == steps); err != nil {
			bar.Done()
			return err
		}
		t.Step++
		t.epochStep++
		t.lossSum += t.Prog.Loss()
		bar.Update(t.epochStep, t.lossSum/float64(t.epochStep))
		if t.OnStep != nil {
			t.OnStep(t.Step, t.Prog.Loss())
		}
		if t.LogEvery > 0 && t.OnLog != nil {
			t.logSum += t.Prog.Loss()
			t.logN++
			if t.Step%t.LogEvery == 0 {
				l := StepLog{Kind: "step", Epoch: t.Epoch + 1, Step: t.Step, TrainLoss: t.logSum / float64(t.logN), Steps: t.logN}
				t.logSum, t.logN = 0, 0
				if err := t.OnLog(l); err != nil {
					bar.Done()
					return err
				}
			}
		}
		if t.CheckpointEvery > 0 && t.Step%t.CheckpointEvery == 0 && t.Checkpoint != nil && t.epochStep < steps {
			t.epochSecs += time.Since(start).Seconds()
			start = time.Now()
			if err := t.Checkpoint(t); err != nil {
				bar.Done()
				return err
			}
		}
	}
	t.epochSecs += time.Since(start).Seconds()
	bar.Done()
	t.Epoch++
	t.epochStep = 0
	log := EpochLog{
		Epoch: t.Epoch, Step: t.Step, TrainLoss: t.lossSum / float64(max(steps, 1)),
		Seconds: t.epochSecs, SamplesPerS: float64(steps*t.Opt.Batch) / t.epochSecs,
	}
	var mt eval.Metrics
	if !(t.Opt.EvalEvery > 1 && t.Epoch%t.Opt.EvalEvery != 0 && t.Epoch != t.Opt.Epochs) {
		stop := progress.Status(t.Progress, fmt.Sprintf("epoch %d/%d: evaluating on %d test images", t.Epoch, t.Opt.Epochs, t.Test.N))
		var err error
		mt, err = t.Eval.Evaluate(t.Test)
		stop()
		if err != nil {
			return errors.Wrapf(err, "evaluating after epoch %d", t.Epoch)
		}
		log.TestLoss, log.TestRecon, log.TestPenalty, log.TestTerms = mt.Loss, mt.Terms[graph.ReconTerm], mt.Loss-mt.Terms[graph.ReconTerm], mt.Terms
		log.TestBCE, log.TestMSE = mt.BCEPerImage, mt.MSEPerPixel
		if log.TestTerms == nil {
			log.TestTerms = map[graph.Term]float64{}
		}
	}
	if t.OnEpoch != nil {
		if err := t.OnEpoch(t, log, mt); err != nil {
			return err
		}
	}
	if t.Checkpoint != nil {
		return t.Checkpoint(t)
	}
	return nil
}

// learningRate is the learning rate of the next step.
func (t *Trainer) learningRate() float64 {
	switch t.Opt.LRSchedule {
	case "cosine":
		total := t.Opt.Epochs * t.StepsPerEpoch()
		return t.Opt.LR * 0.5 * (1 + math.Cos(math.Pi*float64(t.Step)/float64(max(total, 1))))
	case "burda":
		return t.Opt.LR * math.Pow(10, -float64(BurdaStage(t.Epoch))/7)
	}
	return t.Opt.LR
}

// BurdaStages is the number of stages i = 0…7 of Burda et al.'s schedule.
const BurdaStages = 8

// BurdaStage returns the stage i of the 0-based epoch in Burda et al.'s
// schedule, where stage i lasts 3^i epochs (epochs 0 | 1–3 | 4–12 | 13–39 |
// 40–120 | 121–363 | 364–1092 | 1093–3279); epochs past the end stay in
// the last stage.
func BurdaStage(epoch int) int {
	end := 0
	for i, n := 0, 1; i < BurdaStages; i, n = i+1, n*3 {
		end += n
		if epoch < end {
			return i
		}
	}
	return BurdaStages - 1
}

// BurdaEpochs returns the epochs of Burda et al.'s schedule up to the end
// of stage i (1, 4, 13, 40, 121, 364, 1093, 3280 for i = 0…7).
func BurdaEpochs(i int) int {
	end := 0
	for j, n := 0, 1; j <= i; j, n = j+1, n*3 {
		end += n
	}
	return end
}

// DivergedError reports a NaN or Inf in the loss or a parameter.
type DivergedError struct {
	Epoch, Step int     // where (1-based)
	Node        string  // the term or parameter holding the bad value
	Value       float64 // the bad value
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("training diverged at epoch %d, step %d: %s is %v (try a smaller --lr)", e.Epoch, e.Step, e.Node, e.Value)
}

// paramCheckEvery is how often (in steps) every parameter is scanned for
// NaN and Inf; the loss and terms are checked at every step, and a bad
// parameter makes the loss bad at the next step anyway.
const paramCheckEvery = 50

// checkFinite returns a DivergedError if a term, or (when params is set or
// a term is bad) a parameter, is NaN or Inf. A bad parameter is named in
// preference to the term it spoiled.
func (t *Trainer) checkFinite(params bool) error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	var termErr error
	for _, p := range t.programs() {
		for _, term := range p.Terms() {
			if v, _ := p.Term(term); bad(v) && termErr == nil {
				termErr = &DivergedError{t.Epoch + 1, t.Step + 1, "term " + string(term), v}
			}
		}
	}
	if v := t.Prog.Loss(); bad(v) && termErr == nil {
		termErr = &DivergedError{t.Epoch + 1, t.Step + 1, "the loss", v}
	}
	if !params && termErr == nil {
		return nil
	}
	if err := t.checkParams(); err != nil {
		return err
	}
	return termErr
}

func (t *Trainer) checkParams() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	for _, p := range t.params() {
		switch d := p.Value().Data().(type) {
		case []float32:
			for _, v := range d {
				if bad(float64(v)) {
					return &DivergedError{t.Epoch + 1, t.Step + 1, "parameter " + p.Name(), float64(v)}
				}
			}
		case []float64:
			for _, v := range d {
				if bad(v) {
					return &DivergedError{t.Epoch + 1, t.Step + 1, "parameter " + p.Name(), v}
				}
			}
		}
	}
	return nil
}

// BinarizeTest samples a binarization of a test set once, from a stream
// fixed by seed, for dynamically binarized runs.
func BinarizeTest(ds *data.Dataset, seed uint64) *data.Dataset {
	b := *ds
	b.X = make([]float32, len(ds.X))
	data.SampleBinaryRows(rand.New(rand.NewPCG(seed, 0xb1)).Uint64(), 0, ds.D, ds.X, b.X)
	return &b
}

// Player is the training program of one player of an adversarial model.
type Player struct {
	Name string
	Prog *graph.Program
	Adam *graph.Adam
}

// buildPlayers compiles every player of an adversarial model, each with
// its own Adam (the player's β1), on the shared store: the first player's
// graph initializes every parameter from rng.
func (t *Trainer) buildPlayers(spec models.Spec, s graph.Shape, dt tensor.Dtype, rng *rand.Rand) error {
	for i, pl := range spec.Players {
		m, err := models.BuildPlayer(t.Config, i, s, dt, t.Store, rng)
		if err != nil {
			return err
		}
		adam := graph.NewAdam(t.Opt.LR)
		if pl.Beta1 > 0 {
			adam.Beta1 = pl.Beta1
		}
		if t.Opt.AdamEps > 0 {
			adam.Eps = t.Opt.AdamEps
		}
		prog, err := graph.NewTrainer(m, adam)
		if err != nil {
			return errors.Wrapf(err, "compiling the %s of %s", pl.Name, t.Config.Model)
		}
		t.Players = append(t.Players, Player{Name: pl.Name, Prog: prog, Adam: adam})
	}
	t.Prog, t.Adam, t.others = t.Players[0].Prog, t.Players[0].Adam, t.Players[1:]
	return nil
}

// programs returns the training programs: Prog, then the other players'.
func (t *Trainer) programs() []*graph.Program {
	ps := []*graph.Program{t.Prog}
	for _, p := range t.others {
		ps = append(ps, p.Prog)
	}
	return ps
}

// adams returns each training program's Adam, in the order of programs.
func (t *Trainer) adams() []*graph.Adam {
	as := []*graph.Adam{t.Adam}
	for _, p := range t.others {
		as = append(as, p.Adam)
	}
	return as
}

// params returns the trained parameters of every program.
func (t *Trainer) params() []*G.Node {
	var ps []*G.Node
	for _, p := range t.programs() {
		ps = append(ps, p.Params()...)
	}
	return ps
}

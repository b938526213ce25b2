package classify

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/graph/ops"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Config is a classifier's architecture and regularization.
type Config struct {
	// Hidden lists the sizes of the hidden layers, from the input (none:
	// multinomial logistic regression on the input).
	Hidden []int `json:"hidden"`
	// Activation of every hidden layer: sigmoid, relu, tanh or linear.
	Activation string `json:"activation"`
	// Classes is the number of classes (0: one more than the largest
	// training label).
	Classes int `json:"classes"`
	// WeightDecay λ adds ½λ·Σ‖W‖² over every weight matrix (not the
	// biases) to the loss.
	WeightDecay float64 `json:"weight_decay"`
	// Init, when set, gives the initial weights of the first len(Init)
	// hidden layers (e.g. a pretrained encoder, see EncoderLayers); the
	// other layers are initialized at random. It is not saved: a saved
	// classifier holds its trained weights.
	Init []Layer `json:"-"`
}

// DefaultConfig is one hidden layer of 1,000 sigmoid units for 10 classes,
// without weight decay: the MLP of Rifai et al. (2011).
func DefaultConfig() Config {
	return Config{Hidden: []int{1000}, Activation: "sigmoid", Classes: 10}
}

// Layer holds one dense layer's parameters: W is In×Out, row-major (the
// layout of graph.Builder.Dense), and B holds Out biases.
type Layer struct {
	W, B    []float64
	In, Out int
}

// Validate checks c for inputs of in features.
func (c Config) Validate(in int) error {
	if in <= 0 {
		return errors.Errorf("classify: %d input features", in)
	}
	for i, h := range c.Hidden {
		if h <= 0 {
			return errors.Errorf("classify: hidden layer %d has %d units", i+1, h)
		}
	}
	switch c.Activation {
	case "sigmoid", "relu", "tanh", "linear":
	default:
		if len(c.Hidden) > 0 || c.Activation != "" {
			return errors.Errorf("classify: unknown activation %q (want sigmoid, relu, tanh or linear)", c.Activation)
		}
	}
	if c.Classes < 2 {
		return errors.Errorf("classify: %d classes (need at least 2)", c.Classes)
	}
	if !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0) {
		return errors.Errorf("classify: invalid weight decay %g (want ≥ 0)", c.WeightDecay)
	}
	if len(c.Init) > len(c.Hidden) {
		return errors.Errorf("classify: %d initial layers for %d hidden layers", len(c.Init), len(c.Hidden))
	}
	prev := in
	for i, l := range c.Init {
		if l.In != prev || l.Out != c.Hidden[i] || len(l.W) != l.In*l.Out || len(l.B) != l.Out {
			return errors.Errorf("classify: initial layer %d is %d×%d (%d weights, %d biases), hidden layer %d needs %d×%d",
				i+1, l.In, l.Out, len(l.W), len(l.B), i+1, prev, c.Hidden[i])
		}
		for _, v := range l.W {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return errors.Errorf("classify: initial layer %d has non-finite weights", i+1)
			}
		}
		prev = l.Out
	}
	return nil
}

// XentTerm names the softmax cross-entropy term of a classifier's loss
// (nats per example); graph.PenaltyTerm names the weight decay.
const XentTerm graph.Term = "xent"

// LayerName is the parameter prefix of hidden layer i (0-based) of a
// classifier: "hidden1", "hidden2", …; the output layer is "softmax".
func LayerName(i int) string { return "hidden" + strconv.Itoa(i+1) }

// OutputLayer is the parameter prefix of the softmax layer.
const OutputLayer = "softmax"

// Labels holds the class labels of the minibatch that a classifier graph's
// one-hot target input "y" reads at every run (one per example).
type Labels struct{ Y []uint8 }

// Declare declares the classifier c on a fresh graph for inputs of shape s:
// the input "x" (the minibatch), the hidden layers, the graph.Features
// output (the last hidden layer, or x without hidden layers) and the
// graph.Logits output. With labels, it also declares the one-hot target
// input "y" read from labels, the XentTerm objective and, for λ > 0, the
// weight decay as graph.PenaltyTerm; with nil labels the graph is
// forward-only. Parameters come from store when it holds them; otherwise
// from c.Init for the first layers, and from rng.
func Declare(c Config, s graph.Shape, dt tensor.Dtype, store *graph.Store, rng *rand.Rand, labels *Labels) (*graph.Model, error) {
	if err := c.Validate(s.In); err != nil {
		return nil, err
	}
	m, err := graph.Declare(s, dt, store, rng, func(b *graph.Builder) {
		x := b.Batch("x")
		h := x
		var weights []*G.Node
		for i, units := range c.Hidden {
			var l graph.Layer
			if i < len(c.Init) {
				l = denseFrom(b, LayerName(i), h, c.Init[i])
			} else {
				l = b.Dense(LayerName(i), h, units)
			}
			h = b.Act(c.Activation, l.Pre)
			weights = append(weights, l.W)
		}
		b.Output(graph.Features, h)
		out := b.Dense(OutputLayer, h, c.Classes)
		b.Output(graph.Logits, out.Pre)
		weights = append(weights, out.W)
		if labels == nil {
			return
		}
		y := b.Input("y", c.Classes, oneHot(labels, c.Classes))
		b.Objective(XentTerm, b.Must(SoftmaxCrossEntropy(out.Pre, y)))
		if c.WeightDecay > 0 {
			var sum *G.Node
			for _, w := range weights {
				sq := b.Must(G.Sum(b.Must(G.Square(w))))
				if sum == nil {
					sum = sq
				} else {
					sum = b.Must(G.Add(sum, sq))
				}
			}
			b.Objective(graph.PenaltyTerm, b.Scale(c.WeightDecay/2, sum))
		}
	})
	return m, errors.Wrap(err, "classify: declaring the classifier")
}

// denseFrom declares the dense layer name on x with initial values from l.
func denseFrom(b *graph.Builder, name string, x *G.Node, l Layer) graph.Layer {
	w := append([]float64(nil), l.W...)
	bias := append([]float64(nil), l.B...)
	d := graph.Layer{
		W: b.Param(name+".W", []int{l.In, l.Out}, func(*rand.Rand, []int) []float64 { return w }),
		B: b.Param(name+".b", []int{1, l.Out}, func(*rand.Rand, []int) []float64 { return bias }),
	}
	d.Pre = b.Must(ops.Affine(x, d.W, d.B))
	return d
}

// oneHot fills the target input from labels (rows past len(labels.Y) stay
// zero).
func oneHot(labels *Labels, classes int) graph.Filler {
	return func(dst []float64, _ []float32, _ *rand.Rand, _ bool) {
		clear(dst)
		for i, c := range labels.Y {
			if (i+1)*classes > len(dst) {
				return
			}
			if int(c) < classes {
				dst[i*classes+int(c)] = 1
			}
		}
	}
}

// Options are the training settings.
type Options struct {
	// Epochs is the most epochs trained.
	Epochs int `json:"epochs"`
	// Patience stops training after this many epochs without a lower
	// validation error (0: train every epoch); the weights of the best
	// epoch are kept.
	Patience int `json:"patience"`
	// Validation is the fraction of the training set held out, drawn with
	// Seed, for early stopping (0: none; the last epoch is kept).
	Validation float64 `json:"validation"`
	Batch      int     `json:"batch"`
	LR         float64 `json:"lr"` // Adam's learning rate
	Seed       uint64  `json:"seed"`
	Dtype      string  `json:"dtype"`      // float32 or float64
	EvalBatch  int     `json:"eval_batch"` // examples per forward pass when evaluating

	// Log, when set, receives one line per epoch.
	Log io.Writer `json:"-"`
	// OnEpoch, when set, is called after every epoch.
	OnEpoch func(EpochLog) `json:"-"`
}

// DefaultOptions: at most 100 epochs with patience 10 on a held-out sixth
// of the training set (MNIST's 50,000/10,000 split), minibatches of 100,
// Adam 1e-3, float32.
func DefaultOptions() Options {
	return Options{Epochs: 100, Patience: 10, Validation: 1.0 / 6, Batch: 100, LR: 1e-3, Seed: 1, Dtype: "float32", EvalBatch: 500}
}

// Validate checks the options.
func (o Options) Validate() error {
	switch {
	case o.Epochs <= 0:
		return errors.Errorf("classify: invalid epochs %d (want > 0)", o.Epochs)
	case o.Patience < 0:
		return errors.Errorf("classify: invalid patience %d (want ≥ 0)", o.Patience)
	case !(o.Validation >= 0 && o.Validation < 1):
		return errors.Errorf("classify: invalid validation fraction %g (want [0,1))", o.Validation)
	case o.Batch <= 0:
		return errors.Errorf("classify: invalid batch %d", o.Batch)
	case !(o.LR > 0) || math.IsInf(o.LR, 0):
		return errors.Errorf("classify: invalid learning rate %g", o.LR)
	case o.EvalBatch < 0:
		return errors.Errorf("classify: invalid eval batch %d", o.EvalBatch)
	}
	_, err := graph.ParseDtype(o.Dtype)
	return errors.Wrap(err, "classify")
}

// EpochLog records one training epoch.
type EpochLog struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"` // mean loss of the epoch's steps
	ValError  float64 `json:"val_error"`  // error rate on the validation split (NaN without one)
	Seconds   float64 `json:"seconds"`
}

// Classifier is a trained (or loaded) classifier. Its methods build
// forward-only programs on first use; a Classifier is not safe for
// concurrent use.
type Classifier struct {
	Config  Config
	Options Options
	In      int // input features
	Dtype   tensor.Dtype
	Store   *graph.Store

	Epochs    int        // epochs trained
	BestEpoch int        // the epoch whose weights are kept
	ValError  float64    // validation error of BestEpoch (NaN without a split)
	History   []EpochLog // one entry per epoch trained

	progs map[int]*graph.Program
}

// Train trains a classifier c on the labelled set trainSet with options o.
// A fraction o.Validation of trainSet, drawn with o.Seed, is held out for
// early stopping; the weights of the epoch with the lowest validation error
// are returned. The same seed gives the same classifier, bit for bit. When
// ctx is cancelled, Train stops after the current step with an error.
func Train(ctx context.Context, c Config, o Options, trainSet *data.Dataset) (*Classifier, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := checkLabelled(trainSet, "training"); err != nil {
		return nil, err
	}
	if c.Classes == 0 {
		for _, y := range trainSet.Labels {
			c.Classes = max(c.Classes, int(y)+1)
		}
	}
	if err := c.Validate(trainSet.D); err != nil {
		return nil, err
	}
	if err := checkClasses(trainSet, c.Classes, "training"); err != nil {
		return nil, err
	}
	c.Hidden = append([]int(nil), c.Hidden...)
	dt, _ := graph.ParseDtype(o.Dtype)
	if o.EvalBatch == 0 {
		o.EvalBatch = 500
	}
	nVal := int(math.Round(o.Validation * float64(trainSet.N)))
	if o.Validation > 0 && nVal == 0 {
		nVal = 1
	}
	nFit := trainSet.N - nVal
	if nFit < o.Batch {
		return nil, errors.Errorf("classify: %d training examples (after holding out %d for validation), fewer than one batch of %d", nFit, nVal, o.Batch)
	}
	perm := rand.New(rand.NewPCG(o.Seed, 0x5e1)).Perm(trainSet.N)
	fit, val := subset(trainSet, perm[:nFit]), subset(trainSet, perm[nFit:])

	cl := &Classifier{Config: c, Options: o, In: trainSet.D, Dtype: dt, Store: graph.NewStore(), ValError: math.NaN()}
	cl.Config.Init = nil
	labels := &Labels{Y: make([]uint8, o.Batch)}
	m, err := Declare(c, graph.Shape{In: trainSet.D, Batch: o.Batch}, dt, cl.Store, rand.New(rand.NewPCG(o.Seed, 0x1)), labels)
	if err != nil {
		return nil, err
	}
	prog, err := graph.NewTrainer(m, graph.NewAdam(o.LR))
	if err != nil {
		return nil, errors.Wrap(err, "classify: compiling the trainer")
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x2))
	idx := make([]int, fit.N)
	for i := range idx {
		idx[i] = i
	}
	batch := make([]float32, o.Batch*fit.D)
	steps := fit.N / o.Batch
	var best []any
	bestErr := math.Inf(1)
	for epoch := 1; epoch <= o.Epochs; epoch++ {
		start := time.Now()
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		var sum float64
		for s := 0; s < steps; s++ {
			if err := ctx.Err(); err != nil {
				return nil, errors.Wrapf(err, "classify: interrupted in epoch %d", epoch)
			}
			bi := idx[s*o.Batch : (s+1)*o.Batch]
			fit.Gather(bi, batch)
			for k, i := range bi {
				labels.Y[k] = fit.Labels[i]
			}
			if err := prog.Run(batch, rng, true); err != nil {
				return nil, errors.Wrapf(err, "classify: epoch %d, step %d", epoch, s+1)
			}
			l := prog.Loss()
			if math.IsNaN(l) || math.IsInf(l, 0) {
				return nil, errors.Errorf("classify: the loss diverged (%g) in epoch %d, step %d: lower the learning rate", l, epoch, s+1)
			}
			sum += l
		}
		log := EpochLog{Epoch: epoch, TrainLoss: sum / float64(steps), ValError: math.NaN(), Seconds: time.Since(start).Seconds()}
		cl.Epochs = epoch
		stop := false
		if val.N > 0 {
			e, err := cl.Error(val)
			if err != nil {
				return nil, errors.Wrapf(err, "classify: validating after epoch %d", epoch)
			}
			log.ValError = e
			if e < bestErr {
				bestErr, cl.BestEpoch, cl.ValError = e, epoch, e
				best = snapshot(cl.Store, best)
			} else if o.Patience > 0 && epoch-cl.BestEpoch >= o.Patience {
				stop = true
			}
		} else {
			cl.BestEpoch = epoch
		}
		cl.History = append(cl.History, log)
		if o.Log != nil {
			writeLog(o.Log, log)
		}
		if o.OnEpoch != nil {
			o.OnEpoch(log)
		}
		if stop {
			break
		}
	}
	if best != nil {
		restore(cl.Store, best)
	}
	return cl, nil
}

// subset copies the examples idx of ds into a new data set.
func subset(ds *data.Dataset, idx []int) *data.Dataset {
	out := *ds
	out.N = len(idx)
	out.X = make([]float32, len(idx)*ds.D)
	ds.Gather(idx, out.X)
	out.Labels = make([]uint8, len(idx))
	for k, i := range idx {
		out.Labels[k] = ds.Labels[i]
	}
	return &out
}

// snapshot copies every parameter of store into dst (reused when given).
func snapshot(store *graph.Store, dst []any) []any {
	names := store.Names()
	if len(dst) != len(names) {
		dst = make([]any, len(names))
	}
	for i, n := range names {
		switch d := store.Get(n).Data().(type) {
		case []float32:
			c, _ := dst[i].([]float32)
			dst[i] = append(c[:0], d...)
		case []float64:
			c, _ := dst[i].([]float64)
			dst[i] = append(c[:0], d...)
		}
	}
	return dst
}

// restore copies a snapshot back into the store's tensors (in place, so
// that programs sharing them see it).
func restore(store *graph.Store, snap []any) {
	for i, n := range store.Names() {
		switch d := store.Get(n).Data().(type) {
		case []float32:
			copy(d, snap[i].([]float32))
		case []float64:
			copy(d, snap[i].([]float64))
		}
	}
}

func checkLabelled(ds *data.Dataset, what string) error {
	if ds == nil || ds.N == 0 {
		return errors.Errorf("classify: empty %s set", what)
	}
	if ds.D <= 0 || len(ds.X) < ds.N*ds.D {
		return errors.Errorf("classify: %s set has %d values for %d examples of %d features", what, len(ds.X), ds.N, ds.D)
	}
	if len(ds.Labels) != ds.N {
		return errors.Errorf("classify: %s set has %d labels for %d examples", what, len(ds.Labels), ds.N)
	}
	return nil
}

func checkClasses(ds *data.Dataset, classes int, what string) error {
	for i, y := range ds.Labels {
		if int(y) >= classes {
			return errors.Errorf("classify: %s example %d has label %d, the classifier has %d classes", what, i, y, classes)
		}
	}
	return nil
}

// program returns the forward-only program for batches of n examples.
func (cl *Classifier) program(n int) (*graph.Program, error) {
	if p := cl.progs[n]; p != nil {
		return p, nil
	}
	m, err := Declare(cl.Config, graph.Shape{In: cl.In, Batch: n}, cl.Dtype, cl.Store, rand.New(rand.NewPCG(cl.Options.Seed, 0x1)), nil)
	if err != nil {
		return nil, err
	}
	p, err := graph.NewEvaluator(m, graph.Logits, graph.Features)
	if err != nil {
		return nil, errors.Wrap(err, "classify: compiling the evaluator")
	}
	if cl.progs == nil {
		cl.progs = map[int]*graph.Program{}
	}
	cl.progs[n] = p
	return p, nil
}

// forward runs ds through the classifier in batches, calling fn with the
// first example's index, the number of examples n of the batch, and the
// program (whose outputs hold n valid rows).
func (cl *Classifier) forward(ds *data.Dataset, fn func(start, n int, p *graph.Program)) error {
	if ds == nil || ds.N == 0 {
		return errors.New("classify: empty data set")
	}
	if ds.D != cl.In || len(ds.X) < ds.N*ds.D {
		return errors.Errorf("classify: data have %d features per example, the classifier takes %d", ds.D, cl.In)
	}
	eb := cl.Options.EvalBatch
	if eb <= 0 {
		eb = 500
	}
	eb = min(eb, ds.N)
	p, err := cl.program(eb)
	if err != nil {
		return err
	}
	x := make([]float32, eb*ds.D)
	for start := 0; start < ds.N; start += eb {
		n := min(eb, ds.N-start)
		copy(x, ds.X[start*ds.D:(start+n)*ds.D])
		clear(x[n*ds.D:])
		if err := p.Run(x, nil, false); err != nil {
			return errors.Wrap(err, "classify: forward pass")
		}
		fn(start, n, p)
	}
	return nil
}

// Logits returns the classifier's logits on ds (N×Classes, row-major).
func (cl *Classifier) Logits(ds *data.Dataset) ([]float64, error) {
	k := cl.Config.Classes
	var out []float64
	err := cl.forward(ds, func(start, n int, p *graph.Program) {
		if out == nil {
			out = make([]float64, ds.N*k)
		}
		copy(out[start*k:(start+n)*k], p.Output(graph.Logits)[:n*k])
	})
	return out, err
}

// Predict returns the class probabilities softmax(l) on ds (N×Classes,
// row-major).
func (cl *Classifier) Predict(ds *data.Dataset) ([]float64, error) {
	l, err := cl.Logits(ds)
	if err != nil {
		return nil, err
	}
	softmaxRows(l, l, cl.Config.Classes)
	return l, nil
}

// Classify returns the most probable class of every example of ds.
func (cl *Classifier) Classify(ds *data.Dataset) ([]uint8, error) {
	l, err := cl.Logits(ds)
	if err != nil {
		return nil, err
	}
	k := cl.Config.Classes
	out := make([]uint8, ds.N)
	for i := range out {
		row := l[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = uint8(best)
	}
	return out, nil
}

// Error returns the classification error rate on the labelled set ds, in
// [0,1].
func (cl *Classifier) Error(ds *data.Dataset) (float64, error) {
	if err := checkLabelled(ds, "evaluation"); err != nil {
		return 0, err
	}
	pred, err := cl.Classify(ds)
	if err != nil {
		return 0, err
	}
	wrong := 0
	for i, p := range pred {
		if p != ds.Labels[i] {
			wrong++
		}
	}
	return float64(wrong) / float64(ds.N), nil
}

// Accuracy returns 1 − Error(ds).
func (cl *Classifier) Accuracy(ds *data.Dataset) (float64, error) {
	e, err := cl.Error(ds)
	if err != nil {
		return 0, err
	}
	return 1 - e, nil
}

// FeatureDim is the number of penultimate-layer features: the last hidden
// layer's size, or the input size without hidden layers.
func (cl *Classifier) FeatureDim() int {
	if n := len(cl.Config.Hidden); n > 0 {
		return cl.Config.Hidden[n-1]
	}
	return cl.In
}

// Features returns the penultimate-layer activations (the last hidden
// layer) on ds: N×dim values, row-major, with dim = FeatureDim().
func (cl *Classifier) Features(ds *data.Dataset) (feats []float64, dim int, err error) {
	dim = cl.FeatureDim()
	err = cl.forward(ds, func(start, n int, p *graph.Program) {
		if feats == nil {
			feats = make([]float64, ds.N*dim)
		}
		copy(feats[start*dim:(start+n)*dim], p.Output(graph.Features)[:n*dim])
	})
	if err != nil {
		return nil, 0, err
	}
	return feats, dim, nil
}

// MarshalJSON writes a missing validation error (NaN) as null.
func (l EpochLog) MarshalJSON() ([]byte, error) {
	type plain struct {
		Epoch     int      `json:"epoch"`
		TrainLoss float64  `json:"train_loss"`
		ValError  *float64 `json:"val_error"`
		Seconds   float64  `json:"seconds"`
	}
	p := plain{Epoch: l.Epoch, TrainLoss: l.TrainLoss, Seconds: l.Seconds}
	if !math.IsNaN(l.ValError) {
		p.ValError = &l.ValError
	}
	return json.Marshal(p)
}

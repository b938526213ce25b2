package eval

import (
	"math"
	"math/rand/v2"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/internal/par"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ProbeOptions are the settings of LinearProbe.
type ProbeOptions struct {
	Epochs  int     // passes over the training codes (≤0: 30)
	Batch   int     // minibatch size (≤0: 100; at most the training set size)
	LR      float64 // Adam's learning rate (≤0: 1e-3)
	L2      float64 // weight decay: L2·Σ W² is added to the loss (≥0)
	Seed    uint64  // seeds the initialization and the shuffling
	Classes int     // number of classes (≤0: 1 + the largest label)
	// Standardize rescales every feature to zero mean and unit variance
	// on the training set (constant features are only centred), and
	// applies the same map to the test set.
	Standardize bool
	Dtype       tensor.Dtype // graph.Float32() or graph.Float64() (zero value: Float32)
	// Validation, when positive, is early stopping: the last Validation
	// training examples are held out, the probe trains on the others for
	// up to Epochs epochs and keeps the epoch count with the lowest error
	// on the held-out examples, then it is refit on the whole training set
	// for that many epochs. Zero trains on all examples for Epochs epochs.
	Validation int
}

// DefaultProbeOptions are the settings used for the zoo's linear probes:
// 30 epochs of Adam (lr 1e-3, batch 100) on standardized features, meant
// for thousands of examples; small sets need more steps or a larger rate.
func DefaultProbeOptions() ProbeOptions {
	return ProbeOptions{Epochs: 30, Batch: 100, LR: 1e-3, Seed: 1, Standardize: true, Dtype: graph.Float32()}
}

// ProbeResult is the outcome of a linear probe: classification error rates
// in [0,1] and the final mean training loss (cross-entropy in nats, plus
// the L2 term).
type ProbeResult struct {
	TestError  float64 `json:"test_error"`
	TrainError float64 `json:"train_error"`
	TrainLoss  float64 `json:"train_loss"` // mean loss over the last epoch
	Epochs     int     `json:"epochs"`     // epochs of the final fit
	// ValError is the lowest held-out error when ProbeOptions.Validation
	// is set (the error at Epochs), else 0.
	ValError float64 `json:"val_error,omitempty"`
}

// probeFeed holds the minibatch that the probe graph's inputs read.
type probeFeed struct {
	x []float64 // Batch×dim
	y []uint8   // Batch
}

// probeModel declares multinomial logistic regression on dim features and
// classes classes, for minibatches of batch examples:
//
//	l    = x·W + b                            (parameters probe.W, probe.b)
//	loss = mean_n [ logΣ_k exp(l_nk) − Σ_k y_nk l_nk ] + λ·Σ W²
//
// with y one-hot and log-sum-exp computed stably as m + log Σ_k exp(l_k − m),
// m = max_k l_k. The inputs "x" and "y" are read from feed; the Run
// minibatch argument is ignored (pass batch×dim zeros).
func probeModel(dim, classes, batch int, l2 float64, dt tensor.Dtype, store *graph.Store, rng *rand.Rand, feed *probeFeed) (*graph.Model, error) {
	return graph.Declare(graph.Shape{In: dim, Batch: batch}, dt, store, rng, func(b *graph.Builder) {
		x := b.Input("x", dim, func(dst []float64, _ []float32, _ *rand.Rand, _ bool) { copy(dst, feed.x) })
		y := b.Input("y", classes, func(dst []float64, _ []float32, _ *rand.Rand, _ bool) {
			clear(dst)
			for i, c := range feed.y {
				dst[i*classes+int(c)] = 1
			}
		})
		layer := b.Dense("probe", x, classes)
		l := b.Output(graph.Logits, layer.Pre)
		m := b.Must(G.Max(l, 1))
		m = b.Must(G.Reshape(m, tensor.Shape{batch, 1}))
		shifted := b.Must(G.BroadcastSub(l, m, nil, []byte{1}))
		sumExp := b.Must(G.Sum(b.Must(G.Exp(shifted)), 1))
		lse := b.Must(G.Add(b.Must(G.Reshape(m, tensor.Shape{batch})), b.Must(G.Log(sumExp))))
		yl := b.Must(G.Sum(b.Must(G.HadamardProd(y, l)), 1))
		b.Objective("xent", b.Must(G.Mean(b.Must(G.Sub(lse, yl)))))
		if l2 > 0 {
			b.Objective("l2", b.Scale(l2, b.Must(G.Sum(b.Must(G.Square(layer.W))))))
		}
	})
}

// LinearProbe trains multinomial logistic regression — itself a small
// Gorgonia graph trained with Adam, see ProbeOptions — on frozen features
// trainX (row-major, dim values per example) with labels trainY, and
// reports its error rates on the training set and on testX, testY.
// Use Evaluator.Codes to get a model's codes.
func LinearProbe(trainX []float64, trainY []uint8, testX []float64, testY []uint8, dim int, o ProbeOptions) (ProbeResult, error) {
	var res ProbeResult
	if err := checkProbeData(trainX, trainY, dim, "training"); err != nil {
		return res, err
	}
	if err := checkProbeData(testX, testY, dim, "test"); err != nil {
		return res, err
	}
	if o.Epochs <= 0 {
		o.Epochs = 30
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if !(o.LR > 0) {
		o.LR = 1e-3
	}
	if !(o.L2 >= 0) || math.IsInf(o.L2, 0) {
		return res, errors.Errorf("eval: probe: invalid L2 weight %g", o.L2)
	}
	if o.Dtype == (tensor.Dtype{}) {
		o.Dtype = graph.Float32()
	}
	maxLabel := 0
	for _, ys := range [][]uint8{trainY, testY} {
		for _, c := range ys {
			maxLabel = max(maxLabel, int(c))
		}
	}
	if o.Classes <= 0 {
		o.Classes = maxLabel + 1
	}
	if maxLabel >= o.Classes {
		return res, errors.Errorf("eval: probe: label %d with %d classes", maxLabel, o.Classes)
	}
	if o.Classes < 2 {
		return res, errors.New("eval: probe: need at least 2 classes")
	}
	n := len(trainY)
	if o.Validation < 0 || o.Validation >= n {
		return res, errors.Errorf("eval: probe: %d validation examples of %d", o.Validation, n)
	}
	for _, v := range trainX {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return res, errors.New("eval: probe: training features are not finite")
		}
	}
	if o.Standardize {
		mean, scale := standardizer(trainX, dim)
		trainX = applyStandardizer(trainX, dim, mean, scale)
		testX = applyStandardizer(testX, dim, mean, scale)
	}
	res.Epochs = o.Epochs
	if o.Validation > 0 {
		fit := n - o.Validation
		valX, valY := trainX[fit*dim:], trainY[fit:]
		res.ValError = math.Inf(1)
		_, err := fitProbe(trainX[:fit*dim], trainY[:fit], dim, o, o.Epochs, func(epoch int, W, b []float64) {
			if e := probeError(valX, valY, dim, o.Classes, W, b); e < res.ValError {
				res.ValError, res.Epochs = e, epoch
			}
		})
		if err != nil {
			return res, errors.Wrap(err, "eval: probe: validation fit")
		}
	}
	f, err := fitProbe(trainX, trainY, dim, o, res.Epochs, nil)
	if err != nil {
		return res, errors.Wrap(err, "eval: probe")
	}
	res.TrainLoss = f.loss
	res.TrainError = probeError(trainX, trainY, dim, o.Classes, f.W, f.b)
	res.TestError = probeError(testX, testY, dim, o.Classes, f.W, f.b)
	return res, nil
}

// probeFit is a trained probe: its weights (dim×classes), bias, and the
// mean loss of its last epoch.
type probeFit struct {
	W, b []float64
	loss float64
}

// fitProbe trains the probe on x, y for epochs epochs with o's settings,
// calling after (when set) after every epoch with the 1-based epoch and
// the current weights and bias.
func fitProbe(x []float64, y []uint8, dim int, o ProbeOptions, epochs int, after func(epoch int, W, b []float64)) (probeFit, error) {
	var f probeFit
	n := len(y)
	batch := min(o.Batch, n)
	feed := &probeFeed{x: make([]float64, batch*dim), y: make([]uint8, batch)}
	store := graph.NewStore()
	rng := rand.New(rand.NewPCG(o.Seed, 0x9b0be))
	m, err := probeModel(dim, o.Classes, batch, o.L2, o.Dtype, store, rng, feed)
	if err != nil {
		return f, err
	}
	prog, err := graph.NewTrainer(m, graph.NewAdam(o.LR))
	if err != nil {
		return f, err
	}
	dummy := make([]float32, batch*dim)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	steps := n / batch
	for epoch := 0; epoch < epochs; epoch++ {
		rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		var sum float64
		for s := 0; s < steps; s++ {
			for k, i := range idx[s*batch : (s+1)*batch] {
				copy(feed.x[k*dim:(k+1)*dim], x[i*dim:(i+1)*dim])
				feed.y[k] = y[i]
			}
			if err := prog.Run(dummy, rng, true); err != nil {
				return f, errors.Wrapf(err, "epoch %d", epoch+1)
			}
			sum += prog.Loss()
		}
		f.loss = sum / float64(steps)
		if math.IsNaN(f.loss) || math.IsInf(f.loss, 0) {
			return f, errors.Errorf("loss diverged in epoch %d (lower the learning rate)", epoch+1)
		}
		if after != nil {
			after(epoch+1, store.Floats("probe.W"), store.Floats("probe.b"))
		}
	}
	f.W, f.b = store.Floats("probe.W"), store.Floats("probe.b")
	return f, nil
}

func checkProbeData(x []float64, y []uint8, dim int, what string) error {
	if dim <= 0 {
		return errors.Errorf("eval: probe: %d features", dim)
	}
	if len(y) == 0 {
		return errors.Errorf("eval: probe: empty %s set", what)
	}
	if len(x) != len(y)*dim {
		return errors.Errorf("eval: probe: %s set has %d values for %d labels of %d features", what, len(x), len(y), dim)
	}
	return nil
}

// standardizer returns each feature's training mean and the inverse of
// its standard deviation (1 for a constant feature).
func standardizer(x []float64, dim int) (mean, scale []float64) {
	n := float64(len(x) / dim)
	mean, scale = make([]float64, dim), make([]float64, dim)
	for i, v := range x {
		mean[i%dim] += v
	}
	for j := range mean {
		mean[j] /= n
	}
	for i, v := range x {
		d := v - mean[i%dim]
		scale[i%dim] += d * d
	}
	for j, s := range scale {
		if sd := math.Sqrt(s / n); sd > 1e-12 {
			scale[j] = 1 / sd
		} else {
			scale[j] = 1
		}
	}
	return mean, scale
}

func applyStandardizer(x []float64, dim int, mean, scale []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = (v - mean[i%dim]) * scale[i%dim]
	}
	return out
}

// probeError is the fraction of examples whose arg-max logit x·W + b is not
// their label. Examples are scored on every core, in fixed blocks.
func probeError(x []float64, y []uint8, dim, classes int, W, b []float64) float64 {
	grain := par.Grain(len(y), 2*dim*classes)
	wrong := make([]int, par.Chunks(len(y), grain))
	par.For(len(y), grain, func(c, lo, hi int) {
		l := make([]float64, classes)
		for i := lo; i < hi; i++ {
			copy(l, b)
			for j, v := range x[i*dim : (i+1)*dim] {
				if v == 0 {
					continue
				}
				row := W[j*classes : (j+1)*classes]
				for k, w := range row {
					l[k] += v * w
				}
			}
			best := 0
			for k, v := range l {
				if v > l[best] {
					best = k
				}
			}
			if best != int(y[i]) {
				wrong[c]++
			}
		}
	})
	n := 0
	for _, w := range wrong {
		n += w
	}
	return float64(n) / float64(len(y))
}

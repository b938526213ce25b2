// Package pretrain is greedy layer-wise pretraining (Hinton et al. 2006,
// Bengio et al. 2007, Vincent et al. 2010): each layer of a deep encoder is
// trained as a one-layer autoencoder — plain, sparse, denoising or
// contractive, with its own epochs and noise — on the codes of the layers
// below, and the stack then initializes a classifier (package classify) that
// is fine-tuned end to end with the labels.
//
//	layer 1: AE_1 on x;            h_1 = act(x·W_1 + b_1)
//	layer l: AE_l on h_{l−1};      h_l = act(h_{l−1}·W_l + b_l)
//	then:    MLP(x) = softmax(h_L·V + c), initialized from W_1 … W_L, trained on labels
//
// A stage is an ordinary zoo model trained by package train, so the first
// stage is exactly the one-layer autoencoder trained alone with the same
// options (TestOneStageIsTheAE).
package pretrain

import (
	"context"
	"math"

	"github.com/aezoo/aezoo/classify"
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/pkg/errors"
)

// Stage is one layer of the stack: a one-layer autoencoder (Model, whose
// hidden size is the layer's; no --layers) trained with Options on the
// codes of the stages below.
type Stage struct {
	Model   models.Config
	Options train.Options
}

// StageResult records one trained stage.
type StageResult struct {
	Model     models.Config `json:"model"`
	Epochs    int           `json:"epochs"`
	TrainLoss float64       `json:"train_loss"` // mean loss of the last epoch
	TestLoss  float64       `json:"test_loss"`  // on the test set's codes, per example
}

// Result is a pretrained stack.
type Result struct {
	// Layers are the encoder layers, from the input up (each stage's
	// enc.W and enc.b), for classify.Pretrained.
	Layers []classify.Layer
	// Activation is the stages' hidden activation (one for all).
	Activation string
	Stages     []StageResult
}

// Greedy trains the stages in order: stage 1 on trainSet (evaluated on
// testSet), stage l on the codes that the trained stages 1…l−1 give for
// both sets. Every stage must be a one-layer autoencoder with the same
// hidden activation and an encoder enc (plain, sparse, denoising,
// contractive). OnStage, when set, is called after each stage.
func Greedy(ctx context.Context, stages []Stage, trainSet, testSet *data.Dataset, onStage func(i int, r StageResult)) (*Result, error) {
	if len(stages) == 0 {
		return nil, errors.New("pretrain: no stages")
	}
	res := &Result{Activation: stages[0].Model.Activation}
	for i, s := range stages {
		switch s.Model.Model {
		case "plain", "sparse", "denoising", "contractive":
		default:
			return nil, errors.Errorf("pretrain: stage %d: model %q (want plain, sparse, denoising or contractive)", i+1, s.Model.Model)
		}
		spec, err := models.SpecOf(s.Model)
		if err != nil {
			return nil, errors.Wrapf(err, "pretrain: stage %d", i+1)
		}
		if err := spec.Validate(s.Model); err != nil {
			return nil, errors.Wrapf(err, "pretrain: stage %d", i+1)
		}
		if err := s.Options.Validate(); err != nil {
			return nil, errors.Wrapf(err, "pretrain: stage %d", i+1)
		}
		if s.Model.Layers != "" {
			return nil, errors.Errorf("pretrain: stage %d: a stage is one layer (--layers %q)", i+1, s.Model.Layers)
		}
		if s.Model.Activation != res.Activation {
			return nil, errors.Errorf("pretrain: stage %d has activation %s, stage 1 %s: the stack has one activation", i+1, s.Model.Activation, res.Activation)
		}
		if i > 0 && s.Options.Binarize != "" && s.Options.Binarize != "none" {
			return nil, errors.Errorf("pretrain: stage %d: codes cannot be binarized (--binarize %s)", i+1, s.Options.Binarize)
		}
	}
	tr, te := trainSet, testSet
	for i, s := range stages {
		t, err := train.New(s.Model, s.Options, tr, te, nil)
		if err != nil {
			return nil, errors.Wrapf(err, "pretrain: stage %d", i+1)
		}
		var last train.EpochLog
		t.OnEpoch = func(_ *train.Trainer, l train.EpochLog, _ eval.Metrics) error {
			last = l
			return nil
		}
		if err := t.Run(ctx); err != nil {
			return nil, errors.Wrapf(err, "pretrain: stage %d", i+1)
		}
		sh := t.Store.Get("enc.W").Shape()
		res.Layers = append(res.Layers, classify.Layer{W: t.Store.Floats("enc.W"), B: t.Store.Floats("enc.b"), In: sh[0], Out: sh[1]})
		r := StageResult{Model: s.Model, Epochs: t.Epoch, TrainLoss: last.TrainLoss, TestLoss: last.TestLoss}
		res.Stages = append(res.Stages, r)
		if onStage != nil {
			onStage(i, r)
		}
		if i+1 < len(stages) {
			// The codes of the sets the stage saw (binarized as it was).
			if tr, err = codes(t, t.Train); err != nil {
				return nil, errors.Wrapf(err, "pretrain: stage %d: training codes", i+1)
			}
			if te, err = codes(t, t.Test); err != nil {
				return nil, errors.Wrapf(err, "pretrain: stage %d: test codes", i+1)
			}
		}
	}
	return res, nil
}

// codes returns the trained stage's codes of ds (the clean input) as a
// data set with the labels of ds.
func codes(t *train.Trainer, ds *data.Dataset) (*data.Dataset, error) {
	c, dim, err := t.Eval.Codes(ds, graph.Code)
	if err != nil {
		return nil, err
	}
	out := &data.Dataset{X: make([]float32, len(c)), Labels: ds.Labels, N: ds.N, D: dim, Rows: 1, Cols: dim}
	for i, v := range c {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errors.New("codes are not finite")
		}
		out.X[i] = float32(v)
	}
	return out, nil
}

// Classifier returns the classifier c (its Classes, WeightDecay) whose
// hidden layers are the pretrained stack (then extra hidden layers of the
// given sizes at random), ready for classify.Train.
func (r *Result) Classifier(c classify.Config, extra ...int) classify.Config {
	return classify.Pretrained(c, r.Layers, r.Activation, extra...)
}

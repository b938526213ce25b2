package experiments

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aezoo/aezoo/classify"
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/pretrain"
	"github.com/aezoo/aezoo/train"
	G "gorgonia.org/gorgonia"
)

// The AE with weight decay of Rifai et al. (2011)'s table: the plain
// autoencoder plus ½λ·Σ‖W‖² over its weight matrices (not the biases).
func init() {
	err := models.Extend(models.Extension{
		Base: "plain", Name: "plain-wd", Doc: "plain autoencoder + weight decay ½λ·Σ‖W‖² (Rifai et al. 2011's AE+wd)",
		Hypers: []models.NewHyper{{Name: "weight-decay", Usage: "weight decay λ: ½λ·Σ‖W‖² over the weight matrices", Default: 0.01}},
		Declare: func(c models.Config, b *graph.Builder) {
			var sum *G.Node
			for _, p := range b.Model().Params {
				if !strings.HasSuffix(p.Name(), ".W") {
					continue
				}
				sq := b.Must(G.Sum(b.Must(G.Square(p))))
				if sum == nil {
					sum = sq
				} else {
					sum = b.Must(G.Add(sum, sq))
				}
			}
			b.Objective(graph.PenaltyTerm, b.Scale(c.Extra("weight-decay")/2, sum))
		},
	})
	if err != nil {
		panic(err) // a programming error at init time
	}
}

// Published MNIST test errors (%): Vincent et al. (2010, JMLR) Table 3 and
// Rifai et al. (2011, ICML) Table 2; NaN where the paper has no row.
var pretrainingPublished = map[string]float64{
	"sdae3": 1.28, "sae3": 1.40, "mlp3": math.NaN(),
	"cae": 1.14, "dae": 1.18, "aewd": 1.68, "ae": 1.78, "mlp1": math.NaN(),
}

const pretrainingTitle = "Pretraining: stacked DAE/AE and one-layer AE/DAE/CAE, fine-tuned (Vincent 2010, Rifai 2011)"

var pretrainingExperiment = Experiment{Name: "pretraining", Title: pretrainingTitle, Run: runPretraining, Runs: pretrainingRuns}

// pretrainingSetup holds the experiment's sizes and schedules.
type pretrainingSetup struct {
	width          int           // units per hidden layer
	stageEpochs    int           // pretraining epochs per layer
	stage          train.Options // pretraining options (epochs set per stage)
	fine           classify.Options
	stageEpochsOne int // pretraining epochs of the one-layer models
}

func (env *Env) pretrainingSetup() pretrainingSetup {
	s := pretrainingSetup{width: 1000, stageEpochs: 15, stageEpochsOne: 30}
	s.stage = env.Options(15, 2)
	s.fine = classify.DefaultOptions()
	s.fine.Seed = env.Seed
	s.fine.Epochs, s.fine.Patience, s.fine.Batch, s.fine.LR = 50, 10, 100, 1e-4
	if env.Quick {
		s.width, s.stageEpochs, s.stageEpochsOne = 256, 2, 2
		s.fine.Epochs, s.fine.Patience, s.fine.Batch, s.fine.LR = 15, 5, 50, 1e-3
	}
	return s
}

// pretrainingRow is one fine-tuned classifier of the experiment.
type pretrainingRow struct {
	id, label, pretraining string
	cl                     *classify.Classifier
	testErr                float64
	seconds                float64
}

func runPretraining(env *Env) (*Result, error) {
	s := env.pretrainingSetup()
	w := s.width
	r := newResult("pretraining", pretrainingTitle, fmt.Sprintf(
		"Greedy layer-wise pretraining, then supervised fine-tuning of the whole MLP (softmax output, Adam %g, batch %d, "+
			"early stopping with patience %d on a held-out sixth of the training set, at most %d epochs), against the same MLP from random "+
			"initialization. Deep: 784-%d-%d-%d-10 sigmoid MLPs; SDAE-3 pretrains each layer as a denoising autoencoder on the codes of the "+
			"layer below with masking noise 0.1, 0.2, 0.3 (the DeepLearningTutorials SdA recipe), SAE-3 as a plain autoencoder; %d epochs "+
			"per layer (Adam %g, batch %d). One layer (Rifai et al. 2011): a 784-%d-10 MLP initialized from an AE, an AE with weight decay "+
			"(λ = 0.01 on ½Σ‖W‖²), a DAE (masking 0.25) or a CAE (λ = 0.1), each pretrained %d epochs. The published numbers are for full "+
			"MNIST with the papers' own training schedules (SGD); ours use Adam and the schedules above.",
		s.fine.LR, s.fine.Batch, s.fine.Patience, s.fine.Epochs, w, w, w, s.stageEpochs, s.stage.LR, s.stage.Batch, w, s.stageEpochsOne))

	deep, one := s.models()
	fineTune := func(id, label, pre string, st []pretrain.Stage, hidden int) (*pretrainingRow, error) {
		cfg := classify.Config{Activation: "sigmoid", Classes: 10}
		for range hidden {
			cfg.Hidden = append(cfg.Hidden, w)
		}
		if st != nil {
			res, err := pretrain.GreedyWith(env.Ctx, st, env.TrainSet, env.TestSet, env.fitStage(label), nil)
			if err != nil {
				return nil, err
			}
			cfg = res.Classifier(cfg)
		}
		start := time.Now()
		fmt.Fprintf(env.Log, "  fine-tuning %s …", label)
		cl, err := classify.Train(env.Ctx, cfg, s.fine, env.TrainSet)
		if err != nil {
			fmt.Fprintln(env.Log)
			return nil, err
		}
		e, err := cl.Error(env.TestSet)
		if err != nil {
			return nil, err
		}
		row := &pretrainingRow{id: id, label: label, pretraining: pre, cl: cl, testErr: e, seconds: time.Since(start).Seconds()}
		fmt.Fprintf(env.Log, " test error %.2f%% (%d epochs, best %d, %.1fs)\n", 100*e, cl.Epochs, cl.BestEpoch, row.seconds)
		r.measure("pretraining."+id+"_test_error", e)
		r.row(label, "finetune_error", e)
		r.Values[label] = map[string]any{"test_error": e, "val_error": cl.ValError, "epochs": cl.Epochs, "best_epoch": cl.BestEpoch,
			"pretraining": pre, "hidden": cfg.Hidden, "history": cl.History}
		return row, nil
	}
	table := func(title string, rows []*pretrainingRow, paper string) Table {
		t := Table{Title: title, Columns: []string{"model", "pretraining", "test error", paper, "epochs (best)", "validation error"}}
		for _, x := range rows {
			pub := "—"
			if p := pretrainingPublished[x.id]; !math.IsNaN(p) {
				pub = fmt.Sprintf("%.2f%%", p)
			}
			t.Rows = append(t.Rows, []string{x.label, x.pretraining, fmt.Sprintf("%.2f%%", 100*x.testErr), pub,
				fmt.Sprintf("%d (%d)", x.cl.Epochs, x.cl.BestEpoch), fmt.Sprintf("%.2f%%", 100*x.cl.ValError)})
		}
		return t
	}
	var deepRows, oneRows []*pretrainingRow
	for _, d := range deep {
		row, err := fineTune(d.id, d.label, d.pretraining, d.stages, 3)
		if err != nil {
			return nil, err
		}
		deepRows = append(deepRows, row)
	}
	for _, d := range one {
		row, err := fineTune(d.id, d.label, d.pretraining, d.stages, 1)
		if err != nil {
			return nil, err
		}
		oneRows = append(oneRows, row)
	}
	r.Tables = append(r.Tables,
		table(fmt.Sprintf("Deep: 784-%d-%d-%d-10, fine-tuned", w, w, w), deepRows, "Vincent et al. 2010"),
		table(fmt.Sprintf("One layer: 784-%d-10, fine-tuned", w), oneRows, "Rifai et al. 2011"))

	if err := r.claim("pretraining.sdae3_error", "SDAE-3 fine-tuned test error ≤ 1.5% (Vincent et al. 2010: 1.28%)",
		[]string{"pretraining.sdae3_test_error"}, func(v []float64) (bool, string) {
			return v[0] <= 0.015, fmt.Sprintf("SDAE-3 %.2f%%", 100*v[0])
		}); err != nil {
		return nil, err
	}
	if err := r.claim("pretraining.cae_dae_ae_order", "after fine-tuning, CAE ≤ DAE ≤ AE in test error (Rifai et al. 2011: 1.14% ≤ 1.18% ≤ 1.78%)",
		[]string{"pretraining.cae_test_error", "pretraining.dae_test_error", "pretraining.ae_test_error"}, func(v []float64) (bool, string) {
			return v[0] <= v[1] && v[1] <= v[2], fmt.Sprintf("CAE %.2f%%, DAE %.2f%%, AE %.2f%%", 100*v[0], 100*v[1], 100*v[2])
		}); err != nil {
		return nil, err
	}
	return r, nil
}

// pretrainingModel is one classifier of the pretraining experiment, with
// the greedy stages that initialize it (none: random initialization).
type pretrainingModel struct {
	id, label, pretraining string
	stages                 []pretrain.Stage
}

// models returns the experiment's deep (three hidden layers) and
// one-layer classifiers, in table order.
func (s pretrainingSetup) models() (deep, one []pretrainingModel) {
	w := s.width
	ae := func(model string, mod func(c *models.Config)) models.Config {
		c, _ := models.Defaults(model)
		c.Hidden, c.Activation, c.Loss = w, "sigmoid", "bce"
		if mod != nil {
			mod(&c)
		}
		return c
	}
	stages := func(epochs int, cs ...models.Config) []pretrain.Stage {
		var out []pretrain.Stage
		for _, c := range cs {
			o := s.stage
			o.Epochs = epochs
			out = append(out, pretrain.Stage{Model: c, Options: o})
		}
		return out
	}
	masking := func(level float64) models.Config {
		return ae("denoising", func(c *models.Config) { c.Noise, c.NoiseLevel = "masking", level })
	}
	deep = []pretrainingModel{
		{"sdae3", "SDAE-3", "DAE per layer, masking 0.1/0.2/0.3", stages(s.stageEpochs, masking(0.1), masking(0.2), masking(0.3))},
		{"sae3", "SAE-3", "plain AE per layer", stages(s.stageEpochs, ae("plain", nil), ae("plain", nil), ae("plain", nil))},
		{"mlp3", "MLP-3 (random init)", "none", nil},
	}
	one = []pretrainingModel{
		{"ae", "AE", "plain AE", stages(s.stageEpochsOne, ae("plain", nil))},
		{"aewd", "AE + weight decay", "plain AE, ½λΣ‖W‖², λ = 0.01", stages(s.stageEpochsOne, ae("plain-wd", nil))},
		{"dae", "DAE", "DAE, masking 0.25", stages(s.stageEpochsOne, masking(0.25))},
		{"cae", "CAE", "CAE, λ = 0.1", stages(s.stageEpochsOne, ae("contractive", func(c *models.Config) { c.Lambda = 0.1 }))},
		{"mlp1", "MLP-1 (random init)", "none", nil},
	}
	return deep, one
}

// pretrainingRuns returns the runs of the pretraining experiment that are
// independent: the first stage of each pretrained classifier (on the
// images). Its later stages train on the codes of the stage below, and the
// fine-tuning on the stack: the experiment trains those itself.
func pretrainingRuns(env *Env) ([]RunSpec, error) {
	s := env.pretrainingSetup()
	deep, one := s.models()
	var out []RunSpec
	for _, m := range append(deep, one...) {
		if len(m.stages) > 0 {
			out = append(out, env.Spec(stageLabel(m.label, 0), m.stages[0].Model, m.stages[0].Options))
		}
	}
	return out, nil
}

// stageLabel is the label of stage i (from 0) of a pretrained classifier.
func stageLabel(label string, i int) string { return fmt.Sprintf("%s layer %d", label, i+1) }

// fitStage trains a pretraining stage as a run of the reproduction (saved
// in its runs/ folder and reused when the reproduction is continued); the
// codes of a stage are named after the run folder they came from.
func (env *Env) fitStage(label string) pretrain.FitFunc {
	var below string
	return func(_ context.Context, i int, st pretrain.Stage, tr, te *data.Dataset) (*pretrain.Fitted, error) {
		var run *Run
		var err error
		if i == 0 { // on the images: a declared run
			run, err = env.TrainSpec(SpecOn(stageLabel(label, i), st.Model, st.Options, tr, te, env.Data))
		} else { // on the codes of the stage below
			run, err = env.trainDependent(SpecOn(stageLabel(label, i), st.Model, st.Options, tr, te, "codes of "+below))
		}
		if err != nil {
			return nil, err
		}
		below = run.Dir
		res := pretrain.StageResult{Model: st.Model, Epochs: run.Summary.Epochs, TestLoss: run.Summary.TestLoss}
		if n := len(run.Logs); n > 0 {
			res.TrainLoss = run.Logs[n-1].TrainLoss
		}
		return &pretrain.Fitted{Store: run.Store, Eval: run.Eval, Train: tr, Test: run.Test, Result: res}, nil
	}
}

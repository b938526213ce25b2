package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/aezoo/aezoo/classify"
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/zoo"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

// finetuneResult is what `zoo finetune --json` prints.
type finetuneResult struct {
	Run         string   `json:"run"`
	Model       string   `json:"model"`
	Hidden      []int    `json:"hidden"`
	Activation  string   `json:"activation"`
	Pretrained  bool     `json:"pretrained"` // false with --random-init
	Data        string   `json:"data"`
	TrainImages int      `json:"train_images"`
	TestImages  int      `json:"test_images"`
	Epochs      int      `json:"epochs"`
	BestEpoch   int      `json:"best_epoch"`
	ValError    *float64 `json:"val_error"`
	TestError   float64  `json:"test_error"`
	Out         string   `json:"out,omitempty"`
}

func newFinetuneCmd(a *app) *cobra.Command {
	var (
		o         = classify.DefaultOptions()
		decay     float64
		extra     string
		random    bool
		out       string
		overwrite bool
		asJSON    bool
		df        dataFlags
	)
	cmd := &cobra.Command{
		Use:   "finetune DIR [--out CLASSIFIER_DIR] [flags]",
		Short: "fine-tune a trained autoencoder's encoder as a classifier (softmax head, early stopping)",
		Long: "Initialize an MLP classifier's hidden layers with the encoder of the autoencoder trained in the run\n" +
			"folder DIR (its layers enc, enc2, …: --layers runs give a deep MLP), add a softmax output layer,\n" +
			"and train the whole network on the labels with Adam, stopping early on a held-out --validation\n" +
			"fraction of the training set (drawn with --seed); print its test error. The data are the run's\n" +
			"(the same --data/--dataset flags as eval, the run's --train-limit/--test-limit and binarization).\n" +
			"--random-init trains the same MLP from random weights, the baseline of pretraining.\n" +
			"--out saves the classifier (classifier.json, weights/*.npy).",
		Args:              a.positional(1, 1, "run folder (want exactly one run folder)"),
		ValidArgsFunction: dirsOnly,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case o.Epochs < 1:
				return usagef("invalid --epochs %d: must be ≥ 1", o.Epochs)
			case o.Patience < 0:
				return usagef("invalid --patience %d: must be ≥ 0", o.Patience)
			case !(o.Validation >= 0 && o.Validation < 1):
				return usagef("invalid --validation %g: must be in [0, 1)", o.Validation)
			case o.Batch < 1:
				return usagef("invalid --batch %d: must be ≥ 1", o.Batch)
			case !(o.LR > 0) || math.IsInf(o.LR, 0):
				return usagef("invalid --lr %g: must be positive", o.LR)
			case o.Dtype != "float32" && o.Dtype != "float64":
				return usagef("invalid --dtype %q (want float32 or float64)", o.Dtype)
			}
			if !(decay >= 0) || math.IsInf(decay, 0) {
				return usagef("invalid --weight-decay %g: must be ≥ 0", decay)
			}
			sizes, err := models.ParseLayers(extra)
			if err != nil {
				return usagef("--extra: %v", errors.Cause(err))
			}
			src, err := df.source()
			if err != nil {
				return err
			}
			if out != "" && !overwrite {
				if _, err := os.Stat(filepath.Join(out, classify.File)); err == nil {
					return usagef("%s already holds a classifier: choose another --out, or replace it with --overwrite", out)
				}
			}
			run, err := zoo.OpenRun(args[0])
			if err != nil {
				return err
			}
			layers, act, err := classify.EncoderLayers(run.Config, run.Store)
			if err != nil {
				return err
			}
			if src.Seed == 0 {
				src.Seed = run.Options.Seed
			}
			trainSet, testSet, where, err := data.Open(src, run.Options.TrainLimit, run.Options.TestLimit)
			if err != nil {
				return err
			}
			if trainSet.D != run.In {
				return errors.Errorf("the images (%s) have %d values, the encoder in %s takes %d: fine-tune it on the data it was trained on", where, trainSet.D, args[0], run.In)
			}
			if len(trainSet.Labels) != trainSet.N || len(testSet.Labels) != testSet.N {
				return errors.Errorf("%s has no labels: fine-tuning needs labelled training and test images", where)
			}
			trainSet, testSet = zoo.PrepareTest(trainSet, run.Options), zoo.PrepareTest(testSet, run.Options)
			c := classify.Pretrained(classify.Config{WeightDecay: decay}, layers, act, sizes...)
			if random {
				c.Init = nil
			}
			o.Log = a.stderr
			cl, err := classify.Train(cmd.Context(), c, o, trainSet)
			if err != nil {
				return err
			}
			e, err := cl.Error(testSet)
			if err != nil {
				return err
			}
			res := finetuneResult{Run: args[0], Model: run.Config.Model, Hidden: cl.Config.Hidden, Activation: act, Pretrained: !random,
				Data: where, TrainImages: trainSet.N, TestImages: testSet.N, Epochs: cl.Epochs, BestEpoch: cl.BestEpoch, TestError: e, Out: out}
			if !math.IsNaN(cl.ValError) {
				v := cl.ValError
				res.ValError = &v
			}
			if out != "" {
				if err := cl.Save(out); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			init := "pretrained " + run.Config.Model + " encoder"
			if random {
				init = "random initialization"
			}
			fmt.Fprintf(a.stdout, "MLP %v (%s, %s), %d epochs (best %d)\n", res.Hidden, act, init, res.Epochs, res.BestEpoch)
			if res.ValError != nil {
				fmt.Fprintf(a.stdout, "  validation error  %.2f%%\n", 100**res.ValError)
			}
			fmt.Fprintf(a.stdout, "  test error        %.2f%%  on %d test images\n", 100*e, testSet.N)
			if out != "" {
				fmt.Fprintf(a.stdout, "  saved in %s\n", out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Epochs, "epochs", o.Epochs, "the most training epochs")
	f.IntVar(&o.Patience, "patience", o.Patience, "stop after this many epochs without a lower validation error (0: never)")
	f.Float64Var(&o.Validation, "validation", o.Validation, "fraction of the training set held out for early stopping (0: none, keep the last epoch)")
	f.IntVar(&o.Batch, "batch", o.Batch, "minibatch size")
	f.Float64Var(&o.LR, "lr", o.LR, "Adam learning rate")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "random seed (validation split, new layers, shuffling)")
	f.StringVar(&o.Dtype, "dtype", o.Dtype, "float32 or float64")
	f.Float64Var(&decay, "weight-decay", 0, "weight decay λ: adds ½λ·Σ‖W‖² over the weight matrices")
	f.StringVar(&extra, "extra", "", "sizes of extra hidden layers above the encoder, comma-separated (random initialization)")
	f.BoolVar(&random, "random-init", false, "train the same MLP from random weights (the baseline)")
	f.StringVar(&out, "out", "", "save the classifier in this folder")
	f.BoolVar(&overwrite, "overwrite", false, "replace a classifier saved in --out")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	setGroup(f, groupTrain, "epochs", "patience", "validation", "batch", "lr", "seed", "dtype", "weight-decay")
	addDataFlags(cmd, &df)
	completeValues(cmd)
	return cmd
}

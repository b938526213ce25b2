package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/aezoo/aezoo/zoo"
	"golang.org/x/term"
)

// modelInfo is one model in `zoo list --json`.
type modelInfo struct {
	Name     string         `json:"name"`
	Doc      string         `json:"doc"`
	Defaults map[string]any `json:"hyperparameters"`
}

func cmdList(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("list", "[--json]", "List the models and their hyperparameters with defaults.", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	var infos []modelInfo
	for _, name := range models.Names() {
		s, _ := models.Lookup(name)
		info := modelInfo{Name: name, Doc: s.Doc, Defaults: map[string]any{}}
		for _, h := range s.Hypers {
			hy, _ := s.Hyper(h)
			info.Defaults[h] = hy.Value(s.Defaults)
		}
		infos = append(infos, info)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(infos)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, name := range models.Names() {
		s, _ := models.Lookup(name)
		fmt.Fprintf(tw, "%s\t%s\n", name, s.Doc)
		var hs []string
		for _, h := range s.Hypers {
			hy, _ := s.Hyper(h)
			hs = append(hs, fmt.Sprintf("--%s=%v", h, hy.Value(s.Defaults)))
		}
		fmt.Fprintf(tw, "\t%s\n", strings.Join(hs, " "))
	}
	return tw.Flush()
}

// trainFlags binds the trainer's options on fs.
func trainFlags(fs interface {
	IntVar(*int, string, int, string)
	Float64Var(*float64, string, float64, string)
	StringVar(*string, string, string, string)
	Uint64Var(*uint64, string, uint64, string)
}, o *train.Options) {
	fs.IntVar(&o.Epochs, "epochs", o.Epochs, "training epochs")
	fs.IntVar(&o.Batch, "batch", o.Batch, "minibatch size")
	fs.Float64Var(&o.LR, "lr", o.LR, "Adam learning rate")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed (initialization, shuffling, noise)")
	fs.StringVar(&o.Dtype, "dtype", o.Dtype, "float32 or float64")
	fs.StringVar(&o.Binarize, "binarize", o.Binarize, "none, fixed (x>0.5) or dynamic (resampled every step)")
	fs.IntVar(&o.TrainLimit, "train-limit", o.TrainLimit, "use the first N training images (0: all)")
	fs.IntVar(&o.TestLimit, "test-limit", o.TestLimit, "use the first N test images (0: all)")
	fs.IntVar(&o.EvalBatch, "eval-batch", o.EvalBatch, "examples per evaluation pass")
	fs.StringVar(&o.LRSchedule, "lr-schedule", "constant", "constant, or cosine (decays to 0 at the last step)")
	fs.IntVar(&o.EvalEvery, "eval-every", 1, "evaluate on the test set every N epochs (and after the last)")
}

func cmdTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const argsDoc = "MODEL --out DIR [flags]  |  zoo train [MODEL] --resume DIR [--epochs N] [--out DIR]"
	doc := "Train MODEL (one of " + strings.Join(models.Names(), ", ") + ") and write DIR/metrics.jsonl,\n" +
		"DIR/summary.json, DIR/config.json + DIR/weights/*.npy, DIR/recon.png and a checkpoint\n" +
		"(DIR/checkpoint.json → DIR/checkpoints/…) after every epoch. --resume DIR continues an\n" +
		"interrupted run exactly; only --epochs, --out, the data flags (--data, --dataset, --labels, --size), --quiet, --overwrite and --checkpoint-every may be given then.\n" +
		"--out DIR must be absent or empty: a run found there is named, and kept unless --overwrite is given.\n" +
		"The flags of a model are listed by `zoo train MODEL --help`."
	var spec models.Spec
	rest := args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		var err error
		if spec, err = models.Lookup(args[0]); err != nil {
			return usagef("%v", err)
		}
		rest = args[1:]
	}
	c := spec.Defaults
	o := train.DefaultOptions()
	fs := newFlags("train", argsDoc, doc, stderr)
	if spec.Name != "" {
		fs = newFlags("train "+spec.Name, "--out DIR [flags]", spec.Doc, stderr)
	}
	out := fs.String("out", "", "output folder (required unless --resume)")
	df := dataFlags(fs)
	quiet := fs.Bool("quiet", false, "no progress bar or epoch lines")
	resume := fs.String("resume", "", "continue the run whose checkpoint is in this folder")
	overwrite := fs.Bool("overwrite", false, "replace the run found in --out (its files; other files are kept) instead of refusing")
	every := fs.Int("checkpoint-every", 0, "also write a checkpoint every N steps (0: at epoch ends only)")
	trainFlags(fs, &o)
	if spec.Name != "" {
		spec.BindFlags(fs, &c)
	}
	pos, err := parse(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *every < 0 {
		return usagef("invalid --checkpoint-every %d: must be ≥ 0", *every)
	}
	src, err := df.source()
	if err != nil {
		return err
	}
	to := zoo.TrainOptions{Out: *out, Source: src, CheckpointEvery: *every, Overwrite: *overwrite}
	if !*quiet {
		to.Log = stderr
		if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			to.Progress = stderr
		}
	}
	var s zoo.Summary
	if *resume != "" {
		allowed := map[string]bool{"out": true, "data": true, "dataset": true, "labels": true, "size": true, "epochs": true, "quiet": true, "resume": true, "checkpoint-every": true, "overwrite": true}
		var bad []string
		fs.Visit(func(f *flag.Flag) {
			if !allowed[f.Name] {
				bad = append(bad, "--"+f.Name)
			}
		})
		if len(bad) > 0 {
			return usagef("%s cannot be changed when resuming: the settings come from the checkpoint", strings.Join(bad, ", "))
		}
		epochs := 0
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "epochs" {
				epochs = o.Epochs
			}
		})
		if epochs < 0 {
			return usagef("invalid --epochs %d", epochs)
		}
		to.Model = spec.Name
		s, err = zoo.Resume(ctx, *resume, epochs, to)
	} else {
		if spec.Name == "" {
			if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
				return flag.ErrHelp
			}
			return usagef("missing MODEL (one of %s)", strings.Join(models.Names(), ", "))
		}
		if *out == "" {
			return usagef("--out DIR is required")
		}
		if err := spec.Validate(c); err != nil {
			return usagef("%v", err)
		}
		if err := o.Validate(); err != nil {
			return usagef("%v", err)
		}
		s, err = zoo.Train(ctx, c, o, to)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: test loss %.4f, test BCE %.2f nats/image, test MSE %.5f/pixel (%d epochs, %.1fs) → %s\n",
		s.Model, s.TestLoss, s.TestBCE, s.TestMSE, s.Epochs, s.Seconds, to.Out)
	return nil
}

func cmdEval(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "DIR [--json]", "Reload the model trained in DIR and recompute its test metrics.", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	df := dataFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one run folder, got %d arguments", len(pos))
	}
	src, err := df.source()
	if err != nil {
		return err
	}
	s, err := zoo.EvalSource(pos[0], src)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	fmt.Fprintf(stdout, "%s (epoch %d) on %d test images:\n  test loss       %.4f\n  test recon      %.4f\n  test penalty    %.4f\n  BCE per image   %.4f\n  MSE per pixel   %.6f\n",
		s.Model, s.Epochs, s.Test.N, s.TestLoss, s.TestRecon, s.TestPenalty, s.TestBCE, s.TestMSE)
	for k, v := range s.Figures {
		fmt.Fprintf(stdout, "  %-15s %.4f\n", k, v)
	}
	return nil
}

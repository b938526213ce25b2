package main

import (
	"context"
	"encoding/json"
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
			hy, _ := models.LookupHyper(h)
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
			hy, _ := models.LookupHyper(h)
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
}

func cmdTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const argsDoc = "MODEL --out DIR [flags]"
	doc := "Train MODEL (one of " + strings.Join(models.Names(), ", ") + ") and write DIR/metrics.jsonl,\nDIR/summary.json, DIR/config.json + DIR/weights/*.npy and DIR/recon.png.\nThe flags of a model are listed by `zoo train MODEL --help`."
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlags("train", argsDoc, doc, stderr)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fs.SetOutput(stdout)
			fs.Usage()
			return flag.ErrHelp
		}
		return usagef("missing MODEL (one of %s)", strings.Join(models.Names(), ", "))
	}
	spec, err := models.Lookup(args[0])
	if err != nil {
		return usagef("%v", err)
	}
	c := spec.Defaults
	o := train.DefaultOptions()
	fs := newFlags("train "+spec.Name, "--out DIR [flags]", spec.Doc, stderr)
	out := fs.String("out", "", "output folder (required)")
	dataDir := fs.String("data", "", "folder with the MNIST IDX files (default: $AEZOO_DATA, then the GoMNIST Go module)")
	quiet := fs.Bool("quiet", false, "no progress bar or epoch lines")
	trainFlags(fs, &o)
	spec.BindFlags(fs, &c)
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
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
	to := zoo.TrainOptions{Out: *out, Data: *dataDir}
	if !*quiet {
		to.Log = stderr
		if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			to.Progress = stderr
		}
	}
	s, err := zoo.Train(ctx, c, o, to)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: test loss %.4f, test BCE %.2f nats/image, test MSE %.5f/pixel (%d epochs, %.1fs) → %s\n",
		s.Model, s.TestLoss, s.TestBCE, s.TestMSE, s.Epochs, s.Seconds, *out)
	return nil
}

func cmdEval(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "DIR [--json]", "Reload the model trained in DIR and recompute its test metrics.", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	dataDir := fs.String("data", "", "folder with the MNIST IDX files (default: $AEZOO_DATA, then the GoMNIST Go module)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one run folder, got %d arguments", len(pos))
	}
	s, err := zoo.Eval(pos[0], *dataDir)
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

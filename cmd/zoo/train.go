package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/internal/progress"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/aezoo/aezoo/zoo"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// trainCmd holds the settings of `zoo train`.
type trainCmd struct {
	*app
	cmd             *cobra.Command
	spec            models.Spec   // the model named on the command line, once bound
	c               models.Config // its hyperparameters
	o               train.Options
	out             string
	data            dataFlags
	overwrite       bool
	resume          string
	quiet           bool
	checkpointEvery int
	logEvery        int
}

func newTrainCmd(a *app) *cobra.Command {
	t := &trainCmd{app: a, o: train.DefaultOptions()}
	t.o.EvalEvery, t.o.LRSchedule = 1, "constant"
	cmd := &cobra.Command{
		Use:   "train MODEL --out DIR [flags]",
		Short: "train a model and write its run folder",
		Long: "Train MODEL (" + strings.Join(models.Names(), ", ") + ") and write DIR/metrics.jsonl (a line per epoch),\n" +
			"DIR/summary.json, DIR/config.json + DIR/weights/*.npy, DIR/recon.png and a checkpoint\n" +
			"(DIR/checkpoint.json → DIR/checkpoints/…) after every epoch. --resume DIR continues an\n" +
			"interrupted run exactly: the original command line with --resume DIR appended is accepted;\n" +
			"only --epochs, the data flags and the output settings may differ from the checkpoint's.\n" +
			"--out DIR must be absent or empty: a run found there is named, and kept unless --overwrite is given.\n" +
			"`zoo help train MODEL` lists the model's own flags.",
		Example: "  zoo train plain --out runs/plain --epochs 5\n" +
			"  zoo train --epochs 20 vae --latent 2 --out runs/vae2\n" +
			"  zoo train vae --latent 100,50 --layers 100,100 --activation tanh --iw-k 5 --batch 20 --out runs/iwae2\n" +
			"  zoo train --resume runs/plain --epochs 10",
		Args: a.positional(0, 1, "MODEL"),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []string
			for _, n := range models.Names() {
				s, _ := models.Lookup(n)
				out = append(out, n+"\t"+s.Doc)
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error { return t.run(cmd, args) },
	}
	t.cmd = cmd
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVar(&t.out, "out", "", "output folder (required unless --resume)")
	f.StringVar(&t.resume, "resume", "", "continue the run whose checkpoint is in this folder")
	f.BoolVar(&t.overwrite, "overwrite", false, "replace the run found in --out (its files; other files are kept) instead of refusing")
	f.BoolVar(&t.quiet, "quiet", false, "no progress bar or epoch lines")
	f.IntVar(&t.checkpointEvery, "checkpoint-every", 0, "also write a checkpoint every N steps (0: at epoch ends only)")
	f.IntVar(&t.logEvery, "log-every", 0, "also write the mean training loss every N steps to metrics.jsonl (0: epoch lines only;\nwith --resume: as the checkpointed run did)")
	_ = cmd.MarkFlagDirname("out")
	_ = cmd.MarkFlagDirname("resume")
	addTrainFlags(f, &t.o)
	addDataFlags(cmd, &t.data)
	completeValues(cmd)
	a.bindModel = t.bindModel
	return cmd
}

// bindModel adds the flags of the named model (see bindModelFlags).
func (t *trainCmd) bindModel(name string) {
	spec, err := models.Lookup(name)
	if err != nil {
		return
	}
	t.spec, t.c = spec, spec.Defaults
	bindSpec(t.cmd, spec, &t.c)
	t.cmd.Use = "train " + name + " --out DIR [flags]"
	t.cmd.Long = name + ": " + spec.Doc + ".\n\n" + t.cmd.Long
	t.cmd.Annotations = map[string]string{"model": name}
}

func (t *trainCmd) run(cmd *cobra.Command, args []string) error {
	if len(args) == 1 && args[0] != t.spec.Name {
		if _, err := models.Lookup(args[0]); err != nil {
			return usageError{err.Error()}
		}
		return usagef("cannot read the flags of model %q; name the model before its flags", args[0])
	}
	if t.checkpointEvery < 0 {
		return usagef("invalid --checkpoint-every %d: must be ≥ 0", t.checkpointEvery)
	}
	if t.logEvery < 0 {
		return usagef("invalid --log-every %d: must be ≥ 0", t.logEvery)
	}
	src, err := t.data.source()
	if err != nil {
		return err
	}
	to := zoo.TrainOptions{Out: t.out, Source: src, CheckpointEvery: t.checkpointEvery, LogEvery: t.logEvery, Overwrite: t.overwrite}
	if !t.quiet {
		to.Log = t.stderr
		if progress.IsTerminal(t.stderr) {
			to.Progress = t.stderr
		}
	}
	var s zoo.Summary
	if t.resume != "" {
		if to.Out == "" {
			to.Out = t.resume
		}
		// The checkpoint is read to compare the flags: hold the folder's
		// lock meanwhile, so that a run still writing it is reported as
		// such (zoo.Resume takes the lock again to train).
		var lock interface{ Release() error }
		if fi, err := os.Stat(t.resume); err == nil && fi.IsDir() {
			if lock, err = zoo.LockFolder(t.resume); err != nil {
				return err
			}
		}
		epochs, err := t.checkResume(cmd)
		if lock != nil {
			lock.Release()
		}
		if err != nil {
			return err
		}
		to.Model = t.spec.Name
		s, err = zoo.Resume(cmd.Context(), t.resume, epochs, to)
		if err != nil {
			return err
		}
	} else {
		if t.spec.Name == "" {
			return usagef("missing MODEL (one of %s)", strings.Join(models.Names(), ", "))
		}
		if t.out == "" {
			return usagef("--out DIR is required")
		}
		if err := t.spec.Validate(t.c); err != nil {
			return usageError{err.Error()}
		}
		if err := t.o.Validate(); err != nil {
			return usageError{err.Error()}
		}
		if t.o.Epochs < 1 {
			return usagef("invalid --epochs %d: must be ≥ 1", t.o.Epochs)
		}
		if s, err = zoo.Train(cmd.Context(), t.c, t.o, to); err != nil {
			return err
		}
	}
	if spec, err := models.Lookup(s.Model); err == nil && len(spec.Players) > 0 {
		// An adversarial model reconstructs nothing: its terms instead.
		fmt.Fprintf(t.stdout, "%s: test loss %.4f (%s), samples in %s (%s, %.1fs) → %s\n", s.Model, s.TestLoss, termsLine(s.TestTerms),
			zoo.SamplesFile, plural(s.Epochs, "epoch"), s.Seconds, to.Out)
		return nil
	}
	fmt.Fprintf(t.stdout, "%s: test loss %.4f, test BCE %.2f nats/image, test MSE %.5f/pixel (%s, %.1fs) → %s\n",
		s.Model, s.TestLoss, s.TestBCE, s.TestMSE, plural(s.Epochs, "epoch"), s.Seconds, to.Out)
	return nil
}

// checkResume compares the settings given on the command line with the
// checkpoint's: a flag whose value equals the checkpoint's is accepted,
// a change is a usage error naming both values. It returns the number of
// epochs to train to (0: the checkpoint's).
func (t *trainCmd) checkResume(cmd *cobra.Command) (int, error) {
	st, _, _, err := ckpt.LoadCheckpoint(t.resume)
	if err != nil {
		return 0, err
	}
	if t.spec.Name != "" && t.spec.Name != st.Model.Model {
		return 0, errors.Errorf("the checkpoint in %s is of model %s, not %s", t.resume, st.Model.Model, t.spec.Name)
	}
	// The checkpoint's settings, bound as flags by the same code.
	o := train.DefaultOptions()
	if len(st.Train) > 0 {
		if err := json.Unmarshal(st.Train, &o); err != nil {
			return 0, errors.Wrapf(err, "checkpoint in %s: damaged training options", t.resume)
		}
	}
	o.EvalEvery = max(o.EvalEvery, 1)
	if o.LRSchedule == "" {
		o.LRSchedule = "constant"
	}
	c := st.Model
	ref := pflag.NewFlagSet("checkpoint", pflag.ContinueOnError)
	addTrainFlags(ref, &o)
	if spec, err := models.Lookup(c.Model); err == nil {
		spec.BindFlags(ref, &c)
	}
	var names, had, given []string
	epochs := 0
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Name == "epochs" {
			epochs = t.o.Epochs
			return
		}
		g := flagGroup(f)
		if g != groupTrain && !strings.HasPrefix(g, groupModel) {
			return // output, data and display settings may change
		}
		r := ref.Lookup(f.Name)
		if r != nil && r.Value.String() == f.Value.String() {
			return
		}
		names = append(names, "--"+f.Name)
		given = append(given, "--"+f.Name+"="+f.Value.String())
		if r != nil {
			had = append(had, "--"+f.Name+"="+r.Value.String())
		} else {
			had = append(had, "no --"+f.Name)
		}
	})
	if len(names) > 0 {
		return 0, usagef("%s cannot be changed when resuming: the checkpoint has %s, the command line %s",
			strings.Join(names, ", "), strings.Join(had, " "), strings.Join(given, " "))
	}
	if cmd.Flags().Changed("epochs") && epochs < 1 {
		return 0, usagef("invalid --epochs %d: must be ≥ 1", epochs)
	}
	return epochs, nil
}

// plural returns "1 epoch", "2 epochs".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// termsLine formats terms as "name value" pairs in name order.
func termsLine(terms map[graph.Term]float64) string {
	names := make([]string, 0, len(terms))
	for n := range terms {
		names = append(names, string(n))
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %.4f", n, terms[graph.Term(n)])
	}
	return strings.Join(parts, ", ")
}

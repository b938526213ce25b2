package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/sweep"
	"github.com/aezoo/aezoo/train"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Flag groups, shown as separate sections of a command's help. A flag's
// group is its groupKey annotation; flags without one are the command's
// own ("Flags:").
const (
	groupKey   = "zoo_group"
	groupTrain = "Training flags" // the settings of train.Options
	groupData  = "Data flags"
	groupModel = "Model flags" // the model's hyperparameters
	groupSlurm = "Launcher flags"
)

// groupOrder is the order of the sections in help.
var groupOrder = []string{"", groupSlurm, groupTrain, groupData, groupModel}

// setGroup puts the named flags of fs in a help section.
func setGroup(fs *pflag.FlagSet, group string, names ...string) {
	for _, n := range names {
		_ = fs.SetAnnotation(n, groupKey, []string{group})
	}
}

func flagGroup(f *pflag.Flag) string {
	if g := f.Annotations[groupKey]; len(g) > 0 {
		return g[0]
	}
	return ""
}

// addTrainFlags registers the training settings (train.Options) on fs,
// with o's values as defaults, in the "Training flags" section. Commands
// that train (train, and any command that trains runs) share it.
func addTrainFlags(fs *pflag.FlagSet, o *train.Options) {
	registerTrainFlags(fs, o)
	setGroup(fs, groupTrain, "epochs", "batch", "lr", "lr-schedule", "adam-eps", "seed", "dtype", "binarize", "train-limit", "test-limit", "eval-batch", "eval-every")
}

// trainFlagSet is what registerTrainFlags needs of a flag set (pflag's and
// the standard library's both have it).
type trainFlagSet interface {
	IntVar(p *int, name string, value int, usage string)
	Float64Var(p *float64, name string, value float64, usage string)
	StringVar(p *string, name string, value string, usage string)
	Uint64Var(p *uint64, name string, value uint64, usage string)
}

// registerTrainFlags registers the training settings on fs with o's values
// as defaults.
func registerTrainFlags(fs trainFlagSet, o *train.Options) {
	fs.IntVar(&o.Epochs, "epochs", o.Epochs, "training epochs (≥ 1)")
	fs.IntVar(&o.Batch, "batch", o.Batch, "minibatch size")
	fs.Float64Var(&o.LR, "lr", o.LR, "Adam learning rate")
	fs.StringVar(&o.LRSchedule, "lr-schedule", o.LRSchedule, "constant; cosine (decays to 0 at the last step); or burda (lr·10^(−i/7) for 3^i epochs, i = 0…7: 3,280 epochs, truncated by --epochs)")
	fs.Float64Var(&o.AdamEps, "adam-eps", o.AdamEps, "Adam's ε (0: 1e-8; Burda et al. use 1e-4)")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed (initialization, shuffling, noise)")
	fs.StringVar(&o.Dtype, "dtype", o.Dtype, "float32 or float64")
	fs.StringVar(&o.Binarize, "binarize", o.Binarize, "none, fixed (x>0.5) or dynamic (resampled every step)")
	fs.IntVar(&o.TrainLimit, "train-limit", o.TrainLimit, "use the first N training images (0: all)")
	fs.IntVar(&o.TestLimit, "test-limit", o.TestLimit, "use the first N test images (0: all)")
	fs.IntVar(&o.EvalBatch, "eval-batch", o.EvalBatch, "examples per evaluation pass")
	fs.IntVar(&o.EvalEvery, "eval-every", o.EvalEvery, "evaluate on the test set every N epochs (and after the last)")
}

// trainFlagValues are the completions of the training flags that take a word.
var trainFlagValues = map[string][]string{
	"dtype": {"float32", "float64"}, "binarize": {"none", "fixed", "dynamic"}, "lr-schedule": {"constant", "cosine", "burda"},
	"activation": {"sigmoid", "relu", "tanh", "linear"}, "loss": {"bce", "mse"}, "sparsity": {"l1", "kl"},
	"noise": {"gaussian", "masking", "saltpepper", "marginalized"},
}

// completeValues registers the completions of trainFlagValues on cmd's flags.
func completeValues(cmd *cobra.Command) {
	for name, vals := range trainFlagValues {
		if cmd.Flags().Lookup(name) != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
		}
	}
}

// addDataFlag registers --data in the "Data flags" section.
func addDataFlag(cmd *cobra.Command, dir *string) {
	cmd.Flags().StringVar(dir, "data", "", "the data: a folder of MNIST-style IDX files, a .npy or .npz (x_train, y_train, x_test, y_test) file,\n"+
		"or a folder of PNG/JPEG images with one sub-folder per class (default: MNIST from $AEZOO_DATA, then the GoMNIST Go module)")
	_ = cmd.MarkFlagDirname("data")
	setGroup(cmd.Flags(), groupData, "data")
}

// addSlurmFlags registers the flags of a Slurm job (and --dry-run) in the
// section "Slurm flags"; jobName is --job-name's default.
func addSlurmFlags(cmd *cobra.Command, so *sweep.SlurmOptions, dry *bool, jobName string) {
	f := cmd.Flags()
	f.BoolVar(dry, "dry-run", false, "slurm: write the batch scripts, submit nothing")
	f.IntVar(&so.MaxParallel, "max-parallel", 0, "slurm: array tasks running at once (%M; 0: no limit)")
	f.IntVar(&so.CPUsPerTask, "cpus-per-task", 0, "slurm: --cpus-per-task (default: --threads)")
	f.StringVar(&so.Time, "time", "", "slurm: --time per task, e.g. 01:00:00")
	f.StringVar(&so.Partition, "partition", "", "slurm: --partition")
	f.StringVar(&so.Mem, "mem", "", "slurm: --mem, e.g. 4G")
	f.StringVar(&so.JobName, "job-name", jobName, "slurm: --job-name")
	setGroup(f, groupSlurm, "dry-run", "max-parallel", "cpus-per-task", "time", "partition", "mem", "job-name")
}

// bindModelFlags adds the hyperparameters of the model named on a `zoo
// train MODEL` or `zoo sweep MODEL` command line (also `zoo help train
// MODEL` and completion requests), or else of the model saved in the
// --resume folder, to the command before cobra parses it, so that the
// model's flags are accepted, shown in help with the model's defaults, and
// completed.
func (a *app) bindModelFlags(root *cobra.Command, args []string) {
	rest := args
	for len(rest) > 0 && (rest[0] == "help" || rest[0] == cobra.ShellCompRequestCmd || rest[0] == cobra.ShellCompNoDescRequestCmd) {
		rest = rest[1:]
	}
	if len(rest) == 0 || rest[0] != "train" && rest[0] != "sweep" {
		return
	}
	bind := a.bindModel
	if rest[0] == "sweep" {
		bind = a.bindSweepModel
	}
	tc, _, err := root.Find([]string{rest[0]})
	if err != nil || tc.Name() != rest[0] {
		return
	}
	takesValue := func(name string) bool {
		if f := tc.Flags().Lookup(name); f != nil {
			return f.NoOptDefVal == ""
		}
		if f := root.PersistentFlags().Lookup(name); f != nil {
			return f.NoOptDefVal == ""
		}
		if h, ok := models.LookupHyper(name); ok {
			_, isBool := h.Value(models.Config{}).(bool)
			return !isBool
		}
		return false
	}
	rest = rest[1:]
	resume := ""
	for i := 0; i < len(rest); i++ {
		arg := rest[i]
		if arg == "--" {
			break
		}
		if strings.HasPrefix(arg, "-") {
			name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
			if !hasValue && takesValue(name) && i+1 < len(rest) {
				i++
				value = rest[i]
			}
			if name == "resume" {
				resume = value
			}
			continue
		}
		if bind != nil {
			bind(arg) // a subcommand (zoo sweep status) or a bad name binds nothing
		}
		return
	}
	// `zoo train --resume DIR --hidden 16 …`: the checkpoint's model.
	if resume != "" && tc.Name() == "train" && bind != nil {
		if model := savedModel(resume); model != "" {
			bind(model)
		} else {
			a.resumeNoModel = resume
		}
	}
}

// savedModel returns the model of the run in dir: that of its checkpoint
// (a run killed before its first epoch's end has no saved model yet), or
// of its saved model; "" when dir holds neither.
func savedModel(dir string) string {
	var m struct {
		Model struct {
			Model string `json:"model"`
		} `json:"model"`
	}
	var p struct {
		Path string `json:"path"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, ckpt.PointerFile)); err == nil && json.Unmarshal(b, &p) == nil && p.Path != "" {
		if b, err := os.ReadFile(filepath.Join(dir, p.Path, ckpt.StateFile)); err == nil && json.Unmarshal(b, &m) == nil && m.Model.Model != "" {
			return m.Model.Model
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, ckpt.ConfigFile)); err == nil && json.Unmarshal(b, &m) == nil && m.Model.Model != "" {
		return m.Model.Model
	}
	return ""
}

// bindSpec registers the hyperparameters of spec on cmd in the section
// "Model flags (NAME)", bound to c.
func bindSpec(cmd *cobra.Command, spec models.Spec, c *models.Config) {
	mf := pflag.NewFlagSet(spec.Name, pflag.ContinueOnError)
	mf.SortFlags = false
	spec.BindFlags(mf, c)
	mf.VisitAll(func(f *pflag.Flag) {
		if cmd.Flags().Lookup(f.Name) == nil {
			cmd.Flags().AddFlag(f)
			setGroup(cmd.Flags(), groupModel+" ("+spec.Name+")", f.Name)
		}
	})
	completeValues(cmd)
}

var (
	reUnknownFlag  = regexp.MustCompile(`^unknown flag: (--\S+)`)
	reUnknownShort = regexp.MustCompile(`^unknown shorthand flag: '.' in (-\S+)`)
	reBadValue     = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-\w, )?--([\w-]+)" flag`)
)

// flagError turns pflag's parse errors into one-line usage errors that
// say how to write the flag.
func (a *app) flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if m := reUnknownFlag.FindStringSubmatch(msg); m != nil {
		name := strings.SplitN(strings.TrimPrefix(m[1], "--"), "=", 2)[0]
		return usagef("unknown flag --%s%s", name, a.suggestFlag(cmd, name))
	}
	if m := reUnknownShort.FindStringSubmatch(msg); m != nil {
		name := strings.SplitN(strings.TrimPrefix(m[1], "-"), "=", 2)[0]
		if cmd.Flags().Lookup(name) != nil {
			return usagef("unknown flag %s: flags take two dashes: --%s", m[1], name)
		}
		return usagef("unknown flag %s%s", m[1], a.suggestFlag(cmd, name))
	}
	if m := reBadValue.FindStringSubmatch(msg); m != nil {
		want := "a valid value"
		if f := cmd.Flags().Lookup(m[2]); f != nil {
			switch f.Value.Type() {
			case "int":
				want = "an integer"
			case "uint64":
				want = "an integer ≥ 0"
			case "float64":
				want = "a number"
			case "bool":
				want = "true or false, written --" + m[2] + "=false"
			case "sizes": // --latent: the parser's reason
				if _, why, ok := strings.Cut(msg, " flag: "); ok {
					return usagef("invalid value %q for --%s: %s", m[1], m[2], why)
				}
			}
		}
		return usagef("invalid value %q for --%s: want %s", m[1], m[2], want)
	}
	return usageError{msg}
}

// suggestFlag returns "; did you mean --NAME?" for the flag of cmd
// nearest to name, or "".
func (a *app) suggestFlag(cmd *cobra.Command, name string) string {
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	cmd.InheritedFlags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	if s := models.Suggest(name, names); s != "" {
		return fmt.Sprintf("; did you mean --%s?", s)
	}
	if (cmd.Name() == "train" || cmd.Name() == "sweep") && len(cmd.Annotations["model"]) == 0 {
		if _, ok := models.LookupHyper(name); ok {
			if cmd.Name() == "train" && a.resumeNoModel != "" {
				return fmt.Sprintf(" (a model's flag, read from the checkpoint's model; %s holds no checkpoint, so there is no run to resume there)", a.resumeNoModel)
			}
			return " (a model's flag: name the model first, e.g. `zoo " + cmd.Name() + " MODEL --" + name + " …`)"
		}
	}
	return ""
}

// positional returns an Args validator that accepts between min and max
// positional arguments (max < 0: any number); what names them in errors.
// A stray "true" or "false" after a boolean flag gets a hint to write
// --flag=false.
func (a *app) positional(min, max int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if max >= 0 && len(args) > max {
			extra := args[max]
			if hint := a.boolHint(cmd, extra); hint != "" {
				return usageError{hint}
			}
			return usagef("unexpected argument %q", extra)
		}
		if len(args) < min {
			return usagef("missing %s", what)
		}
		return nil
	}
}

// boolHint explains a "true"/"false" argument that follows a boolean flag
// on the command line: pflag's booleans take their value after "=".
func (a *app) boolHint(cmd *cobra.Command, arg string) string {
	switch strings.ToLower(arg) {
	case "true", "false", "1", "0", "t", "f", "yes", "no":
	default:
		return ""
	}
	for i := 1; i < len(a.args); i++ {
		if a.args[i] != arg || !strings.HasPrefix(a.args[i-1], "-") {
			continue
		}
		name := strings.TrimLeft(a.args[i-1], "-")
		f := cmd.Flags().Lookup(name)
		if f == nil {
			f = cmd.InheritedFlags().Lookup(name)
		}
		if f != nil && f.Value.Type() == "bool" {
			return fmt.Sprintf("unexpected argument %q after --%s: a boolean flag takes its value after \"=\": write --%s=%s", arg, name, name, arg)
		}
	}
	return ""
}

// printUsage prints a command's usage with its flags in sections (the
// command's own, training, data and model flags, then global flags).
func printUsage(c *cobra.Command) error {
	w := c.OutOrStderr()
	if c.HasAvailableSubCommands() && !c.Runnable() {
		fmt.Fprintf(w, "Usage:\n  %s COMMAND [flags]\n", c.CommandPath())
	} else {
		fmt.Fprintf(w, "Usage:\n  %s\n", c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nCommands:\n")
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				fmt.Fprintf(w, "  %-*s %s\n", s.NamePadding(), s.Name(), s.Short)
			}
		}
	}
	if c.Example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", c.Example)
	}
	sections := map[string]*pflag.FlagSet{}
	var order []string
	c.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		g := flagGroup(f)
		if sections[g] == nil {
			sections[g] = pflag.NewFlagSet(g, pflag.ContinueOnError)
			sections[g].SortFlags = false
			order = append(order, g)
		}
		sections[g].AddFlag(f)
	})
	rank := func(g string) int {
		for i, o := range groupOrder {
			if g == o || strings.HasPrefix(g, o+" (") && o != "" {
				return i
			}
		}
		return len(groupOrder)
	}
	for i := 1; i < len(order); i++ { // stable insertion sort by rank
		for j := i; j > 0 && rank(order[j]) < rank(order[j-1]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	for _, g := range order {
		title := g
		if title == "" {
			title = "Flags"
		}
		fmt.Fprintf(w, "\n%s:\n%s", title, sections[g].FlagUsages())
	}
	if c.HasAvailableInheritedFlags() {
		fmt.Fprintf(w, "\nGlobal flags:\n%s", c.InheritedFlags().FlagUsages())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nRun `%s help COMMAND` for a command's flags; flags may come before or after arguments.\n", c.CommandPath())
	}
	return nil
}

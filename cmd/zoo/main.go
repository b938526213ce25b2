// Command zoo trains, evaluates and compares the regularized autoencoders
// of the aezoo model zoo. It computes on CPUs only (see --threads).
//
//	zoo list [--json]
//	zoo train MODEL --out DIR [flags]
//	zoo eval DIR [--json]
//	zoo sample DIR [--n 64] [--out DIR/samples.png] [--interpolate FILE] [--manifold FILE]
//	zoo bench CONFIG [--steps N] [--json]
//	zoo reproduce NAME|all [--quick] [--out DIR]
//	zoo datasets [--json]
//	zoo version [--json]
//	zoo completion bash|zsh|fish
//	zoo sweep MODEL KEY=V1,V2,... --out DIR [--launcher local|slurm|k8s] [flags]
//	zoo sweep task|status|report DIR
//
// Run `zoo help COMMAND` for a command's flags; flags may stand before or
// after the arguments. Exit status: 0 on success, 1 on failure, 2 on bad
// usage, 130 when interrupted.
//
// The command line is built with github.com/spf13/cobra: it gives every
// command its help, `zoo help COMMAND`, suggestions for misspelled
// commands and shell completion (model and experiment names included)
// without dispatch code of our own. Each command lives in its own file as
// a newXxxCmd constructor registered in newRootCmd.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/internal/blas"
	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError marks an error caused by bad command-line usage (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// app is what the commands share: the streams and the raw arguments.
type app struct {
	stdout, stderr io.Writer
	args           []string
	threads        int
	// bindModel, set by newTrainCmd, adds a model's flags to `zoo train`
	// (see bindModelFlags).
	bindModel func(model string)
}

// newRootCmd builds the command tree. To add a command, write its
// newXxxCmd(a) in its own file and add it here.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "zoo",
		Short: "a model zoo of regularized autoencoders",
		Long: "zoo — a model zoo of regularized autoencoders (plain, sparse, top-K, denoising,\n" +
			"contractive, variational, linear denoising), trained on MNIST on the CPU.",
		Example: "  zoo list\n" +
			"  zoo train plain --out runs/plain --epochs 5\n" +
			"  zoo eval runs/plain\n" +
			"  zoo reproduce all --quick",
		SilenceErrors:              true,
		SilenceUsage:               true,
		SuggestionsMinimumDistance: 2,
		CompletionOptions:          cobra.CompletionOptions{DisableDefaultCmd: true},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if a.threads < 0 {
				return usagef("invalid --threads %d: must be ≥ 0 (0: every core)", a.threads)
			}
			n := a.threads
			if n == 0 {
				n = runtime.GOMAXPROCS(0) // every core, or $GOMAXPROCS (sweep tasks set it)
			}
			return graph.SetThreads(n)
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(flagError)
	root.SetUsageFunc(printUsage)
	root.PersistentFlags().IntVar(&a.threads, "threads", 0,
		"threads to compute on: GOMAXPROCS and the OpenBLAS thread count (0: every core, or $GOMAXPROCS when set); the zoo is CPU-only")
	root.AddCommand(
		newListCmd(a),
		newTrainCmd(a),
		newEvalCmd(a),
		newFinetuneCmd(a),
		newSampleCmd(a),
		newBenchCmd(a),
		newReproduceCmd(a),
		newDatasetsCmd(a),
		newSweepCmd(a),
		newVersionCmd(a),
		newCompletionCmd(a),
	)
	return root
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "zoo: internal error: %v\n", r)
			code = 1
		}
	}()
	a := &app{stdout: stdout, stderr: stderr, args: args}
	root := newRootCmd(a)
	if len(args) == 0 {
		root.SetOut(stderr)
		_ = root.Help()
		return 2
	}
	if err := blas.InstallFromEnv(); err != nil {
		fmt.Fprintf(stderr, "zoo: %v\n", err)
		return 2
	}
	a.bindModelFlags(root, args)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	name := "zoo"
	if cmd != nil && cmd != root {
		name = cmd.CommandPath()
	}
	msg := strings.TrimSpace(err.Error())
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s: %s (see `%s --help`)\n", name, msg, name)
		return 2
	case strings.HasPrefix(msg, "unknown command"):
		// cobra's message, with its suggestions on the same line.
		first, suggestions, _ := strings.Cut(msg, "\n\nDid you mean this?\n")
		first = strings.TrimSuffix(first, ` for "zoo"`)
		if s := strings.Fields(suggestions); len(s) > 0 {
			first += fmt.Sprintf("; did you mean %q?", s[0])
		}
		fmt.Fprintf(stderr, "zoo: %s (see `zoo --help`)\n", first)
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "%s: %s\n", name, msg)
		return 130
	default:
		fmt.Fprintf(stderr, "%s: %s\n", name, msg)
		return 1
	}
}

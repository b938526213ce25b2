// Command zoo trains, evaluates and compares the regularized autoencoders
// of the aezoo model zoo.
//
//	zoo list [--json]
//	zoo train MODEL --out DIR [flags]
//	zoo eval DIR [--json]
//	zoo reproduce NAME|all [--quick] [--out DIR]
//	zoo sample DIR [--n 64] [--out samples.png] [--interpolate FILE] [--manifold FILE]
//	zoo sweep MODEL KEY=V1,V2,... --out DIR [--launcher local|slurm|k8s] [flags]
//	zoo sweep task|status|report DIR
//
// Run `zoo COMMAND --help` for the flags of a command. Exit status: 0 on
// success, 1 on failure, 2 on bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/aezoo/aezoo/graph"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// usageError marks an error caused by bad command-line usage (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

type command struct {
	name, args, doc string
	run             func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{"list", "[--json]", "list the models and their hyperparameters with defaults", cmdList},
		{"train", "MODEL --out DIR [flags]", "train a model and write its run folder", cmdTrain},
		{"eval", "DIR [--json]", "reload a trained model and recompute its test metrics", cmdEval},
		{"sample", "DIR [--n 64] [--out samples.png]", "draw images from a trained VAE's prior (also interpolations, manifold)", cmdSample},
		{"bench", "CONFIG [--steps N] [--dtype float32|float64] [--json]", "measure training speed and memory per step (ae512, vae)", cmdBench},
		{"reproduce", "NAME|all [--quick] [--out DIR]", "run the lecture's comparisons; write a report with tables and figures", cmdReproduce},
		{"sweep", "MODEL KEY=V1,V2,... --out DIR [--launcher local|slurm|k8s]", "train over a grid of settings, locally or as a Slurm job array; status, report", cmdSweep},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "zoo — a model zoo of regularized autoencoders\n\nUsage:")
	for _, c := range commands {
		fmt.Fprintf(w, "  zoo %s %s\n      %s\n", c.name, c.args, c.doc)
	}
	fmt.Fprintln(w, "\nRun `zoo COMMAND --help` for a command's flags.")
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "zoo: internal error: %v\n", r)
			code = 1
		}
	}()
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	if err := graph.SetGEMM(os.Getenv("AEZOO_BLAS")); err != nil {
		fmt.Fprintf(stderr, "zoo: AEZOO_BLAS: %v\n", err)
		return 2
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		var ue usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "zoo %s: %v\n", c.name, err)
			return 2
		case errors.Is(err, context.Canceled):
			fmt.Fprintf(stderr, "zoo %s: %v\n", c.name, err)
			return 130
		default:
			fmt.Fprintf(stderr, "zoo %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "zoo: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name, args, doc string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("zoo "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: zoo %s %s\n\n%s\n\nFlags:\n", name, args, doc)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may stand before or after positional arguments,
// and returns the positional ones. A bad flag is a usage error.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(os.Stdout)
			fs.Usage()
			return nil, flag.ErrHelp
		}
	}
	// Bad flags print one line, not the whole usage.
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error() + " (see `" + fs.Name() + " --help`)"}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

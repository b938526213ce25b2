package main

// The sweep command parses its own command line with the standard flag
// package (cobra hands it the arguments untouched, see newSweepCmd): a
// sweep mixes KEY=V1,V2,... grid axes with the flags of any model, and the
// task/status/report subcommands with their own flags.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aezoo/aezoo/train"
	"github.com/spf13/cobra"
)

// newSweepCmd wraps cmdSweep, which parses its own flags.
func newSweepCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:                "sweep " + sweepArgs,
		Short:              "train over a grid of settings, locally or as a Slurm job array; status, report",
		Long:               sweepDoc,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdSweep(cmd.Context(), args, a.stdout, a.stderr)
		},
	}
}

// trainFlags registers the training settings on a standard flag set, with
// `zoo train`'s defaults.
func trainFlags(fs *flag.FlagSet, o *train.Options) {
	o.EvalEvery, o.LRSchedule = 1, "constant"
	registerTrainFlags(fs, o)
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name, args, doc string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("zoo "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: zoo %s %s\n\n%s\n\nFlags:\n", name, args, doc)
		// Written --name, as everywhere else in the zoo (flag.PrintDefaults
		// writes -name).
		fs.VisitAll(func(f *flag.Flag) {
			typ, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(fs.Output(), "  --%s %s\n    \t%s", f.Name, typ, strings.ReplaceAll(usage, "\n", "\n    \t"))
			if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
				fmt.Fprintf(fs.Output(), " (default %s)", f.DefValue)
			}
			fmt.Fprintln(fs.Output())
		})
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
			msg := err.Error()
			if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
				msg = "unknown flag --" + name // as pflag says it
			}
			return nil, usageError{msg}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aezoo/aezoo/zoo"
	"github.com/spf13/cobra"
)

func newEvalCmd(a *app) *cobra.Command {
	var (
		asJSON bool
		df     dataFlags
	)
	cmd := &cobra.Command{
		Use:   "eval DIR [--json]",
		Short: "reload a trained model and recompute its test metrics",
		Long: "Reload the model trained in the run folder DIR and recompute its test metrics on the same\n" +
			"test data. --json prints the summary.json schema (see the README).",
		Args:              a.positional(1, 1, "run folder (want exactly one run folder)"),
		ValidArgsFunction: dirsOnly,
		RunE: func(_ *cobra.Command, args []string) error {
			src, err := df.source()
			if err != nil {
				return err
			}
			s, err := zoo.EvalSource(args[0], src)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			return writeEvalTable(a.stdout, s)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	addDataFlags(cmd, &df)
	return cmd
}

// dirsOnly completes run folders.
func dirsOnly(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// writeEvalTable prints the metrics of s as an aligned table
// (zoo.MetricsTable: names left-aligned, values right-aligned, then units).
func writeEvalTable(w io.Writer, s zoo.Summary) error {
	m := s.Test
	head := fmt.Sprintf("%s, %s", s.Model, plural(s.Epochs, "epoch"))
	if s.Steps > 0 {
		head += fmt.Sprintf(" (%d steps, %.1fs)", s.Steps, s.Seconds)
	}
	t := zoo.MetricsTable(m)
	t.Indent = "  "
	var b strings.Builder
	fmt.Fprintf(&b, "%s, on %d test images:\n", head, m.N)
	b.WriteString(t.String())
	_, err := io.WriteString(w, b.String())
	return err
}

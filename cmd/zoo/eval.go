package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/aezoo/aezoo/zoo"
	"github.com/spf13/cobra"
)

func newEvalCmd(a *app) *cobra.Command {
	var (
		asJSON  bool
		dataDir string
	)
	cmd := &cobra.Command{
		Use:   "eval DIR [--json]",
		Short: "reload a trained model and recompute its test metrics",
		Long: "Reload the model trained in the run folder DIR and recompute its test metrics on the same\n" +
			"test data. --json prints the summary.json schema (see the README).",
		Args:              a.positional(1, 1, "run folder (want exactly one run folder)"),
		ValidArgsFunction: dirsOnly,
		RunE: func(_ *cobra.Command, args []string) error {
			s, err := zoo.Eval(args[0], dataDir)
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
	addDataFlag(cmd, &dataDir)
	return cmd
}

// dirsOnly completes run folders.
func dirsOnly(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// writeEvalTable prints the metrics of s as an aligned table in a fixed
// order, integers as integers; rows a model lacks are left out.
func writeEvalTable(w io.Writer, s zoo.Summary) error {
	m := s.Test
	head := fmt.Sprintf("%s, %s", s.Model, plural(s.Epochs, "epoch"))
	if s.Steps > 0 {
		head += fmt.Sprintf(" (%d steps, %.1fs)", s.Steps, s.Seconds)
	}
	fmt.Fprintf(w, "%s, on %d test images:\n", head, m.N)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name, value, unit string) { fmt.Fprintf(tw, "  %s\t%s\t %s\t\n", name, value, unit) }
	f4 := func(v float64) string { return fmt.Sprintf("%.4f", v) }
	row("test loss", f4(m.Loss), "per image")
	row("recon", f4(m.Terms["recon"]), "per image")
	if kl, ok := m.Terms["kl"]; ok {
		row("KL", f4(kl), "nats per image")
	}
	if _, ok := m.Terms["penalty"]; ok {
		row("penalty", f4(m.Loss-m.Terms["recon"]), "per image")
	}
	// Other terms a model may declare, by name.
	var other []string
	for k := range m.Terms {
		switch k {
		case "recon", "kl", "penalty", "loss":
		default:
			other = append(other, k)
		}
	}
	sort.Strings(other)
	for _, k := range other {
		row(k, f4(m.Terms[k]), "per image")
	}
	row("BCE", fmt.Sprintf("%.2f", m.BCEPerImage), "nats per image")
	row("MSE", fmt.Sprintf("%.6f", m.MSEPerPixel), "per pixel")
	if kl, ok := m.Terms["kl"]; ok {
		row("ELBO", fmt.Sprintf("%.2f", -(m.Terms["recon"]+kl)), "nats per image")
	}
	if m.CodeUnits > 0 {
		row("code units", fmt.Sprintf("%d", m.CodeUnits), "")
		row("dead units", fmt.Sprintf("%d", m.DeadUnits), "")
		row("mean activation", f4(m.MeanActivation), "mean |h|")
		row("active fraction", f4(m.ActiveFraction), "of units with h > 0.1")
	}
	if m.MeanJacobianFrob > 0 {
		row("Jacobian norm", f4(m.MeanJacobianFrob), "mean ‖∂h/∂x‖_F")
	}
	return tw.Flush()
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/aezoo/aezoo/graph"
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

// writeEvalTable prints the metrics of s as an aligned table in a fixed
// order (names left-aligned, values right-aligned, then units), integers
// as integers; rows a model lacks are left out.
func writeEvalTable(w io.Writer, s zoo.Summary) error {
	m := s.Test
	head := fmt.Sprintf("%s, %s", s.Model, plural(s.Epochs, "epoch"))
	if s.Steps > 0 {
		head += fmt.Sprintf(" (%d steps, %.1fs)", s.Steps, s.Seconds)
	}
	type row struct{ name, value, unit string }
	var rows []row
	add := func(name, value, unit string) { rows = append(rows, row{name, value, unit}) }
	f4 := func(v float64) string { return fmt.Sprintf("%.4f", v) }
	add("test loss", f4(m.Loss), "per image")
	add("recon", f4(m.Terms[graph.ReconTerm]), "per image")
	penalty := m.Loss - m.Terms[graph.ReconTerm]
	kl, hasKL := m.Terms[graph.KLTerm]
	_, hasPenalty := m.Terms[graph.PenaltyTerm]
	_, hasIW := m.Terms[graph.IWTerm]
	switch {
	case hasIW && hasKL: // the loss is the IWAE bound; recon and KL are monitored
		add("KL", f4(kl), "nats per image")
		add("−ELBO", f4(m.Terms[graph.ReconTerm]+kl), "nats per image")
	case hasKL && f4(kl) == f4(penalty):
		add("KL", f4(kl), "nats per image")
	case hasKL:
		add("KL", f4(kl), "nats per image")
		add("β·KL", f4(penalty), "per image")
	case hasPenalty:
		add("penalty", f4(penalty), "per image")
	}
	// Other terms a model may declare, by name.
	var other []string
	for k := range m.Terms {
		switch k {
		case graph.ReconTerm, graph.KLTerm, graph.PenaltyTerm, graph.LossTerm:
		default:
			other = append(other, string(k))
		}
	}
	sort.Strings(other)
	for _, k := range other {
		add(k, f4(m.Terms[graph.Term(k)]), "per image")
	}
	add("BCE", fmt.Sprintf("%.2f", m.BCEPerImage), "nats per image")
	add("MSE", fmt.Sprintf("%.6f", m.MSEPerPixel), "per pixel")
	if hasKL {
		add("ELBO", fmt.Sprintf("%.2f", -(m.Terms[graph.ReconTerm]+kl)), "nats per image")
	}
	if m.CodeUnits > 0 {
		add("code units", fmt.Sprintf("%d", m.CodeUnits), "")
		add("dead units", fmt.Sprintf("%d", m.DeadUnits), "")
		add("mean activation", f4(m.MeanActivation), "mean |h|")
		add("active fraction", f4(m.ActiveFraction), "of units with h > 0.1")
	}
	if m.MeanJacobianFrob > 0 {
		add("Jacobian norm", f4(m.MeanJacobianFrob), "mean ‖∂h/∂x‖_F")
	}
	nw, vw := 0, 0
	for _, r := range rows {
		nw, vw = max(nw, len(r.name)), max(vw, len(r.value))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s, on %d test images:\n", head, m.N)
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-*s  %*s", nw, r.name, vw, r.value)
		if r.unit != "" {
			b.WriteString("  " + r.unit)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

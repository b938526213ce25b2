package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/aezoo/aezoo/experiments"
	"github.com/spf13/cobra"
)

// experimentNames lists the experiments `zoo reproduce` accepts, "all" last.
func experimentNames() []string {
	var names []string
	for _, e := range experiments.Catalogue() {
		names = append(names, e.Name)
	}
	return append(names, "all")
}

func newReproduceCmd(a *app) *cobra.Command {
	var (
		quick        bool
		out, dataDir string
		iw           int
	)
	cmd := &cobra.Command{
		Use:   "reproduce NAME|all [--quick] [--out DIR]",
		Short: "run the lecture's comparisons; write a report with tables and figures",
		Long: "Run the lecture's comparisons as measured experiments (" + strings.Join(experimentNames(), ", ") + ")\n" +
			"and write DIR/report.md, DIR/results.json, the figures and the trained runs.",
		Example: "  zoo reproduce all --quick\n  zoo reproduce vae --out runs/vae-report",
		Args:    a.positional(1, -1, "experiment name ("+strings.Join(experimentNames(), ", ")+")"),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			var out []string
			for _, e := range experiments.Catalogue() {
				out = append(out, e.Name+"\t"+e.Title)
			}
			return append(out, "all\tevery experiment"), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, pos []string) error {
			for _, n := range pos {
				if n == "all" {
					continue
				}
				if _, err := experiments.Lookup(n); err != nil {
					return usageError{err.Error()}
				}
			}
			if iw <= 0 {
				return usagef("invalid --iw-samples %d: must be positive", iw)
			}
			experiments.IWSamples = iw
			if out == "" {
				name := pos[0]
				if len(pos) > 1 {
					name = "all"
				}
				if quick {
					name += "-quick"
				}
				out = filepath.Join("runs", "reproduce-"+name)
			}
			start := time.Now()
			results, err := experiments.Reproduce(cmd.Context(), pos, quick, out, dataDir, a.stderr)
			if err != nil {
				return err
			}
			failed := 0
			for _, r := range results {
				for _, c := range r.Checks {
					if !c.Pass && !(c.FullOnly && quick) {
						failed++
						fmt.Fprintf(a.stderr, "claim not met: %s — %s\n", c.Claim, c.Detail)
					}
				}
			}
			report := filepath.Join(out, "report.md")
			if len(results) == 1 {
				report = filepath.Join(out, results[0].Name, "report.md")
			}
			fmt.Fprintf(a.stdout, "%d experiment(s) in %.0fs, %d claim(s) not met → %s\n", len(results), time.Since(start).Seconds(), failed, report)
			return nil
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.BoolVar(&quick, "quick", false, "the repo's MNIST subset and few epochs (all experiments in about 2 minutes)")
	f.StringVar(&out, "out", "", "output folder (default runs/reproduce-NAME[-quick])")
	f.IntVar(&iw, "iw-samples", experiments.IWSamples, "importance samples of the VAE's IW-NLL in full runs")
	_ = cmd.MarkFlagDirname("out")
	addDataFlag(cmd, &dataDir)
	return cmd
}

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
		quick, overwrite bool
		out, dataDir     string
		dataset          string
		iw               int
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
			if dataset != "" && quick {
				return usagef("--dataset goes without --quick (--quick always uses the embedded MNIST subset)")
			}
			dir, err := idxDir(dataset, dataDir)
			if err != nil {
				return err
			}
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
			results, err := experiments.Reproduce(cmd.Context(), pos, experiments.Options{
				Quick: quick, Out: out, Data: dir, Log: a.stderr, Overwrite: overwrite, IWSamples: iw})
			if err != nil {
				return err
			}
			// Quick runs check every claim like full runs: the count is the
			// number of ❌ in the report.
			failed := 0
			for _, r := range results {
				for _, c := range r.Unmet() {
					failed++
					fmt.Fprintf(a.stderr, "claim not met: %s [%s] — %s\n", c.Claim, c.ID, c.Detail)
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
	f.BoolVar(&quick, "quick", false, "the MNIST subset embedded in the binary and few epochs (all experiments in about 2 minutes)")
	f.StringVar(&out, "out", "", "output folder (default runs/reproduce-NAME[-quick])")
	f.BoolVar(&overwrite, "overwrite", false, "start afresh in DIR, removing an earlier reproduction there (default: continue it, reusing its finished runs)")
	f.IntVar(&iw, "iw-samples", experiments.DefaultIWSamples, "importance samples of the VAE's IW-NLL in full runs")
	_ = cmd.MarkFlagDirname("out")
	addDataFlag(cmd, &dataDir)
	addDatasetFlag(cmd, &dataset)
	return cmd
}

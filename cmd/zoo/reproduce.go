package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/aezoo/aezoo/experiments"
)

func cmdReproduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("reproduce", "NAME|all [--quick] --out DIR",
		"Run the lecture's comparisons as measured experiments (denoising, contractive, sparse, vae,\nlinear-dae-svd, or all) and write DIR/report.md, DIR/results.json, the figures and the trained runs.", stderr)
	quick := fs.Bool("quick", false, "the MNIST subset embedded in the binary and few epochs (all experiments in about 2 minutes)")
	out := fs.String("out", "", "output folder (default runs/reproduce-NAME[-quick])")
	dataDir := fs.String("data", "", "folder with the MNIST IDX files (default: $AEZOO_DATA, then the GoMNIST Go module)")
	overwrite := fs.Bool("overwrite", false, "start afresh in DIR, removing an earlier reproduction there (default: continue it, reusing its finished runs)")
	iw := fs.Int("iw-samples", experiments.DefaultIWSamples, "importance samples of the VAE's IW-NLL in full runs")
	dataset := fs.String("dataset", "", "a named data set for full runs (mnist, fashion-mnist, kmnist; see `zoo datasets`)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("missing experiment name (denoising, contractive, sparse, vae, linear-dae-svd or all)")
	}
	for _, n := range pos {
		if n == "all" {
			continue
		}
		if _, err := experiments.Lookup(n); err != nil {
			return usagef("%v", err)
		}
	}
	if *dataset != "" && *quick {
		return usagef("--dataset goes without --quick (--quick always uses the embedded MNIST subset)")
	}
	if *dataDir, err = idxDir(*dataset, *dataDir); err != nil {
		return err
	}
	if *iw <= 0 {
		return usagef("invalid --iw-samples %d: must be positive", *iw)
	}
	if *out == "" {
		name := pos[0]
		if len(pos) > 1 {
			name = "all"
		}
		if *quick {
			name += "-quick"
		}
		*out = filepath.Join("runs", "reproduce-"+name)
	}
	start := time.Now()
	results, err := experiments.Reproduce(ctx, pos, experiments.Options{Quick: *quick, Out: *out, Data: *dataDir, Log: stderr, Overwrite: *overwrite, IWSamples: *iw})
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		for _, c := range r.Checks {
			if !c.Pass && !(c.FullOnly && *quick) {
				failed++
				fmt.Fprintf(stderr, "claim not met: %s — %s\n", c.Claim, c.Detail)
			}
		}
	}
	report := filepath.Join(*out, "report.md")
	if len(results) == 1 {
		report = filepath.Join(*out, results[0].Name, "report.md")
	}
	fmt.Fprintf(stdout, "%d experiment(s) in %.0fs, %d claim(s) not met → %s\n", len(results), time.Since(start).Seconds(), failed, report)
	return nil
}

package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aezoo/aezoo/bench"
	"github.com/spf13/cobra"
)

func newBenchCmd(a *app) *cobra.Command {
	var (
		steps, warmup int
		dtype, dir    string
		dataset       string
		threads       string
		asJSON        bool
	)
	cmd := &cobra.Command{
		Use:   "bench CONFIG [--steps N] [--dtype float32|float64] [--json]",
		Short: "measure training speed and memory per step (" + strings.Join(bench.Names(), ", ") + ")",
		Long: "Train a benchmark configuration (" + strings.Join(bench.Names(), ", ") + ") for N steps after a warm-up,\n" +
			"on MNIST, and print the time and memory per step (see bench/README.md). --threads sets the cores used.",
		Args:      a.positional(1, 1, "benchmark config ("+strings.Join(bench.Names(), ", ")+")"),
		ValidArgs: bench.Names(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, ok := bench.Configs()[args[0]]; !ok {
				return usagef("unknown benchmark config %q (known: %s)", args[0], strings.Join(bench.Names(), ", "))
			}
			if steps <= 0 || warmup < 0 {
				return usagef("invalid --steps %d / --warmup %d", steps, warmup)
			}
			if dtype != "float32" && dtype != "float64" {
				return usagef("invalid --dtype %q (want float32 or float64)", dtype)
			}
			ts, err := bench.ParseThreads(threads)
			if err != nil {
				return usagef("-t: %v", err)
			}
			if ts == nil {
				ts = []int{0} // --threads, or every core
			}
			if dir, err = idxDir(dataset, dir); err != nil {
				return err
			}
			for _, t := range ts {
				if err := cmd.Context().Err(); err != nil {
					return err
				}
				r, err := bench.RunOpts(args[0], steps, dtype, bench.Options{Warmup: max(warmup, 1), DataDir: dir, Threads: t})
				if err != nil {
					return err
				}
				if asJSON {
					if err := json.NewEncoder(a.stdout).Encode(r); err != nil {
						return err
					}
					continue
				}
				_, err = fmt.Fprintf(a.stdout, "zoo %s %s: %d threads, %.3f ms/step, %.0f samples/s, %.0f%% of the GEMM bound (%.3f GFLOP/step at %.1f GFLOP/s = %.3f ms), %.0f B and %.0f allocs per step, peak heap %.1f MiB (heap %.1f → %.1f MiB), gemm %s, loss %.3f\n",
					r.Config, r.Dtype, r.Threads, r.MsPerStep, r.SamplesPerS, 100*r.GemmBoundFraction, r.GemmGFLOPPerStep, r.GemmGFLOPS, r.GemmBoundMs,
					r.AllocBytesPerStep, r.AllocsPerStep,
					float64(r.PeakHeapBytes)/(1<<20), float64(r.HeapStartBytes)/(1<<20), float64(r.HeapEndBytes)/(1<<20), r.GEMM, r.Loss)
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.IntVar(&steps, "steps", 500, "timed training steps")
	f.IntVar(&warmup, "warmup", 20, "untimed warm-up steps")
	f.StringVar(&dtype, "dtype", "float32", "float32 or float64")
	f.BoolVar(&asJSON, "json", false, "print one JSON object per thread count")
	f.StringVarP(&threads, "thread-list", "t", "", "thread counts to run in turn, e.g. 1,2,4,8,16 (default: --threads, or every core)")
	addDataFlag(cmd, &dir)
	addDatasetFlag(cmd, &dataset)
	completeValues(cmd)
	return cmd
}

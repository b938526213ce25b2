package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aezoo/aezoo/bench"
)

// cmdBench is `zoo bench CONFIG [--steps N] [--dtype float32|float64] [-t 1,2,4] [--json]`.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	doc := "Train a benchmark configuration (" + strings.Join(bench.Names(), ", ") + ") for N steps after a warm-up,\n" +
		"on MNIST, and print the time and memory per step (see bench/README.md)."
	fs := newFlags("bench", "CONFIG [--steps N] [--dtype float32|float64] [-t 1,2,4] [--json]", doc, stderr)
	steps := fs.Int("steps", 500, "timed training steps")
	warmup := fs.Int("warmup", 20, "untimed warm-up steps")
	dtype := fs.String("dtype", "float32", "float32 or float64")
	dir := fs.String("data", "", "MNIST folder (default: $AEZOO_DATA or the GoMNIST module)")
	asJSON := fs.Bool("json", false, "print one JSON object per thread count")
	threads := fs.String("t", "", "thread counts to run, e.g. 1,2,4,8,16 (default: GOMAXPROCS)")
	dataset := fs.String("dataset", "", "a named data set instead of MNIST (fashion-mnist, kmnist; see `zoo datasets`)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("need one benchmark config (%s)", strings.Join(bench.Names(), ", "))
	}
	if _, ok := bench.Configs()[pos[0]]; !ok {
		return usagef("unknown benchmark config %q (known: %s)", pos[0], strings.Join(bench.Names(), ", "))
	}
	if *steps <= 0 || *warmup < 0 {
		return usagef("invalid --steps %d / --warmup %d", *steps, *warmup)
	}
	if *dtype != "float32" && *dtype != "float64" {
		return usagef("invalid --dtype %q (want float32 or float64)", *dtype)
	}
	if *dir, err = idxDir(*dataset, *dir); err != nil {
		return err
	}
	ts, err := bench.ParseThreads(*threads)
	if err != nil {
		return usagef("-t: %v", err)
	}
	if ts == nil {
		ts = []int{0} // GOMAXPROCS
	}
	for _, t := range ts {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := bench.RunOpts(pos[0], *steps, *dtype, bench.Options{Warmup: max(*warmup, 1), DataDir: *dir, Threads: t})
		if err != nil {
			return err
		}
		if *asJSON {
			if err := json.NewEncoder(stdout).Encode(r); err != nil {
				return err
			}
			continue
		}
		_, err = fmt.Fprintf(stdout, "zoo %s %s: %d threads, %.3f ms/step, %.0f samples/s, %.0f%% of the GEMM bound (%.3f GFLOP/step at %.1f GFLOP/s = %.3f ms), %.0f B and %.0f allocs per step, peak heap %.1f MiB (heap %.1f → %.1f MiB), gemm %s, loss %.3f\n",
			r.Config, r.Dtype, r.Threads, r.MsPerStep, r.SamplesPerS, 100*r.GemmBoundFraction, r.GemmGFLOPPerStep, r.GemmGFLOPS, r.GemmBoundMs,
			r.AllocBytesPerStep, r.AllocsPerStep,
			float64(r.PeakHeapBytes)/(1<<20), float64(r.HeapStartBytes)/(1<<20), float64(r.HeapEndBytes)/(1<<20), r.GEMM, r.Loss)
		if err != nil {
			return err
		}
	}
	return nil
}

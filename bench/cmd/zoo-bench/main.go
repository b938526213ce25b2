// Command zoo-bench runs one bench.Run and prints its JSON result; bench/ab.sh
// uses it (it is `zoo bench CONFIG --json` without the rest of zoo).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/aezoo/aezoo/bench"
	"github.com/aezoo/aezoo/internal/blas"
)

func main() {
	config := flag.String("config", "ae512", "benchmark config")
	steps := flag.Int("steps", 500, "timed steps")
	warmup := flag.Int("warmup", 20, "warm-up steps")
	dtype := flag.String("dtype", "float32", "float32 or float64")
	dir := flag.String("data", "", "MNIST folder")
	threads := flag.Int("threads", 0, "GOMAXPROCS and GEMM threads (default: GOMAXPROCS)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "zoo-bench: cpu profile:", err)
			os.Exit(2)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if err := blas.InstallFromEnv(); err != nil {
		fmt.Fprintln(os.Stderr, "zoo-bench:", err)
		os.Exit(2)
	}
	r, err := bench.RunOpts(*config, *steps, *dtype, bench.Options{Warmup: *warmup, DataDir: *dir, Threads: *threads})
	if err != nil {
		fmt.Fprintln(os.Stderr, "zoo-bench:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, "zoo-bench:", err)
	}
}

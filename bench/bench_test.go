package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/aezoo/aezoo/data"
)

// TestRunJSON checks that a short run reports every field, positive.
// TestGemmFLOPs: an ae512 step runs five products of 128·784·512
// multiply-adds (x·W1, h·W2; ∂W2, ∂h, ∂W1: the input needs no gradient).
// Threads sets GOMAXPROCS for the run only.
func TestGemmFLOPs(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	r, err := RunOpts("ae512", 1, "float32", Options{Warmup: 1, DataDir: data.Testdata(), Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := 5 * 2 * 128 * 784 * 512 / 1e9; math.Abs(r.GemmGFLOPPerStep-want) > 1e-9 {
		t.Errorf("GEMM work %g GFLOP per step, want %g", r.GemmGFLOPPerStep, want)
	}
	if r.Threads != 1 || runtime.GOMAXPROCS(0) != before {
		t.Errorf("threads %d (want 1), GOMAXPROCS after the run %d (want %d)", r.Threads, runtime.GOMAXPROCS(0), before)
	}
}

func TestRunJSON(t *testing.T) {
	for _, c := range []string{"ae512", "vae", "convvae"} {
		r, err := RunOpts(c, 3, "float32", Options{Warmup: 1, DataDir: data.Testdata()})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(r)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"samples_per_s", "ms_per_step", "alloc_bytes_per_step", "allocs_per_step", "peak_heap_bytes",
			"gemm_gflop_per_step", "gemm_gflops", "gemm_bound_ms", "gemm_bound_fraction"} {
			v, ok := m[k].(float64)
			if !ok || !(v > 0) {
				t.Errorf("%s: %s = %v, want a positive number", c, k, m[k])
			}
		}
	}
}

// benchStep times one training step of config in dtype (b.N steps after a
// warm-up), on the full MNIST training set.
func benchStep(b *testing.B, config, dtype string) {
	r, err := RunOpts(config, max(b.N, 1), dtype, Options{Warmup: 5})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.MsPerStep*1e6, "ns/op")
	b.ReportMetric(r.SamplesPerS, "samples/s")
	b.ReportMetric(r.AllocBytesPerStep, "B/step")
	b.ReportMetric(r.AllocsPerStep, "allocs/step")
}

func BenchmarkAE512Float32(b *testing.B) { benchStep(b, "ae512", "float32") }
func BenchmarkAE512Float64(b *testing.B) { benchStep(b, "ae512", "float64") }
func BenchmarkVAEFloat32(b *testing.B)   { benchStep(b, "vae", "float32") }
func BenchmarkVAEFloat64(b *testing.B)   { benchStep(b, "vae", "float64") }

func TestRunErrors(t *testing.T) {
	if _, err := Run("nope", 1, "float32"); err == nil {
		t.Error("unknown config accepted")
	}
	if _, err := Run("ae512", 0, "float32"); err == nil {
		t.Error("0 steps accepted")
	}
	if _, err := Run("ae512", 1, "int8"); err == nil {
		t.Error("bad dtype accepted")
	}
}

func TestParseThreads(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		ok   bool
	}{{"", nil, true}, {"1,2, 4", []int{1, 2, 4}, true}, {"2", []int{2}, true}, {"0", nil, false}, {"1,x", nil, false}, {"1,,2", nil, false}} {
		got, err := ParseThreads(tc.in)
		if (err == nil) != tc.ok || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ParseThreads(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func BenchmarkConvFloat32(b *testing.B)    { benchStep(b, "conv", "float32") }
func BenchmarkConvVAEFloat32(b *testing.B) { benchStep(b, "convvae", "float32") }

// Package bench measures the zoo's training speed and memory: it trains a
// named configuration for a number of steps on MNIST, after a warm-up, and
// reports time, throughput and allocation per step. The PyTorch reference
// (torch_ref.py) trains the same configurations on the same files, and
// ab.sh runs both, alternating, to print the ratio.
package bench

import (
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/internal/blas"
	"github.com/aezoo/aezoo/models"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Batch is the minibatch size of every benchmark configuration.
const Batch = 128

// LR is Adam's learning rate in every benchmark configuration.
const LR = 1e-3

// Config is a benchmark configuration: a zoo model and its hyperparameters.
type Config struct {
	Name  string
	Doc   string
	Model models.Config
}

// Configs returns the benchmark configurations, keyed by name: "ae512"
// (784-512-784, sigmoid, BCE), "vae" (pytorch/examples:
// 784-400-(20,20)-400-784), and the convolutional models of --arch conv:
// "conv" (the plain AE, 64 sigmoid code units) and "convvae" (the VAE,
// --hidden 256 --latent 20); all with Adam 1e-3 and batch 128.
func Configs() map[string]Config {
	ae, _ := models.Defaults("plain")
	ae.Hidden, ae.Activation, ae.Loss = 512, "sigmoid", "bce"
	vae, _ := models.Defaults("vae")
	conv, _ := models.Defaults("plain")
	conv.Arch, conv.Hidden = "conv", 64
	convVAE, _ := models.Defaults("vae")
	convVAE.Arch, convVAE.Hidden = "conv", 256
	return map[string]Config{
		"ae512": {"ae512", "autoencoder 784-512-784, sigmoid code, sigmoid output, BCE, Adam 1e-3, batch 128", ae},
		"vae":   {"vae", "VAE of pytorch/examples: 784-400-(20,20)-400-784, ReLU, BCE + KL, Adam 1e-3, batch 128", vae},
		"conv": {"conv", "convolutional autoencoder (--arch conv): 1×28×28 → conv 3×3 16, pool → conv 3×3 32, pool → 64 sigmoid units → " +
			"dense 32×7×7 → 2× transposed conv 4×4 stride 2 → 28×28, BCE, Adam 1e-3, batch 128", conv},
		"convvae": {"convvae", "convolutional VAE (--arch conv): the conv encoder → 256 ReLU → (20, 20) → 256 ReLU → the conv decoder, " +
			"BCE + KL, Adam 1e-3, batch 128", convVAE},
	}
}

// Names lists the benchmark configurations in order.
func Names() []string {
	var n []string
	for k := range Configs() {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Result is the outcome of one benchmark run. The JSON field names are the
// ones ab.sh and torch_ref.py share.
type Result struct {
	Impl    string `json:"impl"`   // "zoo"
	Config  string `json:"config"` // ae512, vae, conv, convvae
	Dtype   string `json:"dtype"`
	Batch   int    `json:"batch"`
	Steps   int    `json:"steps"`  // timed steps
	Warmup  int    `json:"warmup"` // untimed steps before them
	Threads int    `json:"threads"`
	// GEMM names the matrix-product kernel in use, with "+split" when
	// OpenBLAS's products are split into blocks on goroutines
	// (blas.SplitOptions); GEMMSplit is the split setting:
	// "MODE min_threads=N min_mflop=F" (MODE auto, off or on).
	GEMM      string  `json:"gemm"`
	GEMMSplit string  `json:"gemm_split"`
	Seconds   float64 `json:"seconds"`
	MsPerStep float64 `json:"ms_per_step"`
	// SamplesPerS is examples trained per second (Batch·Steps/Seconds).
	SamplesPerS float64 `json:"samples_per_s"`
	// AllocBytesPerStep and AllocsPerStep are the heap bytes and objects
	// allocated per timed step (runtime.MemStats TotalAlloc, Mallocs).
	AllocBytesPerStep float64 `json:"alloc_bytes_per_step"`
	AllocsPerStep     float64 `json:"allocs_per_step"`
	// PeakHeapBytes is the largest live heap seen during the timed steps;
	// HeapStartBytes and HeapEndBytes are the live heap after a GC before
	// and after them (equal for a flat heap).
	PeakHeapBytes  uint64  `json:"peak_heap_bytes"`
	HeapStartBytes uint64  `json:"heap_start_bytes"`
	HeapEndBytes   uint64  `json:"heap_end_bytes"`
	Loss           float64 `json:"final_loss"` // loss of the last step
	// GemmGFLOPPerStep is the floating-point work of one step's matrix
	// products (2·m·n·k summed over the products a step runs).
	GemmGFLOPPerStep float64 `json:"gemm_gflop_per_step"`
	// GemmGFLOPS is the rate of those products run alone (replayed on the
	// same kernel and thread count, in the same run), and GemmBoundMs the
	// time they take: a step can be no faster.
	GemmGFLOPS  float64 `json:"gemm_gflops"`
	GemmBoundMs float64 `json:"gemm_bound_ms"`
	// GemmBoundFraction is GemmBoundMs ÷ MsPerStep: the step's fraction of
	// the GEMM bound (1 = the step is nothing but its matrix products).
	GemmBoundFraction float64 `json:"gemm_bound_fraction"`
	// CPUMsPerStep is the process's CPU time (user + system, all threads,
	// GEMM workers included) per timed step: on a shared machine it is
	// distorted less by other processes than MsPerStep.
	CPUMsPerStep float64 `json:"cpu_ms_per_step"`
}

// Options tune a run beyond Run's arguments.
type Options struct {
	Warmup  int    // untimed steps (default 20)
	DataDir string // MNIST folder (default: data.Locate(""))
	Seed    uint64 // default 1
	// Threads, when positive, sets GOMAXPROCS and the GEMM kernel's
	// threads for the run (restored after it); 0 keeps them.
	Threads int
}

// Run trains config for steps timed steps (after a warm-up) in float32 or
// float64 on MNIST and measures speed and memory.
func Run(config string, steps int, dtype string) (Result, error) {
	return RunOpts(config, steps, dtype, Options{})
}

// RunOpts is Run with options.
func RunOpts(config string, steps int, dtype string, o Options) (Result, error) {
	cfg, ok := Configs()[config]
	if !ok {
		return Result{}, errors.Errorf("unknown benchmark config %q (known: %v)", config, Names())
	}
	if steps <= 0 {
		return Result{}, errors.Errorf("invalid steps %d: must be positive", steps)
	}
	dt, err := graph.ParseDtype(dtype)
	if err != nil {
		return Result{}, err
	}
	if o.Warmup <= 0 {
		o.Warmup = 20
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Threads > 0 {
		old := runtime.GOMAXPROCS(o.Threads)
		blas.SetThreads(o.Threads)
		defer func() {
			runtime.GOMAXPROCS(old)
			blas.SetThreads(old)
		}()
	}
	dir, err := data.Locate(o.DataDir)
	if err != nil {
		return Result{}, errors.Wrap(err, "bench: locating MNIST")
	}
	ds, err := data.Load(dir, data.Train, 0)
	if err != nil {
		return Result{}, errors.Wrap(err, "bench")
	}
	if ds.N < Batch {
		return Result{}, errors.Errorf("bench: %d training images, fewer than one batch", ds.N)
	}
	tr, err := newRunner(cfg, ds, dt, o.Seed)
	if err != nil {
		return Result{}, err
	}
	if err := tr.steps(o.Warmup - 1); err != nil {
		return Result{}, err
	}
	r := Result{
		Impl: "zoo", Config: config, Dtype: dt.String(), Batch: Batch, Steps: steps, Warmup: o.Warmup,
		Threads: runtime.GOMAXPROCS(0), GEMM: blas.Name(), GEMMSplit: splitSetting(),
	}
	if err := gemmBound(&r, tr); err != nil { // the last warm-up step
		return Result{}, err
	}
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	r.HeapStartBytes = ms0.HeapAlloc
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	peak := uint64(0)
	const every = 16
	cpu0 := cpuSeconds()
	start := time.Now()
	for done := 0; done < steps; {
		n := min(every, steps-done)
		if err := tr.steps(n); err != nil {
			return Result{}, err
		}
		done += n
		metrics.Read(sample)
		if v := sample[0].Value; v.Kind() == metrics.KindUint64 && v.Uint64() > peak {
			peak = v.Uint64()
		}
	}
	r.Seconds = time.Since(start).Seconds()
	r.CPUMsPerStep = 1000 * (cpuSeconds() - cpu0) / float64(steps)
	runtime.ReadMemStats(&ms1)
	r.PeakHeapBytes = max(peak, ms1.HeapAlloc)
	r.AllocBytesPerStep = float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(steps)
	r.AllocsPerStep = float64(ms1.Mallocs-ms0.Mallocs) / float64(steps)
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	r.HeapEndBytes = ms1.HeapAlloc
	r.MsPerStep = 1000 * r.Seconds / float64(steps)
	r.SamplesPerS = float64(Batch*steps) / r.Seconds
	r.Loss = tr.prog.Loss()
	if r.MsPerStep > 0 {
		r.GemmBoundFraction = r.GemmBoundMs / r.MsPerStep
	}
	return r, nil
}

// splitSetting describes blas.Split's options for Result.GEMMSplit.
func splitSetting() string {
	o, _ := blas.Split()
	return o.Mode + " min_threads=" + strconv.Itoa(o.MinThreads) + " min_mflop=" + strconv.FormatFloat(o.MinBlockFLOPs/1e6, 'g', -1, 64)
}

// gemmBound runs one training step, recording its matrix products, and
// times them alone (replayed for at least 0.3 s), filling r's Gemm fields.
func gemmBound(r *Result, tr *runner) error {
	stop := blas.Record()
	err := tr.steps(1)
	calls := stop()
	if err != nil || len(calls) == 0 {
		return err
	}
	for _, c := range calls {
		r.GemmGFLOPPerStep += c.FLOPs() / 1e9
	}
	var bufs blas.ReplayBuffers
	blas.Replay(calls, &bufs) // warm: buffers, threads
	n := 0
	start := time.Now()
	for time.Since(start) < 300*time.Millisecond {
		blas.Replay(calls, &bufs)
		n++
	}
	sec := time.Since(start).Seconds() / float64(n)
	r.GemmBoundMs = 1000 * sec
	r.GemmGFLOPS = r.GemmGFLOPPerStep / sec
	return nil
}

// runner is the trainer's inner loop: shuffled minibatches, Program.Run
// (feed, forward, backward, Adam), as train.Trainer does per step.
type runner struct {
	ds    *data.Dataset
	prog  *graph.Program
	rng   *rand.Rand
	idx   []int
	pos   int
	batch []float32
}

func newRunner(cfg Config, ds *data.Dataset, dt tensor.Dtype, seed uint64) (*runner, error) {
	m, err := models.Build(cfg.Model, graph.Shape{In: ds.D, Batch: Batch}, dt, nil, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		return nil, errors.Wrap(err, "bench")
	}
	p, err := graph.NewTrainer(m, graph.NewAdam(LR))
	if err != nil {
		return nil, errors.Wrapf(err, "bench: compiling %s", cfg.Name)
	}
	r := &runner{ds: ds, prog: p, rng: rand.New(rand.NewPCG(seed, 2)), idx: make([]int, ds.N), batch: make([]float32, Batch*ds.D)}
	for i := range r.idx {
		r.idx[i] = i
	}
	r.pos = len(r.idx) // shuffle first
	return r, nil
}

func (r *runner) steps(n int) error {
	for range n {
		if r.pos+Batch > len(r.idx) {
			r.rng.Shuffle(len(r.idx), func(i, j int) { r.idx[i], r.idx[j] = r.idx[j], r.idx[i] })
			r.pos = 0
		}
		r.ds.Gather(r.idx[r.pos:r.pos+Batch], r.batch)
		r.pos += Batch
		if err := r.prog.Run(r.batch, r.rng, true); err != nil {
			return errors.Wrap(err, "bench: training step")
		}
	}
	return nil
}

// ParseThreads parses a comma-separated list of thread counts ("1,2,4");
// "" gives nil (keep GOMAXPROCS).
func ParseThreads(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var ts []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, errors.Errorf("invalid thread count %q in %q (want positive integers, e.g. 1,2,4)", f, s)
		}
		ts = append(ts, n)
	}
	return ts, nil
}

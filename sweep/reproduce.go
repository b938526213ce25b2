package sweep

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aezoo/aezoo/experiments"
	"github.com/pkg/errors"
)

// The files a reproduction launched on Slurm writes into its folder.
const (
	ReproduceSbatchFile = "reproduce.sbatch"        // the job array, one task per experiment
	ReproduceReportFile = "reproduce-report.sbatch" // the dependent job writing the combined report
)

// ReproduceOptions are the options of ReproduceLocal and the Slurm
// launcher of a reproduction.
type ReproduceOptions struct {
	// Jobs is the number of experiments run at a time by ReproduceLocal
	// (0: one per core, at most one per experiment).
	Jobs int
	// Threads is the thread count (GOMAXPROCS and OpenBLAS) of each
	// experiment's process (0: the cores divided by Jobs, at least 1; on
	// Slurm 0 means 1).
	Threads int
	// Exe, when set, is the zoo binary: each experiment runs as `Exe
	// reproduce NAME --out DIR --task --threads T …`, as under Slurm. When
	// empty, ReproduceLocal runs the experiments in this process (as from a
	// notebook or a test), with its threads.
	Exe string
	// Progress receives the experiments' log lines, prefixed with their
	// names, and a line per finished experiment; or nil.
	Progress io.Writer
	// Slurm are the job's settings on Slurm (Exe is taken from above).
	Slurm SlurmOptions
}

// jobs returns the number of experiments to run at a time and the threads
// of each.
func (lo ReproduceOptions) jobs(n int) (jobs, threads int) {
	jobs = lo.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	jobs = min(jobs, n)
	threads = lo.Threads
	if threads <= 0 {
		threads = max(1, runtime.NumCPU()/jobs)
	}
	return jobs, threads
}

// ReproduceLocal runs the named experiments ("all" for every one) as a
// parallel reproduction in o.Out: lo.Jobs experiments at a time, each its
// own task (experiments.Options.Task: its own graphs and training; a run
// that several experiments share is trained once, by the first task that
// needs it), then writes the combined report once all are done. The folder
// is claimed as experiments.Reproduce claims it; rerunning continues: an
// experiment already reported there with the same settings is reused,
// finished runs too. With OpenBLAS, the numbers equal those of a serial
// reproduction (experiments.Reproduce) computed with the same thread count
// as each task's (the pure-Go kernel, AEZOO_BLAS=vek, gives the same
// numbers at any thread count).
func ReproduceLocal(ctx context.Context, names []string, o experiments.Options, lo ReproduceOptions) ([]*experiments.Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	exps, err := experiments.Resolve(names)
	if err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	start := time.Now()
	lock, err := experiments.ClaimFolder(o.Out, o.Overwrite, o.Log)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	// The data are loaded here once, so that bad data fail before any task
	// starts, and for the settings every task's report must have.
	env, err := experiments.NewEnv(ctx, o)
	if err != nil {
		return nil, err
	}
	settings := env.Settings()
	env = nil
	jobs, threads := lo.jobs(len(exps))
	progress := lo.Progress
	if progress == nil {
		progress = io.Discard
	}
	out := &syncWriter{w: progress}
	fmt.Fprintf(out, "reproduce %s: %d experiments, %d at a time, %d thread(s) each\n", o.Out, len(exps), jobs, threads)
	var (
		mu       sync.Mutex
		finished int
		failed   []string
	)
	work := make(chan experiments.Experiment)
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				t0 := time.Now()
				log := &prefixWriter{w: out, prefix: "[" + e.Name + "] "}
				var err error
				if lo.Exe != "" {
					err = runExperimentProcess(ctx, lo.Exe, e.Name, o, threads, log)
				} else {
					to := o
					to.Task, to.Overwrite, to.Log = true, false, log
					_, err = experiments.Reproduce(ctx, []string{e.Name}, to)
				}
				log.flush()
				mu.Lock()
				finished++
				line := fmt.Sprintf("done (%.0fs)", time.Since(t0).Seconds())
				if err != nil {
					failed = append(failed, e.Name+": "+lastLine(err.Error()))
					line = "FAILED: " + lastLine(err.Error())
					if ctx.Err() != nil {
						line = "interrupted (its finished runs are kept; rerun to continue)"
					}
				}
				fmt.Fprintf(out, "[%d/%d] %s: %s\n", finished, len(exps), e.Name, line)
				mu.Unlock()
			}
		}()
	}
dispatch:
	for _, e := range exps {
		select {
		case work <- e:
		case <-ctx.Done():
			break dispatch
		}
	}
	close(work)
	wg.Wait()
	if ctx.Err() != nil {
		return nil, errors.Wrapf(ctx.Err(), "reproduction in %s stopped after %d of %d experiments; rerun to continue", o.Out, finished, len(exps))
	}
	if len(failed) > 0 {
		return nil, errors.Errorf("%d of %d experiments failed (first: %s); rerun to continue", len(failed), len(exps), failed[0])
	}
	return experiments.Combine(o.Out, names, settings, time.Since(start).Seconds())
}

// reproduceArgs returns the command line of one task of a reproduction.
func reproduceArgs(name, out string, o experiments.Options, threads int) []string {
	args := []string{"reproduce", name, "--out", out, "--task", "--threads", strconv.Itoa(threads)}
	return append(args, settingsArgs(o)...)
}

// settingsArgs returns the flags that carry o's settings (those the
// experiments' numbers depend on) to another zoo process.
func settingsArgs(o experiments.Options) []string {
	args := []string{"--iw-samples", strconv.Itoa(o.IWSamples)}
	if o.LikelihoodEpochs > 0 {
		args = append(args, "--likelihood-epochs", strconv.Itoa(o.LikelihoodEpochs))
	}
	if o.NLLSamples > 0 {
		args = append(args, "--nll-samples", strconv.Itoa(o.NLLSamples))
	}
	if len(o.LikelihoodIWK) > 0 {
		ks := make([]string, len(o.LikelihoodIWK))
		for i, k := range o.LikelihoodIWK {
			ks[i] = strconv.Itoa(k)
		}
		args = append(args, "--likelihood-iw-k", strings.Join(ks, ","))
	}
	if o.Quick {
		args = append(args, "--quick")
	}
	if o.Data != "" {
		args = append(args, "--data", o.Data)
	}
	return args
}

// runExperimentProcess runs one experiment as `exe reproduce NAME --task
// …`, its stderr going to log.
func runExperimentProcess(ctx context.Context, exe, name string, o experiments.Options, threads int, log io.Writer) error {
	cmd := exec.CommandContext(ctx, exe, reproduceArgs(name, o.Out, o, threads)...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(threads))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	var last lastLines
	cmd.Stderr = io.MultiWriter(log, &last)
	if err := cmd.Run(); err != nil {
		if msg := last.last(); msg != "" {
			return errors.New(msg)
		}
		return errors.Wrapf(err, "zoo reproduce %s", name)
	}
	return nil
}

// ReproduceSbatch returns the two batch scripts of a reproduction of the
// named experiments in out on Slurm: a job array with one task per
// experiment, each running `zoo reproduce NAME --out DIR --task`, and the
// job that writes the combined report once they are done, to be submitted
// with --dependency=afterok:ARRAY (it runs `zoo reproduce NAMES --out DIR
// --launcher local`, which reuses the experiments' reports). out must be
// absolute.
func ReproduceSbatch(names []string, o experiments.Options, lo ReproduceOptions) (tasks, report string, err error) {
	if !filepath.IsAbs(o.Out) {
		return "", "", errors.Errorf("the reproduction folder %s must be an absolute path in a batch script", o.Out)
	}
	so := lo.Slurm
	so.Exe = lo.Exe
	if err := so.check(); err != nil {
		return "", "", err
	}
	if o.Data != "" && !filepath.IsAbs(o.Data) {
		return "", "", errors.Errorf("the data %s must be an absolute path in a batch script", o.Data)
	}
	exps, err := experiments.Resolve(names)
	if err != nil {
		return "", "", err
	}
	threads := max(1, lo.Threads)
	var quoted []string
	for _, e := range exps {
		quoted = append(quoted, shellQuote(e.Name))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# zoo reproduce %s: one task per experiment. Written by `zoo reproduce --launcher slurm`;\n", strings.Join(names, " "))
	fmt.Fprintf(&b, "# the dependent job %s writes the combined report. Resubmitting reuses finished experiments and runs.\n", ReproduceReportFile)
	so.header(&b, "zoo-reproduce", len(exps), threads, filepath.Join(o.Out, LogsDir, "%a.out"))
	fmt.Fprintf(&b, "names=(%s)\n", strings.Join(quoted, " "))
	fmt.Fprintf(&b, "name=${names[$SLURM_ARRAY_TASK_ID]}\n")
	fmt.Fprintf(&b, "echo \"== $(date -u +%%FT%%TZ) $name (task $SLURM_ARRAY_TASK_ID of job ${SLURM_ARRAY_JOB_ID:-?}) on $(hostname)\"\n")
	fmt.Fprintf(&b, "exec %s\n", shellCommand(so.Exe, reproduceArgs("$name", o.Out, o, threads)))
	tasks = b.String()

	b.Reset()
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# zoo reproduce %s: the combined report, once every experiment of %s is done\n", strings.Join(names, " "), ReproduceSbatchFile)
	fmt.Fprintf(&b, "# (submitted with --dependency=afterok:ARRAY_JOB). It reuses the experiments' reports.\n")
	ro := so
	ro.MaxParallel, ro.CPUsPerTask = 0, 0
	if ro.JobName != "" {
		ro.JobName += "-report"
	}
	ro.header(&b, "zoo-reproduce-report", 0, threads, filepath.Join(o.Out, LogsDir, "report.out"))
	args := []string{"reproduce"}
	for _, e := range exps {
		args = append(args, e.Name)
	}
	args = append(args, "--out", o.Out, "--launcher", "local", "--jobs", "1", "--threads", strconv.Itoa(threads))
	args = append(args, settingsArgs(o)...)
	fmt.Fprintf(&b, "exec %s\n", shellCommand(so.Exe, args))
	return tasks, b.String(), nil
}

// shellCommand quotes a command line for a POSIX shell; "$name" stays a
// variable.
func shellCommand(exe string, args []string) string {
	words := []string{shellQuote(exe)}
	for _, a := range args {
		if a == "$name" {
			words = append(words, `"$name"`)
			continue
		}
		words = append(words, shellQuote(a))
	}
	return strings.Join(words, " ")
}

// WriteReproduceSbatch claims the folder o.Out (as experiments.Reproduce
// does, o.Overwrite included) and writes the batch scripts of
// ReproduceSbatch into it; it returns their paths.
func WriteReproduceSbatch(names []string, o experiments.Options, lo ReproduceOptions) (tasks, report string, err error) {
	if o.Out, err = filepath.Abs(o.Out); err != nil {
		return "", "", err
	}
	if o.Data != "" {
		if o.Data, err = filepath.Abs(o.Data); err != nil {
			return "", "", err
		}
	}
	ts, rs, err := ReproduceSbatch(names, o, lo)
	if err != nil {
		return "", "", err
	}
	lock, err := experiments.ClaimFolder(o.Out, o.Overwrite, o.Log)
	if err != nil {
		return "", "", err
	}
	defer lock.Release()
	if err := os.MkdirAll(filepath.Join(o.Out, LogsDir), 0o755); err != nil {
		return "", "", errors.Wrap(err, "creating the logs folder")
	}
	tasks, report = filepath.Join(o.Out, ReproduceSbatchFile), filepath.Join(o.Out, ReproduceReportFile)
	for path, script := range map[string]string{tasks: ts, report: rs} {
		if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
			return "", "", errors.Wrap(err, "writing the batch script")
		}
	}
	return tasks, report, nil
}

// SubmitReproduce writes the batch scripts (WriteReproduceSbatch) and
// submits them: the job array, then the report job depending on it
// (afterok). It returns both job ids.
func SubmitReproduce(ctx context.Context, names []string, o experiments.Options, lo ReproduceOptions) (array, report string, err error) {
	ts, rs, err := WriteReproduceSbatch(names, o, lo)
	if err != nil {
		return "", "", err
	}
	if array, err = SubmitScript(ctx, ts); err != nil {
		return "", "", err
	}
	if report, err = SubmitScript(ctx, rs, "--dependency=afterok:"+array); err != nil {
		return array, "", err
	}
	return array, report, nil
}

// syncWriter serializes writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// prefixWriter writes whole lines to w, each with a prefix.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, bytes.TrimRight(p.buf[:i], "\r")); err != nil {
			return len(b), err
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

// flush writes an unfinished last line.
func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf)
		p.buf = nil
	}
}

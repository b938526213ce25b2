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
	"text/tabwriter"
	"time"

	"github.com/aezoo/aezoo/experiments"
	"github.com/pkg/errors"
)

// The files a reproduction launched on Slurm writes into its folder.
const (
	ReproduceRunsFile   = "reproduce-runs.sbatch"   // phase 1: the job array of the declared runs, one task per run
	ReproduceSbatchFile = "reproduce.sbatch"        // phase 2: the job array of the experiments, one task per experiment
	ReproduceReportFile = "reproduce-report.sbatch" // the dependent job writing the combined report
)

// ReproduceOptions are the options of ReproduceLocal and the Slurm
// launcher of a reproduction.
type ReproduceOptions struct {
	// Jobs is the number of tasks (runs, then experiments) run at a time
	// by ReproduceLocal (0: one per core).
	Jobs int
	// Threads is the thread count (GOMAXPROCS and OpenBLAS) of each task's
	// process (0: the cores divided by Jobs, at least 1; on Slurm 0 means
	// 1).
	Threads int
	// Exe, when set, is the zoo binary: each task runs as `Exe reproduce
	// NAMES --out DIR --task [--run KEY] --threads T …`, as under Slurm.
	// When empty, ReproduceLocal runs the tasks in this process (as from a
	// notebook or a test), with its threads.
	Exe string
	// Progress receives the tasks' log lines, prefixed with their names,
	// and a line per finished task; or nil.
	Progress io.Writer
	// Slurm are the job's settings on Slurm (Exe is taken from above).
	Slurm SlurmOptions
}

// jobs returns the number of tasks to run at a time and the threads of
// each: the same in both phases, so that every run is trained with the
// same thread count.
func (lo ReproduceOptions) jobs() (jobs, threads int) {
	jobs = lo.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	threads = lo.Threads
	if threads <= 0 {
		threads = max(1, runtime.NumCPU()/jobs)
	}
	return jobs, threads
}

// ReproduceLocal runs the named experiments ("all" for every one) as a
// parallel reproduction in o.Out, in two phases of lo.Jobs tasks at a
// time: first every independent run that the experiments declare (its
// plan, experiments.Env.Plan: a run several experiments share is one
// task), then the experiments, one task each (experiments.Options.Task),
// which reuse the finished runs and train only the runs that depend on
// others (see experiments.Experiment.Runs). It writes the combined report
// once all are done. The folder is claimed as experiments.Reproduce claims
// it; rerunning continues: finished runs and experiments already reported
// there with the same settings are reused, and a run left unfinished is
// trained again from its start (seeded: the same numbers). With OpenBLAS,
// the numbers equal those of a serial reproduction
// (experiments.Reproduce) computed with the same thread count as each
// task's (the pure-Go kernel, AEZOO_BLAS=vek, gives the same numbers at
// any thread count).
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
	// starts, for the plan, and for the settings every task's report must
	// have.
	env, err := experiments.NewEnv(ctx, o)
	if err != nil {
		return nil, err
	}
	settings := env.Settings()
	plan, err := env.Plan(exps)
	if err != nil {
		return nil, err
	}
	env = nil
	jobs, threads := lo.jobs()
	progress := lo.Progress
	if progress == nil {
		progress = io.Discard
	}
	out := &syncWriter{w: progress}
	fmt.Fprintf(out, "reproduce %s: %d runs, then %d experiments; %d at a time, %d thread(s) each\n", o.Out, len(plan), len(exps), jobs, threads)
	task := o
	task.Task, task.Overwrite = true, false
	p := pool{jobs: jobs, progress: out, interrupted: "interrupted (its finished runs are kept; rerun to continue)"}

	// Phase 1: the runs.
	finished, failed := p.run(ctx, len(plan), func(i int) string { return "run " + plan[i].Label }, func(i int) (string, error) {
		if plan[i].Finished() {
			return "already done", nil
		}
		t0 := time.Now()
		log := &prefixWriter{w: out, prefix: "[" + plan[i].Label + "] "}
		defer log.flush()
		var err error
		if lo.Exe != "" {
			err = runTaskProcess(ctx, lo.Exe, reproduceArgs(names, o.Out, o, threads, plan[i].Key), threads, log)
		} else {
			to := task
			to.Log = log
			_, err = experiments.TrainPlanned(ctx, names, to, plan[i].Key)
		}
		return fmt.Sprintf("done (%.0fs)", time.Since(t0).Seconds()), err
	})
	if ctx.Err() != nil {
		return nil, errors.Wrapf(ctx.Err(), "reproduction in %s stopped after %d of %d runs; rerun to continue", o.Out, finished, len(plan))
	}
	if len(failed) > 0 {
		return nil, errors.Errorf("%d of %d runs failed (first: %s); rerun to continue", len(failed), len(plan), failed[0])
	}

	// Phase 2: the experiments.
	finished, failed = p.run(ctx, len(exps), func(i int) string { return exps[i].Name }, func(i int) (string, error) {
		t0 := time.Now()
		e := exps[i]
		log := &prefixWriter{w: out, prefix: "[" + e.Name + "] "}
		defer log.flush()
		var err error
		if lo.Exe != "" {
			err = runTaskProcess(ctx, lo.Exe, reproduceArgs([]string{e.Name}, o.Out, o, threads, ""), threads, log)
		} else {
			to := task
			to.Log = log
			_, err = experiments.Reproduce(ctx, []string{e.Name}, to)
		}
		return fmt.Sprintf("done (%.0fs)", time.Since(t0).Seconds()), err
	})
	if ctx.Err() != nil {
		return nil, errors.Wrapf(ctx.Err(), "reproduction in %s stopped after %d of %d experiments; rerun to continue", o.Out, finished, len(exps))
	}
	if len(failed) > 0 {
		return nil, errors.Errorf("%d of %d experiments failed (first: %s); rerun to continue", len(failed), len(exps), failed[0])
	}
	return experiments.Combine(o.Out, names, settings, time.Since(start).Seconds())
}

// reproduceArgs returns the command line of one task of a reproduction:
// the run key of the named experiments' plan, or with key "" the
// experiments.
func reproduceArgs(names []string, out string, o experiments.Options, threads int, key string) []string {
	args := append([]string{"reproduce"}, names...)
	args = append(args, "--out", out, "--task")
	if key != "" {
		args = append(args, "--run", key)
	}
	args = append(args, "--threads", strconv.Itoa(threads))
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

// runTaskProcess runs one task of a reproduction as `exe ARGS` (see
// reproduceArgs), its stderr going to log.
func runTaskProcess(ctx context.Context, exe string, args []string, threads int, log io.Writer) error {
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(threads))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	var last lastLines
	cmd.Stderr = io.MultiWriter(log, &last)
	if err := cmd.Run(); err != nil {
		if msg := last.last(); msg != "" {
			return errors.New(msg)
		}
		return errors.Wrapf(err, "zoo %s", strings.Join(args, " "))
	}
	return nil
}

// ReproduceScripts are the batch scripts of a reproduction on Slurm.
type ReproduceScripts struct {
	// Runs is the job array of the plan's runs, one task each ("" when
	// the experiments declare none).
	Runs string
	// Experiments is the job array of the experiments, submitted with
	// --dependency=afterok on Runs.
	Experiments string
	// Report writes the combined report, submitted with
	// --dependency=afterok on Experiments.
	Report string
}

// ReproduceSbatch returns the batch scripts of a reproduction of the
// named experiments in out on Slurm, whose plan (experiments.Plan) is
// plan: a job array with one task per run of the plan, each running `zoo
// reproduce NAMES --out DIR --task --run KEY`; a job array with one task
// per experiment, each running `zoo reproduce NAME --out DIR --task`
// (which reuses the finished runs), to be submitted with
// --dependency=afterok:RUNS; and the job that writes the combined report
// once they are done, to be submitted with --dependency=afterok:EXPERIMENTS
// (it runs `zoo reproduce NAMES --out DIR --launcher local`, which reuses
// the experiments' reports). out must be absolute.
func ReproduceSbatch(names []string, o experiments.Options, lo ReproduceOptions, plan []experiments.PlannedRun) (ReproduceScripts, error) {
	var sc ReproduceScripts
	if !filepath.IsAbs(o.Out) {
		return sc, errors.Errorf("the reproduction folder %s must be an absolute path in a batch script", o.Out)
	}
	so := lo.Slurm
	so.Exe = lo.Exe
	if err := so.check(); err != nil {
		return sc, err
	}
	if o.Data != "" && !filepath.IsAbs(o.Data) {
		return sc, errors.Errorf("the data %s must be an absolute path in a batch script", o.Data)
	}
	exps, err := experiments.Resolve(names)
	if err != nil {
		return sc, err
	}
	threads := max(1, lo.Threads)
	var expNames, quoted []string
	for _, e := range exps {
		expNames = append(expNames, e.Name)
		quoted = append(quoted, shellQuote(e.Name))
	}
	var b strings.Builder
	if len(plan) > 0 {
		fmt.Fprintf(&b, "#!/bin/bash\n")
		fmt.Fprintf(&b, "# zoo reproduce %s, phase 1: one task per independent run (%d). Written by `zoo reproduce --launcher slurm`;\n", strings.Join(names, " "), len(plan))
		fmt.Fprintf(&b, "# %s (the experiments) runs after it. Resubmitting reuses finished runs; an unfinished one is trained again.\n", ReproduceSbatchFile)
		ro := so
		if ro.JobName != "" {
			ro.JobName += "-runs"
		}
		ro.header(&b, "zoo-reproduce-runs", len(plan), threads, filepath.Join(o.Out, LogsDir, "run-%a.out"))
		var keys, labels []string
		for _, p := range plan {
			keys = append(keys, shellQuote(p.Key))
			labels = append(labels, shellQuote(p.Label))
		}
		fmt.Fprintf(&b, "keys=(%s)\n", strings.Join(keys, " "))
		fmt.Fprintf(&b, "labels=(%s)\n", strings.Join(labels, " "))
		fmt.Fprintf(&b, "key=${keys[$SLURM_ARRAY_TASK_ID]}\n")
		fmt.Fprintf(&b, "echo \"== $(date -u +%%FT%%TZ) run ${labels[$SLURM_ARRAY_TASK_ID]} ($key; task $SLURM_ARRAY_TASK_ID of job ${SLURM_ARRAY_JOB_ID:-?}) on $(hostname)\"\n")
		fmt.Fprintf(&b, "exec %s\n", shellCommand(so.Exe, reproduceArgs(expNames, o.Out, o, threads, "$key")))
		sc.Runs = b.String()
		b.Reset()
	}

	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# zoo reproduce %s, phase 2: one task per experiment. Written by `zoo reproduce --launcher slurm`;\n", strings.Join(names, " "))
	fmt.Fprintf(&b, "# it runs after %s (its runs are reused); the dependent job %s writes the combined report.\n", ReproduceRunsFile, ReproduceReportFile)
	fmt.Fprintf(&b, "# Resubmitting reuses finished experiments and runs.\n")
	so.header(&b, "zoo-reproduce", len(exps), threads, filepath.Join(o.Out, LogsDir, "%a.out"))
	fmt.Fprintf(&b, "names=(%s)\n", strings.Join(quoted, " "))
	fmt.Fprintf(&b, "name=${names[$SLURM_ARRAY_TASK_ID]}\n")
	fmt.Fprintf(&b, "echo \"== $(date -u +%%FT%%TZ) $name (task $SLURM_ARRAY_TASK_ID of job ${SLURM_ARRAY_JOB_ID:-?}) on $(hostname)\"\n")
	fmt.Fprintf(&b, "exec %s\n", shellCommand(so.Exe, reproduceArgs([]string{"$name"}, o.Out, o, threads, "")))
	sc.Experiments = b.String()

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
	args := append([]string{"reproduce"}, expNames...)
	args = append(args, "--out", o.Out, "--launcher", "local", "--jobs", "1", "--threads", strconv.Itoa(threads))
	args = append(args, settingsArgs(o)...)
	fmt.Fprintf(&b, "exec %s\n", shellCommand(so.Exe, args))
	sc.Report = b.String()
	return sc, nil
}

// shellCommand quotes a command line for a POSIX shell; "$name" and
// "$key" stay variables.
func shellCommand(exe string, args []string) string {
	words := []string{shellQuote(exe)}
	for _, a := range args {
		if a == "$name" || a == "$key" {
			words = append(words, `"`+a+`"`)
			continue
		}
		words = append(words, shellQuote(a))
	}
	return strings.Join(words, " ")
}

// ReproduceFiles are the paths of the batch scripts WriteReproduceSbatch
// wrote (Runs "" when there is none).
type ReproduceFiles struct{ Runs, Experiments, Report string }

// absOptions makes o's folders absolute, as batch scripts need them.
func absOptions(o experiments.Options) (experiments.Options, error) {
	var err error
	if o.Out, err = filepath.Abs(o.Out); err != nil {
		return o, err
	}
	if o.Data != "" {
		if o.Data, err = filepath.Abs(o.Data); err != nil {
			return o, err
		}
	}
	return o, nil
}

// WriteReproduceSbatch claims the folder o.Out (as experiments.Reproduce
// does, o.Overwrite included), computes the plan of the named experiments
// and writes the batch scripts of ReproduceSbatch into it; it returns
// their paths and the plan.
func WriteReproduceSbatch(ctx context.Context, names []string, o experiments.Options, lo ReproduceOptions) (ReproduceFiles, []experiments.PlannedRun, error) {
	var files ReproduceFiles
	o, err := absOptions(o)
	if err != nil {
		return files, nil, err
	}
	if _, err := ReproduceSbatch(names, o, lo, nil); err != nil { // settings first
		return files, nil, err
	}
	lock, err := experiments.ClaimFolder(o.Out, o.Overwrite, o.Log)
	if err != nil {
		return files, nil, err
	}
	defer lock.Release()
	plan, err := experiments.Plan(ctx, names, o)
	if err != nil {
		return files, nil, err
	}
	sc, err := ReproduceSbatch(names, o, lo, plan)
	if err != nil {
		return files, nil, err
	}
	if err := os.MkdirAll(filepath.Join(o.Out, LogsDir), 0o755); err != nil {
		return files, nil, errors.Wrap(err, "creating the logs folder")
	}
	files = ReproduceFiles{Experiments: filepath.Join(o.Out, ReproduceSbatchFile), Report: filepath.Join(o.Out, ReproduceReportFile)}
	scripts := map[string]string{files.Experiments: sc.Experiments, files.Report: sc.Report}
	runs := filepath.Join(o.Out, ReproduceRunsFile)
	if sc.Runs != "" {
		files.Runs = runs
		scripts[runs] = sc.Runs
	} else if err := os.Remove(runs); err != nil && !os.IsNotExist(err) {
		return files, nil, errors.Wrap(err, "removing an earlier batch script")
	}
	for path, script := range scripts {
		if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
			return files, nil, errors.Wrap(err, "writing the batch script")
		}
	}
	return files, plan, nil
}

// ReproduceJobs are the Slurm job ids of a submitted reproduction (Runs
// "" when it has no run array).
type ReproduceJobs struct{ Runs, Experiments, Report string }

// SubmitReproduce writes the batch scripts (WriteReproduceSbatch) and
// submits them: the run array, the experiment array depending on it
// (afterok), and the report job depending on that (afterok).
func SubmitReproduce(ctx context.Context, names []string, o experiments.Options, lo ReproduceOptions) (ReproduceJobs, []experiments.PlannedRun, error) {
	var jobs ReproduceJobs
	files, plan, err := WriteReproduceSbatch(ctx, names, o, lo)
	if err != nil {
		return jobs, nil, err
	}
	var dep []string
	if files.Runs != "" {
		if jobs.Runs, err = SubmitScript(ctx, files.Runs); err != nil {
			return jobs, plan, err
		}
		dep = []string{"--dependency=afterok:" + jobs.Runs}
	}
	if jobs.Experiments, err = SubmitScript(ctx, files.Experiments, dep...); err != nil {
		return jobs, plan, err
	}
	if jobs.Report, err = SubmitScript(ctx, files.Report, "--dependency=afterok:"+jobs.Experiments); err != nil {
		return jobs, plan, err
	}
	return jobs, plan, nil
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

// WritePlan writes the plan of a parallel reproduction of exps for people:
// phase 1, one line per run (its key, whether it is trained already, its
// label and the experiments that use it), then phase 2.
func WritePlan(w io.Writer, out string, exps []experiments.Experiment, plan []experiments.PlannedRun) error {
	done := 0
	for _, p := range plan {
		if p.Finished() {
			done++
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "phase 1: %d independent runs (%d trained already), one task each, in %s\n", len(plan), done, filepath.Join(out, "runs"))
	fmt.Fprintf(tw, "  key\tstate\trun\tmodel\tepochs\texperiments\n")
	for _, p := range plan {
		state := "to train"
		if p.Finished() {
			state = "done"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\n", p.Key, state, p.Label, p.Config.Model, p.Options.Epochs, strings.Join(p.Experiments, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var names []string
	for _, e := range exps {
		names = append(names, e.Name)
	}
	_, err := fmt.Fprintf(w, "phase 2: %d experiments, one task each (%s); each reuses its runs and trains those that depend on others,\n"+
		"then the combined report %s\n", len(exps), strings.Join(names, ", "), filepath.Join(out, "report.md"))
	return err
}

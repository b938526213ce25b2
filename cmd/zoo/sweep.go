package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/sweep"
	"github.com/aezoo/aezoo/train"
)

const sweepArgs = "MODEL KEY=V1,V2,... [KEY=...] --out DIR [--launcher local|slurm|k8s] [flags]  |  zoo sweep task|status|report DIR"

const sweepDoc = `Train MODEL over a grid of settings, Hydra multirun style: each KEY=V1,V2,...
sweeps one model hyperparameter or train option (seed included); the grid
expands into numbered tasks (the last key varies fastest). DIR/sweep.json
records the spec, each task's run folder is DIR/runs/<index>-<key=value,...>/.
Rerunning the same command continues the sweep: finished tasks are skipped,
interrupted ones resume from their checkpoints.

Launchers:
  local  run --jobs tasks at a time here, then write the report (default)
  slurm  write DIR/sweep.sbatch (a job array running ` + "`zoo sweep task DIR --index $SLURM_ARRAY_TASK_ID`" + `)
         and submit it with sbatch (--dry-run: only write it); prints the job id
  k8s    --dry-run only: write DIR/sweep-job.yaml, a Kubernetes Indexed Job

Subcommands:
  zoo sweep task DIR --index I   run one task (what the Slurm and k8s jobs run; idempotent)
  zoo sweep status DIR [--json]  done / running / interrupted / failed / pending per task
  zoo sweep report DIR           write DIR/report.md, DIR/results.json and the plots`

func cmdSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "task":
			return cmdSweepTask(ctx, args[1:], stdout, stderr)
		case "status":
			return cmdSweepStatus(args[1:], stdout, stderr)
		case "report":
			return cmdSweepReport(args[1:], stdout, stderr)
		}
	}
	var spec models.Spec
	rest := args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		var err error
		if spec, err = models.Lookup(args[0]); err != nil {
			return usagef("%v", err)
		}
		rest = args[1:]
	}
	c := spec.Defaults
	o := train.DefaultOptions()
	fs := newFlags("sweep", sweepArgs, sweepDoc, stderr)
	if spec.Name != "" {
		fs = newFlags("sweep "+spec.Name, "KEY=V1,V2,... --out DIR [flags]", sweepDoc+"\n\nFixed settings of "+spec.Name+" are given as flags, as for `zoo train`.", stderr)
	}
	out := fs.String("out", "", "sweep folder (required)")
	dataDir := fs.String("data", "", "folder with the MNIST IDX files (default: $AEZOO_DATA, then the GoMNIST Go module)")
	every := fs.Int("checkpoint-every", 0, "also checkpoint every N steps (0: at epoch ends only)")
	launcher := fs.String("launcher", "local", "local, slurm or k8s")
	threads := fs.Int("threads", 1, "threads (GOMAXPROCS) of every task under every launcher; also the Slurm --cpus-per-task default")
	jobs := fs.Int("jobs", 0, "local: tasks at a time (default: cores ÷ --threads)")
	dry := fs.Bool("dry-run", false, "slurm, k8s: write the script or manifest, submit nothing")
	maxPar := fs.Int("max-parallel", 0, "slurm: array tasks running at once (%M; 0: no limit); k8s: parallelism")
	cpus := fs.Int("cpus-per-task", 0, "slurm: --cpus-per-task (default: --threads)")
	timeLimit := fs.String("time", "", "slurm: --time per task, e.g. 01:00:00")
	partition := fs.String("partition", "", "slurm: --partition")
	mem := fs.String("mem", "", "slurm: --mem, e.g. 4G")
	jobName := fs.String("job-name", "zoo-sweep", "slurm: --job-name; k8s: the Job's name")
	image := fs.String("image", "aezoo:latest", "k8s: container image with zoo on its PATH")
	pvc := fs.String("pvc", "zoo-sweeps", "k8s: PersistentVolumeClaim holding the sweep folder")
	mount := fs.String("mount", "", "k8s: where the claim is mounted, and the sweep folder in the pods (default: DIR's absolute path)")
	trainFlags(fs, &o)
	if spec.Name != "" {
		spec.BindFlags(fs, &c)
	}
	pos, err := parse(fs, rest)
	if err != nil {
		return err
	}
	if spec.Name == "" {
		return usagef("missing MODEL (one of %s)", strings.Join(models.Names(), ", "))
	}
	var axes []sweep.Axis
	for _, p := range pos {
		a, err := sweep.ParseAxis(p)
		if err != nil {
			return usagef("%v", err)
		}
		axes = append(axes, a)
	}
	if len(axes) == 0 {
		return usagef("nothing to sweep: give at least one KEY=V1,V2,... (e.g. hidden=64,128 seed=1,2,3)")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, a := range axes {
		if set[a.Key] {
			return usagef("%s is given both as --%s and as a swept key", a.Key, a.Key)
		}
	}
	if *out == "" {
		return usagef("--out DIR is required")
	}
	if *every < 0 || *threads < 1 || *jobs < 0 || *maxPar < 0 || *cpus < 0 {
		return usagef("--checkpoint-every, --jobs, --max-parallel, --cpus-per-task must be ≥ 0 and --threads ≥ 1")
	}
	switch *launcher {
	case "local", "slurm":
	case "k8s":
		if !*dry {
			return usagef("--launcher k8s only writes a manifest: add --dry-run (then kubectl apply -f DIR/%s)", sweep.K8sFile)
		}
	default:
		return usagef("invalid --launcher %q (want local, slurm or k8s)", *launcher)
	}
	if *dry && *launcher == "local" {
		return usagef("--dry-run is for --launcher slurm or k8s")
	}
	if !set["lr-schedule"] {
		o.LRSchedule = "" // as `zoo train` stores the default
	}
	if !set["eval-every"] {
		o.EvalEvery = 0
	}
	s, err := sweep.New(c, o, axes)
	if err != nil {
		var ke *sweep.KeyError
		if errors.As(err, &ke) {
			return usagef("%v", err)
		}
		return err
	}
	dir, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		if s.Data, err = filepath.Abs(*dataDir); err != nil {
			return err
		}
	}
	s.CheckpointEvery = *every
	s.Threads = *threads
	if err := sweep.Create(dir, s); err != nil {
		return err
	}
	exe, _ := os.Executable()
	switch *launcher {
	case "local":
		if strings.HasSuffix(exe, ".test") { // in-process from a test binary: run the tasks here
			exe = ""
		}
		n := *jobs
		if n == 0 {
			n = sweep.DefaultJobs(*threads)
		}
		fmt.Fprintf(stderr, "sweep %s: %d tasks, %d at a time\n", *out, s.Len(), n)
		runErr := sweep.RunLocal(ctx, dir, sweep.LocalOptions{Jobs: n, Exe: exe, Progress: stderr})
		if errors.Is(runErr, context.Canceled) {
			return runErr
		}
		r, err := sweep.Report(dir)
		if err != nil {
			return err
		}
		if runErr != nil {
			return runErr
		}
		fmt.Fprintf(stdout, "%d tasks done → %s\n", r.States[sweep.Done], filepath.Join(*out, sweep.ReportFile))
		return nil
	case "slurm":
		so := sweep.SlurmOptions{Exe: exe, MaxParallel: *maxPar, CPUsPerTask: *cpus, Time: *timeLimit, Partition: *partition, Mem: *mem, JobName: *jobName}
		path, err := sweep.WriteSbatch(dir, so)
		if err != nil {
			return usagef("%v", err)
		}
		if *dry {
			fmt.Fprintf(stdout, "wrote %s (%d tasks); submit with: sbatch %s\n", path, s.Len(), path)
			return nil
		}
		id, err := sweep.SubmitScript(ctx, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", id)
		fmt.Fprintf(stderr, "submitted job array %s (%d tasks, script %s); follow with `zoo sweep status %s`, then `zoo sweep report %s`\n", id, s.Len(), path, *out, *out)
		return nil
	default: // k8s --dry-run
		path, err := sweep.WriteK8s(dir, sweep.K8sOptions{Name: *jobName, Image: *image, Claim: *pvc, MountPath: *mount, Parallelism: *maxPar})
		if err != nil {
			return usagef("%v", err)
		}
		fmt.Fprintf(stdout, "wrote %s (%d tasks); apply with: kubectl apply -f %s\n", path, s.Len(), path)
		return nil
	}
}

func cmdSweepTask(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sweep task", "DIR --index I [--quiet]", "Run task I of the sweep in DIR: skip it if finished, resume it from its checkpoint if interrupted,\nelse train it. Slurm and Kubernetes jobs run this.", stderr)
	index := fs.Int("index", -1, "task index (0-based), e.g. $SLURM_ARRAY_TASK_ID")
	quiet := fs.Bool("quiet", false, "no epoch lines")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one sweep folder, got %d arguments", len(pos))
	}
	if *index < 0 {
		return usagef("--index I is required (0-based)")
	}
	s, err := sweep.Load(pos[0])
	if err != nil {
		return err
	}
	if _, err := s.Task(*index); err != nil {
		return usagef("%v", err)
	}
	if th := max(1, s.Threads); runtime.GOMAXPROCS(0) != th {
		fmt.Fprintf(stderr, "zoo sweep task: note: running with GOMAXPROCS=%d, the sweep's tasks use %d (set GOMAXPROCS=%d for bit-identical numbers with OpenBLAS)\n", runtime.GOMAXPROCS(0), th, th)
	}
	var to sweep.TaskOptions
	if !*quiet {
		to.Log = stderr
	}
	res, err := sweep.RunTask(ctx, pos[0], *index, to)
	if err != nil {
		return err
	}
	switch {
	case res.Skipped:
		fmt.Fprintf(stdout, "%s: already done (test loss %.4f)\n", res.Task.Name, res.Summary.TestLoss)
	case res.Resumed:
		fmt.Fprintf(stdout, "%s: done (resumed), test loss %.4f\n", res.Task.Name, res.Summary.TestLoss)
	default:
		fmt.Fprintf(stdout, "%s: done, test loss %.4f\n", res.Task.Name, res.Summary.TestLoss)
	}
	return nil
}

func cmdSweepStatus(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sweep status", "DIR [--json]", "Show the state of every task of the sweep in DIR.", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one sweep folder, got %d arguments", len(pos))
	}
	st, err := sweep.Status(pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tSTATE\tEPOCHS\tRUN\tERROR")
	for _, t := range st {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", t.Index, t.State, t.Epochs, t.Name, t.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	cnt := sweep.Counts(st)
	var parts []string
	for _, s := range []sweep.State{sweep.Done, sweep.Running, sweep.Interrupted, sweep.Failed, sweep.Pending} {
		parts = append(parts, strconv.Itoa(cnt[s])+" "+string(s))
	}
	fmt.Fprintf(stdout, "%d tasks: %s\n", len(st), strings.Join(parts, ", "))
	return nil
}

func cmdSweepReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sweep report", "DIR", "Aggregate the finished tasks of the sweep in DIR: DIR/report.md, DIR/results.json and\na plot of each metric against each swept numeric key (mean ± std over seeds).", stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one sweep folder, got %d arguments", len(pos))
	}
	r, err := sweep.Report(pos[0])
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, sweep.Markdown(r))
	fmt.Fprintf(stderr, "→ %s\n", filepath.Join(pos[0], sweep.ReportFile))
	return nil
}

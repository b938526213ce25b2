package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/sweep"
	"github.com/aezoo/aezoo/train"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const sweepDoc = `Train MODEL over a grid of settings, Hydra multirun style: each KEY=V1,V2,...
sweeps one model hyperparameter or train option (seed included); the grid
expands into numbered tasks (the last key varies fastest). DIR/sweep.json
records the spec, each task's run folder is DIR/runs/<index>-<key=value,...>/.
Fixed settings are given as flags, as for ` + "`zoo train`" + ` (` + "`zoo help sweep MODEL`" + ` lists the
model's). Rerunning the same command continues the sweep: finished tasks are
skipped, interrupted ones resume from their checkpoints.

Launchers:
  local  run --jobs tasks at a time here, then write the report (default)
  slurm  write DIR/sweep.sbatch (a job array running ` + "`zoo sweep task DIR --index $SLURM_ARRAY_TASK_ID`" + `)
         and submit it with sbatch (--dry-run: only write it); prints the job id
  k8s    --dry-run only: write DIR/sweep-job.yaml, a Kubernetes Indexed Job`

// sweepCmd holds the settings of `zoo sweep`.
type sweepCmd struct {
	*app
	cmd                        *cobra.Command
	spec                       models.Spec
	c                          models.Config
	o                          train.Options
	out, launcher              string
	data                       dataFlags
	every, threads, jobs       int
	dry                        bool
	so                         sweep.SlurmOptions
	image, pvc, mount, k8sName string
}

func newSweepCmd(a *app) *cobra.Command {
	s := &sweepCmd{app: a, o: train.DefaultOptions()}
	s.o.EvalEvery, s.o.LRSchedule = 1, "constant"
	cmd := &cobra.Command{
		Use:   "sweep MODEL KEY=V1,V2,... [KEY=...] --out DIR [flags]",
		Short: "train over a grid of settings, locally or as a Slurm job array; status, report",
		Long:  sweepDoc,
		Example: "  zoo sweep sparse lambda=0.01,0.1 seed=1,2,3 --out runs/sw --epochs 5\n" +
			"  zoo sweep denoising noise-level=0.1,0.3 --out /shared/sw --launcher slurm --time 01:00:00\n" +
			"  zoo sweep status runs/sw\n  zoo sweep report runs/sw",
		Args: cobra.ArbitraryArgs,
		ValidArgsFunction: func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				var out []string
				for _, n := range models.Names() {
					sp, _ := models.Lookup(n)
					out = append(out, n+"\t"+sp.Doc)
				}
				return out, cobra.ShellCompDirectiveNoFileComp
			}
			keys, err := sweep.Keys(args[0])
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []string
			for _, k := range keys {
				out = append(out, k+"=")
			}
			return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
		},
		RunE: func(cmd *cobra.Command, args []string) error { return s.run(cmd, args) },
	}
	s.cmd = cmd
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVar(&s.out, "out", "", "sweep folder (required)")
	f.StringVar(&s.launcher, "launcher", "local", "local, slurm or k8s")
	f.IntVar(&s.jobs, "jobs", 0, "local: tasks at a time (default: cores ÷ --threads)")
	// Shadows the global --threads: a sweep's tasks default to one thread.
	f.IntVar(&s.threads, "threads", 1, "threads (GOMAXPROCS and OpenBLAS) of every task under every launcher; also the Slurm --cpus-per-task default")
	f.IntVar(&s.every, "checkpoint-every", 0, "also checkpoint every N steps (0: at epoch ends only)")
	_ = cmd.MarkFlagDirname("out")
	_ = cmd.RegisterFlagCompletionFunc("launcher", cobra.FixedCompletions([]string{"local", "slurm", "k8s"}, cobra.ShellCompDirectiveNoFileComp))
	addSlurmFlags(cmd, &s.so, &s.dry, "zoo-sweep")
	f.Lookup("dry-run").Usage = "slurm, k8s: write the script or manifest, submit nothing"
	f.Lookup("max-parallel").Usage = "slurm: array tasks running at once (%M; 0: no limit); k8s: parallelism"
	f.Lookup("job-name").Usage = "slurm: --job-name; k8s: the Job's name"
	f.StringVar(&s.image, "image", "aezoo:latest", "k8s: container image with zoo on its PATH")
	f.StringVar(&s.pvc, "pvc", "zoo-sweeps", "k8s: PersistentVolumeClaim holding the sweep folder")
	f.StringVar(&s.mount, "mount", "", "k8s: where the claim is mounted, and the sweep folder in the pods (default: DIR's absolute path)")
	setGroup(f, groupSlurm, "image", "pvc", "mount")
	addTrainFlags(f, &s.o)
	addDataFlags(cmd, &s.data)
	completeValues(cmd)
	cmd.AddCommand(newSweepTaskCmd(a), newSweepStatusCmd(a), newSweepReportCmd(a))
	a.bindSweepModel = s.bindModel
	return cmd
}

// bindModel adds the flags of the named model (see bindModelFlags).
func (s *sweepCmd) bindModel(name string) {
	spec, err := models.Lookup(name)
	if err != nil {
		return
	}
	s.spec, s.c = spec, spec.Defaults
	bindSpec(s.cmd, spec, &s.c)
	s.cmd.Use = "sweep " + name + " KEY=V1,V2,... [KEY=...] --out DIR [flags]"
	s.cmd.Annotations = map[string]string{"model": name}
}

func (s *sweepCmd) run(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usagef("missing MODEL (one of %s)", strings.Join(models.Names(), ", "))
	}
	if args[0] != s.spec.Name {
		if _, err := models.Lookup(args[0]); err != nil {
			return usageError{err.Error()}
		}
		return usagef("cannot read the flags of model %q; name the model before its flags", args[0])
	}
	var axes []sweep.Axis
	for _, p := range args[1:] {
		ax, err := sweep.ParseAxis(p)
		if err != nil {
			if hint := s.boolHint(cmd, p); hint != "" {
				return usageError{hint}
			}
			return usagef("%v", err)
		}
		axes = append(axes, ax)
	}
	if len(axes) == 0 {
		return usagef("nothing to sweep: give at least one KEY=V1,V2,... (e.g. hidden=64,128 seed=1,2,3)")
	}
	set := map[string]bool{}
	cmd.Flags().Visit(func(f *pflag.Flag) { set[f.Name] = true })
	for _, ax := range axes {
		if set[ax.Key] {
			return usagef("%s is given both as --%s and as a swept key", ax.Key, ax.Key)
		}
	}
	if s.out == "" {
		return usagef("--out DIR is required")
	}
	if s.every < 0 || s.threads < 1 || s.jobs < 0 || s.so.MaxParallel < 0 || s.so.CPUsPerTask < 0 {
		return usagef("--checkpoint-every, --jobs, --max-parallel, --cpus-per-task must be ≥ 0 and --threads ≥ 1")
	}
	switch s.launcher {
	case "local", "slurm":
	case "k8s":
		if !s.dry {
			return usagef("--launcher k8s only writes a manifest: add --dry-run (then kubectl apply -f DIR/%s)", sweep.K8sFile)
		}
	default:
		return usagef("invalid --launcher %q (want local, slurm or k8s)", s.launcher)
	}
	if s.dry && s.launcher == "local" {
		return usagef("--dry-run is for --launcher slurm or k8s")
	}
	src, err := s.data.source()
	if err != nil {
		return err
	}
	o := s.o
	if !set["lr-schedule"] {
		o.LRSchedule = "" // as `zoo train` stores the default
	}
	if !set["eval-every"] {
		o.EvalEvery = 0
	}
	sp, err := sweep.New(s.c, o, axes)
	if err != nil {
		var ke *sweep.KeyError
		if errors.As(err, &ke) {
			return usagef("%v", err)
		}
		return err
	}
	dir, err := filepath.Abs(s.out)
	if err != nil {
		return err
	}
	// The tasks may run elsewhere (Slurm, k8s): paths are absolute.
	abs := func(p string) (string, error) {
		if p == "" {
			return "", nil
		}
		return filepath.Abs(p)
	}
	if sp.Data, err = abs(src.Path); err != nil {
		return err
	}
	if sp.Labels, err = abs(src.Labels); err != nil {
		return err
	}
	sp.Dataset, sp.Rows, sp.Cols = src.Dataset, src.Rows, src.Cols
	if sp.Dataset != "" {
		// A named data set missing here is an error now, not in every task.
		if _, err := data.Find(sp.Dataset, data.LookupOptions{Download: true}); err != nil {
			return err
		}
	}
	sp.CheckpointEvery = s.every
	sp.Threads = s.threads
	if err := sweep.Create(dir, sp); err != nil {
		return err
	}
	ctx := cmd.Context()
	exe, _ := os.Executable()
	switch s.launcher {
	case "local":
		if strings.HasSuffix(exe, ".test") { // in-process from a test binary: run the tasks here
			exe = ""
		}
		n := s.jobs
		if n == 0 {
			n = sweep.DefaultJobs(s.threads)
		}
		fmt.Fprintf(s.stderr, "sweep %s: %d tasks, %d at a time\n", s.out, sp.Len(), n)
		runErr := sweep.RunLocal(ctx, dir, sweep.LocalOptions{Jobs: n, Exe: exe, Progress: s.stderr})
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
		fmt.Fprintf(s.stdout, "%d tasks done → %s\n", r.States[sweep.Done], filepath.Join(s.out, sweep.ReportFile))
		return nil
	case "slurm":
		so := s.so
		so.Exe = exe
		path, err := sweep.WriteSbatch(dir, so)
		if err != nil {
			return usagef("%v", err)
		}
		if s.dry {
			fmt.Fprintf(s.stdout, "wrote %s (%d tasks); submit with: sbatch %s\n", path, sp.Len(), path)
			return nil
		}
		id, err := sweep.SubmitScript(ctx, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.stdout, "%s\n", id)
		fmt.Fprintf(s.stderr, "submitted job array %s (%d tasks, script %s); follow with `zoo sweep status %s`, then `zoo sweep report %s`\n", id, sp.Len(), path, s.out, s.out)
		return nil
	default: // k8s --dry-run
		path, err := sweep.WriteK8s(dir, sweep.K8sOptions{Name: s.so.JobName, Image: s.image, Claim: s.pvc, MountPath: s.mount, Parallelism: s.so.MaxParallel})
		if err != nil {
			return usagef("%v", err)
		}
		fmt.Fprintf(s.stdout, "wrote %s (%d tasks); apply with: kubectl apply -f %s\n", path, sp.Len(), path)
		return nil
	}
}

// sweepDirArgs validates the one sweep folder of the subcommands.
func sweepDirArgs(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("want exactly one sweep folder, got %d arguments", len(args))
	}
	return nil
}

func newSweepTaskCmd(a *app) *cobra.Command {
	var (
		index int
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "task DIR --index I [--quiet]",
		Short: "run one task of a sweep (what the Slurm and k8s jobs run; idempotent)",
		Long: "Run task I of the sweep in DIR: skip it if finished, resume it from its checkpoint if interrupted,\n" +
			"else train it. Slurm and Kubernetes jobs run this.",
		Args: sweepDirArgs,
		RunE: func(cmd *cobra.Command, pos []string) error {
			if index < 0 {
				return usagef("--index I is required (0-based)")
			}
			sp, err := sweep.Load(pos[0])
			if err != nil {
				return err
			}
			if _, err := sp.Task(index); err != nil {
				return usagef("%v", err)
			}
			if th := max(1, sp.Threads); runtime.GOMAXPROCS(0) != th {
				fmt.Fprintf(a.stderr, "zoo sweep task: note: running with GOMAXPROCS=%d, the sweep's tasks use %d (set GOMAXPROCS=%d for bit-identical numbers with OpenBLAS)\n", runtime.GOMAXPROCS(0), th, th)
			}
			var to sweep.TaskOptions
			if !quiet {
				to.Log = a.stderr
			}
			res, err := sweep.RunTask(cmd.Context(), pos[0], index, to)
			if err != nil {
				return err
			}
			switch {
			case res.Skipped:
				fmt.Fprintf(a.stdout, "%s: already done (test loss %.4f)\n", res.Task.Name, res.Summary.TestLoss)
			case res.Resumed:
				fmt.Fprintf(a.stdout, "%s: done (resumed), test loss %.4f\n", res.Task.Name, res.Summary.TestLoss)
			default:
				fmt.Fprintf(a.stdout, "%s: done, test loss %.4f\n", res.Task.Name, res.Summary.TestLoss)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&index, "index", -1, "task index (0-based), e.g. $SLURM_ARRAY_TASK_ID")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no epoch lines")
	return cmd
}

func newSweepStatusCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status DIR [--json]",
		Short: "done / running / interrupted / failed / pending per task",
		Long:  "Show the state of every task of the sweep in DIR, failures with their last error line.",
		Args:  sweepDirArgs,
		RunE: func(_ *cobra.Command, pos []string) error {
			st, err := sweep.Status(pos[0])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
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
			fmt.Fprintf(a.stdout, "%d tasks: %s\n", len(st), strings.Join(parts, ", "))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newSweepReportCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "write DIR/report.md, DIR/results.json and the plots",
		Long: "Aggregate the finished tasks of the sweep in DIR: DIR/report.md, DIR/results.json and\n" +
			"a plot of each metric against each swept numeric key (mean ± std over seeds).",
		Args: sweepDirArgs,
		RunE: func(_ *cobra.Command, pos []string) error {
			r, err := sweep.Report(pos[0])
			if err != nil {
				return err
			}
			fmt.Fprint(a.stdout, sweep.Markdown(r))
			fmt.Fprintf(a.stderr, "→ %s\n", filepath.Join(pos[0], sweep.ReportFile))
			return nil
		},
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aezoo/aezoo/experiments"
	"github.com/aezoo/aezoo/sweep"
	"github.com/spf13/cobra"
)

// experimentNames lists the experiments `zoo reproduce` accepts, "all" last.
func experimentNames() []string {
	var names []string
	for _, e := range experiments.Catalogue() {
		names = append(names, e.Name)
	}
	return append(names, "all")
}

func newReproduceCmd(a *app) *cobra.Command {
	var (
		quick, overwrite bool
		out, dataDir     string
		dataset          string
		iw               int
		lkEpochs, nllK   int
		lkIWK            []int
		launcher         string
		task, dry        bool
		runKey           string
		lo               sweep.ReproduceOptions
	)
	cmd := &cobra.Command{
		Use:   "reproduce NAME...|all [--quick] [--out DIR] [--launcher local|slurm --jobs N]",
		Short: "run the lecture's comparisons; write a report with tables and figures",
		Long: "Run the lecture's comparisons as measured experiments (" + strings.Join(experimentNames(), ", ") + ")\n" +
			"and write DIR/report.md, DIR/results.json, the figures and the trained runs.\n" +
			"Rerunning the command continues an interrupted reproduction in DIR: finished runs are reused.\n\n" +
			"Without --launcher the experiments run one after another in this process. With a launcher the\n" +
			"reproduction runs in two phases of tasks, each task its own process: first every independent\n" +
			"training run the experiments declare (a run several experiments share is one task), then the\n" +
			"experiments, one task each, which reuse those runs and train only the runs that depend on others\n" +
			"(later pretraining stages, fine-tuning, the classifiers of generation, pretraining and overcomplete);\n" +
			"then the combined report. --dry-run prints this plan (and with slurm writes the scripts).\n" +
			"--launcher local runs --jobs tasks at a time (threads each: the cores ÷ --jobs, or --threads).\n" +
			"--launcher slurm writes DIR/" + sweep.ReproduceRunsFile + " (a job array, one task per run),\n" +
			"DIR/" + sweep.ReproduceSbatchFile + " (a job array, one task per experiment, --dependency=afterok on the runs)\n" +
			"and DIR/" + sweep.ReproduceReportFile + " (the combined report, afterok on the experiments) and submits them\n" +
			"(--dry-run: only writes them). Resubmitting continues: finished runs and experiments are reused, a run\n" +
			"left unfinished is trained again from its start (seeded: the same numbers).\n" +
			"With OpenBLAS the numbers equal the serial run's at the same thread count per run\n" +
			"(`--threads 1` for `--jobs 2` on two cores); with AEZOO_BLAS=vek at any thread count.",
		Example: "  zoo reproduce all --quick\n  zoo reproduce vae --out runs/vae-report\n" +
			"  zoo reproduce all --launcher local --jobs 2\n  zoo reproduce all --launcher slurm --out /shared/reproduce --time 02:00:00",
		Args: a.positional(1, -1, "experiment name ("+strings.Join(experimentNames(), ", ")+")"),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			var out []string
			for _, e := range experiments.Catalogue() {
				out = append(out, e.Name+"\t"+e.Title)
			}
			return append(out, "all\tevery experiment"), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, pos []string) error {
			for _, n := range pos {
				if n == "all" {
					continue
				}
				if _, err := experiments.Lookup(n); err != nil {
					return usageError{err.Error()}
				}
			}
			if iw <= 0 {
				return usagef("invalid --iw-samples %d: must be positive", iw)
			}
			if lkEpochs <= 0 {
				return usagef("invalid --likelihood-epochs %d: must be positive", lkEpochs)
			}
			if nllK <= 0 {
				return usagef("invalid --nll-samples %d: must be positive", nllK)
			}
			for _, k := range lkIWK {
				if k < 2 {
					return usagef("invalid --likelihood-iw-k %d: must be ≥ 2 (k = 1, the VAE, is always trained)", k)
				}
			}
			dir, err := idxDir(dataset, dataDir)
			if err != nil {
				return err
			}
			if out == "" {
				name := pos[0]
				if len(pos) > 1 {
					name = "all"
				}
				if quick {
					name += "-quick"
				}
				out = filepath.Join("runs", "reproduce-"+name)
			}
			start := time.Now()
			o := experiments.Options{Quick: quick, Out: out, Data: dir, Log: a.stderr, Overwrite: overwrite, IWSamples: iw, Task: task,
				LikelihoodEpochs: lkEpochs, NLLSamples: nllK, LikelihoodIWK: lkIWK}
			if cmd.Flags().Changed("jobs") && launcher == "" {
				launcher = "local"
			}
			if lo.Jobs < 0 || lo.Slurm.MaxParallel < 0 || lo.Slurm.CPUsPerTask < 0 {
				return usagef("--jobs, --max-parallel and --cpus-per-task must be ≥ 0")
			}
			if task && launcher != "" {
				return usagef("--task is what a launcher runs: it goes without --launcher")
			}
			if runKey != "" && !task {
				return usagef("--run KEY is a task of a parallel reproduction: it goes with --task")
			}
			if dry && task {
				return usagef("--dry-run shows a launcher's plan: it goes without --task")
			}
			if cmd.Flags().Changed("jobs") && launcher != "local" {
				return usagef("--jobs is for --launcher local (on Slurm, --max-parallel limits the tasks running at once)")
			}
			lo.Threads = a.threads
			if runKey != "" {
				run, err := experiments.TrainPlanned(cmd.Context(), pos, o, runKey)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "run %s: test loss %.4f → %s\n", run.Label, run.Summary.TestLoss, run.Dir)
				return nil
			}
			if dry && launcher != "slurm" {
				exps, err := experiments.Resolve(pos)
				if err != nil {
					return usageError{err.Error()}
				}
				plan, err := experiments.Plan(cmd.Context(), pos, o)
				if err != nil {
					return err
				}
				return sweep.WritePlan(a.stdout, out, exps, plan)
			}
			var results []*experiments.Result
			switch launcher {
			case "":
				results, err = experiments.Reproduce(cmd.Context(), pos, o)
			case "local":
				lo.Progress = a.stderr
				if exe, err := os.Executable(); err == nil && !strings.HasSuffix(exe, ".test") {
					lo.Exe = exe // else in-process, from a test binary
				}
				results, err = sweep.ReproduceLocal(cmd.Context(), pos, o, lo)
			case "slurm":
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				lo.Exe = exe
				// The scripts' settings are checked before anything is written.
				if o.Out, err = filepath.Abs(o.Out); err != nil {
					return err
				}
				if o.Data != "" {
					if o.Data, err = filepath.Abs(o.Data); err != nil {
						return err
					}
				}
				if _, err := sweep.ReproduceSbatch(pos, o, lo, nil); err != nil {
					return usageError{err.Error()}
				}
				exps, err := experiments.Resolve(pos)
				if err != nil {
					return usageError{err.Error()}
				}
				if dry {
					files, plan, err := sweep.WriteReproduceSbatch(cmd.Context(), pos, o, lo)
					if err != nil {
						return err
					}
					if err := sweep.WritePlan(a.stdout, o.Out, exps, plan); err != nil {
						return err
					}
					if files.Runs == "" {
						fmt.Fprintf(a.stdout, "wrote %s and %s; submit with:\n  id=$(sbatch --parsable %s) && sbatch --dependency=afterok:$id %s\n",
							files.Experiments, files.Report, files.Experiments, files.Report)
						return nil
					}
					fmt.Fprintf(a.stdout, "wrote %s, %s and %s; submit with:\n  r=$(sbatch --parsable %s) && e=$(sbatch --parsable --dependency=afterok:$r %s) && sbatch --dependency=afterok:$e %s\n",
						files.Runs, files.Experiments, files.Report, files.Runs, files.Experiments, files.Report)
					return nil
				}
				jobs, plan, err := sweep.SubmitReproduce(cmd.Context(), pos, o, lo)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s %s %s\n", jobs.Runs, jobs.Experiments, jobs.Report)
				fmt.Fprintf(a.stderr, "submitted job array %s (%d runs), job array %s (%d experiments, after it) and the report job %s (after them); the report will be %s\n",
					jobs.Runs, len(plan), jobs.Experiments, len(exps), jobs.Report, filepath.Join(o.Out, "report.md"))
				return nil
			default:
				return usagef("invalid --launcher %q (want local or slurm; none: one experiment after another here)", launcher)
			}
			if err != nil {
				return err
			}
			// Quick runs check every claim like full runs: the count is the
			// number of ❌ in the report.
			failed := 0
			for _, r := range results {
				for _, c := range r.Unmet() {
					failed++
					fmt.Fprintf(a.stderr, "claim not met: %s [%s] — %s\n", c.Claim, c.ID, c.Detail)
				}
			}
			report := filepath.Join(out, "report.md")
			if len(results) == 1 {
				report = filepath.Join(out, results[0].Name, "report.md")
			}
			fmt.Fprintf(a.stdout, "%d experiment(s) in %.0fs, %d claim(s) not met → %s\n", len(results), time.Since(start).Seconds(), failed, report)
			return nil
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.BoolVar(&quick, "quick", false, "few epochs on a small subset: the MNIST subset embedded in the binary (all experiments in about\n2 minutes), or the first 2,000 training and 500 test images of --data/--dataset")
	f.StringVar(&out, "out", "", "output folder (default runs/reproduce-NAME[-quick])")
	f.BoolVar(&overwrite, "overwrite", false, "start afresh in DIR, removing an earlier reproduction there (default: continue it, reusing its finished runs)")
	f.IntVar(&iw, "iw-samples", experiments.DefaultIWSamples, "importance samples of the VAE's IW-NLL in full runs")
	f.IntVar(&lkEpochs, "likelihood-epochs", experiments.DefaultLikelihoodEpochs, "vae-likelihood: epochs of Burda et al.'s schedule in full runs (3280: all of it)")
	f.IntVar(&nllK, "nll-samples", experiments.DefaultNLLSamples, "vae-likelihood: importance samples of the NLL in full runs")
	f.IntSliceVar(&lkIWK, "likelihood-iw-k", []int{5}, "vae-likelihood: the k of the IWAEs trained beside the VAE in full runs (e.g. 5,50)")
	f.StringVar(&launcher, "launcher", "", "local or slurm: run the declared runs, then the experiments, as parallel tasks (default: one after another here)")
	f.IntVar(&lo.Jobs, "jobs", 0, "local: tasks (runs, then experiments) at a time (default: one per core); implies --launcher local")
	f.BoolVar(&task, "task", false, "run as one task of a parallel reproduction, as the launchers do: lock only DIR/NAME, reuse its report\nif written with the same settings, write no combined report")
	f.StringVar(&runKey, "run", "", "with --task: train only the run KEY of the experiments' plan (see --dry-run), as the launchers' first phase does")
	addSlurmFlags(cmd, &lo.Slurm, &dry, "zoo-reproduce")
	f.Lookup("dry-run").Usage = "print the plan (the runs, then the experiments) and run nothing; slurm: also write the batch scripts, submit nothing"
	_ = cmd.RegisterFlagCompletionFunc("launcher", cobra.FixedCompletions([]string{"local", "slurm"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("out")
	addDataFlag(cmd, &dataDir)
	addDatasetFlag(cmd, &dataset)
	return cmd
}

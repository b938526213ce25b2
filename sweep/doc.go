// Package sweep runs grids of training runs — a penalty weight against a
// noise level, several seeds each — locally with bounded parallelism or on
// a cluster's scheduler (Slurm job arrays, Kubernetes Indexed Jobs), and
// aggregates their results.
//
// A sweep is declared with Hydra's multirun syntax, one axis per key:
//
//	hidden=64,128 lambda=0.01,0.1 seed=1,2,3
//
// Any model hyperparameter or train option may be a key. The grid expands
// deterministically into numbered tasks (the last key varies fastest), and
// a sweep folder DIR holds:
//
//	DIR/sweep.json                 the spec: model, base settings, axes, tasks
//	DIR/runs/<index>-<k=v,...>/    each task's run folder (as `zoo train` writes it)
//	DIR/state/<index>.json         each task's last state (running, failed, …)
//	DIR/sweep.sbatch, DIR/logs/    the Slurm job array and its logs
//	DIR/report.md, results.json    the aggregate: mean ± std over seeds, plots
//
// RunTask is idempotent: a finished task is skipped, an interrupted one
// resumes from its checkpoint, so a cancelled or requeued job array loses
// no finished epoch. The package schedules nothing itself beyond the local
// launcher's worker pool: on a cluster, Slurm schedules.
//
// The same launchers run a reproduction of the experiments package in
// parallel (`zoo reproduce --launcher local|slurm`), in two phases: first
// the independent runs its experiments declare (experiments.Env.Plan),
// one task each, then the experiments, one task each, which reuse those
// runs. ReproduceLocal runs both phases a few tasks at a time and writes
// the combined report when all are done; WriteReproduceSbatch and
// SubmitReproduce make a job array of the runs, a job array of the
// experiments dependent on it (afterok), and a job, dependent on that,
// that writes the combined report.
package sweep

package sweep

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// SlurmOptions describe the Slurm job array of a sweep.
type SlurmOptions struct {
	// Exe is the absolute path of the zoo binary every task runs; it must
	// be reachable from the compute nodes (a shared file system).
	Exe string
	// MaxParallel limits the array's tasks running at once (%M; 0: no limit).
	MaxParallel int
	// CPUsPerTask is --cpus-per-task (0: the spec's Threads); each task
	// runs with GOMAXPROCS set to the spec's Threads.
	CPUsPerTask int
	// Time is the per-task time limit (--time, e.g. "01:00:00"; "": the partition's).
	Time string
	// Partition (--partition; "": the default partition).
	Partition string
	// Mem is the per-node memory (--mem, e.g. "4G"; "": the default).
	Mem string
	// JobName is --job-name ("": "zoo-sweep").
	JobName string
}

// Sbatch returns the batch script of the sweep in dir: a job array of one
// task per grid point, each running `zoo sweep task DIR --index
// $SLURM_ARRAY_TASK_ID`. dir must be absolute, as the script runs
// elsewhere.
func Sbatch(dir string, s Spec, o SlurmOptions) (string, error) {
	if !filepath.IsAbs(dir) {
		return "", errors.Errorf("the sweep folder %s must be an absolute path in a batch script", dir)
	}
	if !filepath.IsAbs(o.Exe) {
		return "", errors.Errorf("the zoo binary %q must be an absolute path in a batch script", o.Exe)
	}
	if err := o.check(); err != nil {
		return "", err
	}
	n := s.Len()
	if n == 0 {
		return "", errors.New("the sweep has no tasks")
	}
	threads := max(1, s.Threads)
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# zoo sweep %s %s: %d tasks. Written by `zoo sweep --launcher slurm`;\n", s.Model, describeAxes(s.Axes), n)
	fmt.Fprintf(&b, "# resubmitting it (sbatch %s) skips finished tasks and resumes interrupted ones.\n", filepath.Join(dir, SbatchFile))
	o.header(&b, "zoo-sweep", n, threads, filepath.Join(dir, LogsDir, "%a.out"))
	fmt.Fprintf(&b, "echo \"== $(date -u +%%FT%%TZ) task $SLURM_ARRAY_TASK_ID of job ${SLURM_ARRAY_JOB_ID:-?} on $(hostname)\"\n")
	// exec: the task receives scancel's SIGTERM itself and checkpoints.
	fmt.Fprintf(&b, "exec %s sweep task %s --index \"$SLURM_ARRAY_TASK_ID\"\n", shellQuote(o.Exe), shellQuote(dir))
	return b.String(), nil
}

// check refuses option values that cannot go into a batch script.
func (o SlurmOptions) check() error {
	if !filepath.IsAbs(o.Exe) {
		return errors.Errorf("the zoo binary %q must be an absolute path in a batch script", o.Exe)
	}
	if o.MaxParallel < 0 || o.CPUsPerTask < 0 {
		return errors.New("--max-parallel and --cpus-per-task must be ≥ 0")
	}
	for _, v := range []string{o.Time, o.Partition, o.Mem, o.JobName} {
		if strings.ContainsAny(v, " \t\n'\"\\$`") {
			return errors.Errorf("bad Slurm option value %q", v)
		}
	}
	return nil
}

// header writes the #SBATCH lines of a job (a job array of n tasks when
// n > 0) whose tasks compute on threads threads, logging to output, and
// the script's first commands; name is the default job name.
func (o SlurmOptions) header(b *strings.Builder, name string, n, threads int, output string) {
	cpus := o.CPUsPerTask
	if cpus == 0 {
		cpus = threads
	}
	if o.JobName != "" {
		name = o.JobName
	}
	fmt.Fprintf(b, "#SBATCH --job-name=%s\n", name)
	if n > 0 {
		array := fmt.Sprintf("0-%d", n-1)
		if o.MaxParallel > 0 {
			array += fmt.Sprintf("%%%d", o.MaxParallel)
		}
		fmt.Fprintf(b, "#SBATCH --array=%s\n", array)
	}
	fmt.Fprintf(b, "#SBATCH --ntasks=1\n")
	fmt.Fprintf(b, "#SBATCH --cpus-per-task=%d\n", cpus)
	if o.Time != "" {
		fmt.Fprintf(b, "#SBATCH --time=%s\n", o.Time)
	}
	if o.Partition != "" {
		fmt.Fprintf(b, "#SBATCH --partition=%s\n", o.Partition)
	}
	if o.Mem != "" {
		fmt.Fprintf(b, "#SBATCH --mem=%s\n", o.Mem)
	}
	fmt.Fprintf(b, "#SBATCH --output=%s\n", output)
	fmt.Fprintf(b, "#SBATCH --open-mode=append\n")
	fmt.Fprintf(b, "#SBATCH --requeue\n")
	fmt.Fprintf(b, "set -eu\n")
	fmt.Fprintf(b, "# The threads per task, whatever --cpus-per-task: the numbers then equal the local launcher's.\n")
	fmt.Fprintf(b, "export GOMAXPROCS=%d\n", threads)
}

// WriteSbatch writes the sweep's batch script to dir/sweep.sbatch and
// returns its path.
func WriteSbatch(dir string, o SlurmOptions) (string, error) {
	dir, s, err := loadAbs(dir)
	if err != nil {
		return "", err
	}
	script, err := Sbatch(dir, s, o)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, LogsDir), 0o755); err != nil {
		return "", errors.Wrap(err, "creating the logs folder")
	}
	path := filepath.Join(dir, SbatchFile)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		return "", errors.Wrap(err, "writing the batch script")
	}
	return path, nil
}

// Submit writes the sweep's batch script (WriteSbatch), submits it with
// sbatch and returns the job id.
func Submit(ctx context.Context, dir string, o SlurmOptions) (string, error) {
	path, err := WriteSbatch(dir, o)
	if err != nil {
		return "", err
	}
	return SubmitScript(ctx, path)
}

// SubmitScript submits a batch script with `sbatch --parsable [args]` and
// returns the job id; args are sbatch options such as
// "--dependency=afterok:ID".
func SubmitScript(ctx context.Context, path string, args ...string) (string, error) {
	sbatch, err := exec.LookPath("sbatch")
	if err != nil {
		return "", errors.New("sbatch not found on PATH: is this a Slurm login node? (--dry-run only writes the script)")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, sbatch, append(append([]string{"--parsable"}, args...), path)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", errors.Errorf("sbatch %s: %v: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	id, _, _ := strings.Cut(strings.TrimSpace(stdout.String()), ";") // "ID" or "ID;cluster"
	if id == "" {
		return "", errors.Errorf("sbatch %s printed no job id", path)
	}
	return id, nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// loadAbs returns dir as an absolute path (the jobs run elsewhere) and the
// sweep it holds.
func loadAbs(dir string) (string, Spec, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", Spec{}, err
	}
	s, err := Load(dir)
	return dir, s, err
}

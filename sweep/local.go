package sweep

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/errors"
)

// LocalOptions are the options of RunLocal.
type LocalOptions struct {
	// Jobs is the number of tasks run at a time (0: DefaultJobs(Threads)).
	Jobs int
	// Exe, when set, is the zoo binary: each task runs as
	// `Exe sweep task DIR --index I` with GOMAXPROCS set to the spec's
	// Threads, as under Slurm, so that a crash stays in its task and the
	// numbers equal those of the other launchers. When empty, tasks run in
	// this process (as from a notebook) with its GOMAXPROCS: with OpenBLAS,
	// their last bits match the other launchers' only when GOMAXPROCS equals
	// the spec's Threads (the pure-Go kernel, AEZOO_BLAS=vek, is the same
	// at any thread count).
	Exe string
	// Progress receives one line per finished task, or nil.
	Progress io.Writer
	// Indices restricts the run to these tasks (nil: all).
	Indices []int
}

// DefaultJobs is the number of tasks to run at a time on this machine:
// its cores divided by the threads one task uses, at least 1.
func DefaultJobs(threads int) int {
	return max(1, runtime.NumCPU()/max(1, threads))
}

// RunLocal runs the sweep's tasks in dir on this machine, o.Jobs at a
// time, skipping finished ones and resuming interrupted ones. It prints a
// progress line per finished task and returns an error naming how many
// failed. When ctx is cancelled it starts no new task and waits for the
// running ones to write their checkpoints.
func RunLocal(ctx context.Context, dir string, o LocalOptions) error {
	s, err := Load(dir)
	if err != nil {
		return err
	}
	threads := max(1, s.Threads)
	jobs := o.Jobs
	if jobs <= 0 {
		jobs = DefaultJobs(threads)
	}
	idx := o.Indices
	if idx == nil {
		for i := range s.Tasks {
			idx = append(idx, i)
		}
	}
	for _, i := range idx {
		if _, err := s.Task(i); err != nil {
			return err
		}
	}
	p := pool{jobs: jobs, progress: o.Progress, interrupted: "interrupted (checkpoint kept; rerun to resume)"}
	finished, failed := p.run(ctx, len(idx), func(k int) string { return s.Tasks[idx[k]].Name }, func(k int) (string, error) {
		i := idx[k]
		start := time.Now()
		if o.Exe != "" {
			line, err := runSubprocess(ctx, o.Exe, dir, i, threads)
			return line + fmt.Sprintf(" (%.1fs)", time.Since(start).Seconds()), err
		}
		res, err := RunTask(ctx, dir, i, TaskOptions{})
		return resultLine(res) + fmt.Sprintf(" (%.1fs)", time.Since(start).Seconds()), err
	})
	if ctx.Err() != nil {
		return errors.Wrapf(ctx.Err(), "sweep %s stopped after %d of %d tasks; rerun to continue", dir, finished, len(idx))
	}
	if len(failed) > 0 {
		return errors.Errorf("%d of %d tasks failed (first: %s); see `zoo sweep status %s`", len(failed), len(idx), failed[0], dir)
	}
	return nil
}

func resultLine(r TaskResult) string {
	switch {
	case r.Skipped:
		return "already done"
	case r.Resumed:
		return fmt.Sprintf("done (resumed), test loss %.4f", r.Summary.TestLoss)
	}
	return fmt.Sprintf("done, test loss %.4f", r.Summary.TestLoss)
}

// runSubprocess runs one task as `exe sweep task DIR --index I` and
// describes its outcome from the task's run folder and state file.
func runSubprocess(ctx context.Context, exe, dir string, index, threads int) (string, error) {
	cmd := exec.CommandContext(ctx, exe, "sweep", "task", dir, "--index", strconv.Itoa(index), "--quiet")
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(threads))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) } // let it checkpoint
	cmd.WaitDelay = 2 * time.Minute
	var stderr lastLines
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := stderr.last(); msg != "" {
			return "", errors.New(msg)
		}
		return "", errors.Wrapf(err, "zoo sweep task %d", index)
	}
	line := lastLine(string(out))
	if _, rest, ok := strings.Cut(line, ": "); ok {
		line = rest // the progress line names the task already
	}
	return line, nil
}

// lastLines keeps the last line written to it.
type lastLines struct {
	mu  sync.Mutex
	buf []byte
}

func (l *lastLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if len(l.buf) > 1<<16 {
		l.buf = l.buf[len(l.buf)-1<<15:]
	}
	return len(p), nil
}

func (l *lastLines) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return lastLine(string(l.buf))
}

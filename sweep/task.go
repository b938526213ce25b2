package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/internal/blas"
	"github.com/aezoo/aezoo/zoo"
	"github.com/pkg/errors"
)

// State is a task's state.
type State string

// Task states. Done means the run folder holds its summary.json; the
// others come from the task's state file (DIR/state/<index>.json).
const (
	Pending     State = "pending"     // never started
	Running     State = "running"     // started, not finished
	Done        State = "done"        // finished: summary.json written
	Failed      State = "failed"      // stopped with an error
	Interrupted State = "interrupted" // stopped by a signal (or killed): resumes from its checkpoint
)

// stateRecord is the content of DIR/state/<index>.json.
type stateRecord struct {
	State   State     `json:"state"`
	Name    string    `json:"name"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	JobID   string    `json:"job_id,omitempty"` // $SLURM_JOB_ID / $SLURM_ARRAY_JOB_ID_$SLURM_ARRAY_TASK_ID
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	Resumed bool      `json:"resumed,omitempty"` // the last attempt resumed from a checkpoint
	Threads int       `json:"threads"`           // GOMAXPROCS of the attempt
	GEMM    string    `json:"gemm"`              // the matrix-product kernel (graph.GEMMName)
	Error   string    `json:"error,omitempty"`
}

func statePath(dir string, index int) string {
	return filepath.Join(dir, StateDir, fmt.Sprintf("%d.json", index))
}

func writeState(dir string, index int, r stateRecord) error {
	if err := os.MkdirAll(filepath.Join(dir, StateDir), 0o755); err != nil {
		return errors.Wrap(err, "creating the state folder")
	}
	return ckpt.WriteJSON(statePath(dir, index), r)
}

func readState(dir string, index int) (stateRecord, bool) {
	var r stateRecord
	b, err := os.ReadFile(statePath(dir, index))
	if err != nil || json.Unmarshal(b, &r) != nil {
		return r, false
	}
	return r, true
}

// TaskOptions are the options of RunTask.
type TaskOptions struct {
	// Log receives the run's epoch lines, or nil.
	Log io.Writer
}

// TaskResult says what RunTask did.
type TaskResult struct {
	Task    Task
	Skipped bool // the task had already finished: nothing was trained
	Resumed bool // the task continued from its checkpoint
	Summary zoo.Summary
}

// finished reads a task's summary.json; ok is false when the task has not
// finished.
func finished(runDir string) (zoo.Summary, bool) {
	var s zoo.Summary
	b, err := os.ReadFile(filepath.Join(runDir, zoo.SummaryFile))
	if err != nil || json.Unmarshal(b, &s) != nil {
		return s, false
	}
	return s, true
}

// RunTask runs task index of the sweep in dir. It is idempotent: a
// finished task (its summary.json exists) is skipped and never retrained;
// a task with a checkpoint resumes from it (zoo.Resume, bit-identical to
// an uninterrupted run); otherwise it trains from the start. The task's
// state file records the attempt, and the error of a failed one.
func RunTask(ctx context.Context, dir string, index int, o TaskOptions) (TaskResult, error) {
	s, err := Load(dir)
	if err != nil {
		return TaskResult{}, err
	}
	t, err := s.Task(index)
	if err != nil {
		return TaskResult{}, err
	}
	res := TaskResult{Task: t}
	runDir := RunDir(dir, t)
	if sum, ok := finished(runDir); ok {
		res.Skipped, res.Summary = true, sum
		return res, nil
	}
	c, opt, err := s.Settings(t)
	if err != nil {
		return res, err
	}
	host, _ := os.Hostname()
	rec := stateRecord{State: Running, Name: t.Name, Host: host, PID: os.Getpid(), JobID: slurmJobID(), Started: time.Now().UTC(),
		Threads: runtime.GOMAXPROCS(0), GEMM: blas.Name()}
	_, statErr := os.Stat(filepath.Join(runDir, ckpt.PointerFile))
	res.Resumed = statErr == nil
	rec.Resumed = res.Resumed
	if err := writeState(dir, index, rec); err != nil {
		return res, err
	}
	to := zoo.TrainOptions{Out: runDir, Source: s.Source(), Log: o.Log, CheckpointEvery: s.CheckpointEvery, Model: s.Model}
	if res.Resumed {
		res.Summary, err = zoo.Resume(ctx, runDir, 0, to)
	} else {
		// The run folder is this task's own: what an attempt killed before
		// its first checkpoint left there is replaced, not refused.
		to.Overwrite = true
		res.Summary, err = zoo.Train(ctx, c, opt, to)
	}
	rec.Ended = time.Now().UTC()
	switch {
	case err == nil:
		rec.State = Done
	case ctx.Err() != nil:
		rec.State, rec.Error = Interrupted, lastLine(err.Error())
	default:
		rec.State, rec.Error = Failed, lastLine(err.Error())
	}
	if werr := writeState(dir, index, rec); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return res, errors.WithMessagef(err, "task %s", t.Name)
	}
	return res, nil
}

func slurmJobID() string {
	if a, i := os.Getenv("SLURM_ARRAY_JOB_ID"), os.Getenv("SLURM_ARRAY_TASK_ID"); a != "" && i != "" {
		return a + "_" + i
	}
	return os.Getenv("SLURM_JOB_ID")
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

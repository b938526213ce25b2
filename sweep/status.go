package sweep

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"syscall"

	"github.com/aezoo/aezoo/zoo"
)

// TaskStatus is one task's state, as Status reports it.
type TaskStatus struct {
	Task
	State  State  `json:"state"`
	Epochs int    `json:"epochs"`           // epochs in its metrics log
	Host   string `json:"host,omitempty"`   // where it last ran
	JobID  string `json:"job_id,omitempty"` // its Slurm job, when it ran under Slurm
	Error  string `json:"error,omitempty"`  // the last error line of a failed task
}

// Status reports the state of every task of the sweep in dir: done (its
// summary.json exists), running, failed (with its last error line),
// interrupted (stopped by a signal, or its process is gone: it will resume
// from its checkpoint) or pending.
func Status(dir string) ([]TaskStatus, error) {
	s, err := Load(dir)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	out := make([]TaskStatus, len(s.Tasks))
	for i, t := range s.Tasks {
		ts := TaskStatus{Task: t, State: Pending}
		runDir := RunDir(dir, t)
		ts.Epochs = countLines(filepath.Join(runDir, zoo.MetricsFile))
		rec, ok := readState(dir, t.Index)
		if ok {
			ts.Host, ts.JobID = rec.Host, rec.JobID
			ts.State, ts.Error = rec.State, rec.Error
			if rec.State == Running && rec.Host == host && !alive(rec.PID) {
				ts.State, ts.Error = Interrupted, "its process is gone (killed?)"
			}
		}
		if _, done := finished(runDir); done {
			ts.State, ts.Error = Done, ""
		}
		out[i] = ts
	}
	return out, nil
}

// Counts tallies the states.
func Counts(ts []TaskStatus) map[State]int {
	m := map[State]int{}
	for _, t := range ts {
		m[t.State]++
	}
	return m
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || err == syscall.EPERM
}

func countLines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			n++
		}
	}
	return n
}

package sweep

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
// interrupted (stopped by a signal, or its process is gone — on this host
// by its pid, elsewhere by squeue no longer listing its Slurm job — it
// will resume from its checkpoint) or pending.
func Status(dir string) ([]TaskStatus, error) {
	s, err := Load(dir)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	gone := slurmGone()
	out := make([]TaskStatus, len(s.Tasks))
	for i, t := range s.Tasks {
		ts := TaskStatus{Task: t, State: Pending}
		runDir := RunDir(dir, t)
		ts.Epochs = countLines(filepath.Join(runDir, zoo.MetricsFile))
		rec, ok := readState(dir, t.Index)
		if ok {
			ts.Host, ts.JobID = rec.Host, rec.JobID
			ts.State, ts.Error = rec.State, rec.Error
			switch {
			case rec.State != Running:
			case rec.Host == host && !alive(rec.PID):
				ts.State, ts.Error = Interrupted, "its process is gone (killed?)"
			case rec.Host != host && rec.JobID != "" && gone(rec.JobID):
				ts.State, ts.Error = Interrupted, "its Slurm job "+rec.JobID+" is no longer queued"
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

// slurmGone returns a function reporting whether Slurm no longer lists a
// job (a running task's "ARRAYJOB_TASK" id, or a plain job id). squeue is
// asked once, on first use; without it the function reports false, and the
// task's record is believed.
func slurmGone() func(id string) bool {
	var once sync.Once
	var ids map[string]bool // nil when squeue is unavailable
	return func(id string) bool {
		once.Do(func() {
			out, err := exec.Command("squeue", "-h", "-o", "%i").Output()
			if err != nil {
				return
			}
			ids = map[string]bool{}
			for _, f := range strings.Fields(string(out)) {
				ids[f] = true
			}
		})
		return ids != nil && !ids[id]
	}
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

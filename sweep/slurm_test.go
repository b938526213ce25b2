package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aezoo/aezoo/zoo"
)

// requireSlurm skips the test when there is no working Slurm here — sbatch
// not on PATH, or a controller that does not answer (`scontrol ping`; the
// packages can be installed with no daemons running) — unless
// AEZOO_REQUIRE_SLURM is set (as in CI, after .ci/slurm-up.sh): then a
// missing Slurm is a failure.
func requireSlurm(t *testing.T) {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		if os.Getenv("AEZOO_REQUIRE_SLURM") != "" {
			t.Fatalf("AEZOO_REQUIRE_SLURM is set but %s (run .ci/slurm-up.sh)", why)
		}
		t.Skipf("no Slurm here (%s); .ci/slurm-up.sh brings up a single-node cluster", why)
	}
	if _, err := exec.LookPath("sbatch"); err != nil {
		missing("sbatch is not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "scontrol", "ping").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "UP") {
		missing("the controller does not answer `scontrol ping`: " + strings.TrimSpace(string(out)))
	}
}

// buildZoo builds the zoo binary that the job array runs.
func buildZoo(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "zoo")
	if out, err := exec.Command("go", "build", "-o", exe, "../cmd/zoo").CombinedOutput(); err != nil {
		t.Fatalf("building zoo: %v\n%s", err, out)
	}
	return exe
}

// cancelLater cancels the job when the test ends, so that a failed test
// leaves nothing queued.
func cancelLater(t *testing.T, id string) {
	t.Cleanup(func() { exec.Command("scancel", id).Run() })
}

// waitJob waits until Slurm no longer lists the job.
func waitJob(t *testing.T, id string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		out, err := exec.Command("squeue", "-h", "-j", id, "-o", "%i %T").CombinedOutput()
		if err != nil && strings.Contains(string(out), "Invalid job id") || err == nil && len(bytes.TrimSpace(out)) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	out, _ := exec.Command("squeue", "-j", id).CombinedOutput()
	t.Fatalf("job %s still queued after %v:\n%s", id, limit, out)
}

func logs(dir string) string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(dir, LogsDir, "*.out"))
	for _, f := range files {
		c, _ := os.ReadFile(f)
		b.WriteString("--- " + filepath.Base(f) + "\n" + string(c))
	}
	return b.String()
}

// sameTask requires bit-identical weights and identical metrics (timings
// aside) in two run folders.
func sameTask(t *testing.T, a, b string) {
	t.Helper()
	ws, _ := filepath.Glob(filepath.Join(a, "weights", "*.npy"))
	if len(ws) == 0 {
		t.Fatalf("no weights in %s", a)
	}
	for _, w := range ws {
		wa, _ := os.ReadFile(w)
		wb, err := os.ReadFile(filepath.Join(b, "weights", filepath.Base(w)))
		if err != nil || !bytes.Equal(wa, wb) {
			t.Errorf("%s differs between %s and %s (%v)", filepath.Base(w), a, b, err)
		}
	}
	norm := func(dir string) string {
		c, err := os.ReadFile(filepath.Join(dir, zoo.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range bytes.Split(bytes.TrimSpace(c), []byte("\n")) {
			var m map[string]any
			if err := json.Unmarshal(l, &m); err != nil {
				t.Fatal(err)
			}
			delete(m, "seconds")
			delete(m, "samples_per_s")
			j, _ := json.Marshal(m)
			lines = append(lines, string(j))
		}
		return strings.Join(lines, "\n")
	}
	if ma, mb := norm(a), norm(b); ma != mb {
		t.Errorf("metrics differ:\n%s\n---\n%s", ma, mb)
	}
	sa, _ := finished(a)
	sb, _ := finished(b)
	if sa.TestLoss != sb.TestLoss || sa.TestBCE != sb.TestBCE || sa.TestMSE != sb.TestMSE {
		t.Errorf("final test metrics differ: %v %v %v vs %v %v %v", sa.TestLoss, sa.TestBCE, sa.TestMSE, sb.TestLoss, sb.TestBCE, sb.TestMSE)
	}
}

// TestSlurmSweep runs a 4-task sweep on the MNIST subset as a Slurm job
// array, checks its report, and requires the local launcher to give the
// same numbers.
func TestSlurmSweep(t *testing.T) {
	requireSlurm(t)
	exe := buildZoo(t)
	dir := t.TempDir()
	s := testSweep(t, 2)
	if err := Create(dir, s); err != nil {
		t.Fatal(err)
	}
	id, err := Submit(context.Background(), dir, SlurmOptions{Exe: exe, MaxParallel: 2, CPUsPerTask: 1, Time: "00:10:00"})
	if err != nil {
		t.Fatal(err)
	}
	cancelLater(t, id)
	waitJob(t, id, 3*time.Minute)
	st, err := Status(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range st {
		if ts.State != Done || ts.Epochs != 2 || !strings.HasPrefix(ts.JobID, id+"_") {
			t.Errorf("task %s: %s, %d epochs, job %q\n%s", ts.Name, ts.State, ts.Epochs, ts.JobID, logs(dir))
		}
	}
	for i := range s.Tasks {
		if rec, _ := readState(dir, i); rec.Threads != 1 {
			t.Errorf("task %d ran with GOMAXPROCS=%d, the sweep's threads are 1", i, rec.Threads)
		}
	}
	r, err := Report(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 2 || r.Rows[0].N != 2 || r.Rows[1].N != 2 || r.States[Done] != 4 {
		t.Fatalf("report rows %+v", r.Rows)
	}
	md, _ := os.ReadFile(filepath.Join(dir, ReportFile))
	if !strings.Contains(string(md), "| hidden | n | test loss |") || !strings.Contains(string(md), "| 16 | 2 | ") {
		t.Errorf("report.md:\n%s", md)
	}
	// The same sweep through the local launcher (tasks as subprocesses with
	// the sweep's GOMAXPROCS, as under Slurm).
	local := t.TempDir()
	if err := Create(local, s); err != nil {
		t.Fatal(err)
	}
	if err := RunLocal(context.Background(), local, LocalOptions{Jobs: 2, Exe: exe}); err != nil {
		t.Fatal(err)
	}
	for _, task := range s.Tasks {
		sameTask(t, RunDir(dir, task), RunDir(local, task))
	}
	rl, err := Aggregate(local)
	if err != nil {
		t.Fatal(err)
	}
	for i := range r.Rows {
		for _, m := range r.Metrics {
			if r.Rows[i].Mean[m] != rl.Rows[i].Mean[m] || r.Rows[i].Std[m] != rl.Rows[i].Std[m] {
				t.Errorf("row %d %s: Slurm %g ± %g, local %g ± %g", i, m, r.Rows[i].Mean[m], r.Rows[i].Std[m], rl.Rows[i].Mean[m], rl.Rows[i].Std[m])
			}
		}
	}
}

// TestSlurmCancelResume cancels a task mid-run with scancel, resubmits the
// same script, and requires the resumed task to end bit-identical to an
// uninterrupted run.
func TestSlurmCancelResume(t *testing.T) {
	requireSlurm(t)
	exe := buildZoo(t)
	dir := t.TempDir()
	s := testSweep(t, 30)
	s.Axes = s.Axes[:1]
	s.Axes[0].Values = []string{"24"}
	s.CheckpointEvery = 3
	s.Tasks = s.expand()
	if err := Create(dir, s); err != nil {
		t.Fatal(err)
	}
	path, err := WriteSbatch(dir, SlurmOptions{Exe: exe, CPUsPerTask: 1})
	if err != nil {
		t.Fatal(err)
	}
	id, err := SubmitScript(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	cancelLater(t, id)
	runDir := RunDir(dir, s.Tasks[0])
	deadline := time.Now().Add(2 * time.Minute)
	for countLines(filepath.Join(runDir, zoo.MetricsFile)) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the task wrote no 3 epochs in 2 minutes:\n%s", logs(dir))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, err := exec.Command("scancel", id).CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v: %s", err, out)
	}
	waitJob(t, id, time.Minute)
	st, _ := Status(dir)
	if st[0].State != Interrupted || st[0].Epochs >= 30 {
		t.Fatalf("after scancel: %s after %d epochs (want interrupted before 30)\n%s", st[0].State, st[0].Epochs, logs(dir))
	}
	t.Logf("cancelled after %d of 30 epochs", st[0].Epochs)
	id2, err := SubmitScript(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	cancelLater(t, id2)
	waitJob(t, id2, 3*time.Minute)
	st, _ = Status(dir)
	rec, _ := readState(dir, 0)
	if st[0].State != Done || st[0].Epochs != 30 || !rec.Resumed {
		t.Fatalf("after resubmitting: %s, %d epochs, resumed %v\n%s", st[0].State, st[0].Epochs, rec.Resumed, logs(dir))
	}
	// Uninterrupted, through the local launcher.
	full := t.TempDir()
	if err := Create(full, s); err != nil {
		t.Fatal(err)
	}
	if err := RunLocal(context.Background(), full, LocalOptions{Exe: exe}); err != nil {
		t.Fatal(err)
	}
	sameTask(t, runDir, RunDir(full, s.Tasks[0]))
	// A third submission finds the task done and trains nothing.
	before, _ := os.Stat(filepath.Join(runDir, zoo.SummaryFile))
	id3, err := SubmitScript(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	cancelLater(t, id3)
	waitJob(t, id3, time.Minute)
	after, _ := os.Stat(filepath.Join(runDir, zoo.SummaryFile))
	if !after.ModTime().Equal(before.ModTime()) || !strings.Contains(logs(dir), "already done") {
		t.Errorf("a finished task was retrained:\n%s", logs(dir))
	}
}

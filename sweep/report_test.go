package sweep

import (
	"context"
	"encoding/json"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/zoo"
)

func TestMeanStd(t *testing.T) {
	for _, tc := range []struct {
		xs        []float64
		mean, std float64
	}{
		{[]float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, math.Sqrt(32.0 / 7)},
		{[]float64{3}, 3, 0},
		{[]float64{1, 2}, 1.5, math.Sqrt(0.5)},
		{[]float64{1e8 + 1, 1e8 + 2, 1e8 + 3}, 1e8 + 2, 1},
	} {
		m, s := MeanStd(tc.xs)
		if math.Abs(m-tc.mean) > 1e-9*math.Abs(tc.mean) || math.Abs(s-tc.std) > 1e-9 {
			t.Errorf("MeanStd(%v) = %g, %g; want %g, %g", tc.xs, m, s, tc.mean, tc.std)
		}
	}
	if m, s := MeanStd(nil); !math.IsNaN(m) || !math.IsNaN(s) {
		t.Errorf("MeanStd(nil) = %g, %g", m, s)
	}
}

// fakeDone writes a summary.json for task i as if it had finished.
func fakeDone(t *testing.T, dir string, s Spec, i int, loss, bce float64, figs map[string]float64) {
	t.Helper()
	rd := RunDir(dir, s.Tasks[i])
	if err := os.MkdirAll(rd, 0o755); err != nil {
		t.Fatal(err)
	}
	// summary.json holds the test metrics (the Summary's Test); its
	// figures derive from them.
	m := eval.Metrics{Loss: loss, BCEPerImage: bce, Terms: map[graph.Term]float64{graph.ReconTerm: loss}}
	if af, ok := figs["active_fraction"]; ok {
		m.CodeUnits, m.ActiveFraction = 1, af
	}
	if err := ckpt.WriteJSON(filepath.Join(rd, zoo.SummaryFile), zoo.Summary{Model: s.Model, Test: m}); err != nil {
		t.Fatal(err)
	}
}

func TestStatusStates(t *testing.T) {
	dir := t.TempDir()
	s := newSpec(t, "plain", "hidden=8,16,32,64,128")
	if err := Create(dir, s); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	fakeDone(t, dir, s, 0, 1, 1, nil)
	// A running record of this very process: running.
	writeState(dir, 1, stateRecord{State: Running, Host: host, PID: os.Getpid()})
	// A running record whose process has exited: interrupted.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	writeState(dir, 2, stateRecord{State: Running, Host: host, PID: dead.Process.Pid})
	writeState(dir, 3, stateRecord{State: Failed, Host: host, Error: "NaN loss at step 12"})
	// Task 4: nothing: pending. A stale failure record is overridden by a summary.
	writeState(dir, 0, stateRecord{State: Failed, Error: "old"})
	st, err := Status(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []State{Done, Running, Interrupted, Failed, Pending}
	for i, w := range want {
		if st[i].State != w {
			t.Errorf("task %d: %s, want %s", i, st[i].State, w)
		}
	}
	if st[3].Error != "NaN loss at step 12" || st[0].Error != "" {
		t.Errorf("errors: %q, %q", st[3].Error, st[0].Error)
	}
	if c := Counts(st); c[Done] != 1 || c[Pending] != 1 || len(c) != 5 {
		t.Errorf("counts %v", c)
	}
}

func TestAggregateMath(t *testing.T) {
	dir := t.TempDir()
	s := newSpec(t, "sparse", "lambda=0.01,0.1", "seed=1,2,3")
	if err := Create(dir, s); err != nil {
		t.Fatal(err)
	}
	losses := []float64{100, 102, 107, 90, 91, 0} // task 5 not finished
	for i := 0; i < 5; i++ {
		fakeDone(t, dir, s, i, losses[i], losses[i]+1, map[string]float64{"active_fraction": float64(i) / 10})
	}
	r, err := Report(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 2 || r.Rows[0].N != 3 || r.Rows[1].N != 2 {
		t.Fatalf("rows %+v", r.Rows)
	}
	// Plain Go, written out: mean and n−1 standard deviation.
	check := func(row Row, key string, xs ...float64) {
		sum := 0.0
		for _, x := range xs {
			sum += x
		}
		mean := sum / float64(len(xs))
		ss := 0.0
		for _, x := range xs {
			ss += (x - mean) * (x - mean)
		}
		std := math.Sqrt(ss / float64(len(xs)-1))
		if math.Abs(row.Mean[key]-mean) > 1e-12 || math.Abs(row.Std[key]-std) > 1e-12 {
			t.Errorf("%v %s: %g ± %g, want %g ± %g", row.Params, key, row.Mean[key], row.Std[key], mean, std)
		}
	}
	check(r.Rows[0], "test_loss", 100, 102, 107)
	check(r.Rows[0], "test_bce_per_image", 101, 103, 108)
	check(r.Rows[1], "test_loss", 90, 91)
	check(r.Rows[0], "active_fraction", 0, 0.1, 0.2)
	if got := r.Rows[1].Missing; len(got) != 1 || got[0] != "5-lambda=0.1,seed=3" {
		t.Errorf("missing %v", got)
	}
	if strings.Join(r.Rows[0].Seeds, ",") != "1,2,3" || r.Rows[0].Params[0] != (Param{"lambda", "0.01"}) {
		t.Errorf("row 0: %+v", r.Rows[0])
	}
	md, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| lambda | n | test loss |", "| 0.01 | 3 | 103 ± 3.6 |", "| 0.1 | 2 | 90.5 ± 0.71 |", "Not finished (1): 5-lambda=0.1,seed=3", "plot-test_loss-vs-lambda.png"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	var back Results
	b, _ := os.ReadFile(filepath.Join(dir, ResultsFile))
	if err := json.Unmarshal(b, &back); err != nil || len(back.Rows) != 2 {
		t.Errorf("results.json: %v", err)
	}
	for _, p := range r.Plots {
		if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.Size() == 0 {
			t.Errorf("plot %s: %v", p, err)
		}
	}
	if len(r.Plots) != len(r.Metrics) {
		t.Errorf("%d plots for %d metrics against one numeric key", len(r.Plots), len(r.Metrics))
	}
}

// TestRunLocal runs a 4-task sweep on the testdata subset in this process,
// then reruns it: nothing is retrained.
func TestRunLocal(t *testing.T) {
	dir := t.TempDir()
	s := testSweep(t, 2)
	if err := Create(dir, s); err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	if err := RunLocal(context.Background(), dir, LocalOptions{Jobs: 2, Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(progress.String(), "\n"); n != 4 || strings.Count(progress.String(), ": done, test loss") != 4 {
		t.Errorf("progress:\n%s", progress.String())
	}
	st, _ := Status(dir)
	if c := Counts(st); c[Done] != 4 {
		t.Fatalf("states %v", c)
	}
	mtime := func() time.Time {
		fi, err := os.Stat(filepath.Join(RunDir(dir, s.Tasks[0]), zoo.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime()
	}
	before := mtime()
	progress.Reset()
	if err := RunLocal(context.Background(), dir, LocalOptions{Jobs: 2, Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(progress.String(), "already done") != 4 || !mtime().Equal(before) {
		t.Errorf("rerun retrained:\n%s", progress.String())
	}
	r, err := Report(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 2 || r.Rows[0].N != 2 || !(r.Rows[0].Std["test_loss"] > 0) {
		t.Errorf("report rows %+v", r.Rows)
	}
}

// TestStatusSlurmJobGone: a task recorded as running on another host under
// a Slurm job that squeue no longer lists is interrupted.
func TestStatusSlurmJobGone(t *testing.T) {
	requireSlurm(t)
	dir := t.TempDir()
	s := newSpec(t, "plain", "hidden=8,16")
	if err := Create(dir, s); err != nil {
		t.Fatal(err)
	}
	writeState(dir, 0, stateRecord{State: Running, Host: "node-elsewhere", PID: 1, JobID: "999999_0"})
	writeState(dir, 1, stateRecord{State: Running, Host: "node-elsewhere", PID: 1})
	st, err := Status(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].State != Interrupted || !strings.Contains(st[0].Error, "999999_0") || st[1].State != Running {
		t.Errorf("states %s (%s), %s", st[0].State, st[0].Error, st[1].State)
	}
}

// TestRunTaskAfterEarlyKill: a task killed before its first checkpoint
// leaves files in its run folder (no checkpoint, no summary); running the
// task again trains it from the start instead of refusing the folder.
func TestRunTaskAfterEarlyKill(t *testing.T) {
	dir := t.TempDir()
	s := testSweep(t, 1)
	if err := Create(dir, s); err != nil {
		t.Fatal(err)
	}
	rd := RunDir(dir, s.Tasks[0])
	if err := os.MkdirAll(rd, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"metrics.jsonl", "config.json"} {
		if err := os.WriteFile(filepath.Join(rd, f), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := RunTask(context.Background(), dir, 0, TaskOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed || res.Skipped || !(res.Summary.TestLoss > 0) {
		t.Errorf("task result %+v", res)
	}
	if _, err := os.Stat(filepath.Join(rd, zoo.SummaryFile)); err != nil {
		t.Errorf("no summary after the rerun: %v", err)
	}
}

package sweep

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aezoo/aezoo/experiments"
	"github.com/aezoo/aezoo/zoo"
)

func TestReproduceSbatchScripts(t *testing.T) {
	o := experiments.Options{Quick: true, Out: "/shared/rep", IWSamples: 1000}
	lo := ReproduceOptions{Exe: "/opt/zoo bin/zoo", Threads: 2, Slurm: SlurmOptions{MaxParallel: 2, Time: "02:00:00", Partition: "cpu", Mem: "8G"}}
	plan := []experiments.PlannedRun{{Key: "0a1b2c3d", RunSpec: experiments.RunSpec{Label: "VAE (z=20)"}},
		{Key: "deadbeef", RunSpec: experiments.RunSpec{Label: "AE"}}, {Key: "00ff00ff", RunSpec: experiments.RunSpec{Label: "it's"}}}
	sc, err := ReproduceSbatch([]string{"vae", "denoising", "vae"}, o, lo, plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"#SBATCH --job-name=zoo-reproduce-runs\n",
		"#SBATCH --array=0-2%2\n", // one task per run
		"#SBATCH --cpus-per-task=2\n",
		"#SBATCH --output=/shared/rep/logs/run-%a.out\n",
		"#SBATCH --requeue\n",
		"keys=('0a1b2c3d' 'deadbeef' '00ff00ff')\n",
		`labels=('VAE (z=20)' 'AE' 'it'\''s')` + "\n",
		`exec '/opt/zoo bin/zoo' 'reproduce' 'vae' 'denoising' '--out' '/shared/rep' '--task' '--run' "$key" '--threads' '2' '--iw-samples' '1000' '--quick'` + "\n",
	} {
		if !strings.Contains(sc.Runs, want) {
			t.Errorf("run script lacks %q:\n%s", want, sc.Runs)
		}
	}
	tasks, report := sc.Experiments, sc.Report
	for _, want := range []string{
		"#SBATCH --job-name=zoo-reproduce\n",
		"#SBATCH --array=0-1%2\n", // vae once
		"#SBATCH --cpus-per-task=2\n",
		"#SBATCH --time=02:00:00\n",
		"#SBATCH --partition=cpu\n",
		"#SBATCH --mem=8G\n",
		"#SBATCH --output=/shared/rep/logs/%a.out\n",
		"#SBATCH --requeue\n",
		"export GOMAXPROCS=2\n",
		"names=('vae' 'denoising')\n",
		`exec '/opt/zoo bin/zoo' 'reproduce' "$name" '--out' '/shared/rep' '--task' '--threads' '2' '--iw-samples' '1000' '--quick'` + "\n",
	} {
		if !strings.Contains(tasks, want) {
			t.Errorf("task script lacks %q:\n%s", want, tasks)
		}
	}
	for _, want := range []string{
		"#SBATCH --job-name=zoo-reproduce-report\n",
		"#SBATCH --output=/shared/rep/logs/report.out\n",
		`exec '/opt/zoo bin/zoo' 'reproduce' 'vae' 'denoising' '--out' '/shared/rep' '--launcher' 'local' '--jobs' '1' '--threads' '2' '--iw-samples' '1000' '--quick'` + "\n",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report script lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "--array") {
		t.Errorf("the report job is an array:\n%s", report)
	}
	o.Quick, o.Data = false, "/data/fashion"
	sc, err = ReproduceSbatch([]string{"all"}, o, ReproduceOptions{Exe: "/zoo"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tasks = sc.Experiments
	if sc.Runs != "" {
		t.Errorf("a run array without runs:\n%s", sc.Runs)
	}
	n := len(experiments.Catalogue())
	for _, want := range []string{"#SBATCH --array=0-" + itoa(n-1) + "\n", "#SBATCH --cpus-per-task=1\n", "'--data' '/data/fashion'\n"} {
		if !strings.Contains(tasks, want) {
			t.Errorf("task script of all lacks %q:\n%s", want, tasks)
		}
	}
	for _, bad := range []struct {
		names []string
		o     experiments.Options
		lo    ReproduceOptions
	}{
		{[]string{"vae"}, experiments.Options{Out: "rel", IWSamples: 1}, ReproduceOptions{Exe: "/zoo"}},
		{[]string{"vae"}, experiments.Options{Out: "/a", IWSamples: 1}, ReproduceOptions{Exe: "zoo"}},
		{[]string{"vae"}, experiments.Options{Out: "/a", Data: "rel", IWSamples: 1}, ReproduceOptions{Exe: "/zoo"}},
		{[]string{"gan"}, experiments.Options{Out: "/a", IWSamples: 1}, ReproduceOptions{Exe: "/zoo"}},
		{[]string{"vae"}, experiments.Options{Out: "/a", IWSamples: 1}, ReproduceOptions{Exe: "/zoo", Slurm: SlurmOptions{Time: "1 day"}}},
	} {
		if _, err := ReproduceSbatch(bad.names, bad.o, bad.lo, plan); err == nil {
			t.Errorf("%v %+v %+v accepted", bad.names, bad.o, bad.lo)
		}
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// numbers returns the results.json in dir without its wall times.
func numbers(t *testing.T, dir string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var strip func(v any)
	strip = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			delete(x, "seconds")
			for _, e := range x {
				strip(e)
			}
		case []any:
			for _, e := range x {
				strip(e)
			}
		}
	}
	strip(v)
	return v
}

// TestReproduceSlurm reproduces two quick experiments through Slurm (a job
// array and the dependent report job) and checks the combined report's
// numbers against a serial run of the same binary with the tasks' thread
// count.
func TestReproduceSlurm(t *testing.T) {
	requireSlurm(t)
	exe := buildZoo(t)
	out := filepath.Join(t.TempDir(), "rep")
	names := []string{"denoising", "contractive"}
	o := experiments.Options{Quick: true, Out: out, IWSamples: experiments.DefaultIWSamples}
	jobs, plan, err := SubmitReproduce(context.Background(), names, o, ReproduceOptions{Exe: exe, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The AE, the DAEs of six levels (the contractive experiment's is one
	// of them) and the CAE.
	if jobs.Runs == "" || len(plan) != 8 {
		t.Errorf("run array %q of %d runs, want 8", jobs.Runs, len(plan))
	}
	for _, id := range []string{jobs.Runs, jobs.Experiments, jobs.Report} {
		cancelLater(t, id)
	}
	serial := filepath.Join(t.TempDir(), "serial")
	cmd := exec.Command(exe, append(append([]string{"reproduce"}, names...), "--quick", "--threads", "1", "--out", serial)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("serial reproduction: %v\n%s", err, b)
	}
	waitJob(t, jobs.Runs, 8*time.Minute)
	waitJob(t, jobs.Experiments, 5*time.Minute)
	waitJob(t, jobs.Report, 2*time.Minute)
	if _, err := os.Stat(filepath.Join(out, "report.md")); err != nil {
		t.Fatalf("no combined report after the report job (%v); logs:\n%s", err, logs(out))
	}
	b, _ := os.ReadFile(filepath.Join(out, LogsDir, "report.out"))
	if strings.Count(string(b), "reported already") != len(names) {
		t.Errorf("the report job did not reuse both experiments' reports:\n%s", b)
	}
	// The experiments' tasks found every run of the plan trained.
	for i := range names {
		b, _ := os.ReadFile(filepath.Join(out, LogsDir, itoa(i)+".out"))
		if strings.Contains(string(b), "  training ") || !strings.Contains(string(b), "  reusing ") {
			t.Errorf("experiment task %d trained a run of the plan:\n%s", i, b)
		}
	}
	if got, want := numbers(t, out), numbers(t, serial); !reflect.DeepEqual(got, want) {
		t.Errorf("the Slurm reproduction's numbers differ from the serial run's:\n%v\n%v", got, want)
	}
}

// TestReproduceLocalRefuses: bad settings and a folder that is not a
// reproduction's are refused before any task starts.
func TestReproduceLocalRefuses(t *testing.T) {
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644)
	for _, tc := range []struct {
		names []string
		o     experiments.Options
		want  string
	}{
		{[]string{"gan"}, experiments.Options{Quick: true, Out: t.TempDir(), IWSamples: 1}, `unknown experiment "gan"`},
		{[]string{"vae"}, experiments.Options{Quick: true, Out: t.TempDir()}, "IW-NLL sample count 0"},
		{[]string{"vae"}, experiments.Options{Quick: true, Out: other, IWSamples: 1}, "not a reproduction's"},
		{[]string{"vae"}, experiments.Options{Quick: true, Out: t.TempDir(), IWSamples: 1, Data: filepath.Join(other, "none")}, "none"},
	} {
		var progress strings.Builder
		_, err := ReproduceLocal(context.Background(), tc.names, tc.o, ReproduceOptions{Jobs: 2, Progress: &progress})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %+v: err = %v, want %q", tc.names, tc.o, err, tc.want)
		}
		if strings.Contains(progress.String(), "] ") {
			t.Errorf("%v: a task started:\n%s", tc.names, progress.String())
		}
	}
}

// TestReproduceRunTaskKilled: a run task killed mid-training (SIGKILL: no
// cleanup) and run again trains the run from its start, into weights and
// metrics bit-identical to an uninterrupted task's; the plan then counts
// it as trained.
func TestReproduceRunTaskKilled(t *testing.T) {
	exe := buildZoo(t)
	names := []string{"vae"}
	killed, whole := filepath.Join(t.TempDir(), "killed"), filepath.Join(t.TempDir(), "whole")
	o := experiments.Options{Quick: true, Out: killed, IWSamples: experiments.DefaultIWSamples, Task: true}
	plan, err := experiments.Plan(context.Background(), names, o)
	if err != nil {
		t.Fatal(err)
	}
	p := plan[2] // the 2-D VAE
	args := func(out string) []string { return reproduceArgs(names, out, o, 1, p.Key) }
	cmd := exec.Command(exe, args(killed)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, _ := os.ReadFile(filepath.Join(p.Dir, zoo.MetricsFile))
		if len(b) > 0 { // an epoch is logged
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the run task ended (%v) before its first epoch was logged", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no epoch logged in 2 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	<-exited
	if p.Finished() {
		t.Fatal("the killed run counts as finished")
	}
	for _, out := range []string{killed, whole} {
		if b, err := exec.Command(exe, args(out)...).CombinedOutput(); err != nil {
			t.Fatalf("run task in %s: %v\n%s", out, err, b)
		}
	}
	if !p.Finished() {
		t.Error("the rerun run task left the run unfinished")
	}
	sameTask(t, p.Dir, filepath.Join(whole, "runs", filepath.Base(p.Dir)))
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// reproductionNumbers returns the results.json in dir without its wall
// times.
func reproductionNumbers(t *testing.T, dir string) any {
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

// TestReproduceLocalLauncher: two quick experiments that share runs, run
// by the local launcher two tasks at a time, each in its own zoo process
// with one thread — first the runs they declare (the shared ones once),
// then the experiments, which reuse them — give the numbers of the serial
// run with one thread (results.json equal but for wall times); rerunning
// reuses both experiments' reports. (CI compares `reproduce all --quick`
// the same way.)
func TestReproduceLocalLauncher(t *testing.T) {
	names := []string{"denoising", "contractive"}
	serial, par := filepath.Join(t.TempDir(), "serial"), filepath.Join(t.TempDir(), "par")
	if code, _, e := runZoo(t, append(append([]string{"reproduce"}, names...), "--quick", "--threads", "1", "--out", serial)...); code != 0 {
		t.Fatalf("serial: exit %d\n%s", code, e)
	}
	args := append(append([]string{"reproduce"}, names...), "--quick", "--launcher", "local", "--jobs", "2", "--out", par)
	code, out, errs := runZoo(t, args...)
	if code != 0 {
		t.Fatalf("parallel: exit %d\n%s", code, errs)
	}
	for _, want := range []string{"8 runs, then 2 experiments; 2 at a time, 1 thread(s) each", "[AE]   training AE (plain",
		"] run AE: done", "[denoising] == denoising:", "[contractive] == contractive:", "[8/8] run ", "] denoising: done", "] contractive: done"} {
		if !strings.Contains(errs, want) {
			t.Errorf("log lacks %q:\n%s", want, errs)
		}
	}
	// Phase 2 trains nothing: the experiments' runs are all planned.
	for _, l := range strings.Split(errs, "\n") {
		if (strings.HasPrefix(l, "[denoising]") || strings.HasPrefix(l, "[contractive]")) && strings.Contains(l, "  training ") {
			t.Errorf("an experiment task trained a run:\n%s", l)
		}
	}
	if !strings.Contains(out, "2 experiment(s)") {
		t.Errorf("stdout: %s", out)
	}
	if got, want := reproductionNumbers(t, par), reproductionNumbers(t, serial); !reflect.DeepEqual(got, want) {
		t.Errorf("the parallel reproduction's numbers differ from the serial run's:\n%v\n%v", got, want)
	}
	// The runs both experiments use (the plain AE, the Gaussian DAE) are
	// trained once, by one task, and reused by the other.
	runs := func(dir string) int { es, _ := os.ReadDir(filepath.Join(dir, "runs")); return len(es) }
	if runs(par) != runs(serial) || strings.Count(errs, "  training AE (plain") != 1 || strings.Count(errs, "  reusing AE (plain") != 2 {
		t.Errorf("%d run folders (serial: %d); the shared AE is not trained once:\n%s", runs(par), runs(serial), errs)
	}
	before, _ := os.ReadFile(filepath.Join(par, "results.json"))
	code, _, errs = runZoo(t, args...)
	if code != 0 || strings.Count(errs, "reported already") != 2 || strings.Count(errs, ": already done") != 8 {
		t.Errorf("rerun: exit %d, want both experiments reused:\n%s", code, errs)
	}
	if got, want := reproductionNumbers(t, par), reproductionNumbers(t, serial); !reflect.DeepEqual(got, want) {
		t.Errorf("the continued reproduction's numbers changed")
	}
	if after, _ := os.ReadFile(filepath.Join(par, "results.json")); len(after) == 0 || len(before) == 0 {
		t.Error("results.json missing")
	}
}

// TestReproduceSlurmDryRun writes the batch scripts of a reproduction and
// prints its plan.
func TestReproduceSlurmDryRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "rep")
	code, stdout, errs := runZoo(t, "reproduce", "all", "--quick", "--launcher", "slurm", "--dry-run", "--out", out, "--time", "01:00:00", "--threads", "2")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	runs, err0 := os.ReadFile(filepath.Join(out, "reproduce-runs.sbatch"))
	tasks, err1 := os.ReadFile(filepath.Join(out, "reproduce.sbatch"))
	report, err2 := os.ReadFile(filepath.Join(out, "reproduce-report.sbatch"))
	if err0 != nil || err1 != nil || err2 != nil {
		t.Fatal(err0, err1, err2)
	}
	for _, want := range []string{"#SBATCH --time=01:00:00\n", "#SBATCH --cpus-per-task=2\n", "'--task' '--run' \"$key\" '--threads' '2'"} {
		if !strings.Contains(string(runs), want) {
			t.Errorf("run script lacks %q:\n%s", want, runs)
		}
	}
	for _, want := range []string{"#SBATCH --time=01:00:00\n", "#SBATCH --cpus-per-task=2\n", "'--task' '--threads' '2'"} {
		if !strings.Contains(string(tasks), want) {
			t.Errorf("task script lacks %q:\n%s", want, tasks)
		}
	}
	if !strings.Contains(string(report), "'--launcher' 'local'") || !strings.Contains(stdout, "--dependency=afterok:$r") ||
		!strings.Contains(stdout, "--dependency=afterok:$e") {
		t.Errorf("report script or hint:\n%s\n%s", report, stdout)
	}
	for _, want := range []string{"phase 1: ", " independent runs (0 trained already)", "to train  AE ", "denoising, contractive", "phase 2: 9 experiments"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout)
		}
	}
	// The folder is a reproduction's: a local run may continue it.
	if code, _, errs := runZoo(t, "reproduce", "vae", "--quick", "--launcher", "slurm", "--dry-run", "--out", out); code != 0 {
		t.Errorf("writing the scripts again: exit %d\n%s", code, errs)
	}
}

// TestReproduceDryRunLocal prints the plan, writes nothing and runs
// nothing; a run task trains one run of it.
func TestReproduceDryRunLocal(t *testing.T) {
	out := filepath.Join(t.TempDir(), "rep")
	code, stdout, errs := runZoo(t, "reproduce", "vae", "--quick", "--dry-run", "--launcher", "local", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if !strings.Contains(stdout, "phase 1: 3 independent runs (0 trained already)") || !strings.Contains(stdout, "VAE (z=2)") {
		t.Fatalf("plan:\n%s", stdout)
	}
	if es, _ := os.ReadDir(out); len(es) != 0 {
		t.Errorf("a dry run wrote %d entries into %s", len(es), out)
	}
	var key string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.Contains(l, "VAE (z=2)") {
			key = strings.Fields(l)[0]
		}
	}
	code, stdout, errs = runZoo(t, "reproduce", "vae", "--quick", "--task", "--run", key, "--out", out)
	if code != 0 || !strings.Contains(stdout, "run VAE (z=2): test loss") {
		t.Fatalf("run task: exit %d\n%s\n%s", code, stdout, errs)
	}
	if code, stdout, _ := runZoo(t, "reproduce", "vae", "--quick", "--dry-run", "--out", out); code != 0 || !strings.Contains(stdout, "(1 trained already)") {
		t.Errorf("plan after the run task: exit %d\n%s", code, stdout)
	}
	for _, bad := range [][]string{
		{"reproduce", "vae", "--quick", "--run", key, "--out", out},
		{"reproduce", "vae", "--quick", "--task", "--dry-run", "--out", out},
	} {
		if code, _, _ := runZoo(t, bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
	if code, _, errs := runZoo(t, "reproduce", "vae", "--quick", "--task", "--run", "00000000", "--out", out); code != 1 || !strings.Contains(errs, "no run") {
		t.Errorf("unknown key: exit %d\n%s", code, errs)
	}
}

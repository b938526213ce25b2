package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/internal/npy"
)

// TestCLISweepUsage: a bad sweep is a one-line usage error (exit 2) naming
// the key, and nothing is created or run.
func TestCLISweepUsage(t *testing.T) {
	td := data.Testdata()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no model", []string{"sweep"}, 2, "missing MODEL"},
		{"unknown model", []string{"sweep", "diffusion", "hidden=1,2"}, 2, `unknown model "diffusion"`},
		{"unknown key", []string{"sweep", "plain", "hiden=8,16"}, 2, `sweep key "hiden"`},
		{"other model's key", []string{"sweep", "plain", "k=8,16"}, 2, `sweep key "k": model plain has no hyperparameter`},
		{"bad value", []string{"sweep", "plain", "hidden=8,big"}, 2, `sweep key "hidden": bad value "big"`},
		{"invalid value", []string{"sweep", "plain", "lr=0.1,-1"}, 2, `sweep key "lr"`},
		{"k above hidden", []string{"sweep", "topk", "hidden=8,64", "--k", "16"}, 2, `sweep key "hidden"`},
		{"no axes", []string{"sweep", "plain"}, 2, "nothing to sweep"},
		{"flag and axis", []string{"sweep", "plain", "hidden=8,16", "--hidden", "4"}, 2, "both as --hidden and as a swept key"},
		{"no out", []string{"sweep", "plain", "hidden=8,16"}, 2, "--out DIR is required"},
		{"bad launcher", []string{"sweep", "plain", "hidden=8,16", "--launcher", "pbs"}, 2, `invalid --launcher "pbs"`},
		{"k8s needs dry-run", []string{"sweep", "plain", "hidden=8,16", "--launcher", "k8s"}, 2, "--dry-run"},
		{"task no index", []string{"sweep", "task", t.TempDir()}, 2, "--index I is required"},
		{"task not a sweep", []string{"sweep", "task", t.TempDir(), "--index", "0"}, 1, "not a sweep folder"},
		{"status no dir", []string{"sweep", "status"}, 2, "want exactly one sweep folder"},
		{"report not a sweep", []string{"sweep", "report", t.TempDir()}, 1, "not a sweep folder"},
		{"report bad flag", []string{"sweep", "report", td, "--data", td}, 2, "unknown flag --data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "sw")
			args := tc.args
			if tc.name != "no out" && len(args) >= 2 && args[1] != "task" && args[1] != "status" && args[1] != "report" {
				args = append(append([]string(nil), args...), "--out", out)
			}
			code, stdout, stderr := runZoo(t, args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", tc.want, stdout, stderr)
			}
			if tc.code == 2 && strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("usage error of more than one line:\n%s", stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a bad sweep created %s", out)
			}
		})
	}
}

// TestCLISweepLocal runs a 4-task sweep through the binary with the local
// launcher (tasks as subprocesses), then status, report, and the Slurm and
// k8s dry runs of the same sweep.
func TestCLISweepLocal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sw")
	args := []string{"sweep", "denoising", "hidden=8,16", "seed=1,2", "--out", dir, "--data", data.Testdata(),
		"--epochs", "1", "--train-limit", "500", "--test-limit", "100", "--jobs", "2"}
	code, stdout, stderr := runZoo(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := strings.Count(stderr, ": done, test loss"); n != 4 || !strings.Contains(stderr, "[4/4] ") {
		t.Errorf("want 4 progress lines:\n%s", stderr)
	}
	if !strings.Contains(stdout, "4 tasks done") {
		t.Errorf("stdout: %s", stdout)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil || !strings.Contains(string(md), "| hidden | n | test loss |") || !strings.Contains(string(md), "| 8 | 2 | ") {
		t.Errorf("report.md (%v):\n%s", err, md)
	}
	// Rerun: every task is skipped.
	if code, _, stderr = runZoo(t, args...); code != 0 || strings.Count(stderr, "already done") != 4 {
		t.Errorf("rerun: exit %d\n%s", code, stderr)
	}
	// A different sweep into the same folder is refused.
	if code, _, stderr = runZoo(t, "sweep", "plain", "hidden=8", "--out", dir); code != 1 || !strings.Contains(stderr, "different sweep") {
		t.Errorf("different sweep: exit %d: %s", code, stderr)
	}
	code, stdout, _ = runZoo(t, "sweep", "status", dir, "--json")
	var st []struct {
		Index  int    `json:"index"`
		State  string `json:"state"`
		Epochs int    `json:"epochs"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &st) != nil || len(st) != 4 {
		t.Fatalf("status --json: exit %d\n%s", code, stdout)
	}
	for _, s := range st {
		if s.State != "done" || s.Epochs != 1 {
			t.Errorf("task %d: %s, %d epochs", s.Index, s.State, s.Epochs)
		}
	}
	if code, stdout, _ = runZoo(t, "sweep", "status", dir); code != 0 || !strings.Contains(stdout, "4 tasks: 4 done, 0 running") {
		t.Errorf("status: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ = runZoo(t, "sweep", "report", dir); code != 0 || !strings.Contains(stdout, "# Sweep: denoising hidden=8,16 seed=1,2") {
		t.Errorf("report: exit %d\n%s", code, stdout)
	}
	// Slurm and k8s dry runs write the script and the manifest.
	code, stdout, stderr = runZoo(t, append(args, "--launcher", "slurm", "--dry-run", "--max-parallel", "3", "--time", "0:20:00", "--mem", "2G")...)
	if code != 0 {
		t.Fatalf("slurm dry run: exit %d\n%s", code, stderr)
	}
	script, _ := os.ReadFile(filepath.Join(dir, "sweep.sbatch"))
	abs, _ := filepath.Abs(zooBin)
	for _, want := range []string{"#SBATCH --array=0-3%3", "#SBATCH --time=0:20:00", "#SBATCH --mem=2G", "'" + abs + "' sweep task '" + dir + "'"} {
		if !strings.Contains(string(script), want) {
			t.Errorf("sweep.sbatch lacks %q:\n%s", want, script)
		}
	}
	if code, _, stderr = runZoo(t, append(args, "--launcher", "k8s", "--dry-run", "--pvc", "lab")...); code != 0 {
		t.Fatalf("k8s dry run: exit %d\n%s", code, stderr)
	}
	if m, _ := os.ReadFile(filepath.Join(dir, "sweep-job.yaml")); !strings.Contains(string(m), "completionMode: Indexed") || !strings.Contains(string(m), `claimName: "lab"`) {
		t.Errorf("manifest:\n%s", m)
	}
}

// TestCLISweepData: a sweep reads the data flags of `zoo train` — a .npy
// file with --labels, and --dataset fashion-mnist where installed (CI
// installs it; AEZOO_REQUIRE_FASHION_MNIST makes its absence a failure).
func TestCLISweepData(t *testing.T) {
	tmp := t.TempDir()
	x := make([]float32, 120*784)
	y := make([]int64, 120)
	for i := range x {
		x[i] = float32(i%251) / 250
	}
	for i := range y {
		y[i] = int64(i % 10)
	}
	write := func(name string, a *npy.Array) string {
		var b bytes.Buffer
		if err := npy.Write(&b, a); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	xs, ys := write("x.npy", npy.FromFloat32s(x, 120, 28, 28)), write("y.npy", npy.FromInt64s(y, 120))
	small := []string{"--epochs", "1", "--batch", "20", "--jobs", "2"}
	dir := filepath.Join(tmp, "npy")
	code, _, stderr := runZoo(t, append([]string{"sweep", "plain", "hidden=8,16", "--out", dir, "--data", xs, "--labels", ys}, small...)...)
	if code != 0 || strings.Count(stderr, ": done, test loss") != 2 {
		t.Fatalf("npy sweep: exit %d\n%s", code, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "sweep.json"))
	if !strings.Contains(string(b), `"labels": "`+ys+`"`) {
		t.Errorf("sweep.json lacks the labels:\n%s", b)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "runs", "*", "summary.json"))
	for _, r := range runs {
		if b, _ := os.ReadFile(r); !strings.Contains(string(b), xs) {
			t.Errorf("%s does not name the data %s:\n%s", r, xs, b)
		}
	}
	if len(runs) != 2 {
		t.Errorf("%d finished runs, want 2", len(runs))
	}
	// Bad data flags are usage errors before anything is written.
	bad := filepath.Join(tmp, "bad")
	if code, _, stderr := runZoo(t, "sweep", "plain", "hidden=8,16", "--out", bad, "--data", filepath.Join(tmp, "none.npy")); code != 2 || !strings.Contains(stderr, "no such file") || exists(bad) {
		t.Errorf("missing --data: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runZoo(t, "sweep", "plain", "hidden=8,16", "--out", bad, "--dataset", "cifar"); code != 2 || !strings.Contains(stderr, "unknown data set") || exists(bad) {
		t.Errorf("unknown --dataset: exit %d, %s", code, stderr)
	}

	if _, err := data.Find(data.FashionMNIST, data.LookupOptions{}); err != nil {
		if os.Getenv("AEZOO_REQUIRE_FASHION_MNIST") != "" {
			t.Fatalf("AEZOO_REQUIRE_FASHION_MNIST is set but %v", err)
		}
		t.Skipf("Fashion-MNIST not installed (%v)", err)
	}
	dir = filepath.Join(tmp, "fashion")
	code, _, stderr = runZoo(t, append([]string{"sweep", "plain", "hidden=8,16", "--out", dir, "--dataset", "fashion-mnist", "--train-limit", "300", "--test-limit", "100"}, small...)...)
	if code != 0 || strings.Count(stderr, ": done, test loss") != 2 {
		t.Fatalf("fashion-mnist sweep: exit %d\n%s", code, stderr)
	}
	runs, _ = filepath.Glob(filepath.Join(dir, "runs", "*", "summary.json"))
	for _, r := range runs {
		if b, _ := os.ReadFile(r); !strings.Contains(string(b), "fashion-mnist") {
			t.Errorf("%s does not name Fashion-MNIST:\n%s", r, b)
		}
	}
}

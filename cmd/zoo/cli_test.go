package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/data"
)

// small are the flags of a quick training run.
var small = []string{"--epochs", "1", "--batch", "100", "--train-limit", "500", "--test-limit", "100", "--quiet"}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// TestCLI is a table test over the command line: flags before and after
// the positional arguments of every command, help for every command,
// suggestions, completion, version, and validation before side effects.
func TestCLI(t *testing.T) {
	td := data.Testdata()
	vae := trainRun(t, "vae", "--latent", "4", "--hidden", "32")
	tmp := t.TempDir()
	type tc struct {
		name string
		args []string
		code int
		want []string // in stdout+stderr
		// none lists paths that must not exist afterwards.
		none []string
	}
	cases := []tc{
		// Flags before and after positionals, for every command.
		{"train flags first", []string{"train", "--epochs", "1", "--batch", "100", "plain", "--out", filepath.Join(tmp, "a"), "--data", td, "--train-limit", "500", "--test-limit", "100", "--quiet", "--hidden", "8"}, 0, []string{"(1 epoch, ", "→ " + filepath.Join(tmp, "a")}, nil},
		{"train flags last", []string{"train", "plain", "--hidden", "8", "--out", filepath.Join(tmp, "b"), "--data", td, "--epochs", "1", "--batch", "100", "--train-limit", "500", "--test-limit", "100", "--quiet"}, 0, []string{"(1 epoch, "}, nil},
		{"train --flag=value", []string{"train", "--epochs=1", "plain", "--hidden=8", "--out=" + filepath.Join(tmp, "c"), "--data=" + td, "--batch=100", "--train-limit=500", "--test-limit=100", "--quiet=true"}, 0, []string{"(1 epoch, "}, nil},
		{"eval flags first", []string{"eval", "--data", td, vae}, 0, []string{"test loss"}, nil},
		{"eval flags last", []string{"eval", vae, "--data", td}, 0, []string{"test loss"}, nil},
		{"sample flags first", []string{"sample", "--n", "4", "--out", filepath.Join(tmp, "s1.png"), vae}, 0, []string{"4 samples"}, nil},
		{"sample flags last", []string{"sample", vae, "--n", "4", "--out", filepath.Join(tmp, "s2.png")}, 0, []string{"4 samples"}, nil},
		{"bench flags first", []string{"bench", "--steps", "0", "ae512"}, 2, []string{"invalid --steps 0"}, nil},
		{"bench flags last", []string{"bench", "ae512", "--steps", "0"}, 2, []string{"invalid --steps 0"}, nil},
		{"reproduce flags first", []string{"reproduce", "--iw-samples", "0", "vae"}, 2, []string{"invalid --iw-samples 0"}, nil},
		{"reproduce flags last", []string{"reproduce", "vae", "--iw-samples", "0"}, 2, []string{"invalid --iw-samples 0"}, nil},
		{"finetune flags first", []string{"finetune", "--epochs", "0", vae}, 2, []string{"invalid --epochs 0"}, nil},
		{"finetune flags last", []string{"finetune", vae, "--epochs", "0"}, 2, []string{"invalid --epochs 0"}, nil},
		{"sweep flags first", []string{"sweep", "--launcher", "pbs", "--lambda", "0.1", "sparse", "hidden=8,16", "--out", filepath.Join(tmp, "sw1")}, 2, []string{`invalid --launcher "pbs"`}, []string{filepath.Join(tmp, "sw1")}},
		{"sweep flags last", []string{"sweep", "sparse", "hidden=8,16", "--lambda", "0.1", "--out", filepath.Join(tmp, "sw2"), "--launcher", "pbs"}, 2, []string{`invalid --launcher "pbs"`}, []string{filepath.Join(tmp, "sw2")}},
		{"sweep flags between axes", []string{"sweep", "sparse", "hidden=8,16", "--out", filepath.Join(tmp, "sw3"), "seed=1,2", "--launcher=slurm", "--dry-run", "--data", td, "--epochs", "1"}, 0, []string{"(4 tasks)"}, nil},
		{"sweep status flags first", []string{"sweep", "status", "--json", filepath.Join(tmp, "sw3")}, 0, []string{`"state": "pending"`}, nil},
		{"list flag", []string{"list", "--json"}, 0, []string{`"name": "plain"`}, nil},
		{"global flag first", []string{"--threads", "1", "list"}, 0, []string{"plain"}, nil},
		{"version flag", []string{"version", "--json"}, 0, []string{`"go": "go1.`, `"gemm"`, `"cores"`}, nil},
		{"completion flag first", []string{"--threads", "1", "completion", "bash"}, 0, []string{"zoo"}, nil},

		// Help for every command.
		{"help", []string{"help"}, 0, []string{"Usage:", "train", "bench", "version", "completion"}, nil},
		{"help train plain", []string{"help", "train", "plain"}, 0, []string{"Training flags:", "Model flags (plain):", "--hidden int", "Global flags:", "--threads"}, nil},
		{"help train vae", []string{"train", "vae", "--help"}, 0, []string{"Model flags (vae):", "--latent sizes", "--layers2 string", "--beta float"}, nil},
		{"help sweep sparse", []string{"help", "sweep", "sparse"}, 0, []string{"zoo sweep sparse KEY=V1,V2", "Launcher flags:", "Training flags:", "Model flags (sparse):", "--lambda float"}, nil},
		{"help sweep status", []string{"sweep", "status", "--help"}, 0, []string{"Usage:\n  zoo sweep status DIR", "--json"}, nil},

		// Suggestions and hints.
		{"misspelled model", []string{"train", "vea", "--out", filepath.Join(tmp, "x")}, 2, []string{`unknown model "vea"; did you mean "vae"?`, "plain, sparse, topk"}, []string{filepath.Join(tmp, "x")}},
		{"misspelled command", []string{"trian", "plain"}, 2, []string{`unknown command "trian"; did you mean "train"?`}, nil},
		{"misspelled flag", []string{"train", "plain", "--hiden", "3"}, 2, []string{"unknown flag --hiden; did you mean --hidden?"}, nil},
		{"bool with a space", []string{"train", "topk", "--tied", "false", "--out", filepath.Join(tmp, "y")}, 2, []string{"write --tied=false"}, []string{filepath.Join(tmp, "y")}},
		{"bool with =", []string{"train", "topk", "--tied=false", "--out", filepath.Join(tmp, "z"), "--data", td, "--hidden", "32", "--k", "4"}, 0, nil, nil}, // epochs etc. from small below
		{"single dash", []string{"list", "-json"}, 2, []string{"flags take two dashes: --json"}, nil},

		// Completion scripts and completion of names.
		{"completion zsh", []string{"completion", "zsh"}, 0, []string{"#compdef zoo"}, nil},
		{"completion fish", []string{"completion", "fish"}, 0, []string{"complete -c zoo"}, nil},
		{"completion bad shell", []string{"completion", "tcsh"}, 2, []string{"unknown shell"}, nil},
		{"complete models", []string{"__complete", "train", ""}, 0, []string{"plain\t", "vae\t", "lineardae\t"}, nil},
		{"complete experiments", []string{"__complete", "reproduce", ""}, 0, []string{"denoising\t", "linear-dae-svd\t", "all\t"}, nil},
		{"complete model flags", []string{"__complete", "train", "sparse", "--spa"}, 0, []string{"--sparsity"}, nil},
		{"complete sweep models", []string{"__complete", "sweep", ""}, 0, []string{"plain\t", "status\t", "report\t"}, nil},
		{"complete sweep keys", []string{"__complete", "sweep", "sparse", "hidden=8,16", ""}, 0, []string{"lambda=", "seed=", "lr="}, nil},
		{"complete sweep model flags", []string{"__complete", "sweep", "sparse", "--spa"}, 0, []string{"--sparsity"}, nil},
		{"complete flag values", []string{"__complete", "train", "plain", "--activation", ""}, 0, []string{"relu", "tanh"}, nil},

		// Validation before side effects: no folder or file is written.
		{"missing data", []string{"train", "plain", "--out", filepath.Join(tmp, "d1"), "--data", filepath.Join(tmp, "nowhere")}, 2, []string{"nowhere"}, []string{filepath.Join(tmp, "d1")}},
		{"epochs 0", []string{"train", "plain", "--out", filepath.Join(tmp, "d2"), "--epochs", "0"}, 2, []string{"invalid --epochs 0"}, []string{filepath.Join(tmp, "d2")}},
		{"bad hyperparameter", []string{"train", "plain", "--out", filepath.Join(tmp, "d3"), "--hidden", "0"}, 2, []string{"invalid --hidden 0"}, []string{filepath.Join(tmp, "d3")}},
		{"bad threads", []string{"train", "plain", "--out", filepath.Join(tmp, "d4"), "--threads", "-1"}, 2, []string{"invalid --threads -1"}, []string{filepath.Join(tmp, "d4")}},
		{"manifold on a 4-D latent", []string{"sample", vae, "--manifold", filepath.Join(tmp, "m.png")}, 2, []string{"--manifold needs a 2-D latent space"}, []string{filepath.Join(tmp, "m.png"), filepath.Join(vae, "samples.png")}},
		{"unknown image extension", []string{"sample", vae, "--out", filepath.Join(tmp, "s.gif")}, 2, []string{`unknown image extension ".gif"`}, []string{filepath.Join(tmp, "s.gif")}},
	}
	for i := range cases {
		if cases[i].name == "bool with =" {
			cases[i].args = append(cases[i].args, small...)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runZoo(t, c.args...)
			if code != c.code {
				t.Errorf("zoo %v: exit code %d, want %d\nstdout: %s\nstderr: %s", c.args, code, c.code, out, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(out+errs, w) {
					t.Errorf("zoo %v: output lacks %q\nstdout: %s\nstderr: %s", c.args, w, out, errs)
				}
			}
			if c.code != 0 && strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("zoo %v: error of more than one line:\n%s", c.args, errs)
			}
			for _, p := range c.none {
				if exists(p) {
					t.Errorf("zoo %v: %s was created", c.args, p)
				}
			}
		})
	}
	// zoo help CMD for every command.
	for _, cmd := range []string{"list", "train", "eval", "finetune", "sample", "bench", "reproduce", "datasets", "sweep", "version", "completion"} {
		code, out, errs := runZoo(t, "help", cmd)
		if code != 0 || !strings.Contains(out, "Usage:\n  zoo "+cmd) {
			t.Errorf("zoo help %s: exit %d\n%s%s", cmd, code, out, errs)
		}
		code, out2, _ := runZoo(t, cmd, "--help")
		if code != 0 || out2 != out {
			t.Errorf("zoo %s --help differs from zoo help %s", cmd, cmd)
		}
	}
}

// TestCLIVersion checks `zoo version` against the summary of a run.
func TestCLIVersion(t *testing.T) {
	code, out, errs := runZoo(t, "version")
	if code != 0 || !regexp.MustCompile(`^zoo \S+.*, go1\.\d+.*, GEMM (openblas\S*|vek-avx2|vek-go)\n\d+ cores, \d+ threads \(CPU only\)\n$`).MatchString(out) {
		t.Errorf("zoo version: exit %d\n%q\n%s", code, out, errs)
	}
}

// TestCLIRunOutputs checks what a run writes and how eval reports it:
// summary.json's schema, metrics.jsonl with --eval-every and
// --log-every, --threads recorded, and a stable aligned eval table.
func TestCLIRunOutputs(t *testing.T) {
	td := data.Testdata()
	run := filepath.Join(t.TempDir(), "topk")
	args := []string{"train", "topk", "--out", run, "--data", td, "--epochs", "3", "--eval-every", "2", "--log-every", "2",
		"--batch", "100", "--train-limit", "500", "--test-limit", "100", "--hidden", "32", "--k", "4", "--threads", "1", "--quiet"}
	if code, o, e := runZoo(t, args...); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, o, e)
	}
	// metrics.jsonl: a line per epoch, test metrics on epochs 2 and 3, and
	// a step line every 2 steps.
	b, err := os.ReadFile(filepath.Join(run, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var epochs []map[string]any
	steps := 0
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		if m["kind"] == "step" {
			steps++
			continue
		}
		epochs = append(epochs, m)
	}
	if len(epochs) != 3 || steps != 7 { // 15 steps, a line every 2
		t.Fatalf("metrics.jsonl: %d epoch lines, %d step lines, want 3 and 7:\n%s", len(epochs), steps, b)
	}
	for i, m := range epochs {
		_, hasTrain := m["train_loss"]
		_, hasTest := m["test_loss"]
		if !hasTrain || hasTest != (i > 0) {
			t.Errorf("epoch %d line: train_loss %v, test_loss %v: %v", i+1, hasTrain, hasTest, m)
		}
	}
	// summary.json: each value once, the model's own settings, build and host.
	b, err = os.ReadFile(filepath.Join(run, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"figures", "test", "test_recon", "test_penalty"} {
		if _, ok := sum[k]; ok {
			t.Errorf("summary.json has %q: %s", k, b)
		}
	}
	for _, k := range []string{"schema", "zoo", "host", "written", "units", "steps", "seconds", "test_loss", "test_terms", "test_code"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary.json lacks %q: %s", k, b)
		}
	}
	cfg, _ := sum["config"].(map[string]any)
	for _, k := range []string{"latent", "noise", "rho", "beta"} {
		if _, ok := cfg[k]; ok {
			t.Errorf("summary.json config has another model's %q: %v", k, cfg)
		}
	}
	if cfg["k"] != float64(4) || cfg["hidden"] != float64(32) {
		t.Errorf("summary.json config: %v", cfg)
	}
	if h, _ := sum["host"].(map[string]any); h["threads"] != float64(1) || h["cores"] == nil {
		t.Errorf("summary.json host: %v", sum["host"])
	}
	// eval --json: the run's steps and seconds.
	code, out, errs := runZoo(t, "eval", run, "--json", "--data", td)
	if code != 0 {
		t.Fatalf("eval: %d %s", code, errs)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatal(err)
	}
	if ev["steps"] != float64(15) || ev["seconds"] != sum["seconds"] || ev["test_loss"] != sum["test_loss"] {
		t.Errorf("eval --json: steps %v seconds %v loss %v; summary %v %v", ev["steps"], ev["seconds"], ev["test_loss"], sum["seconds"], sum["test_loss"])
	}
	// eval: the same table every time, in a fixed order, integers as integers.
	var first string
	for i := 0; i < 4; i++ {
		_, out, _ := runZoo(t, "eval", run, "--data", td)
		if i == 0 {
			first = out
		} else if out != first {
			t.Fatalf("eval output changed between calls:\n%s\n---\n%s", first, out)
		}
	}
	order := []string{"test loss", "recon", "BCE", "MSE", "code units", "dead units", "mean activation", "active fraction"}
	last := -1
	for _, name := range order {
		i := strings.Index(first, "  "+name+" ")
		if i < last {
			t.Errorf("eval: %q out of order:\n%s", name, first)
		}
		last = i
	}
	if !regexp.MustCompile(`(?m)^  dead units +\d+$`).MatchString(first) || !regexp.MustCompile(`(?m)^  code units +32$`).MatchString(first) {
		t.Errorf("eval: units not printed as integers:\n%s", first)
	}
	// Aligned: the values end in the same column.
	col := -1
	for _, l := range strings.Split(strings.TrimSpace(first), "\n")[1:] {
		f := strings.Fields(l)
		end := strings.Index(l, " "+valueOf(f)) + 1 + len(valueOf(f))
		if col >= 0 && end != col {
			t.Errorf("eval: misaligned row %q", l)
		}
		col = end
	}
}

// valueOf returns the first field of a table row that is a number.
func valueOf(fields []string) string {
	for _, f := range fields {
		if regexp.MustCompile(`^-?[0-9.]+$`).MatchString(f) {
			return f
		}
	}
	return ""
}

// TestCLIResume resumes a run with its original command line, which is
// accepted, and with a changed setting, which is refused naming both
// values; the final line names the folder and counts epochs right.
func TestCLIResume(t *testing.T) {
	td := data.Testdata()
	run := filepath.Join(t.TempDir(), "run")
	orig := []string{"train", "plain", "--out", run, "--data", td, "--hidden", "16", "--batch", "100", "--train-limit", "500", "--test-limit", "100", "--quiet"}
	if code, o, e := runZoo(t, append(orig, "--epochs", "1")...); code != 0 || !strings.Contains(o, "(1 epoch, ") {
		t.Fatalf("exit %d\n%s\n%s", code, o, e)
	}
	code, o, e := runZoo(t, append(orig, "--epochs", "2", "--resume", run)...)
	if code != 0 || !strings.Contains(o, "(2 epochs, ") || !strings.HasSuffix(strings.TrimSpace(o), "→ "+run) {
		t.Fatalf("resume with the original command line: exit %d\n%s\n%s", code, o, e)
	}
	code, o, e = runZoo(t, "train", "--resume", run, "--epochs", "3", "--data", td, "--quiet")
	if code != 0 || !strings.Contains(o, "(3 epochs, ") || !strings.HasSuffix(strings.TrimSpace(o), "→ "+run) {
		t.Fatalf("resume without settings: exit %d\n%s\n%s", code, o, e)
	}
	code, o, e = runZoo(t, "train", "--resume", run, "--epochs", "3", "--hidden", "16", "--batch", "100", "--data", td, "--quiet")
	if code != 0 || !strings.Contains(o, "(3 epochs, ") {
		t.Fatalf("resume without MODEL, with the model's flags: exit %d\n%s\n%s", code, o, e)
	}
	code, _, e = runZoo(t, append(orig, "--epochs", "4", "--hidden", "32", "--lr", "0.01", "--resume", run)...)
	if code != 2 || !strings.Contains(e, "--hidden, --lr cannot be changed") || !strings.Contains(e, "--hidden=16") || !strings.Contains(e, "--hidden=32") || !strings.Contains(e, "--lr=0.01") {
		t.Errorf("resume with changed settings: exit %d\n%s", code, e)
	}
	// A run killed before its first epoch's end has a checkpoint but no
	// saved model (config.json): the model's flags come from the checkpoint.
	os.Remove(filepath.Join(run, "config.json"))
	os.RemoveAll(filepath.Join(run, "weights"))
	code, o, e = runZoo(t, "train", "--resume", run, "--epochs", "4", "--hidden", "16", "--data", td, "--quiet")
	if code != 0 || !strings.Contains(o, "(4 epochs, ") {
		t.Fatalf("resume without a saved model, with the model's flags: exit %d\n%s\n%s", code, o, e)
	}
	// A folder with neither: one clear line.
	empty := t.TempDir()
	code, _, e = runZoo(t, "train", "--resume", empty, "--hidden", "16")
	if code != 2 || !strings.Contains(e, empty+" holds no checkpoint") || strings.Count(strings.TrimSpace(e), "\n") > 0 {
		t.Errorf("resume of an empty folder with a model's flag: exit %d\n%s", code, e)
	}
}

// TestCLISample checks zoo sample's outputs: inside the run folder by
// default, PNG or JPEG after the extension, the manifold of a 2-D model.
func TestCLISample(t *testing.T) {
	run := trainRun(t, "vae", "--latent", "2", "--hidden", "32")
	jpg := filepath.Join(t.TempDir(), "s.jpg")
	man := filepath.Join(t.TempDir(), "m.png")
	if code, o, e := runZoo(t, "sample", run, "--n", "8"); code != 0 || !strings.Contains(o, filepath.Join(run, "samples.png")) {
		t.Fatalf("exit %d\n%s\n%s", code, o, e)
	}
	if code, o, e := runZoo(t, "sample", run, "--n", "8", "--out", jpg, "--manifold", man, "--grid", "4"); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, o, e)
	}
	for path, magic := range map[string][]byte{filepath.Join(run, "samples.png"): []byte("\x89PNG"), jpg: {0xff, 0xd8}, man: []byte("\x89PNG")} {
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(b, magic) {
			t.Errorf("%s: %v, starts % x", path, err, b[:min(4, len(b))])
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/data"
)

var zooBin string

// TestMain builds the zoo binary once, so tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "zoo-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	zooBin = filepath.Join(dir, "zoo")
	if out, err := exec.Command("go", "build", "-o", zooBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building zoo: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runZoo runs the binary and returns exit code, stdout and stderr.
func runZoo(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(zooBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if s := errb.String(); strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ") {
		t.Errorf("zoo %v printed a panic trace:\n%s", args, s)
	}
	return code, out.String(), errb.String()
}

func TestCLIUsage(t *testing.T) {
	td := data.Testdata()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stdout+stderr
	}{
		{"no args", nil, 2, "Usage"},
		{"help", []string{"--help"}, 0, "zoo train"},
		{"unknown command", []string{"fly"}, 2, `unknown command "fly"`},
		{"list", []string{"list"}, 0, "--hidden=256"},
		{"list bad flag", []string{"list", "--xml"}, 2, "unknown flag --xml"},
		{"train help", []string{"train", "plain", "--help"}, 0, "-hidden"},
		{"train no model", []string{"train"}, 2, "missing MODEL"},
		{"train unknown model", []string{"train", "diffusion", "--out", t.TempDir()}, 2, `unknown model "diffusion"`},
		{"train no out", []string{"train", "plain"}, 2, "--out DIR is required"},
		{"train bad flag", []string{"train", "plain", "--out", t.TempDir(), "--hiden", "3"}, 2, "unknown flag --hiden"},
		{"train bad number", []string{"train", "plain", "--out", t.TempDir(), "--epochs", "many"}, 2, "invalid value"},
		{"train zero hidden", []string{"train", "plain", "--out", t.TempDir(), "--hidden", "0"}, 2, "invalid --hidden 0"},
		{"train negative lr", []string{"train", "plain", "--out", t.TempDir(), "--lr", "-1"}, 2, "invalid --lr"},
		{"train zero batch", []string{"train", "plain", "--out", t.TempDir(), "--batch", "0"}, 2, "invalid --batch"},
		{"train negative epochs", []string{"train", "plain", "--out", t.TempDir(), "--epochs", "-2"}, 2, "invalid --epochs"},
		{"train bad activation", []string{"train", "plain", "--out", t.TempDir(), "--activation", "swish"}, 2, "invalid --activation"},
		{"train missing data", []string{"train", "plain", "--out", t.TempDir(), "--data", filepath.Join(t.TempDir(), "nothing")}, 2, "nothing: no such file or folder"},
		{"train data without files", []string{"train", "plain", "--out", t.TempDir(), "--data", t.TempDir()}, 1, "train-images-idx3-ubyte"},
		{"eval no dir", []string{"eval"}, 2, "want exactly one run folder"},
		{"eval missing dir", []string{"eval", filepath.Join(t.TempDir(), "none"), "--data", td}, 1, "zoo train"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runZoo(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			if !strings.Contains(out+errs, tc.want) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", tc.want, out, errs)
			}
		})
	}
}

func TestCLIListJSON(t *testing.T) {
	code, out, _ := runZoo(t, "list", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var infos []modelInfo
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatal(err)
	}
	if len(infos) == 0 || infos[0].Name != "plain" || infos[0].Defaults["hidden"] != float64(256) {
		t.Errorf("unexpected list: %+v", infos)
	}
}

func TestCLITrainEval(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runZoo(t, "train", "plain", "--out", out, "--data", data.Testdata(),
		"--hidden", "16", "--epochs", "1", "--batch", "100", "--test-limit", "200")
	if code != 0 {
		t.Fatalf("train exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "epoch 1:") {
		t.Errorf("no epoch line on stderr: %q", stderr)
	}
	code, stdout, stderr = runZoo(t, "eval", out, "--json", "--data", data.Testdata())
	if code != 0 {
		t.Fatalf("eval exit %d\n%s\n%s", code, stdout, stderr)
	}
	var s struct {
		TestLoss float64 `json:"test_loss"`
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	var sum struct {
		TestLoss float64 `json:"test_loss"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if s.TestLoss != sum.TestLoss || s.TestLoss == 0 {
		t.Errorf("zoo eval test loss %v, summary.json %v", s.TestLoss, sum.TestLoss)
	}
}

func TestRunInProcess(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"list"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "plain") {
		t.Errorf("run list: code %d, out %q, err %q", code, out.String(), errb.String())
	}
}

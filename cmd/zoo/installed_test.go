package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstalledBinaryNeedsNoCheckout builds zoo in a temporary git clone of
// this repository (its committed HEAD), deletes the clone, and runs the
// binary from / with no data flags: the embedded MNIST subset must be
// found without the source tree. (.ci/run also runs the full
// `zoo reproduce all --quick` this way.)
func TestInstalledBinaryNeedsNoCheckout(t *testing.T) {
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout (%v): nothing to clone", err)
	}
	tmp := t.TempDir()
	clone := filepath.Join(tmp, "clone")
	if out, err := exec.Command("git", "clone", "-q", strings.TrimSpace(string(root)), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	bin := filepath.Join(tmp, "bin", "zoo")
	build := exec.Command("go", "build", "-buildvcs=false", "-o", bin, "./cmd/zoo")
	build.Dir = clone
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in the clone: %v\n%s", err, out)
	}
	if err := os.RemoveAll(clone); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = "/"
		// No AEZOO_DATA: the binary must not need anything on disk.
		cmd.Env = append(os.Environ(), "AEZOO_DATA=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("zoo %s from /: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	found := false
	for _, line := range strings.Split(run("datasets"), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "mnist-subset" && f[1] == "found" {
			found = true
		}
	}
	if !found {
		t.Error("zoo datasets from / does not list the embedded subset as found")
	}
	out := run("train", "plain", "--dataset", "mnist-subset", "--hidden", "16", "--epochs", "1", "--batch", "50",
		"--train-limit", "500", "--test-limit", "100", "--quiet", "--out", filepath.Join(tmp, "run"))
	if !strings.Contains(out, "plain: test loss") {
		t.Errorf("unexpected output:\n%s", out)
	}
}

package main

import (
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/aezoo/aezoo/data"
	"github.com/creack/pty"
)

// ansi matches the escape sequences the progress display writes.
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// trainArgs trains a small model for two epochs, long enough in steps for
// the bar to be redrawn.
func trainArgs(out string) []string {
	return []string{"train", "vae", "--out", out, "--data", data.Testdata(), "--epochs", "2", "--batch", "10",
		"--train-limit", "2000", "--test-limit", "500", "--hidden", "64", "--latent", "4"}
}

// TestProgressInTerminal runs `zoo train` with its stderr on a
// pseudo-terminal of 50 and 120 columns: no segment of output (between carriage returns and
// newlines, escape sequences removed) may be as wide as the terminal, so
// nothing wraps; the bar must show step/total and samples/s, and the
// spinner what the zoo is doing.
func TestProgressInTerminal(t *testing.T) {
	for _, cols := range []uint16{50, 120} {
		cmd := exec.Command(zooBin, trainArgs(filepath.Join(t.TempDir(), "run"))...)
		var stdout strings.Builder
		cmd.Stdout = &stdout // only stderr, where the progress goes, is the terminal
		f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: cols})
		if err != nil {
			t.Skipf("no pseudo-terminal: %v", err)
		}
		b, err := io.ReadAll(f)
		if err != nil && !errors.Is(err, syscall.EIO) { // EIO: the child closed the terminal
			t.Fatal(err)
		}
		f.Close()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%d columns: %v\n%q", cols, err, b)
		}
		out := string(b)
		var segs []string
		for _, line := range strings.Split(out, "\n") {
			for _, seg := range strings.Split(line, "\r") {
				seg = ansi.ReplaceAllString(seg, "")
				if n := utf8.RuneCountInString(seg); n >= int(cols) {
					t.Errorf("%d columns: a segment of %d characters wraps: %q", cols, n, seg)
				}
				segs = append(segs, seg)
			}
		}
		all := strings.Join(segs, "\n")
		if !strings.Contains(stdout.String(), "(2 epochs, ") {
			t.Errorf("%d columns: final line %q", cols, stdout.String())
		}
		for _, want := range []string{"/200", "/s", "loading data", "evaluating", "epoch 1:", "epoch 2:"} {
			if !strings.Contains(all, want) {
				t.Errorf("%d columns: output lacks %q:\n%s", cols, want, all)
			}
		}
		if cols == 120 && !strings.Contains(all, "samples/s") {
			t.Errorf("120 columns: the bar lacks samples/s:\n%s", all)
		}
		if !strings.Contains(out, "\r") {
			t.Errorf("%d columns: no carriage return: the bar was never redrawn", cols)
		}
	}
}

// TestProgressRedirected checks that with stderr redirected the log has
// one line per epoch and no carriage returns or escape sequences.
func TestProgressRedirected(t *testing.T) {
	code, stdout, stderr := runZoo(t, trainArgs(filepath.Join(t.TempDir(), "run"))...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.ContainsAny(stderr, "\r\x1b") {
		t.Errorf("redirected log has carriage returns or escapes: %q", stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "epoch 1: ") || !strings.HasPrefix(lines[1], "epoch 2: ") {
		t.Errorf("want two epoch lines, got:\n%s", stderr)
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("epoch line of %d characters: %s", n, l)
		}
	}
}

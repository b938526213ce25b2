package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/data"
)

// snapshot returns every file under dir with its content, to check that
// nothing changed.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		m[strings.TrimPrefix(p, dir)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sameSnapshot(t *testing.T, what string, a, b map[string]string) {
	t.Helper()
	if len(a) != len(b) {
		t.Errorf("%s: %d files before, %d after", what, len(a), len(b))
	}
	for k, v := range a {
		if b[k] != v {
			t.Errorf("%s: %s changed", what, k)
		}
	}
}

// TestOutputFolderRules runs `zoo train` and `zoo reproduce` on output
// folders that are not empty: each is refused with a message naming what
// is there and the options, and loses nothing; --overwrite replaces a run
// and says so, keeping unrelated files.
func TestOutputFolderRules(t *testing.T) {
	td := data.Testdata()
	small := []string{"--data", td, "--epochs", "1", "--batch", "100", "--train-limit", "500", "--test-limit", "100", "--hidden", "8"}
	finished := trainRun(t, "plain", "--hidden", "16")
	var sum struct {
		TestLoss float64 `json:"test_loss"`
	}
	b, _ := os.ReadFile(filepath.Join(finished, "summary.json"))
	json.Unmarshal(b, &sum)
	unfinished := trainRun(t, "plain", "--hidden", "16")
	os.Remove(filepath.Join(unfinished, "summary.json"))
	notes := t.TempDir()
	os.WriteFile(filepath.Join(notes, "notes.txt"), []byte("mine"), 0o644)
	mixed := trainRun(t, "plain", "--hidden", "16")
	os.WriteFile(filepath.Join(mixed, "notes.txt"), []byte("mine"), 0o644)
	absent := filepath.Join(t.TempDir(), "new", "run")

	for _, tc := range []struct {
		name string
		dir  string
		args []string
		code int
		want []string // in stderr
		kept bool     // every file of dir is unchanged
		keep []string // files that must survive
	}{
		{"existing finished run", finished, append([]string{"train", "plain", "--out", finished}, small...), 1,
			[]string{finished + " already holds a finished plain run (1 epochs, test loss " + strconv.FormatFloat(sum.TestLoss, 'f', 4, 64) + ")",
				"--resume " + finished, "--overwrite"}, true, nil},
		{"existing unfinished run", unfinished, append([]string{"train", "vae", "--out", unfinished}, small...), 1,
			[]string{"already holds an unfinished plain run (checkpoint after epoch 1, step 5)", "--resume " + unfinished, "--overwrite"}, true, nil},
		{"existing unrelated files", notes, append([]string{"train", "plain", "--out", notes}, small...), 1,
			[]string{notes + " is not empty (notes.txt) and holds no run", "--overwrite"}, true, nil},
		{"resume into a folder with a run", finished, []string{"train", "--resume", unfinished, "--out", finished, "--data", td}, 1,
			[]string{"already holds a finished plain run", "--overwrite"}, true, nil},
		{"reproduce into unrelated files", notes, []string{"reproduce", "linear-dae-svd", "--quick", "--out", notes}, 1,
			[]string{"not a reproduction's (notes.txt)", "--overwrite"}, true, nil},
		{"absent folder", absent, append([]string{"train", "plain", "--out", absent}, small...), 0, nil, false, []string{"summary.json"}},
		{"overwrite a finished run", finished, append([]string{"train", "plain", "--out", finished, "--overwrite"}, small...), 0,
			[]string{"--overwrite: replacing a finished plain run (1 epochs"}, false, []string{"summary.json"}},
		{"overwrite beside unrelated files", mixed, append([]string{"train", "plain", "--out", mixed, "--overwrite"}, small...), 0,
			[]string{"--overwrite: replacing a finished plain run", "which are kept: notes.txt"}, false, []string{"notes.txt", "summary.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before map[string]string
			if tc.kept {
				before = snapshot(t, tc.dir)
			}
			code, out, errs := runZoo(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if tc.kept {
				sameSnapshot(t, tc.name, before, snapshot(t, tc.dir))
			}
			for _, f := range tc.keep {
				if _, err := os.Stat(filepath.Join(tc.dir, f)); err != nil {
					t.Errorf("%s missing: %v", f, err)
				}
			}
			if tc.code == 0 {
				if b, _ := os.ReadFile(filepath.Join(tc.dir, "config.json")); !bytes.Contains(b, []byte(`"hidden": 8`)) {
					t.Errorf("config.json is not the new run's:\n%s", b)
				}
			}
			if _, err := os.Stat(filepath.Join(tc.dir, ".zoo.lock")); !os.IsNotExist(err) {
				t.Errorf("lock file left behind: %v", err)
			}
		})
	}
}

// startZoo starts the binary with extra environment variables and returns
// the command and a channel of its stderr lines.
func startZoo(t *testing.T, env []string, args ...string) (*exec.Cmd, <-chan string, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(zooBin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1000)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			lines <- sc.Text()
		}
		close(lines)
	}()
	return cmd, lines, &log
}

// waitFor reads lines until one starts with prefix.
func waitFor(t *testing.T, lines <-chan string, prefix string) string {
	t.Helper()
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the process ended before printing %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no %q after 2 minutes", prefix)
		}
	}
}

// TestConcurrentRuns starts a second process on a run folder in use: it is
// refused with the holder's pid before touching anything. Two processes
// started together on one new folder: one trains, the other is refused.
func TestConcurrentRuns(t *testing.T) {
	td := data.Testdata()
	common := []string{"--data", td, "--hidden", "16", "--batch", "10", "--train-limit", "500", "--test-limit", "100"}
	dir := filepath.Join(t.TempDir(), "run")
	first, lines, _ := startZoo(t, nil, append([]string{"train", "plain", "--out", dir, "--epochs", "1000"}, common...)...)
	waitFor(t, lines, "epoch 1:")
	want := fmt.Sprintf("%s is in use by pid %d", dir, first.Process.Pid)
	for _, args := range [][]string{
		append([]string{"train", "plain", "--out", dir, "--epochs", "1"}, common...),
		append([]string{"train", "plain", "--out", dir, "--epochs", "1", "--overwrite"}, common...),
		{"train", "--resume", dir, "--data", td},
		{"train", "--resume", dir, "--out", filepath.Join(t.TempDir(), "copy"), "--data", td},
		{"reproduce", "linear-dae-svd", "--quick", "--out", dir},
	} {
		code, _, errs := runZoo(t, args...)
		if code != 1 || !strings.Contains(errs, want) {
			t.Errorf("zoo %v: exit %d, stderr %q; want exit 1 and %q", args, code, errs, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "metrics.jsonl")); err != nil {
		t.Errorf("the first run's files were touched: %v", err)
	}
	first.Process.Kill()
	first.Wait()

	// Two processes started together on a new folder.
	dir = filepath.Join(t.TempDir(), "race")
	var wg sync.WaitGroup
	codes, errs := make([]int, 2), make([]string, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, errs[i] = runZoo(t, append([]string{"train", "plain", "--out", dir, "--epochs", "1", "--seed", strconv.Itoa(i + 1), "--quiet"}, common...)...)
		}()
	}
	wg.Wait()
	winner := -1
	for i := range 2 {
		if codes[i] == 0 {
			winner = i
		}
	}
	if winner < 0 || codes[1-winner] != 1 ||
		!(strings.Contains(errs[1-winner], "is in use by pid") || strings.Contains(errs[1-winner], "already holds a finished plain run")) {
		t.Fatalf("exit codes %v, stderr %q", codes, errs)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	if !bytes.Contains(bytes.ReplaceAll(b, []byte(" "), nil), []byte(fmt.Sprintf(`"seed":%d`, winner+1))) {
		t.Errorf("config.json is not the winner's (seed %d):\n%s", winner+1, b)
	}
}

// normalized returns a run's weights and metrics (timings removed) and
// its final test loss, for bit-for-bit comparison.
func normalized(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	ws, err := filepath.Glob(filepath.Join(dir, "weights", "*.npy"))
	if err != nil || len(ws) == 0 {
		t.Fatalf("no weights in %s", dir)
	}
	for _, w := range ws {
		b, _ := os.ReadFile(w)
		m[filepath.Base(w)] = string(b)
	}
	b, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var l map[string]any
		json.Unmarshal(line, &l)
		delete(l, "seconds")
		delete(l, "samples_per_s")
		j, _ := json.Marshal(l)
		m[fmt.Sprintf("metrics line %d", i+1)] = string(j)
	}
	var s map[string]any
	b, _ = os.ReadFile(filepath.Join(dir, "summary.json"))
	json.Unmarshal(b, &s)
	delete(s, "seconds")
	delete(s, "written")
	j, _ := json.Marshal(s)
	m["summary"] = string(j)
	return m
}

func sameRun(t *testing.T, ref, got string) {
	t.Helper()
	a, b := normalized(t, ref), normalized(t, got)
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(a) != len(b) {
		t.Errorf("%d items vs %d", len(a), len(b))
	}
	for _, k := range keys {
		if a[k] != b[k] {
			t.Errorf("%s differs from the uninterrupted run", k)
		}
	}
}

// pointedStep reads the step of the checkpoint a run folder points to.
func pointedStep(t *testing.T, dir string) int {
	t.Helper()
	_, step := readPointer(t, dir)
	return step
}

func partials(t *testing.T, dir string) []string {
	t.Helper()
	p, _ := filepath.Glob(filepath.Join(dir, "checkpoints", ".partial-*"))
	return p
}

// TestCrashAndResume kills training with SIGKILL at a random moment and in
// the middle of a checkpoint write (held there by the test hook, see
// ckpt.TestHookEnv), and makes a checkpoint write fail as a full disk does;
// `zoo train --resume` then finishes each run bit for bit as the
// uninterrupted run did.
func TestCrashAndResume(t *testing.T) {
	td := data.Testdata()
	// 50 steps per epoch, a checkpoint every 7 steps and at epoch ends: the
	// 3rd checkpoint is at step 21, the 2nd at step 14.
	// --log-every 5: the checkpoints fall inside step-log windows, whose
	// running mean the checkpoint keeps (resume is not given the flag: the
	// checkpoint's is continued).
	args := []string{"train", "denoising", "--data", td, "--hidden", "32", "--batch", "10", "--train-limit", "500",
		"--test-limit", "100", "--epochs", "3", "--checkpoint-every", "7", "--seed", "3", "--log-every", "5"}
	ref := filepath.Join(t.TempDir(), "ref")
	if code, o, e := runZoo(t, append(args, "--out", ref, "--quiet")...); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, o, e)
	}
	resume := func(t *testing.T, dir string) {
		t.Helper()
		if code, o, e := runZoo(t, "train", "--resume", dir, "--data", td, "--quiet"); code != 0 {
			t.Fatalf("resume: exit %d\n%s\n%s", code, o, e)
		}
		sameRun(t, ref, dir)
		if p := partials(t, dir); len(p) > 0 {
			t.Errorf("partial checkpoints left after resuming: %v", p)
		}
	}
	for _, tc := range []struct {
		name     string
		env      []string
		waitLine string        // kill -9 after this stderr line …
		delay    time.Duration // … and this delay
		fails    string        // or: the run fails by itself with this message
	}{
		{"kill -9 during training", nil, "epoch 1:", 30 * time.Millisecond, ""},
		{"kill -9 at an epoch's end", nil, "epoch 2:", 0, ""},
		{"kill -9 during a checkpoint write", []string{ckpt.TestHookEnv + "=pause@3"}, "ckpt test hook: paused", 0, ""},
		{"checkpoint write fails (disk full)", []string{ckpt.TestHookEnv + "=fail@3"}, "", 0, "no space left on device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			cmd, lines, log := startZoo(t, tc.env, append(args, "--out", dir)...)
			if tc.fails != "" {
				for range lines {
				}
				err := cmd.Wait()
				ee, ok := err.(*exec.ExitError)
				if !ok || ee.ExitCode() != 1 || !strings.Contains(log.String(), tc.fails) || strings.Contains(log.String(), "panic") {
					t.Fatalf("exit %v, want 1 with %q:\n%s", err, tc.fails, log)
				}
				if s := pointedStep(t, dir); s != 14 {
					t.Errorf("pointer at step %d after the failed write, want 14", s)
				}
				if p := partials(t, dir); len(p) > 0 {
					t.Errorf("the failed checkpoint was left behind: %v", p)
				}
			} else {
				waitFor(t, lines, tc.waitLine)
				if tc.name == "kill -9 during a checkpoint write" {
					p := partials(t, dir)
					if len(p) != 1 {
						t.Fatalf("partial checkpoints %v, want the one being written", p)
					}
					if files, _ := filepath.Glob(filepath.Join(p[0], "*", "*.npy")); len(files) == 0 {
						t.Fatalf("the paused checkpoint has no file yet")
					}
				}
				time.Sleep(tc.delay)
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
				if tc.name == "kill -9 during a checkpoint write" && pointedStep(t, dir) != 14 {
					t.Errorf("pointer at step %d, want 14", pointedStep(t, dir))
				}
			}
			if _, _, _, err := ckpt.LoadCheckpoint(dir); err != nil {
				t.Fatalf("the last complete checkpoint does not load: %v", err)
			}
			resume(t, dir)
		})
	}
}

// TestDiskFull trains into a small tmpfs that fills up at the second
// epoch's checkpoint: the run exits 1 naming the cause, the half-written
// checkpoint is removed, the first one stays valid, and resuming it
// elsewhere finishes the run as an uninterrupted one.
func TestDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=2200k"); err != nil {
		t.Skipf("cannot mount a small tmpfs (needs root and CAP_SYS_ADMIN): %v; the injected-failure case of TestCrashAndResume covers the same path", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	td := data.Testdata()
	args := []string{"train", "plain", "--data", td, "--hidden", "64", "--batch", "50", "--train-limit", "500",
		"--test-limit", "100", "--epochs", "3", "--quiet"}
	ref := filepath.Join(t.TempDir(), "ref")
	if code, o, e := runZoo(t, append(args, "--out", ref)...); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, o, e)
	}
	dir := filepath.Join(mnt, "run")
	code, _, errs := runZoo(t, append(args, "--out", dir)...)
	if code != 1 || !strings.Contains(errs, "no space left on device") || !strings.Contains(errs, "checkpoint") {
		t.Fatalf("exit %d, want 1 with a checkpoint's no-space error:\n%s", code, errs)
	}
	if p := partials(t, dir); len(p) > 0 {
		t.Errorf("the failed checkpoint was left behind: %v", p)
	}
	if s := pointedStep(t, dir); s != 10 {
		t.Errorf("pointer at step %d, want 10 (epoch 1)", s)
	}
	out := filepath.Join(t.TempDir(), "resumed")
	if code, o, e := runZoo(t, "train", "--resume", dir, "--out", out, "--data", td, "--quiet"); code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", code, o, e)
	}
	sameRun(t, ref, out)
}

// TestSample draws samples, interpolations and the manifold from a tiny
// trained VAE through the CLI.
func TestSample(t *testing.T) {
	run := trainRun(t, "vae", "--hidden", "32", "--latent", "2")
	dir := t.TempDir()
	s, i, m := filepath.Join(dir, "s.png"), filepath.Join(dir, "i.png"), filepath.Join(dir, "m.png")
	code, out, errs := runZoo(t, "sample", run, "--n", "16", "--out", s, "--interpolate", i, "--manifold", m, "--grid", "5", "--data", data.Testdata())
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "interpolations between 8 pairs") {
		t.Errorf("stdout: %s", out)
	}
	for _, f := range []string{s, i, m} {
		if fi, err := os.Stat(f); err != nil || fi.Size() < 100 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

package runlock

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// holderEnv makes the test binary a helper process that locks the folder
// named by the variable, prints "locked" and waits to be killed.
const holderEnv = "RUNLOCK_TEST_HOLD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holderEnv); dir != "" {
		if _, err := Acquire(dir); err != nil {
			os.Stdout.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("locked\n")
		select {}
	}
	os.Exit(m.Run())
}

func TestAcquireRelease(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"existing empty folder", func(t *testing.T) string { return t.TempDir() }},
		{"absent folder", func(t *testing.T) string { return filepath.Join(t.TempDir(), "a", "b") }},
		{"stale lock file", func(t *testing.T) string {
			d := t.TempDir()
			os.WriteFile(filepath.Join(d, File), []byte("999999\n"), 0o644)
			return d
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			l, err := Acquire(dir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Acquire(dir)
			var busy *BusyError
			if !errors.As(err, &busy) || busy.PID != os.Getpid() {
				t.Fatalf("second Acquire: %v, want a BusyError naming pid %d", err, os.Getpid())
			}
			if err := l.Release(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, File)); !os.IsNotExist(err) {
				t.Errorf("lock file left after Release: %v", err)
			}
			if err := l.Release(); err != nil {
				t.Errorf("second Release: %v", err)
			}
			l2, err := Acquire(dir)
			if err != nil {
				t.Fatalf("Acquire after Release: %v", err)
			}
			l2.Release()
		})
	}
}

func TestAcquireNotAFolder(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := Acquire(filepath.Join(f, "run")); err == nil {
		t.Fatal("locking a folder inside a file succeeded")
	}
}

// TestMutualExclusion has goroutines race for one folder: at most one may
// hold it at any time.
func TestMutualExclusion(t *testing.T) {
	dir := t.TempDir()
	var holders, max, wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				l, err := Acquire(dir)
				if err != nil {
					var busy *BusyError
					if !errors.As(err, &busy) {
						t.Error(err)
						return
					}
					continue
				}
				wins.Add(1)
				if n := holders.Add(1); n > max.Load() {
					max.Store(n)
				}
				holders.Add(-1)
				if err := l.Release(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if max.Load() != 1 || wins.Load() == 0 {
		t.Errorf("max holders %d, wins %d; want 1 holder at a time", max.Load(), wins.Load())
	}
}

// TestOtherProcessAndKill locks a folder from another process, checks the
// refusal names its pid, kills it with SIGKILL and takes the lock over.
func TestOtherProcessAndKill(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holderEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("helper: %q", line)
	}
	_, err = Acquire(dir)
	var busy *BusyError
	if !errors.As(err, &busy) || busy.PID != cmd.Process.Pid {
		t.Fatalf("Acquire while another process holds the lock: %v, want pid %d", err, cmd.Process.Pid)
	}
	if want := dir + " is in use by pid "; len(err.Error()) <= len(want) || err.Error()[:len(want)] != want {
		t.Errorf("message %q", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, File)); err != nil {
		t.Fatalf("the killed holder's lock file should still be there: %v", err)
	}
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	l.Release()
}

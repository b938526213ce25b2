package zoo

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/data"
)

// TestClaimFolder covers the output-folder rules without the binary: a
// locked folder is refused with the holder's pid (also within one
// process), a run or other files refuse a folder, and overwrite removes
// only a run's files.
func TestClaimFolder(t *testing.T) {
	run := t.TempDir()
	for _, f := range []string{MetricsFile, SummaryFile, "config.json"} {
		os.WriteFile(filepath.Join(run, f), []byte(`{"model":"plain","epochs":2,"test_loss":1.5}`), 0o644)
	}
	os.MkdirAll(filepath.Join(run, "weights"), 0o755)
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "notes.txt"), nil, 0o644)
	for _, tc := range []struct {
		name      string
		dir       string
		overwrite bool
		want      string // error, or "" for success
		left      []string
	}{
		{"absent", filepath.Join(t.TempDir(), "x", "y"), false, "", nil},
		{"empty", t.TempDir(), false, "", nil},
		{"finished run", run, false, "already holds a finished plain run (2 epochs, test loss 1.5000): continue it with --resume " + run + ", or replace it with --overwrite", []string{"config.json", "metrics.jsonl", "summary.json", "weights"}},
		{"other files", other, false, "is not empty (notes.txt) and holds no run", []string{"notes.txt"}},
		{"other files, overwrite", other, true, "", []string{"notes.txt"}},
		{"finished run, overwrite", run, true, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			lock, err := ClaimFolder(tc.dir, tc.overwrite, &log)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				_, err := ClaimFolder(tc.dir, tc.overwrite, nil)
				var busy *FolderInUseError
				if !errors.As(err, &busy) || busy.PID != os.Getpid() {
					t.Errorf("claiming a claimed folder: %v", err)
				}
				lock.Release()
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			es, _ := os.ReadDir(tc.dir)
			var left []string
			for _, e := range es {
				left = append(left, e.Name())
			}
			if strings.Join(left, ",") != strings.Join(tc.left, ",") {
				t.Errorf("left %v, want %v (log: %s)", left, tc.left, log.String())
			}
		})
	}
}

// TestTrainOnLockedFolder: TrainOn refuses a folder another run holds,
// before writing anything.
func TestTrainOnLockedFolder(t *testing.T) {
	c, o := resumeConfig()
	dir := t.TempDir()
	lock, err := ClaimFolder(dir, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	trainSet, testSet, err := data.LoadMNIST(data.Testdata(), 200, 100)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = TrainOn(context.Background(), c, o, trainSet, testSet, "testdata", TrainOptions{Out: dir})
	if err == nil || !strings.Contains(err.Error(), dir+" is in use by pid") {
		t.Fatalf("got %v", err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("the refused run wrote into the folder: %d entries", len(es))
	}
}

// TestFinishedRun: a run is reused only when finished with the same
// model, options and data.
func TestFinishedRun(t *testing.T) {
	c, o := resumeConfig()
	o.Epochs = 1
	trainSet, testSet, err := data.LoadMNIST(data.Testdata(), 200, 100)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, _, err := TrainOn(context.Background(), c, o, trainSet, testSet, "testdata", TrainOptions{Out: dir, NoCheckpoints: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := FinishedRun(dir, c, o, "testdata"); r == nil || r.Summary.TestLoss != s.TestLoss {
		t.Fatalf("the finished run was not found: %+v", r)
	}
	o2 := o
	o2.Seed++
	c2 := c
	c2.Hidden++
	for _, tc := range []struct {
		name string
		run  *Run
	}{
		{"other options", FinishedRun(dir, c, o2, "testdata")},
		{"other model", FinishedRun(dir, c2, o, "testdata")},
		{"other data", FinishedRun(dir, c, o, "elsewhere")},
		{"no folder", FinishedRun(filepath.Join(dir, "none"), c, o, "testdata")},
	} {
		if tc.run != nil {
			t.Errorf("%s: reused", tc.name)
		}
	}
	os.Remove(filepath.Join(dir, SummaryFile))
	if FinishedRun(dir, c, o, "testdata") != nil {
		t.Error("a run without summary.json was reused")
	}
}

package sweep

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
)

func mustAxes(t *testing.T, args ...string) []Axis {
	t.Helper()
	var axes []Axis
	for _, a := range args {
		ax, err := ParseAxis(a)
		if err != nil {
			t.Fatal(err)
		}
		axes = append(axes, ax)
	}
	return axes
}

func newSpec(t *testing.T, model string, args ...string) Spec {
	t.Helper()
	c, err := models.Defaults(model)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(c, train.DefaultOptions(), mustAxes(t, args...))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestExpandOrderAndNames(t *testing.T) {
	s := newSpec(t, "sparse", "hidden=64,128", "lambda=0.01,0.1", "seed=1,2,3")
	if s.Len() != 12 {
		t.Fatalf("%d tasks, want 12", s.Len())
	}
	want := []string{
		"0-hidden=64,lambda=0.01,seed=1", "1-hidden=64,lambda=0.01,seed=2", "2-hidden=64,lambda=0.01,seed=3",
		"3-hidden=64,lambda=0.1,seed=1", "4-hidden=64,lambda=0.1,seed=2", "5-hidden=64,lambda=0.1,seed=3",
		"6-hidden=128,lambda=0.01,seed=1", "7-hidden=128,lambda=0.01,seed=2", "8-hidden=128,lambda=0.01,seed=3",
		"9-hidden=128,lambda=0.1,seed=1", "10-hidden=128,lambda=0.1,seed=2", "11-hidden=128,lambda=0.1,seed=3",
	}
	for i, task := range s.Tasks {
		if task.Index != i || task.Name != want[i] {
			t.Errorf("task %d: %d %q, want %q", i, task.Index, task.Name, want[i])
		}
	}
	// The settings of a task are the base with the params applied.
	c, o, err := s.Settings(s.Tasks[10])
	if err != nil {
		t.Fatal(err)
	}
	if c.Hidden != 128 || c.Lambda != 0.1 || o.Seed != 2 || c.Model != "sparse" {
		t.Errorf("task 10 settings: hidden %d lambda %g seed %d model %s", c.Hidden, c.Lambda, o.Seed, c.Model)
	}
	base, _ := models.Defaults("sparse")
	if c.Sparsity != base.Sparsity || o.Epochs != train.DefaultOptions().Epochs {
		t.Errorf("unswept settings changed: %+v %+v", c, o)
	}
	// Expansion is deterministic: the same axes give the same tasks.
	if again := newSpec(t, "sparse", "hidden=64,128", "lambda=0.01,0.1", "seed=1,2,3"); !reflect.DeepEqual(again.Tasks, s.Tasks) {
		t.Error("expanding the same axes twice gave different tasks")
	}
}

func TestUnderscoreKeysAndTrainOptions(t *testing.T) {
	s := newSpec(t, "denoising", "noise_level=0.1,0.3", "lr=0.001,0.01", "epochs=1")
	if s.Axes[0].Key != "noise-level" || s.Tasks[3].Name != "3-noise-level=0.3,lr=0.01,epochs=1" {
		t.Errorf("axes %+v, task 3 %q", s.Axes, s.Tasks[3].Name)
	}
	c, o, _ := s.Settings(s.Tasks[3])
	if c.NoiseLevel != 0.3 || o.LR != 0.01 || o.Epochs != 1 {
		t.Errorf("settings %+v %+v", c, o)
	}
}

func TestBadSweeps(t *testing.T) {
	for _, tc := range []struct {
		model string
		args  []string
		key   string // the key the error must name
	}{
		{"plain", []string{"bogus=1,2"}, "bogus"},
		{"plain", []string{"k=5,10"}, "k"},             // a hyperparameter of another model
		{"plain", []string{"hidden=64,abc"}, "hidden"}, // not an int
		{"plain", []string{"hidden=0"}, "hidden"},      // invalid value
		{"plain", []string{"lr=-1"}, "lr"},
		{"plain", []string{"seed=1,x"}, "seed"},
		{"plain", []string{"activation=relu,softplus"}, "activation"},
		{"topk", []string{"hidden=16,64", "k=32"}, "k"}, // k > hidden in one task
		{"plain", []string{"hidden=64", "hidden=128"}, "hidden"},
		{"denoising", []string{"noise=gaussian", "noise_level=-1"}, "noise-level"},
	} {
		c, _ := models.Defaults(tc.model)
		var axes []Axis
		var err error
		for _, a := range tc.args {
			var ax Axis
			if ax, err = ParseAxis(a); err != nil {
				break
			}
			axes = append(axes, ax)
		}
		if err == nil {
			_, err = New(c, train.DefaultOptions(), axes)
		}
		var ke *KeyError
		if !errors.As(err, &ke) {
			t.Errorf("%s %v: error %v, want a *KeyError", tc.model, tc.args, err)
			continue
		}
		if ke.Key != tc.key || !strings.Contains(err.Error(), `"`+tc.key+`"`) {
			t.Errorf("%s %v: error %q names key %q, want %q", tc.model, tc.args, err, ke.Key, tc.key)
		}
	}
}

func TestParseAxisErrors(t *testing.T) {
	for _, arg := range []string{"hidden", "=1,2", "hidden=", "hidden=1,,2", "hidden=1,1", "noise=a/b", "lr=1 2"} {
		if _, err := ParseAxis(arg); err == nil {
			t.Errorf("ParseAxis(%q) accepted", arg)
		}
	}
	if _, err := New(models.Config{Model: "plain", Hidden: 8, Activation: "sigmoid", Loss: "bce"}, train.DefaultOptions(), nil); err == nil {
		t.Error("a sweep without axes was accepted")
	}
}

func TestCreateLoadAndConflict(t *testing.T) {
	dir := t.TempDir()
	s := newSpec(t, "plain", "hidden=8,16", "seed=1,2")
	if err := Create(dir, s); err != nil {
		t.Fatal(err)
	}
	if err := Create(dir, s); err != nil { // the same sweep again: continues
		t.Fatalf("recreating the same sweep: %v", err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Tasks, s.Tasks) || got.Model != "plain" {
		t.Errorf("loaded %+v", got)
	}
	other := newSpec(t, "plain", "hidden=8,32")
	if err := Create(dir, other); err == nil || !strings.Contains(err.Error(), "different sweep") {
		t.Errorf("a different sweep in the same folder: %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a sweep folder") {
		t.Errorf("loading an empty folder: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, SpecFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("a damaged sweep.json loaded")
	}
	if _, err := got.Task(4); err == nil {
		t.Error("task 4 of 4 accepted")
	}
}

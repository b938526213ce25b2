package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/data"
)

// TestCLIFinetune: `zoo finetune` fine-tunes a deep run's encoder and a
// one-layer run's, saves the classifier, refuses to overwrite it, and
// reports bad usage with exit 2 and a missing run with exit 1.
func TestCLIFinetune(t *testing.T) {
	deep := trainRun(t, "denoising", "--layers", "40,20")
	clf := filepath.Join(t.TempDir(), "clf")
	args := []string{"finetune", deep, "--data", data.Testdata(), "--epochs", "3", "--batch", "50", "--out", clf, "--json"}
	code, o, e := runZoo(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, o, e)
	}
	var res finetuneResult
	if err := json.Unmarshal([]byte(o), &res); err != nil {
		t.Fatalf("%v\n%s", err, o)
	}
	if !res.Pretrained || len(res.Hidden) != 2 || res.Hidden[0] != 40 || res.Hidden[1] != 20 || res.TrainImages != 500 || res.TestImages != 100 ||
		res.TestError < 0 || res.TestError > 1 || res.Epochs != 3 || res.ValError == nil {
		t.Errorf("result %+v", res)
	}
	if _, err := os.Stat(filepath.Join(clf, "classifier.json")); err != nil {
		t.Error(err)
	}
	if code, _, e := runZoo(t, append(args[:len(args)-1:len(args)-1], "--epochs", "1")...); code != 2 || !strings.Contains(e, "--overwrite") {
		t.Errorf("second finetune into %s: exit %d, %s", clf, code, e)
	}
	one := trainRun(t, "plain", "--hidden", "30")
	code, o, e = runZoo(t, "finetune", one, "--data", data.Testdata(), "--epochs", "2", "--batch", "50", "--random-init", "--extra", "10")
	if code != 0 || !strings.Contains(o, "MLP [30 10] (sigmoid, random initialization)") || !strings.Contains(o, "test error") {
		t.Errorf("exit %d\n%s\n%s", code, o, e)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"finetune", one, "--epochs", "0"}, 2, "--epochs"},
		{[]string{"finetune", one, "--validation", "1"}, 2, "--validation"},
		{[]string{"finetune", one, "--extra", "10,x"}, 2, "--extra"},
		{[]string{"finetune", one, "--weight-decay", "-1"}, 2, "--weight-decay"},
		{[]string{"finetune"}, 2, "run folder"},
		{[]string{"finetune", filepath.Join(t.TempDir(), "none")}, 1, "config.json"},
		{[]string{"finetune", trainRun(t, "topk", "--hidden", "30", "--k", "5"), "--data", data.Testdata()}, 1, "top-K"},
	} {
		code, _, e := runZoo(t, tc.args...)
		if code != tc.code || !strings.Contains(e, tc.want) || strings.Count(strings.TrimSpace(e), "\n") > 0 {
			t.Errorf("zoo %v: exit %d, %q; want exit %d and one line mentioning %q", tc.args, code, e, tc.code, tc.want)
		}
	}
}

package train

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
)

func testData(t *testing.T) (*data.Dataset, *data.Dataset) {
	t.Helper()
	tr, te, err := data.LoadMNIST(data.Testdata(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tr, te
}

func smallPlain() (models.Config, Options) {
	c, _ := models.Defaults("plain")
	c.Hidden = 32
	o := DefaultOptions()
	o.Epochs, o.Batch, o.LR = 5, 50, 3e-3
	return c, o
}

// run trains and returns the epoch logs (with timings zeroed).
func run(t *testing.T, c models.Config, o Options) ([]EpochLog, eval.Metrics, eval.Metrics) {
	t.Helper()
	tr, te := testData(t)
	tt, err := New(c, o, tr, te, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, err := tt.Eval.Evaluate(tt.Test)
	if err != nil {
		t.Fatal(err)
	}
	var logs []EpochLog
	tt.OnEpoch = func(_ *Trainer, l EpochLog, _ eval.Metrics) error {
		l.Seconds, l.SamplesPerS = 0, 0
		logs = append(logs, l)
		return nil
	}
	if err := tt.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, err := tt.Eval.Evaluate(tt.Test)
	if err != nil {
		t.Fatal(err)
	}
	return logs, before, after
}

func TestTrainingLowersTestLoss(t *testing.T) {
	c, o := smallPlain()
	logs, before, after := run(t, c, o)
	if got := len(logs); got != o.Epochs {
		t.Fatalf("%d epoch logs, want %d", got, o.Epochs)
	}
	if steps := logs[len(logs)-1].Step; steps != o.Epochs*(2000/o.Batch) {
		t.Errorf("took %d steps, want %d", steps, o.Epochs*(2000/o.Batch))
	}
	t.Logf("test loss %.2f → %.2f over %d steps", before.Loss, after.Loss, logs[len(logs)-1].Step)
	// An untrained 784-32-784 sigmoid AE scores ≈ 540 nats; 200 Adam steps bring it well below 200.
	if !(after.Loss < 0.4*before.Loss) || after.Loss > 250 {
		t.Errorf("test loss %.2f → %.2f: training did not lower it enough", before.Loss, after.Loss)
	}
	if logs[len(logs)-1].TestLoss != after.Loss {
		t.Errorf("last epoch log has test loss %v, evaluation gives %v", logs[len(logs)-1].TestLoss, after.Loss)
	}
	for i := 1; i < len(logs); i++ {
		if logs[i].TrainLoss >= logs[i-1].TrainLoss {
			t.Errorf("train loss rose from epoch %d to %d: %.3f → %.3f", i, i+1, logs[i-1].TrainLoss, logs[i].TrainLoss)
		}
	}
}

func TestSameSeedSameMetrics(t *testing.T) {
	c, o := smallPlain()
	o.Epochs = 2
	a, _, _ := run(t, c, o)
	b, _, _ := run(t, c, o)
	for i := range a {
		if a[i].TrainLoss != b[i].TrainLoss || a[i].TestLoss != b[i].TestLoss || a[i].TestBCE != b[i].TestBCE {
			t.Errorf("epoch %d differs between runs with the same seed: %+v vs %+v", i+1, a[i], b[i])
		}
	}
	o.Seed++
	d, _, _ := run(t, c, o)
	if d[0].TrainLoss == a[0].TrainLoss {
		t.Errorf("a different seed gave the same train loss %v", d[0].TrainLoss)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(o *Options)
		ok   bool
	}{
		{"defaults", func(o *Options) {}, true},
		{"zero epochs", func(o *Options) { o.Epochs = 0 }, true},
		{"negative epochs", func(o *Options) { o.Epochs = -1 }, false},
		{"zero batch", func(o *Options) { o.Batch = 0 }, false},
		{"zero lr", func(o *Options) { o.LR = 0 }, false},
		{"negative lr", func(o *Options) { o.LR = -1e-3 }, false},
		{"bad dtype", func(o *Options) { o.Dtype = "float16" }, false},
		{"bad binarize", func(o *Options) { o.Binarize = "maybe" }, false},
		{"dynamic", func(o *Options) { o.Binarize = "dynamic" }, true},
	} {
		o := DefaultOptions()
		tc.mod(&o)
		if err := o.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// TestDivergenceStopsAndKeepsLastCheckpoint injects a NaN into a weight in
// the middle of epoch 2: training must stop at the next step with an error
// naming the parameter, and no checkpoint may be taken after epoch 1's.
func TestDivergenceStopsAndKeepsLastCheckpoint(t *testing.T) {
	c, o := smallPlain()
	o.Epochs = 3
	tr, te := testData(t)
	tt, err := New(c, o, tr, te, nil)
	if err != nil {
		t.Fatal(err)
	}
	var checkpoints []int
	tt.Checkpoint = func(t *Trainer) error {
		checkpoints = append(checkpoints, t.Step)
		return nil
	}
	steps := tt.StepsPerEpoch()
	tt.OnStep = func(step int, _ float64) {
		if step == steps+3 {
			tt.Store.Get("dec.W").Data().([]float32)[7] = float32(math.NaN())
		}
	}
	err = tt.Run(context.Background())
	var div *DivergedError
	if !errors.As(err, &div) {
		t.Fatalf("got %v, want a DivergedError", err)
	}
	// The step after the NaN spreads it through Adam into every parameter;
	// the first one found is named.
	if div.Step != steps+4 || div.Epoch != 2 || !strings.HasPrefix(div.Node, "parameter ") {
		t.Errorf("diverged at epoch %d step %d in %q; want epoch 2, step %d, a parameter", div.Epoch, div.Step, div.Node, steps+4)
	}
	if !strings.Contains(err.Error(), div.Node) || !strings.Contains(err.Error(), "step") {
		t.Errorf("message does not say where: %v", err)
	}
	if len(checkpoints) != 1 || checkpoints[0] != steps {
		t.Errorf("checkpoints at steps %v, want only epoch 1's (%d)", checkpoints, steps)
	}
}

func TestDivergenceOfTheLossIsReported(t *testing.T) {
	c, _ := models.Defaults("lineardae")
	o := DefaultOptions()
	o.Epochs, o.Batch, o.LR = 2, 100, 1e30
	tr, te := testData(t)
	tt, err := New(c, o, tr, te, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = tt.Run(context.Background())
	var div *DivergedError
	if !errors.As(err, &div) {
		t.Fatalf("lr 1e30: got %v, want a DivergedError", err)
	}
	t.Log(err)
}

func TestAnnealK(t *testing.T) {
	tr, te := testData(t)
	c, _ := models.Defaults("topk")
	c.Hidden, c.K, c.KStart = 60, 5, 45
	o := DefaultOptions()
	o.Epochs, o.Batch = 4, 100
	o.TrainLimit = 0
	tt, err := New(c, o, tr.Limit(200), te.Limit(100), nil)
	if err != nil {
		t.Fatal(err)
	}
	var kept []int
	tt.OnStep = func(int, float64) {
		code := tt.Prog.OutputNode(graph.Code).Value().Data().([]float32)
		n := 0
		for _, v := range code[:60] {
			if v != 0 {
				n++
			}
		}
		kept = append(kept, n)
	}
	if err := tt.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 2 steps per epoch; k: 45 (epoch 1), 25 (epoch 2), then 5.
	want := []int{45, 45, 25, 25, 5, 5, 5, 5}
	for i := range want {
		if kept[i] != want[i] {
			t.Fatalf("units kept per step %v, want %v", kept, want)
		}
	}
}

// TestBurdaSchedule: stage i of Burda et al.'s schedule lasts 3^i epochs
// and runs at lr·10^(−i/7).
func TestBurdaSchedule(t *testing.T) {
	for _, tc := range []struct{ epoch, stage int }{
		{0, 0}, {1, 1}, {3, 1}, {4, 2}, {12, 2}, {13, 3}, {39, 3}, {40, 4}, {120, 4}, {121, 5}, {363, 5}, {364, 6}, {1092, 6}, {1093, 7}, {3279, 7}, {5000, 7},
	} {
		if got := BurdaStage(tc.epoch); got != tc.stage {
			t.Errorf("BurdaStage(%d) = %d, want %d", tc.epoch, got, tc.stage)
		}
	}
	want := []int{1, 4, 13, 40, 121, 364, 1093, 3280}
	for i, w := range want {
		if got := BurdaEpochs(i); got != w {
			t.Errorf("BurdaEpochs(%d) = %d, want %d", i, got, w)
		}
	}
	o := DefaultOptions()
	o.LRSchedule, o.LR = "burda", 1e-3
	tr := &Trainer{Opt: o}
	for _, tc := range []struct {
		epoch int
		lr    float64
	}{{0, 1e-3}, {2, 1e-3 * math.Pow(10, -1.0/7)}, {120, 1e-3 * math.Pow(10, -4.0/7)}, {3279, 1e-4}} {
		tr.Epoch = tc.epoch
		if got := tr.learningRate(); math.Abs(got-tc.lr) > 1e-15 {
			t.Errorf("epoch %d: lr %g, want %g", tc.epoch, got, tc.lr)
		}
	}
	o.AdamEps = -1
	if o.Validate() == nil {
		t.Error("negative --adam-eps accepted")
	}
}

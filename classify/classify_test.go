package classify

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func randomBatch(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

func randomLayer(rng *rand.Rand, in, out int) Layer {
	l := Layer{In: in, Out: out, W: make([]float64, in*out), B: make([]float64, out)}
	for i := range l.W {
		l.W[i] = rng.NormFloat64()
	}
	for i := range l.B {
		l.B[i] = rng.NormFloat64()
	}
	return l
}

// TestSoftmaxCrossEntropyValue: the node's value against a plain-Go
// computation, including rows of large logits (the stable log-sum-exp).
func TestSoftmaxCrossEntropyValue(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		const n, k = 5, 4
		rng := rand.New(rand.NewPCG(3, 4))
		l := make([]float64, n*k)
		y := make([]float64, n*k)
		for i := range l {
			l[i] = 3 * rng.NormFloat64()
		}
		l[0], l[1] = 700, -650 // exp overflows without the shift
		for r := 0; r < n; r++ {
			y[r*k+rng.IntN(k)] = 1
		}
		var want float64
		for r := 0; r < n; r++ {
			row := l[r*k : (r+1)*k]
			m := math.Inf(-1)
			for _, v := range row {
				m = math.Max(m, v)
			}
			var s float64
			for _, v := range row {
				s += math.Exp(v - m)
			}
			want += m + math.Log(s)
			for j, v := range row {
				want -= y[r*k+j] * v
			}
		}
		want /= n
		g := G.NewGraph()
		ln := G.NewMatrix(g, dt, G.WithShape(n, k), G.WithName("l"))
		yn := G.NewMatrix(g, dt, G.WithShape(n, k), G.WithName("y"))
		loss, err := SoftmaxCrossEntropy(ln, yn)
		if err != nil {
			t.Fatal(err)
		}
		if dt == tensor.Float64 {
			G.Let(ln, tensor.New(tensor.WithShape(n, k), tensor.WithBacking(l)))
			G.Let(yn, tensor.New(tensor.WithShape(n, k), tensor.WithBacking(y)))
		} else {
			G.Let(ln, tensor.New(tensor.WithShape(n, k), tensor.WithBacking(to32(l))))
			G.Let(yn, tensor.New(tensor.WithShape(n, k), tensor.WithBacking(to32(y))))
		}
		vm := G.NewTapeMachine(g)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		got := graph.ToFloat64s(loss.Value().Data(), nil)[0]
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-4
		}
		if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
			t.Errorf("%v: loss %.10g, want %.10g", dt, got, want)
		}
		vm.Close()
	}
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// TestSoftmaxCrossEntropyBadInput: mismatched shapes and computed targets
// are refused.
func TestSoftmaxCrossEntropyBadInput(t *testing.T) {
	g := G.NewGraph()
	l := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 4), G.WithName("l"))
	y := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 5), G.WithName("y"))
	if _, err := SoftmaxCrossEntropy(l, y); err == nil {
		t.Error("3×4 logits with 3×5 targets accepted")
	}
	if _, err := SoftmaxCrossEntropy(l, G.Must(G.Neg(l))); err == nil {
		t.Error("computed targets accepted")
	}
}

// TestGradients checks every parameter entry of classifier graphs against
// central finite differences: the softmax cross-entropy node, hidden
// layers, weight decay, and layers initialized from given weights.
func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"logistic", Config{Classes: 3}},
		{"sigmoid", Config{Hidden: []int{5}, Activation: "sigmoid", Classes: 4}},
		{"tanh/2/decay", Config{Hidden: []int{5, 3}, Activation: "tanh", Classes: 3, WeightDecay: 0.3}},
		{"relu/3", Config{Hidden: []int{6, 5, 4}, Activation: "relu", Classes: 3}},
		{"init/sigmoid", Config{Hidden: []int{5, 4}, Activation: "sigmoid", Classes: 3, WeightDecay: 0.1,
			Init: []Layer{randomLayer(rng, 6, 5)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			s := graph.Shape{In: 6, Batch: 4}
			labels := &Labels{Y: []uint8{0, 2, 1, 2}}
			m, err := Declare(tc.cfg, s, graph.Float64(), nil, rng, labels)
			if err != nil {
				t.Fatal(err)
			}
			r, err := graph.CheckGradients(m, randomBatch(rng, s.In*s.Batch), rng, 1e-6, 1e-6, 0)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, p := range m.Params {
				total += p.Shape().TotalSize()
			}
			if r.Checked != total {
				t.Errorf("checked %d entries, the model has %d", r.Checked, total)
			}
			if r.MaxRel > 1e-6 {
				t.Errorf("gradient mismatch at %s: symbolic %.10g, finite difference %.10g (rel %.2g)", r.Worst, r.Analytic, r.Numeric, r.MaxRel)
			}
		})
	}
}

// TestInitFromEncoder: a classifier initialized from a trained plain
// autoencoder's encoder has exactly its weights, and its untrained
// features equal the autoencoder's code.
func TestInitFromEncoder(t *testing.T) {
	c, _ := models.Defaults("plain")
	c.Hidden = 7
	store := graph.NewStore()
	s := graph.Shape{In: 10, Batch: 6}
	ae, err := models.Build(c, s, graph.Float64(), store, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	layers, act, err := EncoderLayers(c, store)
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 || act != "sigmoid" || layers[0].In != 10 || layers[0].Out != 7 {
		t.Fatalf("layers %d, act %q", len(layers), act)
	}
	cfg := Pretrained(Config{Classes: 3}, layers, act, 4)
	if len(cfg.Hidden) != 2 || cfg.Hidden[0] != 7 || cfg.Hidden[1] != 4 {
		t.Fatalf("hidden %v", cfg.Hidden)
	}
	cs := graph.NewStore()
	m, err := Declare(Config{Hidden: cfg.Hidden[:1], Activation: act, Classes: 3, Init: cfg.Init}, s, graph.Float64(), cs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".W", ".b"} {
		a, b := store.Floats("enc"+p), cs.Floats(LayerName(0)+p)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d]: %g, encoder has %g", p, i, b[i], a[i])
			}
		}
	}
	x := randomBatch(rand.New(rand.NewPCG(9, 9)), s.In*s.Batch)
	pa, err := graph.NewEvaluator(ae, graph.Code)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := graph.NewEvaluator(m, graph.Features)
	if err != nil {
		t.Fatal(err)
	}
	if err := pa.Run(x, nil, false); err != nil {
		t.Fatal(err)
	}
	if err := pc.Run(x, nil, false); err != nil {
		t.Fatal(err)
	}
	code, feats := pa.Output(graph.Code), pc.Output(graph.Features)
	for i := range code {
		if math.Abs(code[i]-feats[i]) > 1e-12 {
			t.Fatalf("feature %d: %g, code %g", i, feats[i], code[i])
		}
	}
	// The same layers from a saved run folder.
	dir := t.TempDir()
	if err := ckpt.Save(dir, ckpt.Saved{Model: c, Dtype: "float64", In: s.In}, store); err != nil {
		t.Fatal(err)
	}
	fromRun, act2, err := EncoderFromRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if act2 != act || len(fromRun) != 1 || fromRun[0].In != 10 || fromRun[0].Out != 7 {
		t.Fatalf("from the run folder: %d layers, %q", len(fromRun), act2)
	}
	for i, v := range fromRun[0].W {
		if v != layers[0].W[i] {
			t.Fatalf("W[%d] from the run folder %g, from the store %g", i, v, layers[0].W[i])
		}
	}
	if _, _, err := EncoderFromRun(t.TempDir()); err == nil {
		t.Error("EncoderFromRun of an empty folder succeeded")
	}
	if _, _, err := EncoderLayers(models.Config{Model: "topk"}, store); err == nil {
		t.Error("top-K encoder accepted")
	}
	if _, _, err := EncoderLayers(c, graph.NewStore()); err == nil {
		t.Error("empty store accepted")
	}
}

func subsetData(t *testing.T) (trainSet, testSet *data.Dataset) {
	t.Helper()
	trainSet, testSet, err := data.LoadSubset(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return trainSet, testSet
}

func quickOptions() Options {
	o := DefaultOptions()
	o.Epochs, o.Patience = 15, 4
	return o
}

// TestTrainSubset: an MLP trained on the embedded 2,000 MNIST images
// classifies the 500 test images with a sane error, early stopping keeps
// the best validation epoch, and a second run with the same seed gives the
// same weights bit for bit.
func TestTrainSubset(t *testing.T) {
	trainSet, testSet := subsetData(t)
	cfg := Config{Hidden: []int{100}, Activation: "relu", Classes: 10}
	o := quickOptions()
	cl, err := Train(context.Background(), cfg, o, trainSet)
	if err != nil {
		t.Fatal(err)
	}
	e, err := cl.Error(testSet)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test error %.3f after %d epochs (best %d, validation error %.3f)", e, cl.Epochs, cl.BestEpoch, cl.ValError)
	if e > 0.15 {
		t.Errorf("test error %.3f on the MNIST subset, want ≤ 0.15", e)
	}
	if len(cl.History) != cl.Epochs || cl.BestEpoch < 1 || cl.BestEpoch > cl.Epochs {
		t.Errorf("history %d, epochs %d, best %d", len(cl.History), cl.Epochs, cl.BestEpoch)
	}
	minVal := math.Inf(1)
	for _, l := range cl.History {
		minVal = math.Min(minVal, l.ValError)
	}
	if cl.ValError != minVal || cl.History[cl.BestEpoch-1].ValError != minVal {
		t.Errorf("kept validation error %g (epoch %d), lowest %g", cl.ValError, cl.BestEpoch, minVal)
	}
	// The kept weights are those of the best epoch: the validation split
	// gives the recorded error again.
	perm := rand.New(rand.NewPCG(o.Seed, 0x5e1)).Perm(trainSet.N)
	nVal := int(math.Round(o.Validation * float64(trainSet.N)))
	if v, _ := cl.Error(subset(trainSet, perm[trainSet.N-nVal:])); v != cl.ValError {
		t.Errorf("validation error of the kept weights %g, recorded %g", v, cl.ValError)
	}
	acc, _ := cl.Accuracy(testSet)
	if math.Abs(acc+e-1) > 1e-12 {
		t.Errorf("accuracy %g + error %g ≠ 1", acc, e)
	}
	p, err := cl.Predict(testSet)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < testSet.N; i++ {
		var s float64
		for _, v := range p[i*10 : (i+1)*10] {
			s += v
		}
		if math.Abs(s-1) > 1e-6 {
			t.Fatalf("probabilities of example %d sum to %g", i, s)
		}
	}
	f, dim, err := cl.Features(testSet)
	if err != nil || dim != 100 || len(f) != testSet.N*100 {
		t.Fatalf("features: %d values of dim %d, %v", len(f), dim, err)
	}
	for _, v := range f {
		if v < 0 {
			t.Fatal("negative ReLU feature")
		}
	}

	o.Epochs = 2
	a, err := Train(context.Background(), cfg, o, trainSet)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(context.Background(), cfg, o, trainSet)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range a.Store.Names() {
		x, y := a.Store.Floats(name), b.Store.Floats(name)
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("%s[%d] differs between two runs with the same seed", name, i)
			}
		}
	}
}

// TestSaveLoad: a saved classifier loads with the same predictions; a
// damaged folder is an error.
func TestSaveLoad(t *testing.T) {
	trainSet, testSet := subsetData(t)
	o := quickOptions()
	o.Epochs, o.Validation = 2, 0 // no split: the last epoch is kept, ValError is NaN
	cl, err := Train(context.Background(), Config{Hidden: []int{20, 10}, Activation: "tanh", Classes: 10, WeightDecay: 1e-4}, o, trainSet.Limit(600))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := cl.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(cl.ValError) || cl.BestEpoch != 2 {
		t.Errorf("without a validation split: validation error %g, best epoch %d", cl.ValError, cl.BestEpoch)
	}
	if !math.IsNaN(back.ValError) || back.BestEpoch != cl.BestEpoch || back.In != cl.In {
		t.Errorf("loaded val error %g epoch %d, saved %g epoch %d", back.ValError, back.BestEpoch, cl.ValError, cl.BestEpoch)
	}
	p1, _ := cl.Predict(testSet)
	p2, err := back.Predict(testSet)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p1 {
		if p1[i] != p2[i] {
			t.Fatalf("prediction %d: %g after loading, %g before", i, p2[i], p1[i])
		}
	}
	// Damage: a missing weight file, then a wrongly shaped one.
	w := filepath.Join(dir, "weights", LayerName(1)+".W.npy")
	os.Rename(w, w+".bak")
	if _, err := Load(dir); err == nil {
		t.Error("a classifier with a missing weight file loaded")
	}
	os.Rename(w+".bak", w)
	os.WriteFile(filepath.Join(dir, File), []byte("{"), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged description: %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("an empty folder loaded")
	}
}

// TestBadInput: invalid configurations, options and data sets are errors
// that say what is wrong.
func TestBadInput(t *testing.T) {
	trainSet, testSet := subsetData(t)
	small := trainSet.Limit(300)
	ok := Config{Hidden: []int{10}, Activation: "relu", Classes: 10}
	o := quickOptions()
	o.Epochs = 1
	noLabels := *small
	noLabels.Labels = nil
	for _, tc := range []struct {
		name string
		cfg  Config
		opt  func(o *Options)
		ds   *data.Dataset
		want string
	}{
		{"hidden", Config{Hidden: []int{10, 0}, Activation: "relu", Classes: 10}, nil, small, "hidden layer 2"},
		{"activation", Config{Hidden: []int{10}, Activation: "gelu", Classes: 10}, nil, small, "activation"},
		{"classes", Config{Hidden: []int{10}, Activation: "relu", Classes: 1}, nil, small, "classes"},
		{"labels", Config{Hidden: []int{10}, Activation: "relu", Classes: 5}, nil, small, "label"},
		{"decay", Config{Hidden: []int{10}, Activation: "relu", Classes: 10, WeightDecay: -1}, nil, small, "weight decay"},
		{"init", Config{Hidden: []int{10}, Activation: "relu", Classes: 10, Init: []Layer{{In: 784, Out: 11, W: make([]float64, 784*11), B: make([]float64, 11)}}}, nil, small, "initial layer 1"},
		{"epochs", ok, func(o *Options) { o.Epochs = 0 }, small, "epochs"},
		{"validation", ok, func(o *Options) { o.Validation = 1 }, small, "validation"},
		{"lr", ok, func(o *Options) { o.LR = math.NaN() }, small, "learning rate"},
		{"dtype", ok, func(o *Options) { o.Dtype = "int8" }, small, "dtype"},
		{"batch", ok, func(o *Options) { o.Batch = 1000 }, small, "fewer than one batch"},
		{"nolabels", ok, nil, &noLabels, "labels"},
		{"empty", ok, nil, &data.Dataset{}, "empty"},
		{"nil", ok, nil, nil, "empty"},
	} {
		opt := o
		if tc.opt != nil {
			tc.opt(&opt)
		}
		_, err := Train(context.Background(), tc.cfg, opt, tc.ds)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	cl, err := Train(context.Background(), ok, o, small)
	if err != nil {
		t.Fatal(err)
	}
	other := *testSet
	other.D = 100
	if _, err := cl.Error(&other); err == nil {
		t.Error("data of another size accepted")
	}
	unlabelled := *testSet
	unlabelled.Labels = nil
	if _, err := cl.Error(&unlabelled); err == nil {
		t.Error("error rate on unlabelled data")
	}
	if _, err := cl.Predict(&unlabelled); err != nil {
		t.Errorf("Predict needs no labels: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Train(ctx, ok, o, small); err == nil {
		t.Error("training with a cancelled context succeeded")
	}
}

// TestEpochLogJSON: an epoch without validation is written with a null
// validation error (NaN is not JSON).
func TestEpochLogJSON(t *testing.T) {
	b, err := json.Marshal([]EpochLog{{Epoch: 1, TrainLoss: 0.5, ValError: math.NaN()}, {Epoch: 2, ValError: 0.25}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"epoch":1,"train_loss":0.5,"val_error":null,"seconds":0},{"epoch":2,"train_loss":0,"val_error":0.25,"seconds":0}]`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

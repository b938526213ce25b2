package experiments

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"
)

// handMade returns an evaluator of a 784→H→784 plain autoencoder (linear
// code, squared error, float64) whose weights are given.
func handMade(t *testing.T, h int, encW, encB, decW, decB []float64) *eval.Evaluator {
	t.Helper()
	c, _ := models.Defaults("plain")
	c.Hidden, c.Activation, c.Loss = h, "linear", "mse"
	s := graph.NewStore()
	set := func(name string, shape []int, v []float64) {
		s.Set(name, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)))
	}
	set("enc.W", []int{784, h}, encW)
	set("enc.b", []int{1, h}, encB)
	set("dec.W", []int{h, 784}, decW)
	set("dec.b", []int{1, 784}, decB)
	s.Frozen = true
	return eval.NewEvaluator(c, tensor.Float64, s, 100, 1)
}

// testSets returns digits from the embedded subset and the experiment's
// two non-digit sets.
func testSets(t *testing.T, n int) (digits *data.Dataset, others []*data.Dataset) {
	t.Helper()
	_, test, err := data.LoadSubset(1, n)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	return test, []*data.Dataset{uniformNoise(rng, n, test), shuffledPixels(rng, test)}
}

// TestCopyingIndexOfHandMadeModels: the identity (W = V = I, no biases)
// reconstructs everything perfectly, copying index 1 on every set; a
// constant model (W = V = 0, its output the bias: the mean digit, or a grey
// image) reconstructs digits no better than their mean, index 0.
func TestCopyingIndexOfHandMadeModels(t *testing.T) {
	digits, others := testSets(t, 200)
	eye := make([]float64, 784*784)
	for i := 0; i < 784; i++ {
		eye[i*784+i] = 1
	}
	identity := handMade(t, 784, eye, make([]float64, 784), append([]float64(nil), eye...), make([]float64, 784))
	constant := handMade(t, 784, make([]float64, 784*784), make([]float64, 784), make([]float64, 784*784), digits.Mean())
	grey := make([]float64, 784)
	for i := range grey {
		grey[i] = 0.5
	}
	greyModel := handMade(t, 784, make([]float64, 784*784), make([]float64, 784), make([]float64, 784*784), grey)
	for _, tc := range []struct {
		name string
		ev   *eval.Evaluator
		want float64
	}{{"identity", identity, 1}, {"constant", constant, 0}, {"grey", greyModel, 0}} {
		dr, err := ReconOn(tc.ev, "digits", digits)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range others {
			or, err := ReconOn(tc.ev, "other", o)
			if err != nil {
				t.Fatal(err)
			}
			if got := CopyingIndex(dr, or); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("%s model: copying index %g, want %g (q digits %g, q other %g)", tc.name, got, tc.want, dr.Quality, or.Quality)
			}
		}
		if tc.name == "constant" && math.Abs(dr.Quality) > 1e-9 {
			t.Errorf("the mean-digit model has q(digits) = %g, want 0", dr.Quality)
		}
		if tc.name == "identity" && (dr.MSE != 0 || dr.Quality != 1) {
			t.Errorf("identity: MSE %g, q %g", dr.MSE, dr.Quality)
		}
	}
	// The identity's Jacobian is I: 784 singular values 1, effective rank 784.
	sv, err := JacobianSpectra(identity, digits.Limit(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sv[0] {
		if math.Abs(s-1) > 1e-9 {
			t.Fatalf("identity Jacobian singular value %g", s)
		}
	}
	if r := EffectiveRank(sv[0]); math.Abs(r-784) > 1e-6 {
		t.Errorf("identity effective rank %g", r)
	}
	if l, err := FilterLocality(identity.Store.Floats("enc.W"), 784, 784, 10); err != nil || l != 1 {
		t.Errorf("identity filter locality %g (%v), want 1", l, err)
	}
}

func TestCopyingIndexTable(t *testing.T) {
	for _, tc := range []struct {
		dq, oq, want float64
	}{{1, 1, 1}, {0.8, 0.4, 0.5}, {0.5, -0.5, -1}, {0, 0.3, 0}, {-0.2, 0.5, 0}} {
		if got := CopyingIndex(SetRecon{Quality: tc.dq}, SetRecon{Quality: tc.oq}); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("CopyingIndex(q %g, %g) = %g, want %g", tc.dq, tc.oq, got, tc.want)
		}
	}
}

func TestEffectiveRankAndLocality(t *testing.T) {
	for _, tc := range []struct {
		sv   []float64
		want float64
	}{{[]float64{1, 1, 1, 1}, 4}, {[]float64{3, 0, 0}, 1}, {[]float64{0, 0}, 0}, {[]float64{2, 1, 1}, math.Exp(-(0.5*math.Log(0.5) + 0.5*math.Log(0.25)))}} {
		if got := EffectiveRank(tc.sv); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("EffectiveRank(%v) = %g, want %g", tc.sv, got, tc.want)
		}
	}
	// Two filters over 4 inputs (columns of a 4×2 matrix): one pixel
	// detector (share 1), one even filter (top 1 of 4: share 1/4).
	w := []float64{
		0, 1,
		2, -1,
		0, 1,
		0, 1,
	}
	if got, err := FilterLocality(w, 4, 2, 1); err != nil || math.Abs(got-0.625) > 1e-12 {
		t.Errorf("FilterLocality = %g (%v), want 0.625", got, err)
	}
	if _, err := FilterLocality(w, 4, 2, 5); err == nil {
		t.Error("top > in accepted")
	}
}

// TestJacobiansMatchFiniteDifferences: for a small model of each family
// (random weights), the analytic end-to-end Jacobian equals a
// central-difference Jacobian of the model's reconstruction.
func TestJacobiansMatchFiniteDifferences(t *testing.T) {
	digits, _ := testSets(t, 3)
	x := digits.Limit(1)
	for _, tc := range []struct {
		model, act, loss string
	}{{"plain", "sigmoid", "bce"}, {"sparse", "relu", "bce"}, {"contractive", "tanh", "mse"}, {"denoising", "sigmoid", "mse"}, {"topk", "linear", "mse"}} {
		c, _ := models.Defaults(tc.model)
		c.Hidden, c.Activation, c.Loss = 40, tc.act, tc.loss
		if tc.model == "topk" {
			c.K, c.KStart = 10, 0
		}
		ev := eval.NewEvaluator(c, tensor.Float64, graph.NewStore(), 1, 1)
		var jts []*mat.Dense
		if err := Jacobians(ev, x, func(jt *mat.Dense) error { jts = append(jts, jt); return nil }); err != nil {
			t.Fatalf("%s: %v", tc.model, err)
		}
		if len(jts) != 1 {
			t.Fatalf("%s: %d Jacobians for 1 example", tc.model, len(jts))
		}
		p, err := ev.Program(1, 784)
		if err != nil {
			t.Fatal(err)
		}
		recon := func(v []float32) []float64 {
			if err := p.Run(v, rand.New(rand.NewPCG(1, 1)), false); err != nil {
				t.Fatal(err)
			}
			return append([]float64(nil), p.Output(graph.Recon)...)
		}
		// Central differences in the pixels (inputs are float32: a step of
		// 1/512 is exact).
		const eps = 1.0 / 512
		var worst, scale float64
		for i := 0; i < 784; i += 7 {
			up := append([]float32(nil), x.X...)
			dn := append([]float32(nil), x.X...)
			up[i] += eps
			dn[i] -= eps
			ru, rd := recon(up), recon(dn)
			for j := range ru {
				fd := (ru[j] - rd[j]) / (2 * eps)
				worst = math.Max(worst, math.Abs(fd-jts[0].At(i, j)))
				scale = math.Max(scale, math.Abs(fd))
			}
		}
		if scale == 0 || worst > 1e-4*math.Max(scale, 1) {
			t.Errorf("%s: analytic Jacobian differs from central differences by %g (largest entry %g)", tc.model, worst, scale)
		}
		sv, err := JacobianSpectra(ev, x)
		if err != nil {
			t.Fatal(err)
		}
		if len(sv) != 1 || len(sv[0]) != 784 || !sort.SliceIsSorted(sv[0], func(a, b int) bool { return sv[0][a] > sv[0][b] }) {
			t.Fatalf("%s: spectrum %d×%d, or not decreasing", tc.model, len(sv), len(sv[0]))
		}
		// The spectrum (computed through a QR of the thin factor) against
		// an SVD of the whole Jacobian.
		var svd mat.SVD
		if !svd.Factorize(jts[0], mat.SVDNone) {
			t.Fatal("SVD failed")
		}
		for i, want := range svd.Values(nil) {
			if math.Abs(sv[0][i]-want) > 1e-9*math.Max(1, sv[0][0]) {
				t.Fatalf("%s: singular value %d is %g, the SVD of J gives %g", tc.model, i+1, sv[0][i], want)
			}
		}
		// Rank ≤ the units that pass a gradient (≤ k for top-K).
		limit := c.Hidden
		if tc.model == "topk" {
			limit = c.K
		}
		if sv[0][limit] > 1e-9*sv[0][0] {
			t.Errorf("%s: singular value %d is %g (σ₁ %g): rank above %d", tc.model, limit+1, sv[0][limit], sv[0][0], limit)
		}
	}
}

func TestCrossEntropyAndGap(t *testing.T) {
	p := []float64{
		0.5, 0.25, 0.25,
		0.1, 0.8, 0.1,
	}
	want := -(math.Log(0.5) + math.Log(0.1)) / 2
	if got := CrossEntropy(p, []uint8{0, 2}, 3); math.Abs(got-want) > 1e-12 {
		t.Errorf("CrossEntropy = %g, want %g", got, want)
	}
	if got := CrossEntropy([]float64{1, 0}, []uint8{1}, 2); math.IsInf(got, 0) || got < 690 {
		t.Errorf("CrossEntropy of a zero probability = %g, want large and finite", got)
	}
	for _, tc := range []struct{ train, test, want float64 }{{90, 100, 0.1}, {0, 0.5, 1}, {1, 1, 0}} {
		if got := gap(tc.train, tc.test); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("gap(%g, %g) = %g, want %g", tc.train, tc.test, got, tc.want)
		}
	}
}

// TestMeanCode: a model whose code is its bias (W = 0) has that bias's
// mean as mean code on any input; the identity's code is the input, so its
// mean code is the set's mean pixel.
func TestMeanCode(t *testing.T) {
	digits, others := testSets(t, 50)
	const h = 16
	b := make([]float64, h)
	var want float64
	for i := range b {
		b[i] = 0.05 * float64(i)
		want += b[i] / h
	}
	biasOnly := handMade(t, h, make([]float64, 784*h), b, make([]float64, h*784), make([]float64, 784))
	for _, ds := range append([]*data.Dataset{digits}, others...) {
		if got, err := MeanCode(biasOnly, ds); err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("bias-only model: mean code %g (%v), want %g", got, err, want)
		}
	}
	eye := make([]float64, 784*784)
	for i := 0; i < 784; i++ {
		eye[i*784+i] = 1
	}
	identity := handMade(t, 784, eye, make([]float64, 784), append([]float64(nil), eye...), make([]float64, 784))
	for _, ds := range append([]*data.Dataset{digits}, others...) {
		var mean float64
		for _, v := range ds.X {
			mean += float64(v) / float64(len(ds.X))
		}
		if got, err := MeanCode(identity, ds); err != nil || math.Abs(got-mean) > 1e-9 {
			t.Errorf("identity: mean code %g (%v), want the mean pixel %g", got, err, mean)
		}
	}
}

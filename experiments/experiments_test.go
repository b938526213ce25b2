package experiments

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/viz"
	"github.com/aezoo/aezoo/zoo"
	"gonum.org/v1/gonum/mat"
)

// TestRidgeProjectionIsTheOptimum checks the closed form against the
// objective itself: W_k beats random rank-k perturbations of itself, and
// with k = d it equals the unconstrained ridge solution XᵀX(XᵀX + nσ²I)⁻¹.
func TestRidgeProjectionIsTheOptimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d, k, sigma = 300, 6, 3, 0.7
	ds := syntheticSpectrum(rng, n, d, []float64{9, 4, 2}, 0.1)
	x := float64s(ds.X)
	X := mat.NewDense(n, d, x)
	objective := func(W *mat.Dense) float64 {
		var xw, diff mat.Dense
		xw.Mul(X, W)
		diff.Sub(X, &xw)
		a := mat.Norm(&diff, 2)
		b := mat.Norm(W, 2)
		return a*a + n*sigma*sigma*b*b
	}
	wk, pca, s2, err := RidgeProjection(x, n, d, k, sigma)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(s2); i++ {
		if s2[i] > s2[i-1] {
			t.Fatalf("eigenvalues not decreasing: %v", s2)
		}
	}
	best := objective(wk)
	if objective(pca) <= best {
		t.Errorf("the PCA projector scores %g ≤ closed form %g", objective(pca), best)
	}
	// Factor W_k = B·C (B = U_k diag(c), C = U_kᵀ) and perturb the factors:
	// every (B + εR)(C + εQ) has rank ≤ k.
	var eig mat.EigenSym
	var gram mat.SymDense
	gram.SymOuterK(1, X.T())
	eig.Factorize(&gram, true)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	vals := eig.Values(nil)
	B, C := mat.NewDense(d, k, nil), mat.NewDense(k, d, nil)
	for j := 0; j < k; j++ {
		col := d - 1 - j // EigenSym sorts ascending
		c := vals[col] / (vals[col] + n*sigma*sigma)
		for i := 0; i < d; i++ {
			B.Set(i, j, c*vecs.At(i, col))
			C.Set(j, i, vecs.At(i, col))
		}
	}
	var bc mat.Dense
	bc.Mul(B, C)
	if e := relFro(&bc, wk); e > 1e-10 {
		t.Fatalf("factorization check: %g", e)
	}
	for trial := 0; trial < 50; trial++ {
		var b2, c2, w mat.Dense
		r := mat.NewDense(d, k, nil)
		q := mat.NewDense(k, d, nil)
		for i := 0; i < d; i++ {
			for j := 0; j < k; j++ {
				r.Set(i, j, 0.01*rng.NormFloat64())
				q.Set(j, i, 0.01*rng.NormFloat64())
			}
		}
		b2.Add(B, r)
		c2.Add(C, q)
		w.Mul(&b2, &c2)
		if objective(&w) < best-1e-9*best {
			t.Fatalf("a rank-%d perturbation lowers the objective: %g < %g", k, objective(&w), best)
		}
	}
	// k = d: the unconstrained ridge solution.
	full, _, _, err := RidgeProjection(x, n, d, d, sigma)
	if err != nil {
		t.Fatal(err)
	}
	var g, gi, ridge mat.Dense
	g.Mul(X.T(), X)
	reg := mat.NewDense(d, d, nil)
	reg.Copy(&g)
	for i := 0; i < d; i++ {
		reg.Set(i, i, reg.At(i, i)+n*sigma*sigma)
	}
	if err := gi.Inverse(reg); err != nil {
		t.Fatal(err)
	}
	ridge.Mul(&g, &gi)
	if e := relFro(full, &ridge); e > 1e-10 {
		t.Errorf("k = d closed form differs from the ridge solution by %g", e)
	}
	if _, _, _, err := RidgeProjection(x, n, d, d+1, sigma); err == nil {
		t.Error("k > d accepted")
	}
}

func TestReportWriting(t *testing.T) {
	out := t.TempDir()
	img, err := viz.Lines(viz.Axes{Title: "t"}, []viz.Series{{Name: "a", X: []float64{1, 2}, Y: []float64{3, 4}}})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string, pass bool) *Result {
		r := newResult(name, "Title "+name, "intro")
		r.Tables = append(r.Tables, Table{Title: "T", Columns: []string{"model", "x"}, Rows: [][]string{{"AE", "1.0"}}})
		r.row("AE", "bce", 80)
		r.row("AE", "probe_error", 0.0135)
		r.measure(name+".x", 1)
		if err := r.claim(name+".claim", "claim", []string{name + ".x"}, func(v []float64) (bool, string) {
			return pass, fmt.Sprintf("detail %g", v[0])
		}); err != nil {
			t.Fatal(err)
		}
		if err := r.figure("f.png", "caption", img, nil); err != nil {
			t.Fatal(err)
		}
		r.Values["v"] = 1.5
		return r
	}
	a, b := mk("one", true), mk("two", false)
	for _, r := range []*Result{a, b} {
		if err := r.Write(filepath.Join(out, r.Name), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteCombined(out, []*Result{a, b}, false, 12); err != nil {
		t.Fatal(err)
	}
	rep, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| AE | 80.00 |", "1.35%", "![caption](one/f.png)", "✅ claim", "❌ claim", "## Comparison"} {
		if !strings.Contains(string(rep), want) {
			t.Errorf("combined report lacks %q:\n%s", want, rep)
		}
	}
	var res map[string]any
	b2, _ := os.ReadFile(filepath.Join(out, "one", "results.json"))
	if err := json.Unmarshal(b2, &res); err != nil {
		t.Fatal(err)
	}
	if res["values"].(map[string]any)["v"] != 1.5 {
		t.Errorf("results.json values: %v", res["values"])
	}
	if res["numbers"].(map[string]any)["one.x"] != 1.0 {
		t.Errorf("results.json numbers: %v", res["numbers"])
	}
	c := res["checks"].([]any)[0].(map[string]any)
	if c["id"] != "one.claim" || c["numbers"].(map[string]any)["one.x"] != 1.0 || c["pass"] != true {
		t.Errorf("results.json check: %v", c)
	}
	if _, err := os.Stat(filepath.Join(out, "one", "f.png")); err != nil {
		t.Error("figure not written")
	}
}

// TestQuickReportCountsEveryUnmetClaim: a quick run checks its claims
// like a full one: each unmet claim is a ❌ in the experiment's report and
// in the combined one, and Unmet (what the closing line of `zoo reproduce`
// counts) lists exactly those.
func TestQuickReportCountsEveryUnmetClaim(t *testing.T) {
	out := t.TempDir()
	mk := func(name string, pass ...bool) *Result {
		r := newResult(name, "Title "+name, "intro")
		r.measure(name+".x", 1)
		for i, p := range pass {
			if err := r.claim(fmt.Sprintf("%s.c%d", name, i), "claim", []string{name + ".x"}, func([]float64) (bool, string) { return p, "" }); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	results := []*Result{mk("one", true, false, false), mk("two", false, true)}
	unmet := 0
	for _, r := range results {
		if err := r.Write(filepath.Join(out, r.Name), true); err != nil {
			t.Fatal(err)
		}
		rep, _ := os.ReadFile(filepath.Join(out, r.Name, "report.md"))
		if got := strings.Count(string(rep), "❌"); got != len(r.Unmet()) {
			t.Errorf("%s: %d ❌ in the quick report, %d unmet claims", r.Name, got, len(r.Unmet()))
		}
		unmet += len(r.Unmet())
	}
	if unmet != 3 {
		t.Fatalf("Unmet found %d claims, want 3", unmet)
	}
	if err := WriteCombined(out, results, true, 1); err != nil {
		t.Fatal(err)
	}
	rep, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if got := strings.Count(string(rep), "- ❌"); got != unmet || !strings.Contains(string(rep), "Claims: 2 of 5 met (3 ❌)") || strings.Contains(string(rep), "➖") {
		t.Errorf("combined quick report: %d ❌ lines for %d unmet claims:\n%s", got, unmet, rep)
	}
}

// TestLinearExperimentSynthetic trains one small synthetic linear DAE and
// requires it to land near the closed form.
func TestLinearRunNearClosedForm(t *testing.T) {
	env := &Env{Ctx: context.Background(), Quick: true, Out: t.TempDir(), Seed: 3, Log: io.Discard, runs: map[string]*Run{}}
	rng := rand.New(rand.NewPCG(5, 6))
	tr := syntheticSpectrum(rng, 500, 8, []float64{9, 3}, 0.05)
	te := syntheticSpectrum(rng, 100, 8, []float64{9, 3}, 0.05)
	dae, pca, err := linearRun(env, "t", tr, te, 2, 1, 1200, 500, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("relative error: trained %.4f, PCA %.4f", dae, pca)
	if dae > 0.02 || !(dae < pca) || math.IsNaN(dae) {
		t.Errorf("trained linear DAE is %.4f from the closed form (PCA %.4f)", dae, pca)
	}
}

// TestMarginalizedRunNearClosedForm: the linear DAE trained by the zoo's
// trainer on the marginalized objective with full batches, where no noise
// enters at all, reaches the closed form on the synthetic data of
// TestLinearRunNearClosedForm (relative error ≤ 1e-6; the sampled-noise
// model there stops near 1%).
func TestMarginalizedRunNearClosedForm(t *testing.T) {
	env := &Env{Ctx: context.Background(), Quick: true, Out: t.TempDir(), Seed: 3, Log: io.Discard, runs: map[string]*Run{}}
	rng := rand.New(rand.NewPCG(5, 6))
	tr := syntheticSpectrum(rng, 500, 8, []float64{9, 3}, 0.05)
	te := syntheticSpectrum(rng, 100, 8, []float64{9, 3}, 0.05)
	sp, err := newSpectrum(float64s(tr.X), tr.N, tr.D)
	if err != nil {
		t.Fatal(err)
	}
	res, err := linearRunOn(env, linearSpec(env, "t", tr, te, 2, 1, linearTraining{noise: models.Marginalized, epochs: 1200, batch: 500, lr: 0.01}), sp, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("relative error: trained %.2e (outside U_k %.2e), PCA %.4f, angles %v", res.dae, res.outside, res.pca, res.angles)
	if !(res.dae <= 1e-6) || res.outside > res.dae {
		t.Errorf("marginalized linear DAE is %.5f from the closed form (outside U_k: %.5f)", res.dae, res.outside)
	}
}

// TestClaimOfMissingNumberFails: a claim that reads a number nobody
// measured (say, after a label or ID was renamed) is an error naming it,
// not a check of 0.
func TestClaimOfMissingNumberFails(t *testing.T) {
	r := newResult("sparse", "t", "i")
	r.measure("sparse.topk_probe_eror", 0.01) // a typo in the producer
	called := false
	err := r.claim("sparse.topk_probe_error", "top-K probe error ≤ 2%", []string{"sparse.topk_probe_error"},
		func(v []float64) (bool, string) { called = true; return v[0] <= 0.02, "" })
	if err == nil || !strings.Contains(err.Error(), `"sparse.topk_probe_error"`) {
		t.Errorf("claim on a missing number: err = %v", err)
	}
	if called || len(r.Checks) != 0 {
		t.Error("the claim was tested without its number")
	}
}

// TestReproduceOptions: a non-positive IW-NLL sample count is refused
// before anything runs.
func TestReproduceOptions(t *testing.T) {
	if _, err := Reproduce(context.Background(), []string{"vae"}, Options{Quick: true, Out: t.TempDir(), Log: io.Discard}); err == nil {
		t.Error("IWSamples 0 accepted")
	}
}

func TestLookup(t *testing.T) {
	for _, e := range Catalogue() {
		if got, err := Lookup(e.Name); err != nil || got.Name != e.Name {
			t.Errorf("Lookup(%q): %v", e.Name, err)
		}
	}
	if _, err := Lookup("gan"); err == nil {
		t.Error("unknown experiment found")
	}
}

// TestReproduceContinues trains two tiny runs in a reproduction folder,
// then continues it in a fresh environment: the finished run is reused
// (same summary, same test metrics from its evaluator), the unfinished one
// (no summary.json, as an interruption leaves it) is trained again; with
// overwrite the earlier reproduction is removed.
func TestReproduceContinues(t *testing.T) {
	out := t.TempDir()
	c, _ := models.Defaults("plain")
	c.Hidden = 8
	train := func(log io.Writer) (*Run, *Run) {
		lock, err := ClaimFolder(out, false, log)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Release()
		env, err := NewEnv(context.Background(), Options{Quick: true, Out: out, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		o := env.Options(1, 1)
		a, err := env.Train("a", c, o)
		if err != nil {
			t.Fatal(err)
		}
		o.Seed = 2
		b, err := env.Train("b", c, o)
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
	a1, b1 := train(io.Discard)
	os.Remove(filepath.Join(b1.Dir, "summary.json"))
	var log bytes.Buffer
	a2, b2 := train(&log)
	if strings.Count(log.String(), "  reusing a ") != 1 || strings.Count(log.String(), "  training b ") != 1 ||
		!strings.Contains(log.String(), "continuing the reproduction in "+out) {
		t.Errorf("log of the continued reproduction:\n%s", log.String())
	}
	a1.Summary.Seconds, a2.Summary.Seconds, b1.Summary.Seconds, b2.Summary.Seconds = 0, 0, 0, 0
	a1.Summary.Written, a2.Summary.Written, b1.Summary.Written, b2.Summary.Written = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(a1.Summary, a2.Summary) || !reflect.DeepEqual(b1.Summary, b2.Summary) {
		t.Errorf("summaries differ:\n%+v\n%+v", a1.Summary, a2.Summary)
	}
	m1, err1 := a1.Eval.Evaluate(a1.Test)
	m2, err2 := a2.Eval.Evaluate(a2.Test)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(m1, m2) {
		t.Errorf("the reused run evaluates differently (%v, %v):\n%+v\n%+v", err1, err2, m1, m2)
	}
	lock, err := ClaimFolder(out, true, &log)
	if err != nil {
		t.Fatal(err)
	}
	lock.Release()
	if es, _ := os.ReadDir(out); len(es) != 0 {
		t.Errorf("overwrite left %d entries of the earlier reproduction", len(es))
	}
}

// TestSharedRunTrainedOnce: two tasks of a parallel reproduction (two
// environments on one folder, as two processes have) that need the same
// run at the same time train it once: one trains, the other waits for the
// folder's lock and reuses the finished run.
func TestSharedRunTrainedOnce(t *testing.T) {
	out := t.TempDir()
	c, _ := models.Defaults("plain")
	c.Hidden = 8
	type got struct {
		run *Run
		log string
		err error
	}
	ch := make(chan got, 2)
	for range 2 {
		go func() {
			var log bytes.Buffer
			env, err := NewEnv(context.Background(), Options{Quick: true, Out: out, Log: &log, Task: true})
			if err != nil {
				ch <- got{err: err}
				return
			}
			r, err := env.Train("a", c, env.Options(1, 2))
			ch <- got{r, log.String(), err}
		}()
	}
	a, b := <-ch, <-ch
	if a.err != nil || b.err != nil {
		t.Fatal(a.err, b.err)
	}
	logs := a.log + b.log
	if strings.Count(logs, "  training a ") != 1 || strings.Count(logs, "  reusing a ") != 1 {
		t.Errorf("want one training and one reuse:\n%s", logs)
	}
	if es, _ := os.ReadDir(filepath.Join(out, "runs")); len(es) != 1 {
		t.Errorf("%d run folders, want 1", len(es))
	}
	a.run.Summary.Seconds, b.run.Summary.Seconds = 0, 0
	a.run.Summary.Written, b.run.Summary.Written = time.Time{}, time.Time{}
	if !reflect.DeepEqual(a.run.Summary, b.run.Summary) {
		t.Errorf("the tasks' runs differ:\n%+v\n%+v", a.run.Summary, b.run.Summary)
	}
}

// TestResultRoundTrip: a result written to results.json and read back
// writes the same results.json and report.md (what a parallel
// reproduction's combined report is made of).
func TestResultRoundTrip(t *testing.T) {
	r := newResult("x", "X: a title", "An intro.")
	r.Tables = append(r.Tables, Table{Title: "t", Columns: []string{"a", "b"}, Rows: [][]string{{"1", "2"}}})
	r.Figures = append(r.Figures, Figure{File: "f.png", Caption: "a figure", Image: image.NewGray(image.Rect(0, 0, 4, 4))})
	r.measure("x.n", 0.1+0.2)
	r.row("AE", "bce", 1.0/3)
	r.Values["AE"] = map[string]any{"k": float32(0.7), "n": 3}
	if err := r.claim("x.c", "n small", []string{"x.n"}, func(v []float64) (bool, string) { return v[0] < 1, "fine" }); err != nil {
		t.Fatal(err)
	}
	r.Seconds, r.Settings = 1.5, Settings{Quick: true, Data: "here", IWSamples: 7}
	d1, d2 := t.TempDir(), t.TempDir()
	if err := r.Write(d1, true); err != nil {
		t.Fatal(err)
	}
	back, err := LoadResult(d1)
	if err != nil {
		t.Fatal(err)
	}
	if back.Settings != r.Settings || back.Figures[0].File != "f.png" {
		t.Errorf("read back %+v", back)
	}
	back.Figures = nil // the figure files stay where they are
	if err := back.Write(d2, true); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results.json", "report.md"} {
		b1, _ := os.ReadFile(filepath.Join(d1, f))
		b2, _ := os.ReadFile(filepath.Join(d2, f))
		if f == "report.md" {
			b1 = bytes.ReplaceAll(b1, []byte("![a figure](f.png)\n\n_a figure_\n\n"), nil)
		}
		if f == "results.json" {
			b1 = bytes.ReplaceAll(b1, []byte(`"figures": [
    {
      "caption": "a figure",
      "file": "f.png"
    }
  ]`), []byte(`"figures": []`))
		}
		if !bytes.Equal(b1, b2) {
			t.Errorf("%s differs after the round trip:\n%s\n%s", f, b1, b2)
		}
	}
	if _, err := LoadResult(t.TempDir()); err == nil {
		t.Error("a folder without results.json read")
	}
}

// TestQuickOnOtherData: a quick reproduction on other data (here
// Fashion-MNIST, when installed; AEZOO_REQUIRE_FASHION_MNIST, set by CI,
// makes its absence a failure) takes its first QuickTrain and QuickTest
// images, and the reports name the data.
func TestQuickOnOtherData(t *testing.T) {
	f, err := data.Find(data.FashionMNIST, data.LookupOptions{})
	if err != nil {
		if os.Getenv("AEZOO_REQUIRE_FASHION_MNIST") != "" {
			t.Fatalf("AEZOO_REQUIRE_FASHION_MNIST is set but %v", err)
		}
		t.Skipf("Fashion-MNIST not installed (%v)", err)
	}
	env, err := NewEnv(context.Background(), Options{Quick: true, Data: f.Dir, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if env.TrainSet.N != QuickTrain || env.TestSet.N != QuickTest || !strings.Contains(env.Data, "fashion-mnist (quick: its first 2000 training and 500 test images)") {
		t.Errorf("quick data: %d train, %d test, %q", env.TrainSet.N, env.TestSet.N, env.Data)
	}
	full, _, _, err := zoo.LoadData(f.Dir, QuickTrain, 0)
	if err != nil || !reflect.DeepEqual(full.X, env.TrainSet.X) {
		t.Errorf("the quick training set is not the first %d images (%v)", QuickTrain, err)
	}
	r := newResult("x", "X", "")
	r.Settings = env.Settings()
	var b strings.Builder
	r.markdown(&b, true, "", 1)
	if !strings.Contains(b.String(), "_Quick run: "+env.Data+", a few epochs,") {
		t.Errorf("report:\n%s", b.String())
	}
	d := t.TempDir()
	if err := WriteCombined(d, []*Result{r, r}, true, 1); err != nil {
		t.Fatal(err)
	}
	if md, _ := os.ReadFile(filepath.Join(d, "report.md")); !strings.Contains(string(md), "_Quick run ("+env.Data+", few epochs)") {
		t.Errorf("combined report:\n%s", md)
	}
}

// linearRun trains the linear DAE of rank k with noise σ on ds and returns
// the relative Frobenius errors of its decoder·encoder product and of the
// PCA projector, both against the closed form.
func linearRun(env *Env, label string, ds, test *data.Dataset, k int, sigma float64, epochs, batch int, lr float64) (dae, pcaErr float64, err error) {
	sp, err := newSpectrum(float64s(ds.X), ds.N, ds.D)
	if err != nil {
		return 0, 0, err
	}
	lr2, err := linearRunOn(env, linearSpec(env, label, ds, test, k, sigma, linearTraining{noise: "gaussian", epochs: epochs, batch: batch, lr: lr}), sp, k, sigma)
	return lr2.dae, lr2.pca, err
}

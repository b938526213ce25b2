package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/aezoo/aezoo/classify"
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/viz"
	"github.com/pkg/errors"
	"gonum.org/v1/gonum/mat"
)

// SetRecon is how well a model reconstructs one set of inputs.
//
//	MSE      = E‖x̂ − x‖² / D                    (per pixel)
//	Var      = E‖x − x̄‖² / D                    (x̄: the set's own mean image)
//	Quality  = 1 − MSE/Var                       (1: perfect; 0: no better than x̄)
type SetRecon struct {
	Name    string
	N       int
	MSE     float64
	Var     float64
	Quality float64
}

// setVariance is E‖x − x̄‖²/D of ds, x̄ its mean image.
func setVariance(ds *data.Dataset) float64 {
	m := ds.Mean()
	var s float64
	for i := 0; i < ds.N; i++ {
		for j, v := range ds.Row(i) {
			d := float64(v) - m[j]
			s += d * d
		}
	}
	return s / float64(ds.N*ds.D)
}

// ReconOn measures ev's model on ds (see SetRecon).
func ReconOn(ev *eval.Evaluator, name string, ds *data.Dataset) (SetRecon, error) {
	m, err := ev.Evaluate(ds)
	if err != nil {
		return SetRecon{}, errors.Wrapf(err, "reconstructing %s", name)
	}
	v := setVariance(ds)
	if v <= 0 {
		return SetRecon{}, errors.Errorf("reconstructing %s: the set has no variance", name)
	}
	return SetRecon{Name: name, N: ds.N, MSE: m.MSEPerPixel, Var: v, Quality: 1 - m.MSEPerPixel/v}, nil
}

// CopyingIndex is how well a model reconstructs inputs that are not
// digits relative to how well it reconstructs digits: other.Quality /
// digits.Quality. It is 1 for the identity (everything reconstructed
// perfectly), near 0 for a model that reconstructs non-digits no better than
// their mean image, and negative when it does worse than that (it turns
// them into digits). A model that does not reconstruct digits either
// (digits.Quality ≤ 0 up to rounding, such as a constant one) copies
// nothing: 0.
func CopyingIndex(digits, other SetRecon) float64 {
	if digits.Quality <= 1e-9 {
		return 0
	}
	return other.Quality / digits.Quality
}

// MeanCode is the mean of the code h over the examples of ds and the
// code's units: for a sigmoid code, its mean activation in (0, 1). It
// shows how sparse a code is, and how a model meets inputs that are not
// digits (a code that switches off reconstructs its decoder's bias image).
func MeanCode(ev *eval.Evaluator, ds *data.Dataset) (float64, error) {
	codes, _, err := ev.Codes(ds, graph.Code)
	if err != nil {
		return 0, errors.Wrap(err, "mean code")
	}
	if len(codes) == 0 {
		return 0, errors.New("mean code: no codes")
	}
	var s float64
	for _, v := range codes {
		s += v
	}
	return s / float64(len(codes)), nil
}

// FilterLocality is the mean over the encoder's filters (the H columns of
// the in×H weight matrix w) of the share of each filter's energy Σw² held
// by its top largest-magnitude weights: 1 for pixel detectors (one pixel
// per filter), about top/in for filters spread evenly over the image.
func FilterLocality(w []float64, in, h, top int) (float64, error) {
	if in <= 0 || h <= 0 || len(w) != in*h || top <= 0 || top > in {
		return 0, errors.Errorf("filter locality: bad sizes in=%d h=%d top=%d (%d weights)", in, h, top, len(w))
	}
	col := make([]float64, in)
	var sum float64
	n := 0
	for u := 0; u < h; u++ {
		var tot float64
		for i := 0; i < in; i++ {
			col[i] = w[i*h+u] * w[i*h+u]
			tot += col[i]
		}
		if tot == 0 {
			continue // a filter of zeros has no locality to speak of
		}
		sort.Sort(sort.Reverse(sort.Float64Slice(col)))
		var s float64
		for _, v := range col[:top] {
			s += v
		}
		sum += s / tot
		n++
	}
	if n == 0 {
		return 0, errors.New("filter locality: every filter is zero")
	}
	return sum / float64(n), nil
}

// EffectiveRank is exp of the entropy of the normalized singular values
// p_i = σ_i/Σσ (Roy & Vetterli 2007): n for n equal values, 1 for one.
func EffectiveRank(sv []float64) float64 {
	var tot float64
	for _, s := range sv {
		tot += math.Abs(s)
	}
	if tot == 0 {
		return 0
	}
	var h float64
	for _, s := range sv {
		if p := math.Abs(s) / tot; p > 0 {
			h -= p * math.Log(p)
		}
	}
	return math.Exp(h)
}

// actDerivative is act'(a) from the activation's output h.
func actDerivative(act string, h float64) (float64, error) {
	switch act {
	case "sigmoid":
		return h * (1 - h), nil
	case "tanh":
		return 1 - h*h, nil
	case "relu":
		if h > 0 {
			return 1, nil
		}
		return 0, nil
	case "linear":
		return 1, nil
	}
	return 0, errors.Errorf("jacobian: unknown activation %q", act)
}

// JacobianSpectra returns the singular values (decreasing) of the
// end-to-end Jacobian ∂x̂/∂x at each example of xs (see Jacobians).
func JacobianSpectra(ev *eval.Evaluator, xs *data.Dataset) ([][]float64, error) {
	var out [][]float64
	err := jacobianFactors(ev, xs, func(A, B *mat.Dense) error {
		sv := make([]float64, xs.D)
		if A == nil {
			out = append(out, sv)
			return nil
		}
		d, k := A.Dims()
		// Jᵀ = A·B. With fewer units than pixels, A = QR (Q d×k with
		// orthonormal columns) gives σ(A·B) = σ(R·B), a k×d problem.
		var m mat.Matrix
		if k < d {
			var qr mat.QR
			qr.Factorize(A)
			var R, rb mat.Dense
			qr.RTo(&R)
			rb.Mul(R.Slice(0, k, 0, k), B)
			m = &rb
		} else {
			var ab mat.Dense
			ab.Mul(A, B)
			m = &ab
		}
		var svd mat.SVD
		if !svd.Factorize(m, mat.SVDNone) {
			return errors.New("jacobian: SVD did not converge")
		}
		copy(sv, svd.Values(nil))
		out = append(out, sv)
		return nil
	})
	return out, err
}

// Jacobians calls fn with the transposed end-to-end Jacobian (∂x̂/∂x)ᵀ
// (D×D: entry i, j is ∂x̂_j/∂x_i) of a one-hidden-layer autoencoder
// (plain, sparse, denoising, contractive, top-K) at each example of xs:
//
//	x̂ = out(h·V + c), h = act(x·W + b)  ⇒  (∂x̂/∂x)ᵀ = W · diag(act'(a)) · V · diag(out'(l))
//
// where V is dec.W, or Wᵀ for tied weights, out' is x̂(1 − x̂) for a
// Bernoulli (bce) output and 1 for mse, and act' is read from the code h
// (for top-K, 1 on the kept units, 0 elsewhere). fn may keep the matrix.
func Jacobians(ev *eval.Evaluator, xs *data.Dataset, fn func(jt *mat.Dense) error) error {
	return jacobianFactors(ev, xs, func(A, B *mat.Dense) error {
		jt := mat.NewDense(xs.D, xs.D, nil)
		if A != nil {
			jt.Mul(A, B)
		}
		return fn(jt)
	})
}

// jacobianFactors calls fn with the factors of Jᵀ = A·B at each example
// of xs (see Jacobians): A = W·diag(act'(a)) and B = V·diag(out'(l)),
// restricted to the k units with act'(a) ≠ 0 (A is D×k, B k×D; both nil
// when k = 0: the Jacobian is zero).
func jacobianFactors(ev *eval.Evaluator, xs *data.Dataset, fn func(A, B *mat.Dense) error) error {
	c := ev.Config
	switch c.Model {
	case "plain", "sparse", "denoising", "contractive", "topk":
	default:
		return errors.Errorf("jacobian: model %s is not a one-hidden-layer autoencoder", c.Model)
	}
	d, hN := xs.D, c.Hidden
	var W *mat.Dense
	var V mat.Matrix
	weights := func() error { // after the first program is built: a fresh store fills then
		w := ev.Store.Floats("enc.W")
		if len(w) != d*hN {
			return errors.Errorf("jacobian: enc.W has %d values, want %d×%d", len(w), d, hN)
		}
		W = mat.NewDense(d, hN, w)
		if v := ev.Store.Floats("dec.W"); v != nil {
			if len(v) != hN*d {
				return errors.Errorf("jacobian: dec.W has %d values, want %d×%d", len(v), hN, d)
			}
			V = mat.NewDense(hN, d, v)
		} else {
			V = W.T() // tied
		}
		return nil
	}
	return ev.Batches(xs, func(p *graph.Program, _ []float32, _ int) error {
		code, recon := p.Output(graph.Code), p.Output(graph.Recon)
		if code == nil || recon == nil {
			return errors.Errorf("jacobian: model %s names no code or reconstruction", c.Model)
		}
		if W == nil {
			if err := weights(); err != nil {
				return err
			}
		}
		for e := 0; e < p.Batch(); e++ {
			// The units with act'(a) ≠ 0 and their derivatives.
			var keep []int
			var gh []float64
			for u := 0; u < hN; u++ {
				hv := code[e*hN+u]
				g := 0.0
				if c.Model == "topk" {
					if hv != 0 {
						g = 1
					}
				} else {
					var err error
					if g, err = actDerivative(c.Activation, hv); err != nil {
						return err
					}
				}
				if g != 0 {
					keep, gh = append(keep, u), append(gh, g)
				}
			}
			if len(keep) == 0 {
				if err := fn(nil, nil); err != nil { // a zero Jacobian
					return err
				}
				continue
			}
			A := mat.NewDense(d, len(keep), nil)
			B := mat.NewDense(len(keep), d, nil)
			for k, u := range keep {
				for i := 0; i < d; i++ {
					A.Set(i, k, W.At(i, u)*gh[k])
				}
				for j := 0; j < d; j++ {
					g := 1.0
					if c.Loss != "mse" {
						r := recon[e*d+j]
						g = r * (1 - r)
					}
					B.Set(k, j, V.At(u, j)*g)
				}
			}
			if err := fn(A, B); err != nil {
				return err
			}
		}
		return nil
	})
}

// uniformNoise returns n images of independent U[0,1] pixels.
func uniformNoise(rng *rand.Rand, n int, like *data.Dataset) *data.Dataset {
	ds := &data.Dataset{X: make([]float32, n*like.D), Labels: make([]uint8, n), N: n, D: like.D, Rows: like.Rows, Cols: like.Cols}
	for i := range ds.X {
		ds.X[i] = rng.Float32()
	}
	return ds
}

// shuffledPixels returns a copy of ds with the pixels of each image in a
// random order of its own: the same pixel values, no digit structure.
func shuffledPixels(rng *rand.Rand, ds *data.Dataset) *data.Dataset {
	out := &data.Dataset{X: append([]float32(nil), ds.X...), Labels: append([]uint8(nil), ds.Labels...), N: ds.N, D: ds.D, Rows: ds.Rows, Cols: ds.Cols}
	for i := 0; i < out.N; i++ {
		row := out.Row(i)
		rng.Shuffle(len(row), func(a, b int) { row[a], row[b] = row[b], row[a] })
	}
	return out
}

// overcompleteSizes returns the plain AEs' code sizes and that of the
// regularized AEs (the third plain size): 64, 256, 1024, 2048 and 1024;
// quick runs use 64, 128, 512, 1024 and 512 (a 32-unit sigmoid AE learns
// next to nothing in a quick run's few hundred steps).
func overcompleteSizes(quick bool) (plain []int, regularized int) {
	if quick {
		return []int{64, 128, 512, 1024}, 512
	}
	return []int{64, 256, 1024, 2048}, 1024
}

// plainRoles name the plain AEs in number IDs, by rank of size (the IDs
// stay the same when quick runs use other sizes); the regularized AEs
// compare with ae_large.
var plainRoles = []string{"ae_small", "ae_medium", "ae_large", "ae_xlarge"}

// nonDigitSets names the sets of inputs that are not digits, in order;
// the claims read the first two (always measured).
var nonDigitSets = []string{"noise", "shuffled", "fashion"}

const overcompleteTitle = "Overcomplete codes: does the autoencoder copy its input?"

var overcompleteExperiment = Experiment{Name: "overcomplete", Title: overcompleteTitle, Run: runOvercomplete, Runs: overcompleteRuns}

type ocModel struct {
	id, label string // id: stable, in number IDs
	cfg       models.Config
	spec      RunSpec
}

func runOvercomplete(env *Env) (*Result, error) {
	r := newResult("overcomplete", overcompleteTitle,
		"An autoencoder whose code is larger than needed \"might simply copy the input rather than learning meaningful features\". "+
			"Plain sigmoid AEs (BCE, no penalty) with H ∈ {64, 256, 1024, 2048} (quick runs: 64, 128, 512, 1024), and at H = 1024 (quick: 512) the sparse (L1, sigmoid code), top-K (k = 25, "+
			"Makhzani & Frey's setup), denoising (masking ν = 0.25) and contractive (λ = 0.1) AEs. Each reconstructs test digits and inputs "+
			"that are not digits: uniform-noise images, test digits with their pixels shuffled, and Fashion-MNIST test images when the data "+
			"set is installed. Quality q = 1 − MSE/Var (Var: the set's own pixel variance around its mean image; q = 1 perfect, 0 no better "+
			"than that mean image); the **copying index** is q(non-digits)/q(digits): 1 for the identity, ≤ 0 for a model that turns "+
			"everything into digits. Filter locality is the mean share of each encoder filter's energy Σw² in its 10 largest weights "+
			"(1: pixel detectors); the Jacobian columns give the singular values of ∂x̂/∂x at test digits and their effective rank "+
			"exp(entropy of σ/Σσ) (784 for the identity). The mean code is the mean value of the code's units on the test digits and on "+
			"the noise images (for sigmoid codes, the mean activation).")
	nEval, nJac := 5000, 20
	if env.Quick {
		nEval, nJac = 500, 2
	}
	specs := overcompleteModels(env)
	overcompleteHidden, regularizedHidden := overcompleteSizes(env.Quick)

	// The inputs.
	rng := rand.New(rand.NewPCG(env.Seed, 0x0c))
	digits := env.TestSet.Limit(nEval)
	sets := []*data.Dataset{uniformNoise(rng, digits.N, digits), shuffledPixels(rng, digits)}
	setLabel := map[string]string{"noise": "uniform noise", "shuffled": "shuffled pixels", "fashion": "Fashion-MNIST"}
	_, fashion, where, ferr := data.LoadNamed(data.FashionMNIST, data.LookupOptions{}, 1, nEval)
	if ferr == nil {
		sets = append(sets, fashion)
		r.Values["fashion_mnist"] = where
	} else {
		r.Intro += "\n\n_Fashion-MNIST was not found, its column is left out (" + ferr.Error() + ")._"
		r.Values["fashion_mnist"] = "not found"
	}
	jacSet := digits.Limit(nJac)

	cols := []string{"model", "q digits"}
	for i := range sets {
		cols = append(cols, "q "+setLabel[nonDigitSets[i]])
	}
	for i := range sets {
		cols = append(cols, "copying "+setLabel[nonDigitSets[i]])
	}
	cols = append(cols, "copying index (noise, shuffled)", "mean code: digits / noise", "filter locality (top 10)", "Jacobian eff. rank", "σ₁ of ∂x̂/∂x")
	var rows [][]string
	var spectra []viz.Series
	var filterRows [][][]float64
	var runs []*Run
	for _, s := range specs {
		run, err := env.TrainSpec(s.spec)
		if err != nil {
			return nil, err
		}
		runs = append(runs, run)
		dr, err := ReconOn(run.Eval, "digits", digits)
		if err != nil {
			return nil, err
		}
		row := []string{s.label, f3(dr.Quality)}
		var idx []float64
		vals := map[string]any{"digits": dr}
		for i, ds := range sets {
			o, err := ReconOn(run.Eval, nonDigitSets[i], ds)
			if err != nil {
				return nil, err
			}
			row = append(row, f3(o.Quality))
			idx = append(idx, CopyingIndex(dr, o))
			vals[nonDigitSets[i]] = o
		}
		for i, v := range idx {
			row = append(row, f3(v))
			r.measure(fmt.Sprintf("overcomplete.%s_copying_%s", s.id, nonDigitSets[i]), v)
		}
		ci := (idx[0] + idx[1]) / 2
		r.measure("overcomplete."+s.id+"_copying", ci)
		r.measure("overcomplete."+s.id+"_digits_quality", dr.Quality)
		var mc [2]float64
		for i, ds := range []*data.Dataset{digits, sets[0]} {
			if mc[i], err = MeanCode(run.Eval, ds); err != nil {
				return nil, err
			}
		}
		r.measure("overcomplete."+s.id+"_code_mean_digits", mc[0])
		r.measure("overcomplete."+s.id+"_code_mean_noise", mc[1])
		vals["code_mean_digits"], vals["code_mean_noise"] = mc[0], mc[1]
		loc, err := FilterLocality(run.Store.Floats("enc.W"), env.TrainSet.D, s.cfg.Hidden, 10)
		if err != nil {
			return nil, err
		}
		sv, err := JacobianSpectra(run.Eval, jacSet)
		if err != nil {
			return nil, err
		}
		mean := make([]float64, len(sv[0]))
		var er, s1 float64
		for _, v := range sv {
			er += EffectiveRank(v) / float64(len(sv))
			s1 += v[0] / float64(len(sv))
			for i, x := range v {
				mean[i] += x / float64(len(sv))
			}
		}
		r.measure("overcomplete."+s.id+"_filter_locality", loc)
		r.measure("overcomplete."+s.id+"_jacobian_rank", er)
		row = append(row, f3(ci), fmt.Sprintf("%.3f / %.3f", mc[0], mc[1]), f3(loc), fmt.Sprintf("%.1f", er), f3(s1))
		rows = append(rows, row)
		vals["copying_index"], vals["filter_locality"], vals["jacobian_effective_rank"], vals["jacobian_sigma1"] = ci, loc, er, s1
		vals["jacobian_singular_values"] = mean
		r.Values[s.label] = vals
		r.row(s.label, "bce", run.Summary.TestBCE)
		r.row(s.label, "mse", run.Summary.TestMSE)
		r.row(s.label, "copying_index", ci)
		var xs, ys []float64
		for i, x := range mean {
			if x <= 1e-6 {
				break
			}
			xs, ys = append(xs, float64(i+1)), append(ys, x)
		}
		if len(xs) > 1 {
			spectra = append(spectra, viz.Series{Name: s.label, X: xs, Y: ys})
		}
		f, err := viz.Filters(run.Store.Floats("enc.W"), env.TrainSet.D, s.cfg.Hidden, 16)
		if err != nil {
			return nil, err
		}
		filterRows = append(filterRows, f)
	}
	r.Tables = append(r.Tables, Table{Title: "Reconstruction quality q = 1 − MSE/Var on digits and non-digits, copying index q(other)/q(digits), filters and Jacobian",
		Columns: cols, Rows: rows})

	// What the largest plain AE does with non-digits, in words.
	xl := r.Numbers["overcomplete.ae_xlarge_copying"]
	if xl > 0 {
		r.Intro += fmt.Sprintf("\n\nIn this run the largest plain AE (H = %d) has copying index %.3f: it reconstructs non-digits better than their mean image, part of the way to the identity.",
			overcompleteHidden[len(overcompleteHidden)-1], xl)
	} else {
		r.Intro += fmt.Sprintf("\n\nIn this run even the largest plain AE (H = %d) has copying index %.3f ≤ 0: it reconstructs noise and shuffled pixels no better than their mean image, "+
			"so none of these models copies; the claims compare how far each is from copying.", overcompleteHidden[len(overcompleteHidden)-1], xl)
	}

	if env.Quick {
		r.Intro += fmt.Sprintf("\n\n_Quick run: every model trains %d epochs on %d images (full runs: %d epochs on all of MNIST), so the comparisons at H = %d "+
			"are between models early in their training (the plain AE H = %d reconstructs test digits with q = %.3f). How much an AE copies changes as it trains: "+
			"the claims about the regularizers are about trained models._",
			overcompleteQuickEpochs, env.TrainSet.N, overcompleteEpochs, regularizedHidden, regularizedHidden, r.Numbers["overcomplete.ae_large_digits_quality"])
	}

	// Claims.
	var reads []string
	for _, id := range plainRoles {
		reads = append(reads, "overcomplete."+id+"_copying")
	}
	if err := r.claim("overcomplete.copying_rises_with_h", fmt.Sprintf("without a penalty the copying index (noise, shuffled) rises with H (%s)", joinInts(overcompleteHidden, " < ")),
		reads, func(v []float64) (bool, string) {
			ok, detail := true, ""
			for i, x := range v {
				if i > 0 {
					ok = ok && x > v[i-1]
					detail += " < "
				}
				detail += fmt.Sprintf("H=%d: %.3f", overcompleteHidden[i], x)
			}
			return ok, detail
		}); err != nil {
		return nil, err
	}
	base := "overcomplete.ae_large_copying"
	for _, s := range specs[len(overcompleteHidden):] {
		label := s.label
		if err := r.claim("overcomplete."+s.id+"_lowers_copying", fmt.Sprintf("the %s copies less than the plain AE H=%d", label, regularizedHidden),
			[]string{"overcomplete." + s.id + "_copying", base}, func(v []float64) (bool, string) {
				return v[0] < v[1], fmt.Sprintf("copying index %.3f vs %.3f", v[0], v[1])
			}); err != nil {
			return nil, err
		}
	}

	if err := overfitting(env, r); err != nil {
		return nil, err
	}

	// Figures.
	var figRows [][][]float64
	var figNames []string
	for i, ds := range append([]*data.Dataset{digits}, sets...) {
		ex := ds.Limit(10)
		var in [][]float64
		for j := 0; j < ex.N; j++ {
			in = append(in, float64s(ex.Row(j)))
		}
		figRows = append(figRows, in)
		for _, run := range []*Run{runs[0], runs[len(overcompleteHidden)-1], runs[len(overcompleteHidden)+1]} {
			rec, err := reconstructions(run.Eval, ex)
			if err != nil {
				return nil, err
			}
			figRows = append(figRows, rec)
		}
		name := "digits"
		if i > 0 {
			name = setLabel[nonDigitSets[i-1]]
		}
		figNames = append(figNames, name)
	}
	if err := r.figure("overcomplete-reconstructions.png", fmt.Sprintf("Groups of four rows (%s): the inputs, then their reconstructions by the %s, the %s and the %s.",
		joinLabels(figNames), runs[0].Label, runs[len(overcompleteHidden)-1].Label, runs[len(overcompleteHidden)+1].Label),
		viz.Compare(28, 28, 2, figRows...), nil); err != nil {
		return nil, err
	}
	img, err := viz.Lines(viz.Axes{Title: "singular values of ∂x̂/∂x at test digits (mean)", XLabel: "index", YLabel: "σ", LogY: true}, spectra)
	if err := r.figure("overcomplete-jacobian.png", "Mean singular values of the end-to-end Jacobian at test digits, one curve per model (values ≤ 10⁻⁶ left out).", img, err); err != nil {
		return nil, err
	}
	var labels []string
	for _, s := range specs {
		labels = append(labels, s.label)
	}
	if err := r.figure("overcomplete-filters.png", "Encoder filters (first 16 units), one row per model: "+joinLabels(labels)+".",
		viz.Compare(28, 28, 2, filterRows...), nil); err != nil {
		return nil, err
	}
	return r, nil
}

// reconstructions returns x̂ for each example of ds.
func reconstructions(ev *eval.Evaluator, ds *data.Dataset) ([][]float64, error) {
	var out [][]float64
	err := ev.Batches(ds, func(p *graph.Program, _ []float32, _ int) error {
		rec := p.Output(graph.Recon)
		if rec == nil {
			return errors.Errorf("model %s names no reconstruction", ev.Config.Model)
		}
		for e := 0; e < p.Batch(); e++ {
			out = append(out, append([]float64(nil), rec[e*ds.D:(e+1)*ds.D]...))
		}
		return nil
	})
	return out, err
}

func joinInts(v []int, sep string) string {
	s := ""
	for i, x := range v {
		if i > 0 {
			s += sep
		}
		s += fmt.Sprint(x)
	}
	return s
}

func joinLabels(l []string) string {
	s := ""
	for i, x := range l {
		if i > 0 {
			s += ", "
		}
		s += x
	}
	return s
}

// overcompleteRuns returns the overcomplete experiment's runs: its
// autoencoders, and the AEs of the overfitting comparison (the MLPs beside
// them are trained by the experiment itself).
func overcompleteRuns(env *Env) ([]RunSpec, error) {
	var out []RunSpec
	for _, m := range overcompleteModels(env) {
		out = append(out, m.spec)
	}
	sizes, _ := overfitSizes(env.Quick)
	for _, n := range sizes {
		sp, err := overfitSpec(env, n)
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, nil
}

// The epochs of the overcomplete experiment's AEs (full and quick runs).
const overcompleteEpochs, overcompleteQuickEpochs = 10, 5

// overcompleteModels returns the overcomplete experiment's autoencoders,
// in table order.
func overcompleteModels(env *Env) []ocModel {
	epochs, quickEpochs := overcompleteEpochs, overcompleteQuickEpochs
	overcompleteHidden, regularizedHidden := overcompleteSizes(env.Quick)
	var specs []ocModel
	for i, h := range overcompleteHidden {
		c, _ := models.Defaults("plain")
		c.Hidden = h
		specs = append(specs, ocModel{id: plainRoles[i], label: fmt.Sprintf("AE H=%d", h), cfg: c})
	}
	l1, _ := models.Defaults("sparse")
	l1.Hidden, l1.Activation = regularizedHidden, "sigmoid"
	tk, _ := models.Defaults("topk")
	tk.Hidden, tk.KStart = regularizedHidden, 100
	dae, _ := models.Defaults("denoising")
	dae.Hidden = regularizedHidden
	cae, _ := models.Defaults("contractive")
	cae.Hidden = regularizedHidden
	specs = append(specs,
		ocModel{id: "l1", label: fmt.Sprintf("sparse L1 H=%d", regularizedHidden), cfg: l1},
		ocModel{id: "topk", label: fmt.Sprintf("top-K (k=25) H=%d", regularizedHidden), cfg: tk},
		ocModel{id: "dae", label: fmt.Sprintf("DAE (masking ν=0.25) H=%d", regularizedHidden), cfg: dae},
		ocModel{id: "cae", label: fmt.Sprintf("CAE H=%d", regularizedHidden), cfg: cae},
	)

	for i := range specs {
		specs[i].spec = env.Spec(specs[i].label, specs[i].cfg, env.Options(epochs, quickEpochs))
	}
	return specs
}

// overfitHidden is the hidden size of the AE and the MLP of the
// overfitting comparison.
const overfitHidden = 256

// overfitSizes are the training subsets (first N images) of the
// overfitting comparison, and overfitPasses the examples seen in training
// on each (epochs = passes/N, the same for the AE and the MLP).
func overfitSizes(quick bool) (sizes []int, passes int) {
	if quick {
		return []int{500, 2000}, 10000
	}
	return []int{1000, 10000}, 200000
}

// CrossEntropy is the mean −log p(y) of class probabilities p (N×k,
// row-major) of labels y.
func CrossEntropy(p []float64, y []uint8, k int) float64 {
	var s float64
	for i, c := range y {
		s -= math.Log(math.Max(p[i*k+int(c)], 1e-300))
	}
	return s / float64(len(y))
}

// overfitSpec returns the run of the overfitting comparison's AE on the
// first n training images.
func overfitSpec(env *Env, n int) (RunSpec, error) {
	_, passes := overfitSizes(env.Quick)
	if n > env.TrainSet.N {
		return RunSpec{}, errors.Errorf("overfitting: %d training images asked, %d available", n, env.TrainSet.N)
	}
	epochs := max(passes/n, 1)
	c, _ := models.Defaults("plain")
	c.Hidden = overfitHidden
	o := env.Options(epochs, epochs)
	o.EvalEvery = epochs
	return SpecOn(fmt.Sprintf("AE H=%d on %d images", overfitHidden, n), c, o, env.TrainSet.Limit(n), env.TestSet,
		fmt.Sprintf("%s, first %d training images", env.Data, n)), nil
}

// gap is (test − train)/test: the share of the test loss that the
// training loss does not show.
func gap(train, test float64) float64 { return (test - train) / test }

// overfitting compares, on small training subsets, the train–test gap of
// an AE's reconstruction loss with that of a supervised MLP of the same
// hidden size (both trained the same epochs, without early stopping).
func overfitting(env *Env, r *Result) error {
	sizes, _ := overfitSizes(env.Quick)
	test := env.TestSet
	var rows [][]string
	for _, n := range sizes {
		sp, err := overfitSpec(env, n)
		if err != nil {
			return err
		}
		sub, o, epochs := sp.Train, sp.Options, sp.Options.Epochs
		ae, err := env.TrainSpec(sp)
		if err != nil {
			return err
		}
		aeTrain, err := ae.Eval.Evaluate(sub)
		if err != nil {
			return err
		}
		aeTest, err := ae.Eval.Evaluate(test)
		if err != nil {
			return err
		}
		cc := classify.DefaultConfig()
		cc.Hidden = []int{overfitHidden}
		co := classify.DefaultOptions()
		co.Epochs, co.Patience, co.Validation, co.Batch, co.LR, co.Seed = epochs, 0, 0, o.Batch, o.LR, env.Seed
		fmt.Fprintf(env.Log, "  training MLP H=%d on %d images (%d epochs) …", overfitHidden, n, epochs)
		cl, err := classify.Train(env.Ctx, cc, co, sub)
		if err != nil {
			fmt.Fprintln(env.Log)
			return errors.Wrapf(err, "MLP on %d images", n)
		}
		var ce, er [2]float64
		for i, ds := range []*data.Dataset{sub, test} {
			p, err := cl.Predict(ds)
			if err != nil {
				return err
			}
			ce[i] = CrossEntropy(p, ds.Labels, cc.Classes)
			if er[i], err = cl.Error(ds); err != nil {
				return err
			}
		}
		fmt.Fprintf(env.Log, " test error %.2f%%\n", 100*er[1])
		aeGap, ceGap := gap(aeTrain.BCEPerImage, aeTest.BCEPerImage), gap(ce[0], ce[1])
		id := fmt.Sprintf("overcomplete.overfit_%d", n)
		r.measure(id+"_ae_gap", aeGap)
		r.measure(id+"_mlp_xent_gap", ceGap)
		r.measure(id+"_mlp_error_gap", er[1]-er[0])
		rows = append(rows,
			[]string{fmt.Sprintf("%d", n), fmt.Sprintf("%d", epochs), fmt.Sprintf("AE H=%d: BCE nats/img", overfitHidden),
				fmt.Sprintf("%.2f", aeTrain.BCEPerImage), fmt.Sprintf("%.2f", aeTest.BCEPerImage), fmt.Sprintf("%.1f%%", 100*aeGap)},
			[]string{fmt.Sprintf("%d", n), fmt.Sprintf("%d", epochs), fmt.Sprintf("MLP H=%d: cross-entropy nats", overfitHidden),
				fmt.Sprintf("%.4f", ce[0]), fmt.Sprintf("%.4f", ce[1]), fmt.Sprintf("%.1f%%", 100*ceGap)},
			[]string{fmt.Sprintf("%d", n), fmt.Sprintf("%d", epochs), fmt.Sprintf("MLP H=%d: error", overfitHidden),
				fmt.Sprintf("%.2f%%", 100*er[0]), fmt.Sprintf("%.2f%%", 100*er[1]), fmt.Sprintf("%.1f%%", 100*gap(er[0], er[1]))})
		r.Values[fmt.Sprintf("overfitting %d images", n)] = map[string]float64{"epochs": float64(epochs),
			"ae_train_bce": aeTrain.BCEPerImage, "ae_test_bce": aeTest.BCEPerImage, "ae_gap": aeGap,
			"mlp_train_xent": ce[0], "mlp_test_xent": ce[1], "mlp_xent_gap": ceGap, "mlp_train_error": er[0], "mlp_test_error": er[1]}
	}
	r.Tables = append(r.Tables, Table{Title: fmt.Sprintf("Overfitting on small training subsets: the AE's reconstruction loss and an MLP classifier's "+
		"(%d sigmoid units each, the same epochs, batch and Adam rate, no early stopping, test set of %d images); gap = (test − train)/test", overfitHidden, test.N),
		Columns: []string{"training images", "epochs", "model: loss", "train", "test", "gap"}, Rows: rows})
	for _, n := range sizes {
		id := fmt.Sprintf("overcomplete.overfit_%d", n)
		if err := r.claim(id+"_ae_gap_below_mlp", fmt.Sprintf("on %d training images the AE's relative train–test gap is smaller than the MLP's (cross-entropy)", n),
			[]string{id + "_ae_gap", id + "_mlp_xent_gap"}, func(v []float64) (bool, string) {
				return v[0] < v[1], fmt.Sprintf("AE %.1f%% vs MLP %.1f%%", 100*v[0], 100*v[1])
			}); err != nil {
			return err
		}
	}
	return nil
}

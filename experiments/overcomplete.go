package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

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
	err := Jacobians(ev, xs, func(jt *mat.Dense) error {
		var svd mat.SVD
		if !svd.Factorize(jt, mat.SVDNone) {
			return errors.New("jacobian: SVD did not converge")
		}
		out = append(out, svd.Values(nil))
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
			jt := mat.NewDense(d, d, nil)
			if len(keep) > 0 {
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
				jt.Mul(A, B)
			}
			if err := fn(jt); err != nil {
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

// overcompleteHidden are the plain AEs' code sizes.
var overcompleteHidden = []int{64, 256, 1024, 2048}

// regularizedHidden is the code size of the regularized AEs.
const regularizedHidden = 1024

// nonDigitSets names the sets of inputs that are not digits, in order;
// the claims read the first two (always measured).
var nonDigitSets = []string{"noise", "shuffled", "fashion"}

const overcompleteTitle = "Overcomplete codes: does the autoencoder copy its input?"

var overcompleteExperiment = Experiment{Name: "overcomplete", Title: overcompleteTitle, Run: runOvercomplete}

type ocModel struct {
	id, label string // id: stable, in number IDs
	cfg       models.Config
}

func runOvercomplete(env *Env) (*Result, error) {
	r := newResult("overcomplete", overcompleteTitle,
		"An autoencoder whose code is larger than needed \"might simply copy the input rather than learning meaningful features\". "+
			"Plain sigmoid AEs (BCE, no penalty) with H ∈ {64, 256, 1024, 2048}, and at H = 1024 the sparse (L1, sigmoid code), top-K (k = 25, "+
			"Makhzani & Frey's setup), denoising (masking ν = 0.25) and contractive (λ = 0.1) AEs. Each reconstructs test digits and inputs "+
			"that are not digits: uniform-noise images, test digits with their pixels shuffled, and Fashion-MNIST test images when the data "+
			"set is installed. Quality q = 1 − MSE/Var (Var: the set's own pixel variance around its mean image; q = 1 perfect, 0 no better "+
			"than that mean image); the **copying index** is q(non-digits)/q(digits): 1 for the identity, ≤ 0 for a model that turns "+
			"everything into digits. Filter locality is the mean share of each encoder filter's energy Σw² in its 10 largest weights "+
			"(1: pixel detectors); the Jacobian columns give the singular values of ∂x̂/∂x at test digits and their effective rank "+
			"exp(entropy of σ/Σσ) (784 for the identity).")
	nEval, nJac, epochs, quickEpochs := 5000, 20, 10, 6
	if env.Quick {
		nEval, nJac = 500, 2
	}
	var specs []ocModel
	for _, h := range overcompleteHidden {
		c, _ := models.Defaults("plain")
		c.Hidden = h
		specs = append(specs, ocModel{fmt.Sprintf("ae%d", h), fmt.Sprintf("AE H=%d", h), c})
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
		ocModel{"l1", fmt.Sprintf("sparse L1 H=%d", regularizedHidden), l1},
		ocModel{"topk", fmt.Sprintf("top-K (k=25) H=%d", regularizedHidden), tk},
		ocModel{"dae", fmt.Sprintf("DAE (masking ν=0.25) H=%d", regularizedHidden), dae},
		ocModel{"cae", fmt.Sprintf("CAE H=%d", regularizedHidden), cae},
	)

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
	cols = append(cols, "copying index (noise, shuffled)", "filter locality (top 10)", "Jacobian eff. rank", "σ₁ of ∂x̂/∂x")
	var rows [][]string
	var spectra []viz.Series
	var filterRows [][][]float64
	var runs []*Run
	for _, s := range specs {
		run, err := env.Train(s.label, s.cfg, env.Options(epochs, quickEpochs))
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
		row = append(row, f3(ci), f3(loc), fmt.Sprintf("%.1f", er), f3(s1))
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

	// Claims.
	var reads []string
	for _, h := range overcompleteHidden {
		reads = append(reads, fmt.Sprintf("overcomplete.ae%d_copying", h))
	}
	if err := r.claim("overcomplete.copying_rises_with_h", "without a penalty the copying index (noise, shuffled) rises with H (64 < 256 < 1024 < 2048)",
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
	base := fmt.Sprintf("overcomplete.ae%d_copying", regularizedHidden)
	for _, s := range specs[len(overcompleteHidden):] {
		label := s.label
		if err := r.claim("overcomplete."+s.id+"_lowers_copying", fmt.Sprintf("the %s copies less than the plain AE H=%d", label, regularizedHidden),
			[]string{"overcomplete." + s.id + "_copying", base}, func(v []float64) (bool, string) {
				return v[0] < v[1], fmt.Sprintf("copying index %.3f vs %.3f", v[0], v[1])
			}); err != nil {
			return nil, err
		}
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

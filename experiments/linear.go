package experiments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/viz"
	"github.com/pkg/errors"
	"gonum.org/v1/gonum/mat"
)

// RidgeProjection is the closed-form optimum of a rank-k linear denoising
// autoencoder with Gaussian input noise σ on centred data X (rows are
// examples, n×d): with XᵀX = U diag(s²) Uᵀ,
//
//	W_k = U_k diag(s_i² / (s_i² + nσ²)) U_kᵀ,
//
// the minimizer of ‖X − XW‖²_F + nσ²‖W‖²_F over W of rank ≤ k. It also
// returns the plain PCA projector U_k U_kᵀ and the eigenvalues s² in
// decreasing order.
func RidgeProjection(x []float64, n, d, k int, sigma float64) (wk, pca *mat.Dense, s2 []float64, err error) {
	if n <= 0 || d <= 0 || k <= 0 || k > d || len(x) != n*d {
		return nil, nil, nil, errors.Errorf("ridge projection: bad sizes n=%d d=%d k=%d (%d values)", n, d, k, len(x))
	}
	X := mat.NewDense(n, d, x)
	var gram mat.SymDense
	gram.SymOuterK(1, X.T())
	var eig mat.EigenSym
	if !eig.Factorize(&gram, true) {
		return nil, nil, nil, errors.New("ridge projection: eigendecomposition failed")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	wk, pca = mat.NewDense(d, d, nil), mat.NewDense(d, d, nil)
	for _, j := range order[:k] {
		u := mat.Col(nil, j, &vecs)
		shrink := vals[j] / (vals[j] + float64(n)*sigma*sigma)
		for a := 0; a < d; a++ {
			for b := 0; b < d; b++ {
				wk.Set(a, b, wk.At(a, b)+shrink*u[a]*u[b])
				pca.Set(a, b, pca.At(a, b)+u[a]*u[b])
			}
		}
	}
	for _, j := range order {
		s2 = append(s2, vals[j])
	}
	return wk, pca, s2, nil
}

// relFro is ‖a − b‖_F / ‖b‖_F.
func relFro(a, b *mat.Dense) float64 {
	var d mat.Dense
	d.Sub(a, b)
	return mat.Norm(&d, 2) / mat.Norm(b, 2)
}

// syntheticSpectrum draws n centred examples of dimension d whose
// covariance has the given leading variances along a random orthonormal
// basis (the rest get variance tail).
func syntheticSpectrum(rng *rand.Rand, n, d int, top []float64, tail float64) *data.Dataset {
	g := mat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	x := make([]float64, n*d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			v := tail
			if j < len(top) {
				v = top[j]
			}
			z := math.Sqrt(v) * rng.NormFloat64()
			for a := 0; a < d; a++ {
				x[i*d+a] += z * q.At(a, j)
			}
		}
	}
	return centred(x, n, d)
}

// centred returns the data set of x (n×d) minus its column means, stored
// exactly as float32 (the closed form is computed from the same values).
func centred(x []float64, n, d int) *data.Dataset {
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			mean[j] += x[i*d+j] / float64(n)
		}
	}
	ds := &data.Dataset{X: make([]float32, n*d), Labels: make([]uint8, n), N: n, D: d, Rows: 1, Cols: d}
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			ds.X[i*d+j] = float32(x[i*d+j] - mean[j])
		}
	}
	return ds
}

func float64s(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// linearRun trains the linear DAE of rank k with noise σ on ds and returns
// the relative Frobenius errors of its decoder·encoder product and of the
// PCA projector, both against the closed form.
func linearRun(env *Env, label string, ds, test *data.Dataset, k int, sigma float64, epochs, batch int, lr float64) (dae, pcaErr float64, err error) {
	c, _ := models.Defaults("lineardae")
	c.Hidden, c.NoiseLevel = k, sigma
	o := env.Options(epochs, epochs)
	o.Batch, o.LR, o.Dtype, o.LRSchedule, o.EvalEvery = batch, lr, "float64", "cosine", epochs
	run, err := env.TrainOn(label, c, o, ds, test, "synthetic:"+label)
	if err != nil {
		return 0, 0, err
	}
	wk, pca, _, err := RidgeProjection(float64s(ds.X), ds.N, ds.D, k, sigma)
	if err != nil {
		return 0, 0, err
	}
	E := mat.NewDense(ds.D, k, run.Store.Floats("enc.W"))
	D := mat.NewDense(k, ds.D, run.Store.Floats("dec.W"))
	var P mat.Dense
	P.Mul(E, D) // x ↦ x·E·D on row vectors; W_k is symmetric
	return relFro(&P, wk), relFro(pca, wk), nil
}

var linearExperiment = Experiment{
	Name:  "linear-dae-svd",
	Title: "A linear DAE with Gaussian noise is ridge-shrunk SVD",
	Run: func(env *Env) (*Result, error) {
		r := newResult("linear-dae-svd", "A linear DAE with Gaussian noise is ridge-shrunk SVD",
			"A linear DAE of rank k trained with Gaussian input noise σ on centred data X minimizes, in expectation, "+
				"‖X − XW‖²_F + nσ²‖W‖²_F, whose rank-k optimum is W_k = U_k diag(s_i²/(s_i² + nσ²)) U_kᵀ (XᵀX = U diag(s²) Uᵀ). "+
				"The table gives the relative Frobenius error ‖encoder·decoder − W_k‖/‖W_k‖ of the trained model (float64, full-batch Adam "+
				"with a cosine learning-rate decay, a fresh noise draw every step) next to the plain PCA projector's error ‖U_kUₖᵀ − W_k‖/‖W_k‖.")
		rng := rand.New(rand.NewPCG(env.Seed, 0x11))
		const d, k, n = 20, 4, 2000
		top := []float64{16, 8, 4, 2}
		syn := syntheticSpectrum(rng, n, d, top, 0.02)
		synTest := syntheticSpectrum(rng, 500, d, top, 0.02)
		sigmas := []float64{0.5, 1, 2}
		epochs := 3000
		if env.Quick {
			epochs = 1500
		}
		var rows [][]string
		var reads []string
		for _, s := range sigmas {
			e, p, err := linearRun(env, fmt.Sprintf("linear DAE synthetic σ=%g", s), syn, synTest, k, s, epochs, n, 0.01)
			if err != nil {
				return nil, err
			}
			rows = append(rows, []string{"synthetic d=20, k=4", fmt.Sprintf("%g", s), fmt.Sprintf("%.3f%%", 100*e), fmt.Sprintf("%.2f%%", 100*p)})
			r.Values[fmt.Sprintf("synthetic σ=%g", s)] = map[string]float64{"dae_rel_error": e, "pca_rel_error": p}
			id := fmt.Sprintf("linear.synthetic_rel_error.sigma_%g", s)
			r.measure(id, e)
			reads = append(reads, id)
		}
		if err := r.claim("linear.synthetic_rel_error", "linear-DAE relative error ≤ 1% at every σ on the synthetic data",
			reads, func(v []float64) (bool, string) {
				allOK, detail := true, ""
				for i, e := range v {
					allOK = allOK && e <= 0.01
					detail += fmt.Sprintf("σ=%g: %.3f%%; ", sigmas[i], 100*e)
				}
				return allOK, detail
			}); err != nil {
			return nil, err
		}
		// MNIST: centred pixels of a subset, rank 8, full-batch.
		const mk = 8
		nm, mEpochs := 10000, 1500
		if env.Quick {
			nm, mEpochs = 1000, 150
		}
		tr := env.TrainSet.Limit(nm)
		mn := centred(float64s(tr.X), tr.N, tr.D)
		mt := centred(float64s(env.TestSet.Limit(500).X), min(500, env.TestSet.N), env.TestSet.D)
		for _, s := range []float64{0.1, 0.5} {
			e, p, err := linearRun(env, fmt.Sprintf("linear DAE MNIST σ=%g", s), mn, mt, mk, s, mEpochs, mn.N, 0.003)
			if err != nil {
				return nil, err
			}
			rows = append(rows, []string{fmt.Sprintf("MNIST (%d centred images), k=%d", mn.N, mk), fmt.Sprintf("%g", s), fmt.Sprintf("%.3f%%", 100*e), fmt.Sprintf("%.2f%%", 100*p)})
			r.Values[fmt.Sprintf("MNIST σ=%g", s)] = map[string]float64{"dae_rel_error": e, "pca_rel_error": p}
		}
		r.Tables = append(r.Tables, Table{Title: "Relative Frobenius error against the closed form",
			Columns: []string{"data", "σ", "trained linear DAE", "PCA projector"}, Rows: rows})
		// Figure: shrinkage factors of the synthetic spectrum.
		_, _, s2, err := RidgeProjection(float64s(syn.X), syn.N, syn.D, k, 1)
		if err != nil {
			return nil, err
		}
		var series []viz.Series
		for _, s := range sigmas {
			var xs, ys []float64
			for i := 0; i < k; i++ {
				xs = append(xs, float64(i+1))
				ys = append(ys, s2[i]/(s2[i]+float64(n)*s*s))
			}
			series = append(series, viz.Series{Name: fmt.Sprintf("σ=%g", s), X: xs, Y: ys})
		}
		img, err := viz.Lines(viz.Axes{Title: "closed-form shrinkage s²/(s²+nσ²) of the top-k directions", XLabel: "component", YLabel: "shrinkage"}, series)
		if err := r.figure("linear-shrinkage.png", "How much the optimal linear DAE shrinks each principal direction (synthetic data).", img, err); err != nil {
			return nil, err
		}
		return r, nil
	},
}

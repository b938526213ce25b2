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
	"gonum.org/v1/gonum/optimize"
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
	sp, err := newSpectrum(x, n, d)
	if err != nil {
		return nil, nil, nil, err
	}
	wk, pca, err = sp.ridge(k, sigma)
	return wk, pca, sp.vals, err
}

// spectrum is the eigendecomposition XᵀX = U diag(s²) Uᵀ of centred data X
// (n×d), eigenvalues in decreasing order.
type spectrum struct {
	n, d int
	gram *mat.SymDense
	vals []float64  // s², decreasing
	vecs *mat.Dense // U, columns in the order of vals
}

func newSpectrum(x []float64, n, d int) (*spectrum, error) {
	if n <= 0 || d <= 0 || len(x) != n*d {
		return nil, errors.Errorf("ridge projection: bad sizes n=%d d=%d (%d values)", n, d, len(x))
	}
	X := mat.NewDense(n, d, x)
	gram := mat.NewSymDense(d, nil)
	gram.SymOuterK(1, X.T())
	var eig mat.EigenSym
	if !eig.Factorize(gram, true) {
		return nil, errors.New("ridge projection: eigendecomposition failed")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	sp := &spectrum{n: n, d: d, gram: gram, vecs: mat.NewDense(d, d, nil)}
	for c, j := range order {
		sp.vals = append(sp.vals, vals[j])
		sp.vecs.SetCol(c, mat.Col(nil, j, &vecs))
	}
	return sp, nil
}

// top returns U_k, the leading k eigenvectors as columns.
func (sp *spectrum) top(k int) *mat.Dense {
	return mat.DenseCopyOf(sp.vecs.Slice(0, sp.d, 0, k))
}

// ridge returns W_k and the PCA projector U_k U_kᵀ for noise σ.
func (sp *spectrum) ridge(k int, sigma float64) (wk, pca *mat.Dense, err error) {
	if k <= 0 || k > sp.d {
		return nil, nil, errors.Errorf("ridge projection: bad rank k=%d for d=%d", k, sp.d)
	}
	u := sp.top(k)
	scaled := mat.DenseCopyOf(u)
	for j := 0; j < k; j++ {
		shrink := sp.vals[j] / (sp.vals[j] + float64(sp.n)*sigma*sigma)
		for a := 0; a < sp.d; a++ {
			scaled.Set(a, j, scaled.At(a, j)*shrink)
		}
	}
	wk, pca = mat.NewDense(sp.d, sp.d, nil), mat.NewDense(sp.d, sp.d, nil)
	wk.Mul(scaled, u.T())
	pca.Mul(u, u.T())
	return wk, pca, nil
}

// principalAngles returns the principal angles (degrees, increasing)
// between the column spaces of a and b (d×k each, any bases).
func principalAngles(a, b mat.Matrix) ([]float64, error) {
	qa, err := orthonormal(a)
	if err != nil {
		return nil, err
	}
	qb, err := orthonormal(b)
	if err != nil {
		return nil, err
	}
	var m mat.Dense
	m.Mul(qa.T(), qb)
	var svd mat.SVD
	if !svd.Factorize(&m, mat.SVDNone) {
		return nil, errors.New("principal angles: SVD failed")
	}
	sv := svd.Values(nil) // decreasing cosines
	angles := make([]float64, len(sv))
	for i, c := range sv {
		angles[i] = math.Acos(math.Min(c, 1)) * 180 / math.Pi
	}
	return angles, nil
}

// orthonormal returns an orthonormal basis (d×k) of the columns of a.
func orthonormal(a mat.Matrix) (*mat.Dense, error) {
	d, k := a.Dims()
	var qr mat.QR
	qr.Factorize(a)
	var q mat.Dense
	qr.QTo(&q)
	return mat.DenseCopyOf(q.Slice(0, d, 0, k)), nil
}

// minimizeExpectedLoss minimizes the linear DAE's expected loss per example
// over encoder E (d×k) and decoder D (k×d), with S = XᵀX/n,
//
//	f(E, D) = tr S − 2 tr(S E D) + tr((EᵀSE)(DDᵀ)) + σ² tr((EᵀE)(DDᵀ))
//	∂f/∂E = 2(−S Dᵀ + S E DDᵀ + σ² E DDᵀ),   ∂f/∂D = 2(−(SE)ᵀ + EᵀSE D + σ² EᵀE D)
//
// (= E‖x − (x + σε)ED‖² for the data's rows x, biases zero on centred data),
// by L-BFGS (gonum/optimize) from a seeded random start. It returns E·D and
// the number of iterations. It is the cross-check of the closed form that
// no training noise enters.
func minimizeExpectedLoss(sp *spectrum, k int, sigma float64, seed uint64) (*mat.Dense, int, error) {
	d := sp.d
	S := mat.NewDense(d, d, nil)
	S.Scale(1/float64(sp.n), sp.gram)
	trS := mat.Trace(S)
	split := func(x []float64) (E, D *mat.Dense) {
		return mat.NewDense(d, k, x[:d*k]), mat.NewDense(k, d, x[d*k:])
	}
	eval := func(grad, x []float64) float64 {
		E, D := split(x)
		var SE, A, B, F, SDt mat.Dense
		SE.Mul(S, E)
		A.Mul(E.T(), &SE)
		B.Mul(D, D.T())
		F.Mul(E.T(), E)
		var tSED float64
		for i := 0; i < d; i++ {
			for j := 0; j < k; j++ {
				tSED += SE.At(i, j) * D.At(j, i)
			}
		}
		var AB, FB mat.Dense
		AB.Mul(&A, &B)
		FB.Mul(&F, &B)
		f := trS - 2*tSED + mat.Trace(&AB) + sigma*sigma*mat.Trace(&FB)
		if grad != nil {
			gE, gD := split(grad)
			SDt.Mul(S, D.T())
			var t1, t2 mat.Dense
			t1.Mul(&SE, &B)
			t2.Mul(E, &B)
			t1.Scale(2, &t1)
			t2.Scale(2*sigma*sigma, &t2)
			gE.Scale(-2, &SDt)
			gE.Add(gE, &t1)
			gE.Add(gE, &t2)
			var u1, u2 mat.Dense
			u1.Mul(&A, D)
			u2.Mul(&F, D)
			gD.Scale(-2, SE.T())
			u1.Scale(2, &u1)
			gD.Add(gD, &u1)
			u2.Scale(2*sigma*sigma, &u2)
			gD.Add(gD, &u2)
		}
		return f
	}
	rng := rand.New(rand.NewPCG(seed, 0x1b))
	x0 := make([]float64, 2*d*k)
	for i := range x0 {
		x0[i] = 0.05 * rng.NormFloat64()
	}
	p := optimize.Problem{
		Func: func(x []float64) float64 { return eval(nil, x) },
		Grad: func(grad, x []float64) { eval(grad, x) },
	}
	res, err := optimize.Minimize(p, x0, &optimize.Settings{GradientThreshold: 1e-10, MajorIterations: 20000}, &optimize.LBFGS{Store: 20})
	if err != nil && res == nil {
		return nil, 0, errors.Wrap(err, "L-BFGS on the expected loss")
	}
	E, D := split(res.X)
	var P mat.Dense
	P.Mul(E, D)
	return &P, res.Stats.MajorIterations, nil
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

// linearSpec returns the run of a linear DAE of rank k with noise σ on ds,
// trained as lt says (float64, Adam with a cosine decay, evaluated once at
// the end).
func linearSpec(env *Env, label string, ds, test *data.Dataset, k int, sigma float64, lt linearTraining) RunSpec {
	c, _ := models.Defaults("lineardae")
	c.Hidden, c.Noise, c.NoiseLevel = k, lt.noise, sigma
	o := env.Options(lt.epochs, lt.epochs)
	o.Batch, o.LR, o.Dtype, o.LRSchedule, o.EvalEvery = lt.batch, lt.lr, "float64", "cosine", lt.epochs
	return SpecOn(label, c, o, ds, test, "synthetic:"+label)
}

// linearSetup holds the linear experiment's data and runs.
type linearSetup struct {
	syn, synTest *data.Dataset // synthetic data with the spectrum top (then 0.02)
	d, k, n      int           // its dimension, the DAEs' rank, its size
	top          []float64
	sigmas       []float64
	epochs       int       // full-batch steps on the synthetic data
	synRuns      []RunSpec // one per σ of sigmas
	mn, mt       *data.Dataset
	mk           int // the rank on MNIST
	mSigmas      []float64
	marg         linearTraining   // the marginalized training on MNIST
	trainings    []linearTraining // the trainings on MNIST
	mRuns        [][]RunSpec      // per σ of mSigmas, one per training
}

// newLinearSetup makes the linear experiment's data (synthetic, and the
// centred MNIST subset) and its runs.
//
// MNIST: centred pixels of a subset, rank 8. Two trainings per σ: the
// sampled-noise DAE (minibatches of 100, a fresh ε every step) and the
// marginalized one (the expected loss over ε in closed form, minibatches of
// 500: 6,000 steps in a full run). The sampled one's floor is the
// corruption noise itself: on the pixels whose variance is far below σ²
// (the border) the encoder's gradient is pure noise and only σ²·DDᵀ pulls
// it back, so the map keeps reading inputs outside U_k while its range (the
// decoder's row space) is already U_k (see the table's "outside U_k"
// column).
func newLinearSetup(env *Env) linearSetup {
	s := linearSetup{d: 20, k: 4, n: 2000, top: []float64{16, 8, 4, 2}, sigmas: []float64{0.5, 1, 2}, mk: 8, mSigmas: []float64{0.1, 0.5}}
	rng := rand.New(rand.NewPCG(env.Seed, 0x11))
	s.syn = syntheticSpectrum(rng, s.n, s.d, s.top, 0.02)
	s.synTest = syntheticSpectrum(rng, 500, s.d, s.top, 0.02)
	s.epochs = 3000
	if env.Quick {
		s.epochs = 1500
	}
	for _, sg := range s.sigmas {
		s.synRuns = append(s.synRuns, linearSpec(env, fmt.Sprintf("linear DAE synthetic σ=%g", sg), s.syn, s.synTest, s.k, sg,
			linearTraining{noise: "gaussian", epochs: s.epochs, batch: s.n, lr: 0.01}))
	}
	nm := 10000
	sampled := linearTraining{noise: "gaussian", epochs: 300, batch: 100, lr: 0.002}
	s.marg = linearTraining{noise: models.Marginalized, epochs: 300, batch: 500, lr: 0.01}
	s.trainings = []linearTraining{sampled, s.marg}
	if env.Quick {
		// Quick runs train only the marginalized model, on 1,000 images
		// (1,000 steps of 100).
		nm, s.marg.epochs, s.marg.batch = 1000, 100, 100
		s.trainings = []linearTraining{s.marg}
	}
	tr := env.TrainSet.Limit(nm)
	s.mn = centred(float64s(tr.X), tr.N, tr.D)
	s.mt = centred(float64s(env.TestSet.Limit(500).X), min(500, env.TestSet.N), env.TestSet.D)
	for _, sg := range s.mSigmas {
		var runs []RunSpec
		for _, lt := range s.trainings {
			label := fmt.Sprintf("linear DAE MNIST σ=%g", sg)
			if lt.noise == models.Marginalized {
				label += " marginalized"
			}
			runs = append(runs, linearSpec(env, label, s.mn, s.mt, s.mk, sg, lt))
		}
		s.mRuns = append(s.mRuns, runs)
	}
	return s
}

// linearTraining is how a linear DAE is trained: its noise (gaussian:
// sampled every step; marginalized: the expected loss in closed form) and
// Adam's schedule (float64, cosine decay to 0).
type linearTraining struct {
	noise         string
	epochs, batch int
	lr            float64
}

func (lt linearTraining) String() string {
	what := "sampled noise"
	if lt.noise == models.Marginalized {
		what = "marginalized (expected loss)"
	}
	return fmt.Sprintf("%s, %d epochs of batch %d, Adam %g cosine", what, lt.epochs, lt.batch, lt.lr)
}

// linearResult compares a trained linear DAE with the closed form.
type linearResult struct {
	dae, pca float64   // relative Frobenius errors against W_k
	outside  float64   // ‖(I − U_kU_kᵀ)·E·D‖/‖W_k‖: the part of the map reading inputs outside U_k
	angles   []float64 // principal angles (degrees) between the trained map's range and U_k
}

// linearRunOn trains spec, the linear DAE of rank k with noise σ
// (linearSpec), and compares it with the closed form on its data's
// spectrum sp.
func linearRunOn(env *Env, spec RunSpec, sp *spectrum, k int, sigma float64) (linearResult, error) {
	ds := spec.Train
	run, err := env.TrainSpec(spec)
	if err != nil {
		return linearResult{}, err
	}
	wk, pca, err := sp.ridge(k, sigma)
	if err != nil {
		return linearResult{}, err
	}
	E := mat.NewDense(ds.D, k, run.Store.Floats("enc.W"))
	D := mat.NewDense(k, ds.D, run.Store.Floats("dec.W"))
	var P mat.Dense
	P.Mul(E, D) // x ↦ x·E·D on row vectors; W_k is symmetric
	// The map's range is the row space of D.
	uk := sp.top(k)
	angles, err := principalAngles(D.T(), uk)
	if err != nil {
		return linearResult{}, err
	}
	// The rows of P are indexed by the input: (I − U_kU_kᵀ)·P is what the
	// map reads from directions outside U_k (W_k reads none).
	var ut, proj, out mat.Dense
	ut.Mul(uk.T(), &P)
	proj.Mul(uk, &ut)
	out.Sub(&P, &proj)
	return linearResult{dae: relFro(&P, wk), pca: relFro(pca, wk), outside: mat.Norm(&out, 2) / mat.Norm(wk, 2), angles: angles}, nil
}

var linearExperiment = Experiment{
	Name:  "linear-dae-svd",
	Title: "A linear DAE with Gaussian noise is ridge-shrunk SVD",
	Runs: func(env *Env) ([]RunSpec, error) {
		ls := newLinearSetup(env)
		runs := append([]RunSpec(nil), ls.synRuns...)
		for _, rs := range ls.mRuns {
			runs = append(runs, rs...)
		}
		return runs, nil
	},
	Run: func(env *Env) (*Result, error) {
		r := newResult("linear-dae-svd", "A linear DAE with Gaussian noise is ridge-shrunk SVD",
			"A linear DAE of rank k trained with Gaussian input noise σ on centred data X minimizes, in expectation, "+
				"‖X − XW‖²_F + nσ²‖W‖²_F, whose rank-k optimum is W_k = U_k diag(s_i²/(s_i² + nσ²)) U_kᵀ (XᵀX = U diag(s²) Uᵀ). "+
				"The table gives the relative Frobenius error ‖encoder·decoder − W_k‖/‖W_k‖ of the model trained by the zoo's trainer (float64, Adam "+
				"with a cosine learning-rate decay to 0) in two ways: with sampled noise (a fresh x + σε every step: full-batch on the synthetic data, "+
				"minibatches on MNIST), and on MNIST also on the marginalized objective (`lineardae --noise marginalized`, Chen et al. 2012): the "+
				"expectation of the same loss over ε in closed form, ‖x − x̂‖² + σ²‖E·D‖²_F, whose gradient is the sampled one's mean, so that only "+
				"the minibatch's noise enters. Beside it: the part of the error in what the map reads from inputs outside U_k, "+
				"‖(I − U_kU_kᵀ)·E·D‖/‖W_k‖, the largest principal angle between the trained map's range (the decoder's row space) and U_k, the plain "+
				"PCA projector's error ‖U_kU_kᵀ − W_k‖/‖W_k‖, and, as a cross-check of the closed form that no training noise enters, L-BFGS "+
				"(gonum/optimize) on the analytic expected loss tr S − 2 tr(SED) + tr(EᵀSE·DDᵀ) + σ² tr(EᵀE·DDᵀ), S = XᵀX/n: it is not what the "+
				"trained rows report.")
		ls := newLinearSetup(env)
		syn, k, n, sigmas, epochs := ls.syn, ls.k, ls.n, ls.sigmas, ls.epochs
		ssp, err := newSpectrum(float64s(syn.X), syn.N, syn.D)
		if err != nil {
			return nil, err
		}
		var rows [][]string
		var reads []string
		for i, s := range sigmas {
			lr, err := linearRunOn(env, ls.synRuns[i], ssp, k, s)
			if err != nil {
				return nil, err
			}
			e, p := lr.dae, lr.pca
			rows = append(rows, []string{"synthetic d=20, k=4", fmt.Sprintf("%g", s), fmt.Sprintf("sampled noise, %d full-batch steps, Adam 0.01 cosine", epochs),
				fmt.Sprintf("%.3f%%", 100*e), "", "", fmt.Sprintf("%.2f%%", 100*p), ""})
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
		// MNIST: see newLinearSetup.
		mn, mk, mSigmas, marg := ls.mn, ls.mk, ls.mSigmas, ls.marg
		msp, err := newSpectrum(float64s(mn.X), mn.N, mn.D)
		if err != nil {
			return nil, err
		}
		var mreads, sreads []string
		for i, s := range mSigmas {
			wk, _, err := msp.ridge(mk, s)
			if err != nil {
				return nil, err
			}
			P, iters, err := minimizeExpectedLoss(msp, mk, s, env.Seed)
			if err != nil {
				return nil, err
			}
			lb := relFro(P, wk)
			data := fmt.Sprintf("MNIST (%d centred images), k=%d", mn.N, mk)
			for j, lt := range ls.trainings {
				key, id := fmt.Sprintf("MNIST σ=%g", s), fmt.Sprintf("linear.mnist_rel_error.sigma_%g", s)
				if lt.noise == models.Marginalized {
					key += " marginalized"
					id = fmt.Sprintf("linear.mnist_marginalized_rel_error.sigma_%g", s)
				}
				res, err := linearRunOn(env, ls.mRuns[i][j], msp, mk, s)
				if err != nil {
					return nil, err
				}
				maxAngle := res.angles[len(res.angles)-1]
				lbCell := ""
				if lt.noise == models.Marginalized {
					lbCell = fmt.Sprintf("%.1e (%d iterations)", lb, iters)
				}
				rows = append(rows, []string{data, fmt.Sprintf("%g", s), lt.String(), fmt.Sprintf("%.3f%%", 100*res.dae), fmt.Sprintf("%.3f%%", 100*res.outside),
					fmt.Sprintf("%.2f° (mean %.2f°)", maxAngle, mean(res.angles)), fmt.Sprintf("%.2f%%", 100*res.pca), lbCell})
				r.Values[key] = map[string]float64{"dae_rel_error": res.dae, "outside_rel_error": res.outside, "pca_rel_error": res.pca, "max_angle_deg": maxAngle,
					"mean_angle_deg": mean(res.angles), "lbfgs_rel_error": lb, "epochs": float64(lt.epochs), "batch": float64(lt.batch), "lr": lt.lr}
				r.measure(id, res.dae)
				if lt.noise == models.Marginalized {
					mreads = append(mreads, id)
				} else {
					sreads = append(sreads, id)
				}
			}
			r.measure(fmt.Sprintf("linear.mnist_lbfgs_rel_error.sigma_%g", s), lb)
		}
		if err := r.claim("linear.mnist_rel_error", "linear-DAE relative error ≤ 1% at both σ on MNIST: the model trained by the zoo's trainer on the "+
			"marginalized objective (the expected loss over the Gaussian noise in closed form, Chen et al. 2012), not L-BFGS",
			mreads, func(v []float64) (bool, string) {
				allOK, detail := true, ""
				for i, e := range v {
					allOK = allOK && e <= 0.01
					detail += fmt.Sprintf("σ=%g: %.3f%%; ", mSigmas[i], 100*e)
				}
				return allOK, detail + marg.String()
			}); err != nil {
			return nil, err
		}
		if err := r.claim("linear.mnist_lbfgs", "L-BFGS on the analytic expected loss reaches the closed form on MNIST (relative error ≤ 1e-4)",
			[]string{"linear.mnist_lbfgs_rel_error.sigma_0.1", "linear.mnist_lbfgs_rel_error.sigma_0.5"}, func(v []float64) (bool, string) {
				return v[0] <= 1e-4 && v[1] <= 1e-4, fmt.Sprintf("σ=0.1: %.1e; σ=0.5: %.1e", v[0], v[1])
			}); err != nil {
			return nil, err
		}
		r.Tables = append(r.Tables, Table{Title: "Relative Frobenius error against the closed form",
			Columns: []string{"data", "σ", "training", "trained linear DAE", "of which: inputs outside U_k", "largest principal angle, trained vs U_k", "PCA projector", "L-BFGS on E[loss] (cross-check)"}, Rows: rows})
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

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

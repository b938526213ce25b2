package experiments

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aezoo/aezoo/classify"
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/density"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/aezoo/aezoo/viz"
	"github.com/aezoo/aezoo/zoo"
	"github.com/pkg/errors"
	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"
)

const generationTitle = "Generation: VAE vs autoencoders (prior and ex-post densities) vs GAN"

var generationExperiment = Experiment{Name: "generation", Title: generationTitle, Run: runGeneration,
	Runs: func(env *Env) ([]RunSpec, error) { return newGenSetup(env).runs(env).all(), nil }}

// genSetup holds the settings of the generation experiment.
type genSetup struct {
	samples   int // samples per generator for every metric but the nearest-image distance
	nnSamples int // samples whose nearest training image is searched
	refTrain  int // training images in the reference row
	clCfg     classify.Config
	clOpt     classify.Options
	aeLayers  string // the deterministic AEs' encoder: 784-400-20, mirrored
	aeOpt     train.Options
	vaeOpt    train.Options
	ganOpt    train.Options
	ganSeeds  []uint64
	ganHidden int // units of the GAN's hidden layers (generator and discriminator)
	gmmK      int
}

func newGenSetup(env *Env) genSetup {
	s := genSetup{samples: 10000, nnSamples: 1000, refTrain: 10000, aeLayers: "400,20", gmmK: 10, ganSeeds: []uint64{1, 2, 3}, ganHidden: 400}
	// The classifier whose features and predictions score the samples:
	// an MLP 784-1200-1200-10 (ReLU), early-stopped on a held-out twelfth.
	s.clCfg = classify.Config{Hidden: []int{1200, 1200}, Activation: "relu", Classes: 10}
	s.clOpt = classify.DefaultOptions()
	s.clOpt.Epochs, s.clOpt.Patience, s.clOpt.Validation, s.clOpt.LR, s.clOpt.Seed = 60, 8, 1.0/12, 5e-4, env.Seed
	s.vaeOpt = env.Options(10, 5) // as the vae experiment: its VAE is reused
	s.aeOpt = env.Options(10, 3)
	// The GAN: Adam 2e-4 with β1 = 0.5 (the model's), batch 64.
	s.ganOpt = env.Options(20, 20)
	s.ganOpt.LR, s.ganOpt.Batch = 2e-4, 64
	if env.Quick {
		s.samples, s.nnSamples, s.refTrain = 500, 200, 500
		s.clCfg.Hidden = []int{128}
		s.clOpt.Epochs, s.clOpt.Patience, s.clOpt.Validation, s.clOpt.LR, s.clOpt.Batch = 10, 5, 1.0/10, 1e-3, 50
		// A smaller GAN, for more of its steps in the budget.
		s.ganOpt.LR, s.ganOpt.Batch, s.ganHidden = 1e-3, 50, 128
	}
	return s
}

// genRow is one generator's measurements.
type genRow struct {
	id, label string
	images    [][]float64 // the samples (28×28, in [0,1])
	fd        float64     // Fréchet distance to the test set in classifier features
	conf      float64     // mean top-class probability
	entropy   float64     // entropy of the predicted-label histogram, nats
	nn        float64     // mean Euclidean distance to the nearest training image
}

func runGeneration(env *Env) (*Result, error) {
	s := newGenSetup(env)
	r := newResult("generation", generationTitle, fmt.Sprintf(
		"Which autoencoders generate? Every generator draws %d images; a classifier trained by the zoo (MLP %s, ReLU) scores them: "+
			"the Fréchet distance to the %d test images in its penultimate features (FD: lower is closer to real digits; Heusel et al. 2017, "+
			"with the zoo's classifier in place of Inception), its mean top-class probability (sharpness), the entropy of its predicted-label "+
			"histogram (mode coverage: ln 10 = 2.303 nats is uniform over the digits), and the mean pixel-space distance of %d samples to their "+
			"nearest training image (memorization: small against the test images' own distance means copies). "+
			"Generators: the VAE (784-400-(20,20)-400-784, z ~ N(0, I)) with β = 1, 0.5, 4; the deterministic autoencoders of the same shape "+
			"(784-400-20-400-784, ReLU: plain, denoising with masking 0.25, contractive λ = 0.1) decoding z ~ N(0, I), and decoding samples of a "+
			"full-covariance Gaussian and of a %d-component Gaussian mixture fitted to their training codes (ex-post density estimation, "+
			"Ghosh et al. 2020); and a GAN (generator 20-%d-784, discriminator 784-%d-1: the VAE's size in full runs; non-saturating loss, "+
			"Adam %g with β1 = 0.5, batch %d, %d epochs) trained with %d seeds.",
		s.samples, intsString(s.clCfg.Hidden), env.TestSet.N, s.nnSamples, s.gmmK, s.ganHidden, s.ganHidden, s.ganOpt.LR, s.ganOpt.Batch, s.ganOpt.Epochs, len(s.ganSeeds)))

	cl, err := genClassifier(env, s)
	if err != nil {
		return nil, err
	}
	acc, err := cl.Accuracy(env.TestSet)
	if err != nil {
		return nil, err
	}
	r.measure("generation.classifier_accuracy", acc)
	if env.Quick {
		r.Intro += fmt.Sprintf("\n\n_Quick run: the classifier learns from %d of the %d training images (the rest is its validation split); "+
			"with so few images an MLP stays near 90%% test accuracy whatever its size, so the claim of ≥ 98.5%% is about full runs, and the "+
			"quick run's FDs are measured in the features of this weaker classifier._", env.TrainSet.N-int(float64(env.TrainSet.N)*s.clOpt.Validation+0.5), env.TrainSet.N)
	}
	r.Values["classifier"] = map[string]any{"hidden": s.clCfg.Hidden, "test_accuracy": acc, "epochs": cl.Epochs, "best_epoch": cl.BestEpoch}
	fmt.Fprintf(env.Log, "  classifier: test accuracy %.2f%%\n", 100*acc)

	sc, err := newScorer(env, cl, s)
	if err != nil {
		return nil, err
	}
	var rows []genRow
	add := func(id, label string, imgs [][]float64) error {
		row, err := sc.score(id, label, imgs, true)
		if err != nil {
			return errors.Wrapf(err, "scoring %s", label)
		}
		fmt.Fprintf(env.Log, "  %-28s FD %8.2f  confidence %.3f  label entropy %.3f  nearest training image %.2f\n", label, row.fd, row.conf, row.entropy, row.nn)
		rows = append(rows, row)
		r.measure("generation."+id+"_fd", row.fd)
		r.measure("generation."+id+"_confidence", row.conf)
		r.measure("generation."+id+"_label_entropy", row.entropy)
		r.measure("generation."+id+"_nn_distance", row.nn)
		return nil
	}
	// The reference: real training images, scored like the samples.
	ref := make([][]float64, s.refTrain)
	for i := range ref {
		ref[i] = graph.ToFloat64s(env.TrainSet.Row(i), nil)
	}
	refRow, err := sc.score("train_images", fmt.Sprintf("MNIST training images (%d)", s.refTrain), ref, false)
	if err != nil {
		return nil, err
	}
	// Their nearest-training-image distance would be 0: use the test images'.
	test := make([][]float64, min(s.nnSamples, env.TestSet.N))
	for i := range test {
		test[i] = graph.ToFloat64s(env.TestSet.Row(i), nil)
	}
	if refRow.nn, err = sc.nearest(test); err != nil {
		return nil, err
	}
	refRow.label = fmt.Sprintf("MNIST training images (%d; nearest-image distance: test images)", s.refTrain)
	r.measure("generation.test_nn_distance", refRow.nn)
	r.measure("generation.train_images_fd", refRow.fd)

	rng := func(k uint64) *rand.Rand { return rand.New(rand.NewPCG(env.Seed, 0x6e0+k)) }

	// VAEs: decode z ~ N(0, I).
	gr := s.runs(env)
	for k, v := range gr.vaes {
		run, err := env.TrainSpec(v.spec)
		if err != nil {
			return nil, err
		}
		g, err := zoo.NewGenerator(run.Config, dtypeOf(run), run.Store, env.TrainSet.D)
		if err != nil {
			return nil, err
		}
		_, x, err := g.Sample(rng(uint64(k)), s.samples)
		if err != nil {
			return nil, err
		}
		if err := add(v.id, v.label, x); err != nil {
			return nil, err
		}
	}

	// Deterministic AEs: N(0, I), then ex-post densities of their codes.
	for k, a := range gr.aes {
		run, err := env.TrainSpec(a.spec)
		if err != nil {
			return nil, err
		}
		codes, dim, err := run.Eval.Codes(env.TrainSet, graph.Code)
		if err != nil {
			return nil, err
		}
		dec := &codeDecoder{c: run.Config, dt: dtypeOf(run), store: run.Store, in: env.TrainSet.D}
		base := uint64(10 + 4*k)
		prior := make([][]float64, s.samples)
		pr := rng(base)
		for i := range prior {
			prior[i] = make([]float64, dim)
			for j := range prior[i] {
				prior[i][j] = pr.NormFloat64()
			}
		}
		gauss, err := density.FitGaussian(codes, dim, 0)
		if err != nil {
			return nil, errors.Wrapf(err, "%s codes", a.label)
		}
		gmm, err := density.FitGMM(codes, dim, density.GMMOptions{K: s.gmmK}, rng(base+1))
		if err != nil {
			return nil, errors.Wrapf(err, "%s codes", a.label)
		}
		r.Values[a.label+" GMM"] = map[string]any{"iterations": gmm.Iter, "converged": gmm.Converged, "mean_log_likelihood": gmm.MeanLogLik, "weights": gmm.Weights}
		for _, src := range []struct {
			id, label string
			z         [][]float64
		}{
			{"_prior", ", N(0, I)", prior},
			{"_gauss", ", Gaussian fit", gauss.Sample(rng(base+2), s.samples)},
			{"_gmm", fmt.Sprintf(", %d-GMM fit", s.gmmK), gmm.Sample(rng(base+3), s.samples)},
		} {
			x, err := dec.decode(src.z)
			if err != nil {
				return nil, err
			}
			if err := add(a.id+src.id, a.label+src.label, x); err != nil {
				return nil, err
			}
		}
	}

	// GANs, one per seed.
	var ganRows []genRow
	for i, seed := range s.ganSeeds {
		run, err := env.TrainSpec(gr.gans[i])
		if err != nil {
			return nil, err
		}
		g, err := zoo.NewGenerator(run.Config, dtypeOf(run), run.Store, env.TrainSet.D)
		if err != nil {
			return nil, err
		}
		_, x, err := g.Sample(rng(uint64(40+i)), s.samples)
		if err != nil {
			return nil, err
		}
		if err := add(fmt.Sprintf("gan_seed%d", seed), fmt.Sprintf("GAN (seed %d)", seed), x); err != nil {
			return nil, err
		}
		ganRows = append(ganRows, rows[len(rows)-1])
	}
	stat := func(f func(genRow) float64) (mean, sd float64) {
		for _, g := range ganRows {
			mean += f(g)
		}
		mean /= float64(len(ganRows))
		for _, g := range ganRows {
			sd += (f(g) - mean) * (f(g) - mean)
		}
		return mean, math.Sqrt(sd / float64(max(len(ganRows)-1, 1)))
	}
	fdM, fdS := stat(func(g genRow) float64 { return g.fd })
	cM, cS := stat(func(g genRow) float64 { return g.conf })
	eM, eS := stat(func(g genRow) float64 { return g.entropy })
	nM, nS := stat(func(g genRow) float64 { return g.nn })
	r.measure("generation.gan_fd_mean", fdM)
	r.measure("generation.gan_fd_sd", fdS)
	r.measure("generation.gan_confidence_mean", cM)
	r.measure("generation.gan_confidence_sd", cS)
	r.measure("generation.gan_label_entropy_mean", eM)
	r.measure("generation.gan_label_entropy_sd", eS)
	r.measure("generation.gan_nn_distance_mean", nM)

	// The table.
	cells := [][]string{genCells(refRow)}
	for _, g := range rows {
		cells = append(cells, genCells(g))
		r.Values[g.label] = map[string]float64{"fd": g.fd, "confidence": g.conf, "label_entropy": g.entropy, "nn_distance": g.nn}
	}
	cells = append(cells, []string{fmt.Sprintf("GAN, mean ± sd over %d seeds", len(ganRows)), pm(fdM, fdS, "%.2f"), pm(cM, cS, "%.3f"), pm(eM, eS, "%.3f"), pm(nM, nS, "%.2f")})
	r.Values[refRow.label] = map[string]float64{"fd": refRow.fd, "confidence": refRow.conf, "label_entropy": refRow.entropy, "nn_distance_of_test_images": refRow.nn}
	r.Tables = append(r.Tables, Table{Title: fmt.Sprintf("Samples scored by the classifier (test accuracy %.2f%%)", 100*acc),
		Columns: []string{"generator", "FD to test set ↓", "mean confidence", "label entropy (nats)", "nearest training image (L2)"}, Rows: cells})

	// Claims.
	if err := r.claim("generation.vae_beats_ae_prior", "the VAE decoding z ~ N(0, I) generates better than the plain AE decoding z ~ N(0, I) (lower FD)",
		[]string{"generation.vae_fd", "generation.ae_prior_fd"}, func(v []float64) (bool, string) {
			return v[0] < v[1], fmt.Sprintf("FD: VAE %.2f, AE with N(0, I) %.2f", v[0], v[1])
		}); err != nil {
		return nil, err
	}
	if err := r.claim("generation.ae_gmm_beats_ae_prior", "an ex-post GMM on the plain AE's codes makes it a generator: lower FD than decoding N(0, I) (Ghosh et al. 2020)",
		[]string{"generation.ae_gmm_fd", "generation.ae_prior_fd"}, func(v []float64) (bool, string) {
			return v[0] < v[1], fmt.Sprintf("FD: AE + %d-GMM %.2f, AE with N(0, I) %.2f", s.gmmK, v[0], v[1])
		}); err != nil {
		return nil, err
	}
	if err := r.claim("generation.gan_sharper_than_vae", "GAN samples are sharper than the VAE's: higher mean classifier confidence (mean over seeds)",
		[]string{"generation.gan_confidence_mean", "generation.vae_confidence", "generation.gan_fd_mean", "generation.vae_fd", "generation.gan_fd_sd"},
		func(v []float64) (bool, string) {
			return v[0] > v[1], fmt.Sprintf("confidence: GAN %.3f (mean of %d seeds), VAE %.3f; for the record, FD: GAN %.2f ± %.2f, VAE %.2f",
				v[0], len(ganRows), v[1], v[2], v[4], v[3])
		}); err != nil {
		return nil, err
	}
	// Checked in quick runs too, like every claim: a classifier trained on
	// the 2,000-image subset falls short of it there.
	if err := r.claim("generation.classifier_accuracy", "the scoring classifier reaches ≥ 98.5% test accuracy",
		[]string{"generation.classifier_accuracy"}, func(v []float64) (bool, string) {
			return v[0] >= 0.985, fmt.Sprintf("%.2f%%", 100*v[0])
		}); err != nil {
		return nil, err
	}

	// Figures: ten samples of every generator, one row each, and the FDs.
	var grid [][]float64
	var order []string
	for _, g := range append([]genRow{refRow}, rows...) {
		order = append(order, g.label)
		for i := 0; i < 10; i++ {
			grid = append(grid, g.images[i])
		}
	}
	if err := r.figure("generation-samples.png", "Ten samples per generator, one row each, top to bottom: "+strings.Join(order, "; ")+".",
		viz.Grid(grid, 28, 28, 10, 2), nil); err != nil {
		return nil, err
	}
	img, err := fdBars(rows, refRow)
	if err := r.figure("generation-fd.png", "Fréchet distance to the test set in the classifier's features (lower is better); the top bar is real training images.", img, err); err != nil {
		return nil, err
	}
	return r, nil
}

// aeConfig is the deterministic autoencoder of the experiment: the model's
// defaults (denoising: masking 0.25) with the encoder 784-400-20, ReLU,
// mirrored; the contractive weight λ is 0.1.
// genModel is a generator of the generation experiment trained as a run.
type genModel struct {
	id, label string // id: stable, in number IDs; label: its rows'
	spec      RunSpec
}

// genRuns are the generation experiment's trained generators.
type genRuns struct {
	vaes, aes []genModel
	gans      []RunSpec // one per seed of ganSeeds
}

// runs returns the generators the generation experiment trains: the
// VAEs (β = 1, 0.5, 4; the first is the vae experiment's), the
// deterministic AEs and a GAN per seed. The classifier that scores them
// is trained by the experiment itself (it is no autoencoder run).
func (s genSetup) runs(env *Env) genRuns {
	var g genRuns
	for _, v := range []struct {
		id, label string
		beta      float64
	}{{"vae", "VAE (z=20), N(0, I)", 1}, {"vae_beta0.5", "β-VAE (β=0.5), N(0, I)", 0.5}, {"vae_beta4", "β-VAE (β=4), N(0, I)", 4}} {
		c, _ := models.Defaults("vae")
		c.Beta = v.beta
		label := "VAE (z=20)"
		if v.beta != 1 {
			label = fmt.Sprintf("β-VAE (z=20, β=%g)", v.beta)
		}
		g.vaes = append(g.vaes, genModel{v.id, v.label, env.Spec(label, c, s.vaeOpt)})
	}
	for _, a := range []struct{ id, label, model string }{
		{"ae", "AE", "plain"}, {"dae", "DAE", "denoising"}, {"cae", "CAE", "contractive"},
	} {
		g.aes = append(g.aes, genModel{a.id, a.label, env.Spec(a.label+" (784-400-20, ReLU)", aeConfig(a.model, s), s.aeOpt)})
	}
	for _, seed := range s.ganSeeds {
		c, _ := models.Defaults("gan")
		c.Hidden = s.ganHidden
		o := s.ganOpt
		o.Seed = seed
		g.gans = append(g.gans, env.Spec(fmt.Sprintf("GAN (seed %d)", seed), c, o))
	}
	return g
}

// all returns every run of g, in training order.
func (g genRuns) all() []RunSpec {
	var out []RunSpec
	for _, m := range append(append([]genModel(nil), g.vaes...), g.aes...) {
		out = append(out, m.spec)
	}
	return append(out, g.gans...)
}

func aeConfig(model string, s genSetup) models.Config {
	c, _ := models.Defaults(model)
	c.Layers, c.Activation = s.aeLayers, "relu"
	if model == "contractive" {
		c.Lambda = 0.1
	}
	return c
}

func genCells(g genRow) []string {
	return []string{g.label, fmt.Sprintf("%.2f", g.fd), fmt.Sprintf("%.3f", g.conf), fmt.Sprintf("%.3f", g.entropy), fmt.Sprintf("%.2f", g.nn)}
}

func pm(m, sd float64, f string) string { return fmt.Sprintf(f+" ± "+f, m, sd) }

func intsString(v []int) string {
	s := []string{"784"}
	for _, x := range v {
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(append(s, "10"), "-")
}

func dtypeOf(run *Run) tensor.Dtype {
	dt, err := graph.ParseDtype(run.Options.Dtype)
	if err != nil {
		return graph.Float32()
	}
	return dt
}

// genClassifier trains the scoring classifier once per output folder and
// reuses it (runs/classifier-KEY/, written by classify.Save).
func genClassifier(env *Env, s genSetup) (*classify.Classifier, error) {
	b, _ := json.Marshal(struct {
		C classify.Config
		O classify.Options
		W string
		N int
	}{s.clCfg, s.clOpt, env.Data, env.TrainSet.N})
	sum := sha256.Sum256(b)
	dir := filepath.Join(env.Out, "runs", "classifier-"+hex.EncodeToString(sum[:4]))
	if _, err := os.Stat(filepath.Join(dir, classify.File)); err == nil {
		cl, err := classify.Load(dir)
		if err == nil {
			fmt.Fprintf(env.Log, "  reusing the classifier in %s\n", dir)
			return cl, nil
		}
		fmt.Fprintf(env.Log, "  the classifier in %s does not load (%v): training it again\n", dir, err)
	}
	start := time.Now()
	fmt.Fprintf(env.Log, "  training the classifier (MLP %s, at most %d epochs) …", intsString(s.clCfg.Hidden), s.clOpt.Epochs)
	cl, err := classify.Train(env.Ctx, s.clCfg, s.clOpt, env.TrainSet)
	if err != nil {
		fmt.Fprintln(env.Log)
		return nil, errors.Wrap(err, "training the classifier")
	}
	fmt.Fprintf(env.Log, " %d epochs, best %d (%.1fs)\n", cl.Epochs, cl.BestEpoch, time.Since(start).Seconds())
	if err := cl.Save(dir); err != nil {
		return nil, err
	}
	return cl, nil
}

// scorer measures sets of images against the test set with the classifier.
type scorer struct {
	env  *Env
	cl   *classify.Classifier
	test density.Moments // of the test set's features
	s    genSetup
}

func newScorer(env *Env, cl *classify.Classifier, s genSetup) (*scorer, error) {
	f, dim, err := cl.Features(env.TestSet)
	if err != nil {
		return nil, err
	}
	m, err := density.MomentsOf(f, dim)
	if err != nil {
		return nil, errors.Wrap(err, "test-set features")
	}
	return &scorer{env: env, cl: cl, test: m, s: s}, nil
}

// asDataset wraps 28×28 images as an unlabelled data set.
func asDataset(imgs [][]float64, d int) *data.Dataset {
	ds := &data.Dataset{N: len(imgs), D: d, Rows: 28, Cols: 28, X: make([]float32, 0, len(imgs)*d), Labels: make([]uint8, len(imgs))}
	for _, im := range imgs {
		for _, v := range im {
			ds.X = append(ds.X, float32(v))
		}
	}
	return ds
}

// score measures imgs; the nearest-training-image distance only when nn.
func (sc *scorer) score(id, label string, imgs [][]float64, nn bool) (genRow, error) {
	g := genRow{id: id, label: label, images: imgs}
	ds := asDataset(imgs, sc.env.TrainSet.D)
	f, dim, err := sc.cl.Features(ds)
	if err != nil {
		return g, err
	}
	m, err := density.MomentsOf(f, dim)
	if err != nil {
		return g, err
	}
	if g.fd, err = density.FrechetDistance(m, sc.test); err != nil {
		return g, err
	}
	p, err := sc.cl.Predict(ds)
	if err != nil {
		return g, err
	}
	g.conf, g.entropy = predictionStats(p, ds.N, sc.cl.Config.Classes)
	if nn {
		g.nn, err = sc.nearest(imgs[:min(sc.s.nnSamples, len(imgs))])
	}
	return g, err
}

// predictionStats returns the mean top-class probability of n rows of k
// class probabilities, and the entropy (nats) of the histogram of their
// top classes.
func predictionStats(p []float64, n, k int) (conf, entropy float64) {
	hist := make([]float64, k)
	for i := 0; i < n; i++ {
		row := p[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		conf += row[best]
		hist[best]++
	}
	for _, c := range hist {
		if c > 0 {
			q := c / float64(n)
			entropy -= q * math.Log(q)
		}
	}
	return conf / float64(n), entropy
}

// nearest is the mean over imgs of the Euclidean distance to the nearest
// training image, ‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b by blocks of matrix products.
func (sc *scorer) nearest(imgs [][]float64) (float64, error) {
	tr := sc.env.TrainSet
	d := tr.D
	a := mat.NewDense(len(imgs), d, nil)
	na := make([]float64, len(imgs))
	for i, im := range imgs {
		if len(im) != d {
			return 0, errors.Errorf("image %d has %d pixels, want %d", i, len(im), d)
		}
		a.SetRow(i, im)
		for _, v := range im {
			na[i] += v * v
		}
	}
	best := make([]float64, len(imgs))
	for i := range best {
		best[i] = math.Inf(1)
	}
	const block = 5000
	for start := 0; start < tr.N; start += block {
		n := min(block, tr.N-start)
		b := mat.NewDense(n, d, nil)
		nb := make([]float64, n)
		for j := 0; j < n; j++ {
			row := b.RawRowView(j)
			for k, v := range tr.Row(start + j) {
				row[k] = float64(v)
				nb[j] += float64(v) * float64(v)
			}
		}
		var dot mat.Dense
		dot.Mul(a, b.T())
		for i := range imgs {
			for j, v := range dot.RawRowView(i) {
				if d2 := na[i] + nb[j] - 2*v; d2 < best[i] {
					best[i] = d2
				}
			}
		}
	}
	sum := 0.0
	for _, v := range best {
		sum += math.Sqrt(math.Max(v, 0))
	}
	return sum / float64(len(imgs)), nil
}

// codeDecoder decodes codes with a deterministic autoencoder's decoder.
type codeDecoder struct {
	c     models.Config
	dt    tensor.Dtype
	store *graph.Store
	in    int

	prog  *graph.Program
	batch int
	cur   []float64
}

func (cd *codeDecoder) decode(z [][]float64) ([][]float64, error) {
	const batch = 500
	if cd.prog == nil {
		fill := func(dst []float64, _ []float32, _ *rand.Rand, _ bool) { copy(dst, cd.cur) }
		m, err := models.BuildCodeDecoder(cd.c, graph.Shape{In: cd.in, Batch: batch}, cd.dt, cd.store, fill)
		if err != nil {
			return nil, err
		}
		if cd.prog, err = graph.NewEvaluator(m, graph.Recon); err != nil {
			return nil, err
		}
	}
	var out [][]float64
	x := make([]float32, batch*cd.in)
	for start := 0; start < len(z); start += batch {
		n := min(batch, len(z)-start)
		cd.cur = cd.cur[:0]
		for _, zi := range z[start : start+n] {
			cd.cur = append(cd.cur, zi...)
		}
		dim := len(z[0])
		cd.cur = append(cd.cur, make([]float64, (batch-n)*dim)...)
		if err := cd.prog.Run(x, nil, false); err != nil {
			return nil, err
		}
		r := cd.prog.Output(graph.Recon)
		for i := 0; i < n; i++ {
			out = append(out, append([]float64(nil), r[i*cd.in:(i+1)*cd.in]...))
		}
	}
	return out, nil
}

// fdBars draws a horizontal bar chart of the Fréchet distances.
func fdBars(rows []genRow, ref genRow) (image.Image, error) {
	labels := []string{ref.label}
	vals := []float64{ref.fd}
	for _, g := range rows {
		labels = append(labels, g.label)
		vals = append(vals, g.fd)
	}
	return viz.Bars("Fréchet distance to the test set (classifier features)", labels, vals)
}

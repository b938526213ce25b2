package experiments

import (
	"fmt"
	"math"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/pkg/errors"
)

// The likelihood experiment's defaults.
const (
	// DefaultLikelihoodEpochs is the length of the full run's truncated
	// Burda schedule: stages i = 0…3 (13 of its 3,280 epochs).
	DefaultLikelihoodEpochs = 13
	// DefaultNLLSamples is the number of importance samples of the
	// likelihood experiment's NLL in full runs (Burda et al.: 5,000).
	DefaultNLLSamples = 5000
	// nllImages is the number of test images whose NLL the full run
	// estimates (the first ones, as in the PyTorch calibration).
	nllImages = 1000
	// activeCov is Burda et al.'s threshold on Cov_x(E_q[z_u]) for an
	// active latent unit.
	activeCov = 0.01
)

// burdaConfig is Burda et al.'s one-stochastic-layer model,
// 784-[200,200]-50 tanh, with K importance samples (1: the VAE).
func burdaConfig(K int) models.Config {
	c, _ := models.Defaults("vae")
	c.Layers, c.Activation, c.Latent, c.IWK = "200,200", "tanh", 50, K
	return c
}

// burda2Config is Burda et al.'s two-stochastic-layer model,
// 784-[100,100]-100-[50,50]-50 tanh, with K importance samples.
func burda2Config(K int) models.Config {
	c := burdaConfig(K)
	c.Layers, c.Latent, c.Latent2 = "100,100", 100, 50
	return c
}

// activeUnits counts the latent units whose posterior mean varies over the
// examples: Cov_x(μ_u(x)) > activeCov.
func activeUnits(mu []float64, dim int) int {
	n := len(mu) / dim
	active := 0
	for u := 0; u < dim; u++ {
		var s, s2 float64
		for i := 0; i < n; i++ {
			v := mu[i*dim+u]
			s += v
			s2 += v * v
		}
		m := s / float64(n)
		if s2/float64(n)-m*m > activeCov {
			active++
		}
	}
	return active
}

var likelihoodExperiment = Experiment{
	Name:  "vae-likelihood",
	Title: "VAE and IWAE: importance-weighted NLL on dynamically binarized MNIST",
	Runs: func(env *Env) ([]RunSpec, error) {
		var specs []RunSpec
		for _, m := range likelihoodRuns(env) {
			specs = append(specs, m.spec)
		}
		return specs, nil
	},
	Run: func(env *Env) (*Result, error) {
		K, images := env.NLLSamples, nllImages
		if env.Quick {
			K, images = 100, 200
		}
		lms := likelihoodRuns(env)
		epochs := lms[0].spec.Options.Epochs
		r := newResult("vae-likelihood", "VAE and IWAE: importance-weighted NLL on dynamically binarized MNIST", fmt.Sprintf(
			"Burda et al.'s one-stochastic-layer model (784-[200,200]-50, tanh), trained as a VAE (k = 1, the ELBO) and as an IWAE "+
				"(k importance samples per example in the training bound), and their two-stochastic-layer model (784-[100,100]-100-[50,50]-50, tanh; "+
				"`--latent 100,50 --layers 100,100`) as an IWAE with k = 5 (quick runs: as a VAE, k = 1), on dynamically binarized MNIST (the test set binarized once), "+
				"with Burda's protocol: batch 20, Adam (ε = 1e-4), lr 1e-3·10^(−i/7) for 3^i epochs, here truncated to the first %d epochs "+
				"of the 3,280 (`zoo reproduce vae-likelihood --likelihood-epochs N` runs more). NLL is the importance-weighted estimate with "+
				"K = %d samples on the first %d test images (± its standard error over the images); −ELBO is the one-sample test loss "+
				"(BCE + analytic KL; with two stochastic layers BCE + the one-sample KL estimate) on all of them; a latent unit is active when "+
				"Cov_x(E_q[z_u]) > %g (Burda's count; of z1 for the two-layer model).",
			epochs, K, images, activeCov))
		type row struct {
			label         string
			id            string // of its numbers: likelihood.k5, likelihood.2layers.k5
			k             int
			two           bool // two stochastic layers
			nll, se, elbo float64
			active, dim   int
			run           *Run
			per           []float64 // NLL of each test image
		}
		var rows []row
		for _, m := range lms {
			k, label, two := m.k, m.spec.Label, m.spec.Config.Latent2 > 0
			run, err := env.TrainSpec(m.spec)
			if err != nil {
				return nil, err
			}
			test := run.Test.Limit(images)
			per, err := run.Eval.IWNLLPerExample(test, K, env.Seed+17)
			if err != nil {
				return nil, errors.Wrap(err, label)
			}
			nll, sd := meanSDev(per)
			t := run.Summary.Test.Terms
			mu, dim, err := run.Eval.Codes(run.Test, graph.Code)
			if err != nil {
				return nil, err
			}
			id := fmt.Sprintf("likelihood.k%d", k)
			if two {
				id = fmt.Sprintf("likelihood.2layers.k%d", k)
			}
			rw := row{label: label, id: id, k: k, two: two, nll: nll, se: sd / math.Sqrt(float64(len(per))), elbo: t[graph.ReconTerm] + t[graph.KLTerm],
				active: activeUnits(mu, dim), dim: dim, run: run, per: per}
			rows = append(rows, rw)
			r.measure(id+".nll", rw.nll)
			r.measure(id+".nll_se", rw.se)
			r.measure(id+".neg_elbo", rw.elbo)
			r.measure(id+".active_units", float64(rw.active))
			r.row(label, "iw_nll", nll)
			r.row(label, "test_loss", run.Summary.TestLoss)
			r.Values[label] = map[string]float64{"nll": nll, "nll_se": rw.se, "neg_elbo": rw.elbo, "active_units": float64(rw.active),
				"epochs": float64(epochs), "test_loss": run.Summary.TestLoss}
		}
		r.Values["nll_samples"], r.Values["nll_images"], r.Values["epochs"] = K, images, epochs
		var cells [][]string
		for _, rw := range rows {
			cells = append(cells, []string{rw.label, fmt.Sprint(epochs), fmt.Sprintf("%.2f ± %.2f", rw.nll, rw.se), fmt.Sprintf("%.2f", rw.elbo),
				fmt.Sprintf("%d / %d", rw.active, rw.dim)})
		}
		r.Tables = append(r.Tables, Table{Title: "Measured (nats per image)",
			Columns: []string{"model", "epochs", fmt.Sprintf("NLL (K=%d)", K), "−ELBO", "active units (of z1)"}, Rows: cells})
		r.Tables = append(r.Tables, Table{Title: "Published and peer numbers (NLL, K = 5000)",
			Columns: []string{"source", "model", "epochs", "NLL"}, Rows: [][]string{
				{"Burda et al. 2016, Table 1", "VAE (k=1)", "3,280", "86.76"},
				{"Burda et al. 2016, Table 1", "IWAE (k=5)", "3,280", "85.54"},
				{"Burda et al. 2016, Table 1", "IWAE (k=50)", "3,280", "84.78"},
				{"Burda et al. 2016, Table 1", "VAE (k=1), two stochastic layers", "3,280", "85.33"},
				{"Burda et al. 2016, Table 1", "IWAE (k=5), two stochastic layers", "3,280", "83.89"},
				{"Burda et al. 2016, Table 1", "IWAE (k=50), two stochastic layers", "3,280", "82.90"},
				{"pythae benchmark", "VAE", "–", "89.78"},
				{"PyTorch 2.11 calibration (batch 100, first 1,000 test images)", "VAE (k=1)", "1 / 4 / 13 / 40 / 121", "171.10 / 120.80 / 104.72 / 95.56 / 90.99"},
			}})
		// Claims.
		var reads []string
		for _, rw := range rows {
			reads = append(reads, rw.id+".nll", rw.id+".neg_elbo")
		}
		if err := r.claim("likelihood.nll_below_elbo", "every model's importance-weighted NLL lies below its −ELBO (a tighter bound)", reads,
			func(v []float64) (bool, string) {
				ok, detail := true, ""
				for i := 0; i < len(v); i += 2 {
					ok = ok && v[i] < v[i+1]
					detail += fmt.Sprintf("%s: %.2f < %.2f; ", rows[i/2].label, v[i], v[i+1])
				}
				return ok, detail
			}); err != nil {
			return nil, err
		}
		for _, rw := range rows[1:] {
			if rw.two {
				continue
			}
			id := rw.id
			// The difference on the same images, with its paired standard error.
			diff := make([]float64, len(rw.per))
			for i := range diff {
				diff[i] = rw.per[i] - rows[0].per[i]
			}
			d, sd := meanSDev(diff)
			r.measure(id+".nll_minus_vae", d)
			r.measure(id+".nll_minus_vae_se", sd/math.Sqrt(float64(len(diff))))
			if err := r.claim(id+"_nll_le_vae", fmt.Sprintf("IWAE k=%d reaches an NLL no worse than the VAE's after the same epochs (Burda et al.)", rw.k),
				[]string{id + ".nll_minus_vae", id + ".nll_minus_vae_se", id + ".nll", "likelihood.k1.nll"}, func(v []float64) (bool, string) {
					return v[0] <= 0, fmt.Sprintf("%.2f vs %.2f: difference %.2f ± %.2f (paired over the same images) after %d epochs", v[2], v[3], v[0], v[1], epochs)
				}); err != nil {
				return nil, err
			}
			if err := r.claim(id+"_active_units", fmt.Sprintf("IWAE k=%d keeps at least as many active latent units as the VAE (Burda et al.)", rw.k),
				[]string{id + ".active_units", "likelihood.k1.active_units"}, func(v []float64) (bool, string) {
					return v[0] >= v[1], fmt.Sprintf("%.0f vs %.0f of 50", v[0], v[1])
				}); err != nil {
				return nil, err
			}
		}
		// The two-stochastic-layer row against the one-layer IWAE of the same k.
		for _, rw := range rows {
			if !rw.two {
				continue
			}
			one := -1
			for i, o := range rows {
				if !o.two && o.k == rw.k {
					one = i
				}
			}
			if one < 0 {
				continue
			}
			diff := make([]float64, len(rw.per))
			for i := range diff {
				diff[i] = rw.per[i] - rows[one].per[i]
			}
			d, sd := meanSDev(diff)
			r.measure(rw.id+".nll_minus_1layer", d)
			r.measure(rw.id+".nll_minus_1layer_se", sd/math.Sqrt(float64(len(diff))))
			if err := r.claim(rw.id+"_nll_le_1layer", fmt.Sprintf("with two stochastic layers, %s reaches an NLL no worse than with one after the same epochs (Burda et al.: 85.33 vs 86.76 at k=1, 83.89 vs 85.54 at k=5)", rows[one].label),
				[]string{rw.id + ".nll_minus_1layer", rw.id + ".nll_minus_1layer_se", rw.id + ".nll", rows[one].id + ".nll"}, func(v []float64) (bool, string) {
					return v[0] <= 0, fmt.Sprintf("%.2f vs %.2f: difference %.2f ± %.2f (paired over the same images) after %d epochs", v[2], v[3], v[0], v[1], epochs)
				}); err != nil {
				return nil, err
			}
		}
		if err := r.claim("likelihood.vae_nll_90", "the VAE's NLL reaches ≤ 90 nats (long runs: the PyTorch calibration reaches 90.99 after 121 epochs; Burda 86.76 after 3,280)",
			[]string{"likelihood.k1.nll"}, func(v []float64) (bool, string) {
				return v[0] <= 90, fmt.Sprintf("%.2f after %d epochs", v[0], epochs)
			}); err != nil {
			return nil, err
		}
		runs := make([]*Run, len(rows))
		for i, rw := range rows {
			runs[i] = rw.run
		}
		img, err := lossCurves("test loss per epoch (VAE: −ELBO; IWAE: −bound)", runs...)
		if err := r.figure("likelihood-loss.png", "Test loss per epoch: −ELBO for the VAE, the negative k-sample bound for the IWAE.", img, err); err != nil {
			return nil, err
		}
		return r, nil
	},
}

// meanSDev returns the mean and the sample standard deviation of v.
func meanSDev(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(max(len(v)-1, 1)))
}

// likelihoodModel is one model of the vae-likelihood experiment: k = 1 is
// the VAE, k > 1 an IWAE.
type likelihoodModel struct {
	k    int
	spec RunSpec
}

// likelihoodRuns returns the vae-likelihood experiment's models: the VAE,
// then an IWAE per k of env.LikelihoodIWK (quick runs: k = 5), then Burda
// et al.'s two-stochastic-layer model as an IWAE with k = 5 (quick runs:
// as a VAE), trained on Burda et al.'s protocol.
func likelihoodRuns(env *Env) []likelihoodModel {
	epochs, iwks := env.LikelihoodEpochs, env.LikelihoodIWK
	if env.Quick {
		epochs, iwks = 4, []int{5}
	}
	o := train.DefaultOptions()
	o.Seed, o.Batch, o.LR, o.LRSchedule, o.AdamEps, o.Binarize = env.Seed, 20, 1e-3, "burda", 1e-4, "dynamic"
	o.Epochs = epochs
	var out []likelihoodModel
	for _, k := range append([]int{1}, iwks...) {
		label := "VAE (k=1)"
		if k > 1 {
			label = fmt.Sprintf("IWAE (k=%d)", k)
		}
		out = append(out, likelihoodModel{k, env.Spec(label, burdaConfig(k), o)})
	}
	// Two stochastic layers: the IWAE with k = 5 (quick runs: the VAE, k = 1,
	// about a sixth of the training time).
	k2, label2 := 5, "IWAE (k=5), two stochastic layers"
	if env.Quick {
		k2, label2 = 1, "VAE (k=1), two stochastic layers"
	}
	out = append(out, likelihoodModel{k2, env.Spec(label2, burda2Config(k2), o)})
	return out
}

package experiments

import (
	"fmt"
	"math/rand/v2"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/viz"
	"github.com/aezoo/aezoo/zoo"
	"github.com/pkg/errors"
)

var vaeExperiment = Experiment{
	Name:  "vae",
	Title: "VAE: ELBO, importance-weighted NLL, samples and the latent space",
	Runs:  func(env *Env) ([]RunSpec, error) { return vaeRuns(env), nil },
	Run: func(env *Env) (*Result, error) {
		K := env.IWSamples
		if env.Quick {
			K = 20
		}
		r := newResult("vae", "VAE: ELBO, importance-weighted NLL, samples and the latent space",
			fmt.Sprintf("The pytorch/examples configuration (784-400-(20,20)-400-784, ReLU, Adam 1e-3, batch 128), on grey-level MNIST "+
				"and on dynamically binarized MNIST, and a 2-D latent model for the manifold and the scatter. The test loss is −ELBO "+
				"(BCE summed over pixels + KL), a one-sample estimate; the IW-NLL is the importance-weighted bound with K = %d samples.", K))
		specs := vaeRuns(env)
		trained := make([]*Run, len(specs))
		for i, sp := range specs {
			run, err := env.TrainSpec(sp)
			if err != nil {
				return nil, err
			}
			trained[i] = run
		}
		v20, vbin, v2 := trained[0], trained[1], trained[2]
		var rows [][]string
		for _, run := range trained[:3] {
			t := run.Summary.Test.Terms
			nll, err := run.Eval.IWNLL(run.Test, K, env.Seed+13)
			if err != nil {
				return nil, err
			}
			recon, kl := t[graph.ReconTerm], t[graph.KLTerm]
			elbo := -(recon + kl)
			rows = append(rows, []string{run.Label, fmt.Sprintf("%.2f", run.Summary.TestLoss), fmt.Sprintf("%.2f", elbo),
				fmt.Sprintf("%.2f", recon), fmt.Sprintf("%.2f", kl), fmt.Sprintf("%.2f", nll)})
			r.row(run.Label, "test_loss", run.Summary.TestLoss)
			r.row(run.Label, "bce", run.Summary.TestBCE)
			r.row(run.Label, "mse", run.Summary.TestMSE)
			r.row(run.Label, "iw_nll", nll)
			r.Values[run.Label] = map[string]float64{"test_loss": run.Summary.TestLoss, "elbo": elbo, "bce": recon, "kl": kl, "iw_nll": nll}
		}
		for _, run := range trained[3:] { // the conv VAE, in full runs
			rows = append(rows, convVAERow(r, run))
		}
		r.Values["iw_samples"] = K
		r.Tables = append(r.Tables, Table{Title: "Test set (nats per image)",
			Columns: []string{"model", "test loss (−ELBO)", "ELBO", "BCE", "KL", fmt.Sprintf("IW-NLL (K=%d)", K)}, Rows: rows})
		r.measure("vae.z20_test_loss", v20.Summary.TestLoss)
		if err := r.claim("vae.z20_test_loss", "VAE test loss ≤ 105.6 nats (PyTorch, same config: 105.2–105.6)",
			[]string{"vae.z20_test_loss"}, func(v []float64) (bool, string) {
				return v[0] <= 105.6, fmt.Sprintf("%.2f after %d epochs", v[0], v20.Options.Epochs)
			}); err != nil {
			return nil, err
		}

		dt, err := graph.ParseDtype(v20.Options.Dtype)
		if err != nil {
			return nil, errors.Wrap(err, "vae")
		}
		g, err := zoo.NewGenerator(v20.Config, dt, v20.Store, env.TrainSet.D)
		if err != nil {
			return nil, err
		}
		_, samples, err := g.Sample(rand.New(rand.NewPCG(env.Seed, 0x5a)), 64)
		if err := r.figure("vae-samples.png", "64 digits decoded from z ~ N(0, I) (z = 20).", viz.Grid(samples, 28, 28, 8, 2), err); err != nil {
			return nil, err
		}
		interp, err := g.Interpolations(v20.Eval, v20.Test, 8, 10)
		if err != nil {
			return nil, err
		}
		if err := r.figure("vae-interpolation.png", "Decoded straight lines in latent space between the means of pairs of test digits.", viz.Grid(interp, 28, 28, 10, 2), nil); err != nil {
			return nil, err
		}
		g2, err := zoo.NewGenerator(v2.Config, dt, v2.Store, env.TrainSet.D)
		if err != nil {
			return nil, err
		}
		man, err := g2.Manifold(20)
		if err := r.figure("vae-manifold.png", "The 2-D latent manifold: decoded codes at Gaussian quantiles.", viz.Grid(man, 28, 28, 20, 1), err); err != nil {
			return nil, err
		}
		mu, dim, err := v2.Eval.Codes(v2.Test, graph.Code)
		if err != nil {
			return nil, err
		}
		pts := make([][2]float64, len(mu)/dim)
		for i := range pts {
			pts[i] = [2]float64{mu[i*dim], mu[i*dim+1]}
		}
		img, err := viz.Scatter(pts, v2.Test.Labels[:len(pts)], "test digits in the 2-D latent space (μ)")
		if err := r.figure("vae-scatter.png", "Encoder means of the test digits, coloured by digit.", img, err); err != nil {
			return nil, err
		}
		img, err = lossCurves("VAE test loss per epoch", v20, vbin, v2)
		if err := r.figure("vae-loss.png", "Test loss (−ELBO) per epoch.", img, err); err != nil {
			return nil, err
		}
		return r, nil
	},
}

// vaeRuns returns the vae experiment's runs: the VAE (z = 20) on grey
// levels, on dynamically binarized data, and the 2-D latent VAE.
func vaeRuns(env *Env) []RunSpec {
	c, _ := models.Defaults("vae")
	o := env.Options(10, 5)
	ob := o
	ob.Binarize = "dynamic"
	c2 := c
	c2.Latent = 2
	specs := []RunSpec{env.Spec("VAE (z=20)", c, o), env.Spec("VAE (z=20, binarized)", c, ob), env.Spec("VAE (z=2)", c2, o)}
	if env.convRows {
		cc := c
		cc.Arch = "conv"
		specs = append(specs, env.Spec("conv VAE (z=20)", cc, o))
	}
	return specs
}

// convVAERow returns the row of the trained conv VAE in the test table,
// recording it in r's rows, values and numbers ("vae.conv_z20_test_loss"),
// and describes it in r's intro. Its IW-NLL is not estimated (—): K
// importance samples of every test image through the conv decoder cost K
// times its ELBO's decoding.
func convVAERow(r *Result, run *Run) []string {
	t := run.Summary.Test.Terms
	recon, kl := t[graph.ReconTerm], t[graph.KLTerm]
	elbo := -(recon + kl)
	r.row(run.Label, "test_loss", run.Summary.TestLoss)
	r.row(run.Label, "bce", run.Summary.TestBCE)
	r.row(run.Label, "mse", run.Summary.TestMSE)
	r.Values[run.Label] = map[string]float64{"test_loss": run.Summary.TestLoss, "elbo": elbo, "bce": recon, "kl": kl}
	r.measure("vae.conv_z20_test_loss", run.Summary.TestLoss)
	r.Intro += " The conv VAE (z = 20) is the same model with --arch conv, trained for as many epochs on grey levels: " +
		"conv 3×3, 16 maps, ReLU → max-pool 2×2 → conv 3×3, 32 maps, ReLU → max-pool 2×2 → 400 ReLU → (μ, log σ²) of 20; " +
		"decoder: 400 ReLU → dense 32×7×7, ReLU → transposed conv 4×4 stride 2, 16 maps, ReLU → transposed conv 4×4 stride 2, 1 map → Bernoulli logits. " +
		"Its IW-NLL is not estimated (—)."
	return []string{run.Label, fmt.Sprintf("%.2f", run.Summary.TestLoss), fmt.Sprintf("%.2f", elbo),
		fmt.Sprintf("%.2f", recon), fmt.Sprintf("%.2f", kl), "—"}
}

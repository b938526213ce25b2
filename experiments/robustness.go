package experiments

import (
	"fmt"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/viz"
)

// denoisingLevels are the corruptions of the denoising metric.
var denoisingLevels = []data.Corruption{
	{Kind: "gaussian", Level: 0.1}, {Kind: "gaussian", Level: 0.3}, {Kind: "gaussian", Level: 0.5},
	{Kind: "masking", Level: 0.1}, {Kind: "masking", Level: 0.25}, {Kind: "masking", Level: 0.5},
}

func levelName(q data.Corruption) string {
	if q.Kind == "gaussian" {
		return fmt.Sprintf("gaussian σ=%g", q.Level)
	}
	return fmt.Sprintf("masking ν=%g", q.Level)
}

func metricKey(q data.Corruption) string { return fmt.Sprintf("denoise_%s_%g", q.Kind, q.Level) }

// The three 784-256-784 sigmoid models the robustness experiments compare.
func (env *Env) plainAESpec() RunSpec {
	c, _ := models.Defaults("plain")
	return env.Spec("AE", c, env.Options(10, 16))
}

func (env *Env) daeSpec(q data.Corruption) RunSpec {
	c, _ := models.Defaults("denoising")
	c.Noise, c.NoiseLevel = q.Kind, q.Level
	return env.Spec("DAE ("+levelName(q)+")", c, env.Options(10, 16))
}

func (env *Env) caeSpec() RunSpec {
	c, _ := models.Defaults("contractive")
	return env.Spec("CAE", c, env.Options(10, 16))
}

func (env *Env) plainAE() (*Run, error) { return env.TrainSpec(env.plainAESpec()) }

func (env *Env) dae(q data.Corruption) (*Run, error) { return env.TrainSpec(env.daeSpec(q)) }

// daeFor returns the DAE trained on the corruption q: one per level, in
// quick runs too (a DAE shared between levels is not "the DAE trained at
// that level" of the claim).
func (env *Env) daeFor(q data.Corruption) (*Run, error) { return env.dae(q) }

func (env *Env) cae() (*Run, error) { return env.TrainSpec(env.caeSpec()) }

// convAESpec and convDAESpec are the convolutional versions (--arch conv)
// of the AE and the DAE of the denoising experiment: the same 256 sigmoid
// code units, epochs and options.
func (env *Env) convAESpec() RunSpec {
	c, _ := models.Defaults("plain")
	c.Arch = "conv"
	return env.Spec("conv AE", c, env.Options(10, 16))
}

func (env *Env) convDAESpec(q data.Corruption) RunSpec {
	c, _ := models.Defaults("denoising")
	c.Arch, c.Noise, c.NoiseLevel = "conv", q.Kind, q.Level
	return env.Spec("conv DAE ("+levelName(q)+")", c, env.Options(10, 16))
}

// convDenoisingSpecs are the denoising experiment's conv runs: the conv AE
// and a conv DAE per corruption level; none unless env.convRows.
func (env *Env) convDenoisingSpecs() []RunSpec {
	if !env.convRows {
		return nil
	}
	specs := []RunSpec{env.convAESpec()}
	for _, q := range denoisingLevels {
		specs = append(specs, env.convDAESpec(q))
	}
	return specs
}

// contractiveNoise is the corruption of the contractive experiment's DAE.
var contractiveNoise = data.Corruption{Kind: "gaussian", Level: 0.3}

var denoisingExperiment = Experiment{
	Name:  "denoising",
	Title: "Denoising: plain AE vs denoising AEs",
	Runs: func(env *Env) ([]RunSpec, error) {
		specs := []RunSpec{env.plainAESpec()}
		for _, q := range denoisingLevels {
			specs = append(specs, env.daeSpec(q))
		}
		return append(specs, env.convDenoisingSpecs()...), nil
	},
	Run: func(env *Env) (*Result, error) {
		r := newResult("denoising", "Denoising: plain AE vs denoising AEs",
			"Each model reconstructs corrupted test images; the metric is the MSE per pixel between the reconstruction and the *clean* image. "+
				"One DAE is trained per corruption level (a fresh corruption every step) and compared with the plain AE at that level.")
		ae, err := env.plainAE()
		if err != nil {
			return nil, err
		}
		runs := []*Run{ae}
		daeOf := make([]*Run, len(denoisingLevels))
		for i, q := range denoisingLevels {
			d, err := env.daeFor(q)
			if err != nil {
				return nil, err
			}
			daeOf[i] = d
			if runs[len(runs)-1] != d {
				runs = append(runs, d)
			}
		}
		cols := []string{"model", "clean"}
		for _, q := range denoisingLevels {
			cols = append(cols, levelName(q))
		}
		mse := map[*Run][]float64{}
		var rows [][]string
		for _, run := range runs {
			row := []string{run.Label, f4(run.Summary.TestMSE)}
			r.row(run.Label, "bce", run.Summary.TestBCE)
			r.row(run.Label, "mse", run.Summary.TestMSE)
			for _, q := range denoisingLevels {
				v, err := run.Eval.Denoising(run.Test, q, env.Seed+7)
				if err != nil {
					return nil, err
				}
				mse[run] = append(mse[run], v)
				row = append(row, f4(v))
				r.row(run.Label, metricKey(q), v)
				r.Values[run.Label+" "+levelName(q)] = v
			}
			rows = append(rows, row)
		}
		if env.convRows {
			convRows, err := env.convDenoisingRows(r)
			if err != nil {
				return nil, err
			}
			rows = append(rows, convRows...)
		}
		r.Tables = append(r.Tables, Table{Title: "Denoising MSE per pixel against the clean image (lower is better)", Columns: cols, Rows: rows})
		var reads []string
		for j, q := range denoisingLevels {
			dID, aeID := "denoising.dae_mse."+metricKey(q), "denoising.ae_mse."+metricKey(q)
			r.measure(dID, mse[daeOf[j]][j])
			r.measure(aeID, mse[ae][j])
			reads = append(reads, dID, aeID)
		}
		if err := r.claim("denoising.dae_beats_ae", "DAE better than the plain AE at every noise level (the DAE trained at that level)", reads, func(v []float64) (bool, string) {
			allBetter, detail := true, ""
			for j, q := range denoisingLevels {
				d, a := v[2*j], v[2*j+1]
				allBetter = allBetter && d < a
				detail += fmt.Sprintf("%s: %s %.4f vs AE %.4f; ", levelName(q), daeOf[j].Label, d, a)
			}
			return allBetter, detail
		}); err != nil {
			return nil, err
		}
		// Figures: clean / corrupted / reconstructed at the strongest levels.
		for _, q := range []data.Corruption{{Kind: "gaussian", Level: 0.5}, {Kind: "masking", Level: 0.5}} {
			d, err := env.daeFor(q)
			if err != nil {
				return nil, err
			}
			var rowsImg [][][]float64
			for i, run := range []*Run{ae, d} {
				clean, noisy, rec, err := run.Eval.DenoisingExamples(run.Test, q, env.Seed+7, 10)
				if err != nil {
					return nil, err
				}
				if i == 0 {
					rowsImg = append(rowsImg, clean, noisy)
				}
				rowsImg = append(rowsImg, rec)
			}
			file := fmt.Sprintf("denoise-%s-%g.png", q.Kind, q.Level)
			if err := r.figure(file, fmt.Sprintf("Rows: clean, corrupted (%s), reconstructed by the AE, reconstructed by the %s.", levelName(q), d.Label),
				viz.Compare(28, 28, 2, rowsImg...), nil); err != nil {
				return nil, err
			}
		}
		img, err := lossCurves("test loss per epoch", runs...)
		if err := r.figure("denoising-loss.png", "Test loss (clean inputs) per epoch.", img, err); err != nil {
			return nil, err
		}
		return r, nil
	},
}

// convDenoisingRows trains the declared conv runs (convDenoisingSpecs:
// the conv AE and a conv DAE per corruption level) and returns their rows
// of the denoising table (clean MSE, then the MSE against the clean image
// at each level), recording them in r's rows, values and numbers
// ("denoising.conv_dae_mse.LEVEL" of the conv DAE trained at that level,
// "denoising.conv_ae_mse.LEVEL"). The MLP rows and numbers are untouched:
// every run has its own seeded generators.
func (env *Env) convDenoisingRows(r *Result) ([][]string, error) {
	r.Intro += " The conv rows are the same models with --arch conv, trained for as many epochs with the same options: " +
		"conv 3×3, 16 maps, ReLU → max-pool 2×2 → conv 3×3, 32 maps, ReLU → max-pool 2×2 → the 256 sigmoid code units; " +
		"decoder: dense 32×7×7, ReLU → transposed conv 4×4 stride 2, 16 maps, ReLU → transposed conv 4×4 stride 2, 1 map → sigmoid, BCE."
	var rows [][]string
	for i, s := range env.convDenoisingSpecs() {
		run, err := env.TrainSpec(s)
		if err != nil {
			return nil, err
		}
		row := []string{run.Label, f4(run.Summary.TestMSE)}
		r.row(run.Label, "bce", run.Summary.TestBCE)
		r.row(run.Label, "mse", run.Summary.TestMSE)
		for j, q := range denoisingLevels {
			v, err := run.Eval.Denoising(run.Test, q, env.Seed+7)
			if err != nil {
				return nil, err
			}
			row = append(row, f4(v))
			r.row(run.Label, metricKey(q), v)
			r.Values[run.Label+" "+levelName(q)] = v
			switch {
			case i == 0:
				r.measure("denoising.conv_ae_mse."+metricKey(q), v)
			case i-1 == j:
				r.measure("denoising.conv_dae_mse."+metricKey(q), v)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// contractionRadii is the grid of r for CR(r).
var contractionRadii = []float64{0.01, 0.03, 0.1, 0.3, 1, 3, 10}

var contractiveExperiment = Experiment{
	Name:  "contractive",
	Title: "Contraction: AE vs DAE vs CAE",
	Runs: func(env *Env) ([]RunSpec, error) {
		return []RunSpec{env.plainAESpec(), env.daeSpec(contractiveNoise), env.caeSpec()}, nil
	},
	Run: func(env *Env) (*Result, error) {
		r := newResult("contractive", "Contraction: AE vs DAE vs CAE",
			"How much the code moves when the input moves: the mean Frobenius norm of the encoder's Jacobian ‖J_f(x)‖_F over test inputs, "+
				"and the contraction ratio CR(r) = E‖f(x + r·u) − f(x)‖ / r for a random unit direction u (Rifai et al. 2011). "+
				"The lecture's claim: the CAE contracts most at small r, the DAE sits between the CAE and the plain AE.")
		ae, err := env.plainAE()
		if err != nil {
			return nil, err
		}
		dg, err := env.dae(contractiveNoise)
		if err != nil {
			return nil, err
		}
		ca, err := env.cae()
		if err != nil {
			return nil, err
		}
		runs := []*Run{ae, dg, ca}
		cols := []string{"model", "BCE nats/img", "mean ‖J‖_F"}
		for _, rad := range contractionRadii {
			cols = append(cols, fmt.Sprintf("CR(%g)", rad))
		}
		var rows [][]string
		var series []viz.Series
		jac := map[*Run]float64{}
		cr0 := map[*Run]float64{}
		for _, run := range runs {
			cr, err := run.Eval.ContractionCurve(run.Test, contractionRadii, env.Seed+11)
			if err != nil {
				return nil, err
			}
			jac[run], cr0[run] = run.Summary.Test.MeanJacobianFrob, cr[0]
			row := []string{run.Label, fmt.Sprintf("%.2f", run.Summary.TestBCE), f3(jac[run])}
			for _, v := range cr {
				row = append(row, f3(v))
			}
			rows = append(rows, row)
			series = append(series, viz.Series{Name: run.Label, X: contractionRadii, Y: cr})
			r.row(run.Label, "jacobian", jac[run])
			r.row(run.Label, "cr_min_r", cr[0])
			r.row(run.Label, "bce", run.Summary.TestBCE)
			r.row(run.Label, "mse", run.Summary.TestMSE)
			r.Values[run.Label+" mean ‖J‖_F"] = jac[run]
			r.Values[run.Label+" CR"] = cr
		}
		r.Values["radii"] = contractionRadii
		r.Tables = append(r.Tables, Table{Title: "Jacobian norm and contraction ratio (lower = more contractive)", Columns: cols, Rows: rows})
		for id, run := range map[string]*Run{"cae": ca, "dae": dg, "ae": ae} {
			r.measure("contractive."+id+"_jacobian", jac[run])
			r.measure("contractive."+id+"_cr_min_r", cr0[run])
		}
		jacs := []string{"contractive.cae_jacobian", "contractive.dae_jacobian", "contractive.ae_jacobian"}
		crs := []string{"contractive.cae_cr_min_r", "contractive.dae_cr_min_r", "contractive.ae_cr_min_r"}
		for _, c := range []struct {
			id, text string
			reads    []string
			test     func(cae, dae, ae float64) bool
			format   string
		}{
			{"contractive.cae_lowest_jacobian", "CAE has the lowest mean ‖J‖_F", jacs,
				func(cae, dae, ae float64) bool { return cae < ae && cae < dae }, "CAE %.3f, DAE %.3f, AE %.3f"},
			{"contractive.cae_lowest_cr", "CAE has the lowest CR at the smallest r", crs,
				func(cae, dae, ae float64) bool { return cae < ae && cae < dae }, fmt.Sprintf("CR(%g): ", contractionRadii[0]) + "CAE %.3f, DAE %.3f, AE %.3f"},
			{"contractive.dae_between", "DAE sits between CAE and AE at the smallest r", crs,
				func(cae, dae, ae float64) bool { return cae < dae && dae < ae }, fmt.Sprintf("CR(%g): ", contractionRadii[0]) + "CAE %.3f < DAE %.3f < AE %.3f"},
		} {
			if err := r.claim(c.id, c.text, c.reads, func(v []float64) (bool, string) {
				return c.test(v[0], v[1], v[2]), fmt.Sprintf(c.format, v[0], v[1], v[2])
			}); err != nil {
				return nil, err
			}
		}
		img, err := viz.Lines(viz.Axes{Title: "contraction ratio CR(r)", XLabel: "r (input-space distance)", YLabel: "CR(r)", LogX: true}, series)
		if err := r.figure("contraction-ratio.png", "CR(r) of the three encoders.", img, err); err != nil {
			return nil, err
		}
		for _, run := range runs {
			w := run.Store.Floats("enc.W")
			f, err := viz.Filters(w, 784, run.Config.Hidden, 100)
			if err != nil {
				return nil, err
			}
			file := "filters-" + sanitize(run.Label) + ".png"
			if err := r.figure(file, "Encoder filters of the "+run.Label+" (first 100 units).", viz.Grid(f, 28, 28, 10, 1), nil); err != nil {
				return nil, err
			}
		}
		return r, nil
	},
}

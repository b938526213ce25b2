package experiments

import (
	"fmt"

	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/viz"
)

var sparseExperiment = Experiment{
	Name:  "sparse",
	Title: "Sparsity: plain vs L1 vs KL vs top-K (1000 units)",
	Runs: func(env *Env) ([]RunSpec, error) {
		var specs []RunSpec
		for _, e := range sparseModels(env) {
			specs = append(specs, e.spec)
		}
		return specs, nil
	},
	Run: func(env *Env) (*Result, error) {
		r := newResult("sparse", "Sparsity: plain vs L1 vs KL vs top-K (1000 units)",
			"Four overcomplete (1000-unit) codes of MNIST: no penalty, an L1 activity penalty (ReLU code), Ng's KL-to-ρ penalty (sigmoid code, ρ = 0.05), "+
				"and the top-K autoencoder in Makhzani & Frey's setup (linear units, tied weights, squared error, the input centred by a learned mean; "+
				"k = 25 at training, annealed from 100 over the first half of the epochs; αk = 75 kept at encode time). Sparsity is measured on the test set "+
				fmt.Sprintf("(a unit is active when its activation exceeds %g); ", eval.ActiveThreshold)+
				"the linear probe is a multinomial logistic regression (a small Gorgonia graph) on the standardized frozen codes of the training set, "+
				"early-stopped on its last sixth (the epoch count with the lowest held-out error, at most 30) and then refit on all of it.")
		po := eval.DefaultProbeOptions()
		po.Seed = env.Seed
		po.Validation = env.TrainSet.N / 6
		if env.Quick {
			po.Epochs = 10
		}
		var rows [][]string
		var filterRows [][][]float64
		for _, e := range sparseModels(env) {
			run, err := env.TrainSpec(e.spec)
			if err != nil {
				return nil, err
			}
			trainX, dim, err := run.Eval.Codes(env.TrainSet, e.output)
			if err != nil {
				return nil, err
			}
			testX, _, err := run.Eval.Codes(run.Test, e.output)
			if err != nil {
				return nil, err
			}
			pr, err := eval.LinearProbe(trainX, env.TrainSet.Labels, testX, run.Test.Labels, dim, po)
			if err != nil {
				return nil, err
			}
			m := run.Summary.Test
			r.measure("sparse."+e.id+"_probe_error", pr.TestError)
			r.measure("sparse."+e.id+"_mean_activation", m.MeanActivation)
			rows = append(rows, []string{e.label, fmt.Sprintf("%.2f", run.Summary.TestBCE), fmt.Sprintf("%.4f", run.Summary.TestMSE), f3(m.MeanActivation),
				f3(m.ActiveFraction), fmt.Sprintf("%d", m.DeadUnits), fmt.Sprintf("%.2f%%", 100*pr.TestError), fmt.Sprintf("%d", pr.Epochs)})
			r.row(e.label, "bce", run.Summary.TestBCE)
			r.row(e.label, "mse", run.Summary.TestMSE)
			r.row(e.label, "mean_activation", m.MeanActivation)
			r.row(e.label, "active_fraction", m.ActiveFraction)
			r.row(e.label, "dead_units", float64(m.DeadUnits))
			r.row(e.label, "probe_error", pr.TestError)
			r.Values[e.label] = map[string]any{"bce": run.Summary.TestBCE, "mean_activation": m.MeanActivation, "active_fraction": m.ActiveFraction,
				"dead_units": m.DeadUnits, "probe": pr}
			f, err := viz.Filters(run.Store.Floats("enc.W"), env.TrainSet.D, run.Config.Hidden, 20)
			if err != nil {
				return nil, err
			}
			filterRows = append(filterRows, f)
		}
		r.Tables = append(r.Tables, Table{Title: "Sparsity and linear probe",
			Columns: []string{"model", "BCE nats/img", "MSE/pixel", "mean activation", "active fraction", "dead units", "probe test error", "probe epochs"}, Rows: rows})
		if err := r.claim("sparse.topk_probe_error", "top-K probe error ≤ 2% (Makhzani & Frey: 1.35% for k = 25)",
			[]string{"sparse.topk_probe_error"}, func(v []float64) (bool, string) {
				return v[0] <= 0.02, fmt.Sprintf("top-K probe error %.2f%%", 100*v[0])
			}); err != nil {
			return nil, err
		}
		if err := r.claim("sparse.l1_sparser_than_plain", "sparse (L1) mean activation at least 2× below plain",
			[]string{"sparse.plain_mean_activation", "sparse.l1_mean_activation"}, func(v []float64) (bool, string) {
				p, s := v[0], v[1]
				return s*2 <= p, fmt.Sprintf("L1 %.4f vs plain %.4f (%.1f×)", s, p, p/max(s, 1e-12))
			}); err != nil {
			return nil, err
		}
		if err := r.figure("sparse-filters.png", "Encoder filters (first 20 units), one row per model: "+
			"AE (1000 ReLU), sparse L1, sparse KL, top-K.", viz.Compare(28, 28, 2, filterRows...), nil); err != nil {
			return nil, err
		}
		return r, nil
	},
}

// sparseModel is one code of the sparse experiment.
type sparseModel struct {
	id, label string // id: stable, in number IDs
	output    graph.Output
	spec      RunSpec
}

// sparseModels returns the sparse experiment's models, in table order.
func sparseModels(env *Env) []sparseModel {
	plain, _ := models.Defaults("plain")
	plain.Hidden, plain.Activation = 1000, "relu"
	l1, _ := models.Defaults("sparse")
	kl, _ := models.Defaults("sparse")
	kl.Sparsity, kl.Activation = "kl", "sigmoid"
	tk, _ := models.Defaults("topk")
	// Makhzani & Frey's schedule against dead units: k starts at 100
	// and falls linearly to 25 over the first half of the epochs.
	tk.KStart = 100
	o := env.Options(10, 5)
	return []sparseModel{
		{"plain", "AE (1000 ReLU)", graph.Code, env.Spec("AE (1000 ReLU)", plain, o)},
		{"l1", "sparse L1", graph.Code, env.Spec("sparse L1", l1, o)},
		{"kl", "sparse KL", graph.Code, env.Spec("sparse KL", kl, o)},
		{"topk", "top-K (k=25)", graph.Features, env.Spec("top-K (k=25)", tk, o)},
	}
}

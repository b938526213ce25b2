package models

import (
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/losses"
	"github.com/pkg/errors"
)

// The sparse autoencoder: an overcomplete code kept sparse by a penalty on
// its activations.
//
//	h    = act(x·W + b)                 (H > input size)
//	loss = BCE(x̂, x) + λ·Σ_j |h_j|           (--sparsity l1)
//	loss = BCE(x̂, x) + β·Σ_j KL(ρ ‖ ρ̂_j)     (--sparsity kl, sigmoid code)
//
// With --layers the penalty is on the code, the last encoder layer.
func init() {
	Register(Spec{
		Name:   "sparse",
		Doc:    "sparse autoencoder: overcomplete code + L1 (or KL-to-ρ) activity penalty",
		Hypers: []string{"hidden", "activation", "loss", "layers", "tied", "sparsity", "lambda", "rho", "beta"},
		Usage: map[string]string{
			"sparsity": "activity penalty: l1 (weight --lambda) or kl (target --rho, weight --beta; sigmoid code)",
			"lambda":   "weight λ of the L1 penalty (--sparsity l1)",
			"rho":      "target mean activation ρ of the KL penalty (--sparsity kl)",
			"beta":     "weight β of the KL-sparsity penalty (--sparsity kl)",
		},
		Check: checkSparse,
		Defaults: Config{Hidden: 1000, Activation: "relu", Loss: "bce",
			Sparsity: "l1", Lambda: 0.03, Rho: 0.05, Beta: 1},
		Declare: func(c Config, b *graph.Builder) {
			x := b.Batch("x")
			e := encode(b, c, x)
			mirror(b, c, e, x)
			h := e.code
			if c.Sparsity == "kl" {
				b.Objective(graph.PenaltyTerm, b.Scale(c.Beta, b.Must(losses.KLSparsity(h, c.Rho))))
			} else {
				b.Objective(graph.PenaltyTerm, b.Scale(c.Lambda, b.Must(losses.L1(h))))
			}
		},
	})
}

// checkSparse: the KL penalty compares mean activations with a target ρ in
// (0,1), so the code must be a sigmoid.
func checkSparse(c Config) error {
	if c.Sparsity != "kl" {
		return nil
	}
	var errs []error
	if c.Rho <= 0 || c.Rho >= 1 {
		errs = append(errs, errors.Errorf("invalid --rho %g: must be in (0,1)", c.Rho))
	}
	if c.Activation != "sigmoid" {
		errs = append(errs, errors.Errorf("--sparsity kl needs --activation sigmoid (mean activations must lie in (0,1)), got %q", c.Activation))
	}
	return checks(errs...)
}

package graph

// Output names a per-example node of a model that evaluators can read after
// a run (Builder.Output declares one, Program.Output reads it). The zoo's
// models and evaluators agree on the standard names below; a model may
// declare others of its own.
type Output string

// The standard outputs.
const (
	// Recon is the reconstruction x̂ in input space (Batch×In).
	Recon Output = "recon"
	// Logits is the decoder's pre-sigmoid output l, x̂ = sigmoid(l), when the
	// reconstruction is Bernoulli (Batch×In).
	Logits Output = "logits"
	// Code is the hidden code h (the posterior mean μ for the VAE).
	Code Output = "code"
	// LogVar is the VAE posterior's log σ² (Batch×Latent).
	LogVar Output = "logvar"
	// JF2 is the per-example squared Frobenius norm ‖∂h/∂x‖²_F of the
	// encoder's Jacobian (Batch×1).
	JF2 Output = "jf2"
	// Features is the code used as features at encode time, when it differs
	// from Code (the top-K model keeps αk units).
	Features Output = "features"
)

// Term names a scalar term of a model, averaged per example. Objective
// terms are summed into the loss; monitored terms are only reported.
type Term string

// The standard terms.
const (
	// ReconTerm is the reconstruction error of the model's loss.
	ReconTerm Term = "recon"
	// PenaltyTerm is the regularizer, weight included.
	PenaltyTerm Term = "penalty"
	// KLTerm is the VAE's KL(q(z|x) ‖ p(z)), unweighted (monitored).
	KLTerm Term = "kl"
	// IWTerm is the negative importance-weighted bound −log (1/K) Σ_k w_k
	// of the IWAE (Burda et al. 2016), the objective of the VAE with K > 1
	// samples per example.
	IWTerm Term = "iw_bound"
	// LossTerm is the whole objective, the sum of the objective terms; it is
	// always available from a Program.
	LossTerm Term = "loss"
)

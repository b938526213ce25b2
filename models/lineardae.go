package models

import (
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/losses"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// The linear denoising autoencoder: no nonlinearity, Gaussian input noise,
// squared error. On centred data X (d×n) its decoder·encoder product
// converges to the ridge-shrunk projection U_k diag(s_i²/(s_i²+nσ²)) U_kᵀ
// (see the linear-dae-svd experiment).
//
//	x̃    = x + σε                             (--noise gaussian: a fresh ε every step)
//	x̂    = (x̃·W + b)·V + c
//	loss = Σ_i (x̂_i − x_i)²
//
// With --noise marginalized the model trains on the expectation of that
// loss over ε in closed form (the marginalized DAE of Chen et al. 2012):
// the noise enters linearly, so
//
//	E_ε ‖x − ((x+σε)·W + b)·V − c‖² = ‖x − (x·W + b)·V − c‖² + σ²‖W·V‖²_F,
//
// with ‖W·V‖²_F = Σ (WᵀW ⊙ VVᵀ) as the penalty term. Its gradient is the
// expected gradient of the sampled model: no corruption noise enters
// training, only the minibatch's.
func init() {
	Register(Spec{
		Name:   "lineardae",
		Doc:    "linear denoising autoencoder (Gaussian noise, squared error): the closed-form case",
		Hypers: []string{"hidden", "noise", "noise-level"},
		Usage: map[string]string{
			"noise":       "gaussian (a fresh x + σε every step) or marginalized (the expected loss over ε in closed form: ‖x − x̂‖² + σ²‖W·V‖²_F)",
			"noise-level": "σ of the Gaussian input noise",
		},
		Check:    checkLinearDAE,
		Defaults: Config{Hidden: 32, Activation: "linear", Loss: "mse", Noise: "gaussian", NoiseLevel: 0.1},
		Declare: func(c Config, b *graph.Builder) {
			c.Activation, c.Loss = "linear", "mse"
			x := b.Batch("x")
			in := x
			if c.Noise != Marginalized {
				in = b.RowInput("x_tilde", b.Shape().In, corrupter(data.Corruption{Kind: "gaussian", Level: c.NoiseLevel}))
			}
			enc := b.Dense("enc", in, c.Hidden)
			h := b.Output(graph.Code, enc.Pre)
			dec := b.Dense("dec", h, b.Shape().In)
			xhat := b.Output(graph.Recon, dec.Pre)
			b.Objective(graph.ReconTerm, b.Must(losses.SquaredError(xhat, x)))
			if c.Noise == Marginalized {
				b.Objective(graph.PenaltyTerm, b.Scale(c.NoiseLevel*c.NoiseLevel, b.Must(productFrobSq(enc.W, dec.W))))
			}
		},
	})
}

// Marginalized is the lineardae's --noise that trains on the expected loss
// over the Gaussian corruption in closed form.
const Marginalized = "marginalized"

// checkLinearDAE: the noise is Gaussian, sampled or marginalized. An
// empty Noise is the sampled model (configs saved before the option).
func checkLinearDAE(c Config) error {
	switch c.Noise {
	case "", "gaussian", Marginalized:
		return nil
	}
	return errors.Errorf("invalid --noise %q for lineardae (want gaussian or %s)", c.Noise, Marginalized)
}

// productFrobSq is ‖W·V‖²_F = Σ_ij (WᵀW)_ij (VVᵀ)_ij for W (d×k) and
// V (k×d): two k×k Gram matrices instead of the d×d product.
func productFrobSq(w, v *G.Node) (*G.Node, error) {
	wt, err := G.Transpose(w)
	if err != nil {
		return nil, errors.Wrap(err, "lineardae: Wᵀ")
	}
	a, err := G.Mul(wt, w)
	if err != nil {
		return nil, errors.Wrap(err, "lineardae: WᵀW")
	}
	vt, err := G.Transpose(v)
	if err != nil {
		return nil, errors.Wrap(err, "lineardae: Vᵀ")
	}
	bb, err := G.Mul(v, vt)
	if err != nil {
		return nil, errors.Wrap(err, "lineardae: VVᵀ")
	}
	p, err := G.HadamardProd(a, bb)
	if err != nil {
		return nil, errors.Wrap(err, "lineardae: WᵀW ⊙ VVᵀ")
	}
	s, err := G.Sum(p)
	return s, errors.Wrap(err, "lineardae: Σ")
}

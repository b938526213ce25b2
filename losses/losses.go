// Package losses holds the zoo's reconstruction losses and penalty nodes.
//
// Each function takes Gorgonia nodes and returns a scalar node: a mean over
// the minibatch of a per-example quantity, so every term is "per image".
// The per-example versions (suffix PerExample) return a vector of length
// Batch, used by metrics. Nothing here is computed numerically: every
// term, including the contractive Jacobian norm, is an analytic graph
// expression that Gorgonia differentiates symbolically.
package losses

import (
	"math"

	"github.com/aezoo/aezoo/graph/ops"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func constant(like *G.Node, v float64) *G.Node {
	if like.Dtype() == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// BatchMean returns the mean over examples (rows) of the per-example sums
// of x (Batch×d): mean_n Σ_i x_ni.
func BatchMean(x *G.Node) (*G.Node, error) {
	s, err := G.Sum(x, 1)
	if err != nil {
		return nil, errors.Wrap(err, "losses: per-example sum")
	}
	return G.Mean(s)
}

// BCEWithLogitsPerExample is Σ_i softplus(l_i) − x_i·l_i for each example:
// the Bernoulli negative log-likelihood (nats) of target x under
// probabilities sigmoid(l), computed stably from the logits l.
func BCEWithLogitsPerExample(logits, x *G.Node) (*G.Node, error) {
	sp, err := G.Softplus(logits)
	if err != nil {
		return nil, errors.Wrap(err, "losses: softplus")
	}
	xl, err := G.HadamardProd(x, logits)
	if err != nil {
		return nil, errors.Wrap(err, "losses: x·l")
	}
	e, err := G.Sub(sp, xl)
	if err != nil {
		return nil, errors.Wrap(err, "losses: softplus(l) − x·l")
	}
	return G.Sum(e, 1)
}

// BCEWithLogits is the batch mean of BCEWithLogitsPerExample: binary
// cross-entropy in nats per image.
//
// It is one fused node (ops.BCEWithLogits) with its own preallocated
// gradient, the same quantity as G.Mean(BCEWithLogitsPerExample(logits, x)).
func BCEWithLogits(logits, x *G.Node) (*G.Node, error) {
	return ops.BCEWithLogits(logits, x)
}

// SquaredError is the batch mean of Σ_i (r_i − x_i)²: squared error per
// image (divide by the number of pixels for MSE per pixel).
func SquaredError(recon, x *G.Node) (*G.Node, error) {
	d, err := G.Sub(recon, x)
	if err != nil {
		return nil, errors.Wrap(err, "losses: r − x")
	}
	sq, err := G.Square(d)
	if err != nil {
		return nil, errors.Wrap(err, "losses: (r − x)²")
	}
	return BatchMean(sq)
}

// L1 is the activity penalty mean_n Σ_j |h_nj|.
func L1(h *G.Node) (*G.Node, error) {
	a, err := G.Abs(h)
	if err != nil {
		return nil, errors.Wrap(err, "losses: |h|")
	}
	return BatchMean(a)
}

// KLSparsity is Ng's sparsity penalty Σ_j KL(ρ‖ρ̂_j), where ρ̂_j is the
// mean activation of unit j over the batch. h must lie in (0,1) (a
// sigmoid code).
func KLSparsity(h *G.Node, rho float64) (*G.Node, error) {
	if rho <= 0 || rho >= 1 {
		return nil, errors.Errorf("losses: sparsity target ρ=%g must be in (0,1)", rho)
	}
	rhoHat, err := G.Mean(h, 0)
	if err != nil {
		return nil, errors.Wrap(err, "losses: ρ̂")
	}
	// KL(ρ‖ρ̂) = ρ log ρ − ρ log ρ̂ + (1−ρ) log(1−ρ) − (1−ρ) log(1−ρ̂)
	logR, err := G.Log(rhoHat)
	if err != nil {
		return nil, err
	}
	oneMinus, err := G.Sub(constant(h, 1), rhoHat)
	if err != nil {
		return nil, err
	}
	logOneMinus, err := G.Log(oneMinus)
	if err != nil {
		return nil, err
	}
	a, err := G.Mul(logR, constant(h, -rho))
	if err != nil {
		return nil, err
	}
	b, err := G.Mul(logOneMinus, constant(h, -(1-rho)))
	if err != nil {
		return nil, err
	}
	s, err := G.Add(a, b)
	if err != nil {
		return nil, err
	}
	sum, err := G.Sum(s)
	if err != nil {
		return nil, err
	}
	h0 := rho*math.Log(rho) + (1-rho)*math.Log(1-rho)
	return G.Add(sum, constant(h, float64(h.Shape()[1])*h0))
}

// ActivationSlope returns the derivative of the named activation expressed
// through its output h: sigmoid h(1−h), tanh 1−h², relu 1[h>0], linear 1.
// The relu indicator is a non-differentiable node (its derivative is 0
// almost everywhere).
func ActivationSlope(act string, h *G.Node) (*G.Node, error) {
	switch act {
	case "sigmoid":
		om, err := G.Sub(constant(h, 1), h)
		if err != nil {
			return nil, err
		}
		return G.HadamardProd(h, om)
	case "tanh":
		sq, err := G.Square(h)
		if err != nil {
			return nil, err
		}
		return G.Sub(constant(h, 1), sq)
	case "relu":
		return G.Sign(h)
	case "linear":
		z, err := G.Mul(h, constant(h, 0))
		if err != nil {
			return nil, err
		}
		return G.Add(z, constant(h, 1))
	}
	return nil, errors.Errorf("losses: no analytic slope for activation %q", act)
}

// JacobianFrobSqPerExample is ‖∂h/∂x‖²_F for each example of a one-layer
// encoder h = act(x·W + b), W of shape in×hidden:
//
//	‖J‖²_F = Σ_j act'(a_j)² Σ_i W_ij²
//
// (sigmoid: act' = h(1−h); tanh: 1−h²; relu: 1[h>0]).
func JacobianFrobSqPerExample(act string, h, W *G.Node) (*G.Node, error) {
	d, err := ActivationSlope(act, h)
	if err != nil {
		return nil, err
	}
	d2, err := G.Square(d)
	if err != nil {
		return nil, errors.Wrap(err, "losses: act'²")
	}
	colNorms, err := ops.ColSumSq(W) // fused Σ_i W_ij², preallocated
	if err != nil {
		return nil, errors.Wrap(err, "losses: Σ_i W_ij²")
	}
	return G.Mul(d2, colNorms)
}

// Contractive is the contractive penalty: the batch mean of ‖∂h/∂x‖²_F
// (see JacobianFrobSqPerExample).
func Contractive(act string, h, W *G.Node) (*G.Node, error) {
	j, err := JacobianFrobSqPerExample(act, h, W)
	if err != nil {
		return nil, err
	}
	return G.Mean(j)
}

// GaussianKLPerExample is KL(N(μ, diag σ²) ‖ N(0, I)) for each example:
// −½ Σ_j (1 + log σ²_j − μ_j² − σ²_j).
func GaussianKLPerExample(mu, logVar *G.Node) (*G.Node, error) {
	mu2, err := G.Square(mu)
	if err != nil {
		return nil, err
	}
	v, err := G.Exp(logVar)
	if err != nil {
		return nil, err
	}
	t, err := G.Add(constant(logVar, 1), logVar)
	if err != nil {
		return nil, err
	}
	if t, err = G.Sub(t, mu2); err != nil {
		return nil, err
	}
	if t, err = G.Sub(t, v); err != nil {
		return nil, err
	}
	s, err := G.Sum(t, 1)
	if err != nil {
		return nil, err
	}
	return G.Mul(s, constant(mu, -0.5))
}

// GaussianKL is the batch mean of GaussianKLPerExample.
//
// It is one fused node (ops.GaussianKL) with its own preallocated
// gradients, the same quantity as G.Mean(GaussianKLPerExample(mu, logVar)).
func GaussianKL(mu, logVar *G.Node) (*G.Node, error) {
	return ops.GaussianKL(mu, logVar)
}

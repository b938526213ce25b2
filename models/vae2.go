package models

import (
	"strconv"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/graph/ops"
	"github.com/aezoo/aezoo/losses"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The VAE with two stochastic layers (Burda et al. 2016, section 5:
// 784-[100,100]-100-[50,50]-50 tanh), --latent z1,z2:
//
//	q(z1|x)  = N(μ1(x), σ1²(x))        the --layers (or --hidden) stack, heads mu, logvar
//	q(z2|z1) = N(μ2(z1), σ2²(z1))      the --layers2 stack (default: two layers of z2's width), q2.enc, q2.enc2, …, heads q2.mu, q2.logvar
//	p(z2)    = N(0, I)
//	p(z1|z2) = N(ν(z2), τ²(z2))        the --layers2 stack mirrored, p1.dec1, p1.dec2, …, heads p1.mu, p1.logvar
//	p(x|z1)  = Bernoulli(sigmoid(l(z1)))  the VAE's decoder (dec1 … dec), mirroring --layers
//
// With z1 = μ1 + σ1 ⊙ ε1 and z2 = μ2 + σ2 ⊙ ε2 (ε fed every step, K draws
// per example) the log importance weight of a sample is
//
//	log w = log p(x|z1) + log p(z1|z2) + log p(z2) − log q(z1|x) − log q(z2|z1)
//	      = −BCE(l(z1), x) − ½ Σ[(z1 − ν)² / τ² + log τ²] − ½‖z2‖²
//	        + ½ Σ[ε1² + log σ1²] + ½ Σ[ε2² + log σ2²]
//
// (the ½ log 2π terms cancel). The IWAE loss (K > 1) is
// −LogMeanExp_k log w_k; the VAE's (K = 1) is BCE + β·KL with KL the
// one-sample estimate log q(z1, z2|x) − log p(z1, z2) (no closed form: p(z1|z2)
// depends on the sampled z2), so that for β = 1 it is −log w, the same
// objective as the bound with one sample.
//
// Burda's sizes are --latent 100,50 --layers 100,100 --activation tanh.

// The outputs of the graphs of the second stochastic layer (BuildUpper,
// BuildPrior1), per row of z1 or z2.
const (
	// Mu2 is μ2(z1), the mean of q(z2|z1).
	Mu2 graph.Output = "mu2"
	// LogVar2 is log σ2²(z1).
	LogVar2 graph.Output = "logvar2"
	// PriorMu is ν(z2), the mean of p(z1|z2).
	PriorMu graph.Output = "prior_mu"
	// PriorLogVar is log τ²(z2).
	PriorLogVar graph.Output = "prior_logvar"
)

// Sizes2 returns the hidden layer sizes of q(z2|z1), from z1: those of
// Layers2 when set, else two layers of z2's width (Burda et al.);
// p(z1|z2) mirrors them. Nil for one stochastic layer.
func (c Config) Sizes2() ([]int, error) {
	if c.Latent2 <= 0 {
		return nil, nil
	}
	s, err := parseSizes("layers2", c.Layers2)
	if err != nil || len(s) > 0 {
		return s, err
	}
	return []int{c.Latent2, c.Latent2}, nil
}

// sizes2 returns c's Sizes2, aborting the declaration on a bad --layers2
// (Validate catches it first).
func sizes2(b *graph.Builder, c Config) []int {
	s, err := c.Sizes2()
	if err != nil {
		b.Fail(err)
	}
	return s
}

// q2Layer and p1Layer name the hidden layers of q(z2|z1) (from z1) and of
// p(z1|z2) (from z2).
func q2Layer(i int) string { return "q2." + EncoderLayer(i) }
func p1Layer(i int) string { return "p1.dec" + strconv.Itoa(i+1) }

// upperPosterior declares q(z2|z1): μ2 and log σ2² of every row of z1.
func upperPosterior(c Config, b *graph.Builder, z1 *G.Node) (mu2, logVar2 *G.Node) {
	h := z1
	for i, units := range sizes2(b, c) {
		h = b.Act(c.Activation, b.Dense(q2Layer(i), h, units).Pre)
	}
	return b.Dense("q2.mu", h, c.Latent2).Pre, b.Dense("q2.logvar", h, c.Latent2).Pre
}

// upperPrior declares p(z1|z2): ν and log τ² of every row of z2.
func upperPrior(c Config, b *graph.Builder, z2 *G.Node) (mu, logVar *G.Node) {
	h := z2
	s := sizes2(b, c)
	for i := range s {
		h = b.Act(c.Activation, b.Dense(p1Layer(i), h, s[len(s)-1-i]).Pre)
	}
	return b.Dense("p1.mu", h, c.Latent).Pre, b.Dense("p1.logvar", h, c.Latent).Pre
}

// declareVAE2 declares the two-stochastic-layer VAE with K samples per
// example: the ELBO (BCE + β·KL) when K = 1 and iw is false, the IWAE
// bound otherwise.
func declareVAE2(c Config, b *graph.Builder, K int, iw bool) {
	x := b.Batch("x")
	eps1 := b.RowInput("eps", K*c.Latent, standardNormal)
	eps2 := b.RowInput("eps2", K*c.Latent2, standardNormal)
	e := x
	for i, units := range sizes(b, c) {
		e = b.Act(c.Activation, b.Dense(EncoderLayer(i), e, units).Pre)
	}
	mu1 := b.Output(graph.Code, b.Dense("mu", e, c.Latent).Pre)
	logVar1 := b.Output(graph.LogVar, b.Dense("logvar", e, c.Latent).Pre)
	// K samples per example: rows b·K … b·K+K−1 belong to example b.
	e1, e2 := eps1, eps2
	if K > 1 {
		e1, e2 = b.Must(ops.Unfold(eps1, K)), b.Must(ops.Unfold(eps2, K))
		mu1, logVar1 = b.Must(ops.RepeatRows(mu1, K)), b.Must(ops.RepeatRows(logVar1, K))
	}
	z1 := b.Must(ops.Reparameterize(mu1, logVar1, e1))
	mu2, logVar2 := upperPosterior(c, b, z1)
	z2 := b.Must(ops.Reparameterize(mu2, logVar2, e2))
	nu, logTau := upperPrior(c, b, z2)
	xK := x
	var logits *G.Node
	if K > 1 {
		ls := vaeDecode(c, b, z1, b.Must(ops.FirstOfGroups(z1, K)))
		logits = ls[0]
		bernoulli(b, ls[1]) // the reconstruction decodes each example's first sample
		xK = b.Must(ops.RepeatRows(x, K))
	} else {
		logits = vaeDecode(c, b, z1)[0]
		bernoulli(b, logits)
	}
	// log q(z1, z2|x) − log p(z1, z2), one per sample.
	klK := b.Must(G.Sub(
		b.Scale(0.5, b.Must(G.Add(
			rowSum(b, b.Must(G.Add(b.Must(G.HadamardProd(b.Must(G.Square(b.Must(G.Sub(z1, nu)))), b.Must(G.Exp(b.Must(G.Neg(logTau)))))), logTau))),
			rowSum(b, b.Must(G.Square(z2)))))),
		b.Scale(0.5, b.Must(G.Add(
			rowSum(b, b.Must(G.Add(b.Must(G.Square(e1)), logVar1))),
			rowSum(b, b.Must(G.Add(b.Must(G.Square(e2)), logVar2))))))))
	kl := b.Must(G.Mean(klK))
	if K == 1 && !iw {
		b.Objective(graph.ReconTerm, b.Must(losses.BCEWithLogits(logits, x)))
		b.Objective(graph.PenaltyTerm, b.Scale(c.Beta, b.Monitor(graph.KLTerm, kl)))
		return
	}
	bce := b.Must(losses.BCEWithLogitsPerExample(logits, xK))
	logW := b.Must(G.Neg(b.Must(G.Add(bce, klK))))
	b.Objective(graph.IWTerm, b.Scale(-1, b.Must(G.Mean(b.Must(ops.LogMeanExp(logW, K))))))
	b.Monitor(graph.ReconTerm, b.Must(G.Mean(bce)))
	b.Monitor(graph.KLTerm, kl)
}

// rowSum sums each row of a matrix into a vector.
func rowSum(b *graph.Builder, m *G.Node) *G.Node { return b.Must(G.Sum(m, 1)) }

// BuildUpper declares, for a VAE with two stochastic layers, the graph of
// everything above a given z1 (Batch rows, filled by fillZ1 before every
// run): q(z2|z1) (outputs Mu2, LogVar2), z2 = μ2 + σ2 ⊙ ε2 with ε2 filled
// by fillEps, p(z1|z2) at that z2 (PriorMu, PriorLogVar) and the logits of
// p(x|z1) (graph.Logits). The parameters must already be in store. The
// importance-weighted NLL (package eval) computes the log weights from
// these outputs.
func BuildUpper(c Config, s graph.Shape, dt tensor.Dtype, store *graph.Store, fillZ1, fillEps graph.Filler) (*graph.Model, error) {
	if err := checkTwoLayers(c); err != nil {
		return nil, err
	}
	m, err := graph.Declare(s, dt, store, nil, func(b *graph.Builder) {
		z1 := b.Input("z1", c.Latent, fillZ1)
		eps := b.Input("eps2", c.Latent2, fillEps)
		mu2, logVar2 := upperPosterior(c, b, z1)
		b.Output(Mu2, mu2)
		b.Output(LogVar2, logVar2)
		nu, logTau := upperPrior(c, b, b.Must(ops.Reparameterize(mu2, logVar2, eps)))
		b.Output(PriorMu, nu)
		b.Output(PriorLogVar, logTau)
		b.Output(graph.Logits, vaeDecode(c, b, z1)[0])
	})
	return m, errors.Wrapf(err, "building the %s upper layer", c.Model)
}

// BuildPrior1 declares, for a VAE with two stochastic layers, p(z1|z2) for
// the codes z2 (Batch×Latent2, filled by fill before every run): outputs
// PriorMu and PriorLogVar. The parameters must already be in store.
func BuildPrior1(c Config, s graph.Shape, dt tensor.Dtype, store *graph.Store, fill graph.Filler) (*graph.Model, error) {
	if err := checkTwoLayers(c); err != nil {
		return nil, err
	}
	m, err := graph.Declare(s, dt, store, nil, func(b *graph.Builder) {
		nu, logTau := upperPrior(c, b, b.Input("z2", c.Latent2, fill))
		b.Output(PriorMu, nu)
		b.Output(PriorLogVar, logTau)
	})
	return m, errors.Wrapf(err, "building the %s prior p(z1|z2)", c.Model)
}

func checkTwoLayers(c Config) error {
	spec, err := SpecOf(c)
	if err != nil {
		return err
	}
	if err := spec.Validate(c); err != nil {
		return err
	}
	if c.Latent2 <= 0 {
		return errors.Errorf("model %s has one stochastic layer (--latent %d)", c.Model, c.Latent)
	}
	return nil
}

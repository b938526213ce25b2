package models

import (
	"math/rand/v2"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/graph/ops"
	"github.com/aezoo/aezoo/losses"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// The variational autoencoder (Kingma & Welling 2014), configured as
// pytorch/examples/vae: 784-400-(20,20)-400-784, ReLU.
//
//	e      = act(x·W + b)                        (one layer per --layers size)
//	μ, log σ² = e·Wμ + bμ, e·Wσ + bσ
//	z      = μ + exp(½ log σ²) ⊙ ε,    ε ~ N(0, I) fed every step
//	x̂      = sigmoid(act(z·V + c)·U + d)          (the decoder mirrors the encoder)
//	loss   = BCE(x̂, x) + β·KL(N(μ, σ²) ‖ N(0, I))      (per image: −ELBO for β = 1)
//
// With --layers the encoder is a stack of layers (enc, enc2, …) below μ
// and log σ², and the decoder mirrors it: z → the last layer's size
// (dec1), then back down the sizes (…, dec2) and to pixel space (dec).
// Burda et al.'s 784-[200,200]-50 tanh is --layers 200,200 --latent 50
// --activation tanh. With --arch conv two convolutions with max pooling
// (conv.go) sit below the --hidden layer enc, and the decoder dec1 → decfc
// → transposed convolutions mirrors them.
//
// With --iw-k K > 1 it is the importance-weighted autoencoder (Burda et
// al. 2016): K samples z_k = μ + σ ⊙ ε_k per example and the loss
//
//	loss = −log (1/K) Σ_k w_k,   log w_k = log p(x|z_k) + log p(z_k) − log q(z_k|x)
//	     = −LogMeanExp_k( −BCE(x̂_k, x) − ½‖z_k‖² + ½‖ε_k‖² + ½ Σ_j log σ²_j )
//
// (the ½ log 2π terms of p and q cancel). K = 1 is the VAE above, whose KL
// is the expectation over ε of log q(z|x) − log p(z).
//
// With --latent z1,z2 it has two stochastic layers (Burda et al.'s second
// architecture): see vae2.go.
func init() {
	Register(Spec{
		Name:   "vae",
		Doc:    "variational autoencoder: z = μ + σ·ε, BCE + β·KL to N(0, I) (--iw-k K: the IWAE bound); sample from the prior",
		Hypers: []string{"hidden", "layers", "arch", "activation", "latent", "layers2", "beta", "iw-k"},
		Usage: map[string]string{
			"hidden":     "units of the encoder's and the decoder's hidden layer",
			"layers":     "the encoder's hidden layer sizes from the input, comma-separated (replaces --hidden; the decoder mirrors them)",
			"arch":       "encoder/decoder: mlp, or conv (two 3×3 convolutions with max pooling below the --hidden ReLU layer; the decoder: two 4×4 transposed convolutions of stride 2)",
			"activation": "activation of the hidden layers: relu, tanh, sigmoid or linear",
			"latent":     "size of the latent code z; two sizes z1,z2 (e.g. 100,50) for two stochastic layers (Burda et al.; q(z2|z1) and p(z1|z2) through the --layers2 stack)",
			"layers2":    "two stochastic layers: the hidden layer sizes of q(z2|z1) from z1, comma-separated (p(z1|z2) mirrors them; default: two layers of z2's size, Burda's)",
			"beta":       "weight β of KL(q(z|x) ‖ N(0, I)) (1: the ELBO; β-VAE otherwise)",
			"iw-k":       "importance samples per example: 1 trains on the ELBO, K > 1 on the IWAE bound (Burda et al.)",
		},
		Defaults: Config{Hidden: 400, Activation: "relu", Loss: "bce", Latent: 20, Beta: 1, IWK: 1},
		Check: func(c Config) error {
			if c.IWK > 1 && c.Beta != 1 {
				return errors.Errorf("invalid --beta %g: --iw-k %d (the IWAE bound) has no β, use --beta 1", c.Beta, c.IWK)
			}
			if c.conv() && c.Layers != "" {
				return errors.Errorf("--layers %q cannot be used with --arch conv", c.Layers)
			}
			if c.conv() && c.IWK > 1 {
				return errors.Errorf("--iw-k %d cannot be used with --arch conv (the IWAE bound is built for the dense VAE)", c.IWK)
			}
			if c.Layers2 != "" && c.Latent2 == 0 {
				return errors.Errorf("--layers2 %q needs two stochastic layers (--latent z1,z2)", c.Layers2)
			}
			if c.conv() && c.Latent2 > 0 {
				return errors.Errorf("--latent %d,%d cannot be used with --arch conv (two stochastic layers are built for the dense VAE)", c.Latent, c.Latent2)
			}
			if c.conv() && c.Activation != "relu" {
				return errors.Errorf("--activation %s cannot be used with --arch conv (its layers are ReLU)", c.Activation)
			}
			return nil
		},
		Declare: func(c Config, b *graph.Builder) {
			if c.Latent2 > 0 {
				declareVAE2(c, b, max(c.IWK, 1), false)
				return
			}
			declareVAE(c, b, max(c.IWK, 1), false)
		},
		Decoder: func(c Config, b *graph.Builder, z *G.Node) { bernoulli(b, vaeDecode(c, b, z)[0]) },
	})
}

// declareVAE declares the VAE with K samples per example: the ELBO with the
// analytic KL when K = 1 and iw is false, the IWAE bound otherwise (iw with
// K = 1: the one-sample bound, whose KL is a Monte Carlo estimate).
func declareVAE(c Config, b *graph.Builder, K int, iw bool) {
	x := b.Batch("x")
	eps := b.RowInput("eps", K*c.Latent, standardNormal)
	e := x
	if c.conv() {
		e = b.Act("relu", b.Dense("enc", convFeatures(b, x), c.Hidden).Pre)
	} else {
		for i, units := range sizes(b, c) {
			e = b.Act(c.Activation, b.Dense(EncoderLayer(i), e, units).Pre)
		}
	}
	mu := b.Output(graph.Code, b.Dense("mu", e, c.Latent).Pre)
	logVar := b.Output(graph.LogVar, b.Dense("logvar", e, c.Latent).Pre)
	kl := func() *G.Node { return b.Must(losses.GaussianKL(mu, logVar)) }
	if K == 1 && !iw {
		z := b.Must(ops.Reparameterize(mu, logVar, eps)) // μ + exp(½ log σ²) ⊙ ε, fused
		xhat := bernoulli(b, vaeDecode(c, b, z)[0])
		b.Objective(graph.ReconTerm, b.Must(losses.BCEWithLogits(xhat.logits, x)))
		b.Objective(graph.PenaltyTerm, b.Scale(c.Beta, b.Monitor(graph.KLTerm, kl())))
		return
	}
	// K samples per example: rows b·K … b·K+K−1 belong to example b.
	epsK := b.Must(ops.Unfold(eps, K))
	muK := b.Must(ops.RepeatRows(mu, K))
	logVarK := b.Must(ops.RepeatRows(logVar, K))
	zK := b.Must(ops.Reparameterize(muK, logVarK, epsK))
	// The reconstruction output decodes the first sample of each example.
	logits := vaeDecode(c, b, zK, b.Must(ops.FirstOfGroups(zK, K)))
	bernoulli(b, logits[1])
	xK := b.Must(ops.RepeatRows(x, K))
	logW := iwLogWeights(b, logits[0], xK, zK, epsK, logVarK)
	b.Objective(graph.IWTerm, b.Scale(-1, b.Must(G.Mean(b.Must(ops.LogMeanExp(logW, K))))))
	// Monitored: the ELBO's two terms, BCE averaged over the K samples.
	b.Monitor(graph.ReconTerm, b.Must(losses.BCEWithLogits(logits[0], xK)))
	b.Monitor(graph.KLTerm, kl())
}

// iwLogWeights declares the vector of the B·K log importance weights
//
//	log w = −BCE(l, x) − ½‖z‖² + ½‖ε‖² + ½ Σ_j log σ²_j
//
// one per row of the decoder's logits l, with x, z, ε and log σ² repeated
// per sample.
func iwLogWeights(b *graph.Builder, logits, x, z, eps, logVar *G.Node) *G.Node {
	bce := b.Must(losses.BCEWithLogitsPerExample(logits, x))
	z2 := b.Must(G.Sum(b.Must(G.Square(z)), 1))
	e2 := b.Must(G.Sum(b.Must(G.Square(eps)), 1))
	lv := b.Must(G.Sum(logVar, 1))
	logPrior := b.Must(G.Sub(b.Scale(0.5, b.Must(G.Add(e2, lv))), b.Scale(0.5, z2)))
	return b.Must(G.Sub(logPrior, bce))
}

// vaeDecode declares the decoder's parameters once and returns its logits
// for each of zs: l = act(…act(z·V + c)…)·U + d, the layers dec1, dec_L,
// …, dec2, dec mirroring the encoder's sizes (with --arch conv: dec1, then
// the transposed convolutions of conv.go; one z only).
func vaeDecode(c Config, b *graph.Builder, zs ...*G.Node) []*G.Node {
	if c.conv() {
		return []*G.Node{convLogits(b, b.Act("relu", b.Dense("dec1", zs[0], c.Hidden).Pre))}
	}
	s := sizes(b, c)
	type layer struct {
		name  string
		width int
	}
	stack := []layer{{"dec1", s[len(s)-1]}}
	for i := len(s) - 1; i >= 1; i-- {
		stack = append(stack, layer{DecoderLayer(i), s[i-1]})
	}
	stack = append(stack, layer{"dec", b.Shape().In})
	var declared []graph.Layer
	out := make([]*G.Node, len(zs))
	for n, z := range zs {
		h := z
		for i, ly := range stack {
			var l graph.Layer
			if n == 0 {
				l = b.Dense(ly.name, h, ly.width)
				declared = append(declared, l)
			} else {
				l = declared[i]
				l.Pre = b.Must(ops.Affine(h, l.W, l.B))
			}
			h = l.Pre
			if i < len(stack)-1 {
				h = b.Act(c.Activation, h)
			}
		}
		out[n] = h
	}
	return out
}

// standardNormal fills ε ~ N(0, I) (in training and evaluation alike: the
// test loss is a one-sample estimate of −ELBO, as in pytorch/examples).
func standardNormal(dst []float64, _ []float32, rng *rand.Rand, _ bool) {
	for i := range dst {
		dst[i] = rng.NormFloat64()
	}
}

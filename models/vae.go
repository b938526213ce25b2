package models

import (
	"math/rand/v2"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/losses"
	G "gorgonia.org/gorgonia"
)

// The variational autoencoder (Kingma & Welling 2014), configured as
// pytorch/examples/vae: 784-400-(20,20)-400-784, ReLU.
//
//	e      = relu(x·W + b)
//	μ, log σ² = e·Wμ + bμ, e·Wσ + bσ
//	z      = μ + exp(½ log σ²) ⊙ ε,    ε ~ N(0, I) fed every step
//	x̂      = sigmoid(relu(z·V + c)·U + d)
//	loss   = BCE(x̂, x) + β·KL(N(μ, σ²) ‖ N(0, I))      (per image: −ELBO for β = 1)
//
// With --layers the encoder is a stack of ReLU layers (enc, enc2, …) below
// μ and log σ², and the decoder mirrors it: z → the last layer's size
// (dec1), then back down the sizes (…, dec2) and to pixel space (dec).
func init() {
	Register(Spec{
		Name:   "vae",
		Doc:    "variational autoencoder: z = μ + σ·ε, BCE + β·KL to N(0, I); sample from the prior",
		Hypers: []string{"hidden", "latent", "beta", "layers"},
		Usage: map[string]string{
			"hidden": "units of the encoder's and the decoder's hidden layer",
			"layers": "the encoder's ReLU layer sizes from the input, comma-separated (replaces --hidden; the decoder mirrors them)",
			"latent": "size of the latent code z",
			"beta":   "weight β of KL(q(z|x) ‖ N(0, I)) (1: the ELBO; β-VAE otherwise)",
		},
		Defaults: Config{Hidden: 400, Activation: "relu", Loss: "bce", Latent: 20, Beta: 1},
		Declare: func(c Config, b *graph.Builder) {
			x := b.Batch("x")
			eps := b.Input("eps", c.Latent, standardNormal)
			e := x
			for i, units := range sizes(b, c) {
				e = b.Act("relu", b.Dense(EncoderLayer(i), e, units).Pre)
			}
			mu := b.Output(graph.Code, b.Dense("mu", e, c.Latent).Pre)
			logVar := b.Output(graph.LogVar, b.Dense("logvar", e, c.Latent).Pre)
			sigma := b.Must(G.Exp(b.Scale(0.5, logVar)))
			z := b.Must(G.Add(mu, b.Must(G.HadamardProd(sigma, eps))))
			xhat := vaeDecoder(c, b, z)
			b.Objective(graph.ReconTerm, b.Must(losses.BCEWithLogits(xhat.logits, x)))
			kl := b.Monitor(graph.KLTerm, b.Must(losses.GaussianKL(mu, logVar)))
			b.Objective(graph.PenaltyTerm, b.Scale(c.Beta, kl))
		},
		Decoder: func(c Config, b *graph.Builder, z *G.Node) { vaeDecoder(c, b, z) },
	})
}

// vaeDecoder declares x̂ = sigmoid(relu(z·V + c)·U + d), naming the Logits
// and Recon outputs; with --layers, z·V + c has the last layer's size and
// ReLU layers dec_L … dec2 mirror the encoder's before U.
func vaeDecoder(c Config, b *graph.Builder, z *G.Node) decoded {
	s := sizes(b, c)
	d := b.Act("relu", b.Dense("dec1", z, s[len(s)-1]).Pre)
	for i := len(s) - 1; i >= 1; i-- {
		d = b.Act("relu", b.Dense(DecoderLayer(i), d, s[i-1]).Pre)
	}
	return bernoulli(b, b.Dense("dec", d, b.Shape().In).Pre)
}

// standardNormal fills ε ~ N(0, I) (in training and evaluation alike: the
// test loss is a one-sample estimate of −ELBO, as in pytorch/examples).
func standardNormal(dst []float64, _ []float32, rng *rand.Rand, _ bool) {
	for i := range dst {
		dst[i] = rng.NormFloat64()
	}
}

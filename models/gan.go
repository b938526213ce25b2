package models

import (
	"math/rand/v2"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/graph/ops"
	"github.com/aezoo/aezoo/losses"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// The generative adversarial network (Goodfellow et al. 2014) of the VAE's
// size: an MLP generator shaped like the VAE's decoder and an MLP
// discriminator shaped like its encoder, trained in turn on every
// minibatch (two graphs, each with its own Adam), with the non-saturating
// generator loss.
//
//	G(z)  = sigmoid(relu(z·V + c)·U + d),      z ~ N(0, I) fed every step
//	D(x)  = relu(x·W + b)·w + β                 (a logit: P(real) = sigmoid(D))
//	discriminator: min over W, b, w, β of  softplus(−D(x)) + softplus(D(G(z)))
//	generator:     min over V, c, U, d of  softplus(−D(G(z)))        (non-saturating)
//
// softplus(−l) = BCE(sigmoid(l), 1) and softplus(l) = BCE(sigmoid(l), 0).
// Evaluation runs the discriminator's graph, which also monitors the
// generator's loss.
func init() {
	Register(Spec{
		Name:   "gan",
		Doc:    "generative adversarial network: MLP generator (VAE decoder's size) vs MLP discriminator, non-saturating loss",
		Hypers: []string{"hidden", "latent"},
		Usage: map[string]string{
			"hidden": "units of the generator's and the discriminator's hidden layer",
			"latent": "size of the generator's input z ~ N(0, I)",
		},
		Defaults: Config{Hidden: 400, Activation: "relu", Loss: "bce", Latent: 20},
		Check: func(c Config) error {
			if c.Latent2 > 0 {
				return errors.Errorf("invalid --latent %d,%d: the gan takes one latent size", c.Latent, c.Latent2)
			}
			return nil
		},
		Declare: ganDiscriminatorStep,
		Decoder: func(c Config, b *graph.Builder, z *G.Node) { bernoulli(b, ganGenerator(b, c, z)) },
		Players: []Player{
			{Name: "discriminator", Prefix: "disc.", Declare: ganDiscriminatorStep, Beta1: 0.5},
			{Name: "generator", Prefix: "gen.", Declare: ganGeneratorStep, Beta1: 0.5},
		},
	})
}

// The GAN's terms.
const (
	// GANRealTerm is the discriminator's loss on real images, softplus(−D(x)).
	GANRealTerm graph.Term = "d_real"
	// GANFakeTerm is its loss on generated images, softplus(D(G(z))).
	GANFakeTerm graph.Term = "d_fake"
	// GANGenTerm is the generator's non-saturating loss, softplus(−D(G(z))).
	GANGenTerm graph.Term = "g"
)

// ganDiscriminatorStep declares the discriminator's objective on a batch
// of real images and as many generated ones; it monitors the generator's
// loss on the same fakes.
func ganDiscriminatorStep(c Config, b *graph.Builder) {
	x := b.Batch("x")
	z := b.Input("z", c.Latent, standardNormal)
	real, fake := labels(b)
	D := newDiscriminator(c, b)
	dReal := D.logit(b, x)
	dFake := D.logit(b, b.Act("sigmoid", ganGenerator(b, c, z)))
	b.Objective(GANRealTerm, b.Must(losses.BCEWithLogits(dReal, real)))
	b.Objective(GANFakeTerm, b.Must(losses.BCEWithLogits(dFake, fake)))
	b.Monitor(GANGenTerm, b.Must(losses.BCEWithLogits(dFake, real)))
}

// ganGeneratorStep declares the generator's non-saturating objective.
func ganGeneratorStep(c Config, b *graph.Builder) {
	z := b.Input("z", c.Latent, standardNormal)
	real, _ := labels(b)
	D := newDiscriminator(c, b)
	dFake := D.logit(b, b.Act("sigmoid", ganGenerator(b, c, z)))
	b.Objective(GANGenTerm, b.Must(losses.BCEWithLogits(dFake, real)))
}

// ganGenerator declares the generator's logits relu(z·V + c)·U + d
// (parameters gen.h.*, gen.out.*); G(z) is their sigmoid.
func ganGenerator(b *graph.Builder, c Config, z *G.Node) *G.Node {
	h := b.Act("relu", b.Dense("gen.h", z, c.Hidden).Pre)
	return b.Dense("gen.out", h, b.Shape().In).Pre
}

// discriminator holds D's parameters, declared once so that D applied to
// real and to generated images shares them (parameters disc.h.*, disc.out.*).
type discriminator struct{ W1, B1, W2, B2 *G.Node }

func newDiscriminator(c Config, b *graph.Builder) discriminator {
	in := b.Shape().In
	return discriminator{
		W1: b.Param("disc.h.W", []int{in, c.Hidden}, graph.Uniform(in)),
		B1: b.Param("disc.h.b", []int{1, c.Hidden}, graph.Uniform(in)),
		W2: b.Param("disc.out.W", []int{c.Hidden, 1}, graph.Uniform(c.Hidden)),
		B2: b.Param("disc.out.b", []int{1, 1}, graph.Uniform(c.Hidden)),
	}
}

// logit declares D(x) = relu(x·W + b)·w + β, a Batch×1 logit.
func (d discriminator) logit(b *graph.Builder, x *G.Node) *G.Node {
	h := b.Act("relu", b.Must(ops.Affine(x, d.W1, d.B1)))
	return b.Must(ops.Affine(h, d.W2, d.B2))
}

// labels declares the Batch×1 targets 1 (real) and 0 (fake).
func labels(b *graph.Builder) (real, fake *G.Node) {
	fill := func(v float64) graph.Filler {
		return func(dst []float64, _ []float32, _ *rand.Rand, _ bool) {
			for i := range dst {
				dst[i] = v
			}
		}
	}
	return b.Input("real", 1, fill(1)), b.Input("fake", 1, fill(0))
}

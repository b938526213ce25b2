package zoo

import (
	"math"
	"math/rand/v2"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Generator decodes latent codes with the decoder of a trained generative
// model (the VAE): samples from the prior, interpolations, the 2-D manifold.
// For a VAE with two stochastic layers (--latent z1,z2) the codes Decode
// takes are z1's (those the encoder's μ gives), and the prior is sampled
// ancestrally: z2 ~ N(0, I), then z1 ~ p(z1|z2), then x.
type Generator struct {
	Config models.Config
	Dtype  tensor.Dtype
	Store  *graph.Store
	In     int // pixels per image

	progs  map[int]*graph.Program
	priors map[int]*graph.Program // p(z1|z2) by batch size (two stochastic layers)
	cur    []float64              // the codes being decoded
	cur2   []float64              // the codes z2 of p(z1|z2)
}

// NewGenerator returns a generator for a model c with parameters in store.
func NewGenerator(c models.Config, dt tensor.Dtype, store *graph.Store, in int) (*Generator, error) {
	spec, err := models.Lookup(c.Model)
	if err != nil {
		return nil, err
	}
	if spec.Decoder == nil {
		return nil, errors.Errorf("model %s is not generative: only models with a prior (vae) can sample", c.Model)
	}
	return &Generator{Config: c, Dtype: dt, Store: store, In: in, progs: map[int]*graph.Program{}, priors: map[int]*graph.Program{}}, nil
}

// Decode maps each latent code (Latent values: z1 for two stochastic
// layers) to an image in [0,1], the mean of p(x|z).
func (g *Generator) Decode(z [][]float64) ([][]float64, error) {
	n := len(z)
	if n == 0 {
		return nil, nil
	}
	p, ok := g.progs[n]
	if !ok {
		fill := func(dst []float64, _ []float32, _ *rand.Rand, _ bool) { copy(dst, g.cur) }
		m, err := models.BuildDecoder(g.Config, graph.Shape{In: g.In, Batch: n}, g.Dtype, g.Store, fill)
		if err != nil {
			return nil, err
		}
		if p, err = graph.NewEvaluator(m, graph.Recon); err != nil {
			return nil, err
		}
		g.progs[n] = p
	}
	L := g.Config.Latent
	g.cur = make([]float64, 0, n*L)
	for i, zi := range z {
		if len(zi) != L {
			return nil, errors.Errorf("code %d has %d values, the latent size is %d", i, len(zi), L)
		}
		g.cur = append(g.cur, zi...)
	}
	if err := p.Run(make([]float32, n*g.In), nil, false); err != nil {
		return nil, err
	}
	r := p.Output(graph.Recon)
	out := make([][]float64, n)
	for i := range out {
		out[i] = append([]float64(nil), r[i*g.In:(i+1)*g.In]...)
	}
	return out, nil
}

// Sample draws n codes z ~ N(0, I) from rng and decodes them. With two
// stochastic layers z is z2 (Latent2 values), and each z1 is drawn from
// p(z1|z2) = N(ν(z2), τ²(z2)) with rng before decoding.
func (g *Generator) Sample(rng *rand.Rand, n int) (z, x [][]float64, err error) {
	z = make([][]float64, n)
	for i := range z {
		z[i] = make([]float64, g.Config.TopLatent())
		for j := range z[i] {
			z[i][j] = rng.NormFloat64()
		}
	}
	if g.Config.Latent2 == 0 {
		x, err = g.Decode(z)
		return z, x, err
	}
	mu, logVar, err := g.prior1(z)
	if err != nil {
		return nil, nil, err
	}
	z1 := make([][]float64, n)
	for i := range z1 {
		z1[i] = make([]float64, g.Config.Latent)
		for j := range z1[i] {
			z1[i][j] = mu[i][j] + math.Exp(0.5*logVar[i][j])*rng.NormFloat64()
		}
	}
	x, err = g.Decode(z1)
	return z, x, err
}

// prior1 returns the mean ν and log τ² of p(z1|z2) for each code z2 of a
// VAE with two stochastic layers.
func (g *Generator) prior1(z2 [][]float64) (mu, logVar [][]float64, err error) {
	n, L2 := len(z2), g.Config.Latent2
	p, ok := g.priors[n]
	if !ok {
		fill := func(dst []float64, _ []float32, _ *rand.Rand, _ bool) { copy(dst, g.cur2) }
		m, err := models.BuildPrior1(g.Config, graph.Shape{In: g.In, Batch: n}, g.Dtype, g.Store, fill)
		if err != nil {
			return nil, nil, err
		}
		if p, err = graph.NewEvaluator(m, models.PriorMu, models.PriorLogVar); err != nil {
			return nil, nil, err
		}
		g.priors[n] = p
	}
	g.cur2 = g.cur2[:0]
	for i, zi := range z2 {
		if len(zi) != L2 {
			return nil, nil, errors.Errorf("code %d has %d values, the top latent size is %d", i, len(zi), L2)
		}
		g.cur2 = append(g.cur2, zi...)
	}
	if err := p.Run(make([]float32, n*g.In), nil, false); err != nil {
		return nil, nil, err
	}
	pm, pv := p.Output(models.PriorMu), p.Output(models.PriorLogVar)
	L1 := g.Config.Latent
	mu, logVar = make([][]float64, n), make([][]float64, n)
	for i := range mu {
		mu[i] = append([]float64(nil), pm[i*L1:(i+1)*L1]...)
		logVar[i] = append([]float64(nil), pv[i*L1:(i+1)*L1]...)
	}
	return mu, logVar, nil
}

// Interpolate decodes steps codes evenly spaced on the segment from a to b.
func (g *Generator) Interpolate(a, b []float64, steps int) ([][]float64, error) {
	if steps < 2 {
		return nil, errors.New("interpolation needs at least 2 steps")
	}
	z := make([][]float64, steps)
	for s := range z {
		t := float64(s) / float64(steps-1)
		z[s] = make([]float64, len(a))
		for j := range a {
			z[s][j] = (1-t)*a[j] + t*b[j]
		}
	}
	return g.Decode(z)
}

// Manifold decodes an n×n grid of 2-D codes placed at the Gaussian
// quantiles Φ⁻¹(p) for p evenly spaced in (0,1), row by row (Kingma &
// Welling's figure). It needs a (top) latent size of 2; with two
// stochastic layers the grid is over z2, each decoded through the mean
// ν(z2) of p(z1|z2).
func (g *Generator) Manifold(n int) ([][]float64, error) {
	if g.Config.TopLatent() != 2 {
		return nil, errors.Errorf("the manifold needs a 2-D latent space, this model has %d", g.Config.TopLatent())
	}
	if n < 2 {
		return nil, errors.New("the manifold grid needs n ≥ 2")
	}
	var z [][]float64
	q := func(i int) float64 { return math.Sqrt2 * math.Erfinv(2*(float64(i)+0.5)/float64(n)-1) }
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			z = append(z, []float64{q(c), -q(r)})
		}
	}
	if g.Config.Latent2 > 0 {
		mu, _, err := g.prior1(z)
		if err != nil {
			return nil, err
		}
		z = mu
	}
	return g.Decode(z)
}

// Interpolations encodes the first 2·pairs examples of ds with ev (the
// graph.Code output: μ for the VAE) and decodes, for each consecutive pair,
// steps codes evenly spaced on the segment between their codes: pairs rows
// of steps images, row after row.
func (g *Generator) Interpolations(ev *eval.Evaluator, ds *data.Dataset, pairs, steps int) ([][]float64, error) {
	codes, dim, err := ev.Codes(ds.Limit(2*pairs), graph.Code)
	if err != nil {
		return nil, err
	}
	var rows [][]float64
	for i := 0; (i+2)*dim <= len(codes); i += 2 {
		r, err := g.Interpolate(codes[i*dim:(i+1)*dim], codes[(i+1)*dim:(i+2)*dim], steps)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

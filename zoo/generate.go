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
type Generator struct {
	Config models.Config
	Dtype  tensor.Dtype
	Store  *graph.Store
	In     int // pixels per image

	progs map[int]*graph.Program
	cur   []float64 // the codes being decoded
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
	return &Generator{Config: c, Dtype: dt, Store: store, In: in, progs: map[int]*graph.Program{}}, nil
}

// Decode maps each latent code (Latent values) to an image in [0,1].
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

// Sample draws n codes z ~ N(0, I) from rng and decodes them.
func (g *Generator) Sample(rng *rand.Rand, n int) (z, x [][]float64, err error) {
	z = make([][]float64, n)
	for i := range z {
		z[i] = make([]float64, g.Config.Latent)
		for j := range z[i] {
			z[i][j] = rng.NormFloat64()
		}
	}
	x, err = g.Decode(z)
	return z, x, err
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
// Welling's figure). It needs a latent size of 2.
func (g *Generator) Manifold(n int) ([][]float64, error) {
	if g.Config.Latent != 2 {
		return nil, errors.Errorf("the manifold needs a 2-D latent space, this model has %d", g.Config.Latent)
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

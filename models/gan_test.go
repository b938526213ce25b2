package models

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/graph"
)

// TestGANPlayersGradients checks each of the GAN's two graphs by finite
// differences, over the parameters that graph trains only: the
// discriminator's objective over disc.*, the generator's non-saturating
// objective over gen.* (through the discriminator, whose weights it reads).
func TestGANPlayersGradients(t *testing.T) {
	c := tiny("gan", func(c *Config) { c.Latent = 3 })
	spec, _ := Lookup("gan")
	for i, pl := range spec.Players {
		t.Run(pl.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			s := graph.Shape{In: 6, Batch: 4}
			m, err := BuildPlayer(c, i, s, graph.Float64(), nil, rng)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, p := range m.Params {
				if !strings.HasPrefix(p.Name(), pl.Prefix) {
					t.Errorf("the %s trains %s", pl.Name, p.Name())
				}
				total += p.Shape().TotalSize()
			}
			r, err := graph.CheckGradients(m, randomBatch(rng, s.In*s.Batch), rng, 1e-6, 1e-6, 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.Checked != total {
				t.Errorf("checked %d entries, the %s has %d", r.Checked, pl.Name, total)
			}
			if r.MaxRel > 1e-5 {
				t.Errorf("gradient mismatch at %s: symbolic %.10g, finite difference %.10g (rel %.2g)", r.Worst, r.Analytic, r.Numeric, r.MaxRel)
			}
		})
	}
}

// TestGANLossesInGo recomputes the GAN's three terms in plain Go from the
// parameters and the inputs: D(x) = relu(x·W + b)·w + β,
// G(z) = sigmoid(relu(z·V + c)·U + d), d_real = mean softplus(−D(x)),
// d_fake = mean softplus(D(G(z))), g = mean softplus(−D(G(z))).
func TestGANLossesInGo(t *testing.T) {
	c := tiny("gan", func(c *Config) { c.Latent = 3 })
	rng := rand.New(rand.NewPCG(5, 6))
	s := graph.Shape{In: 6, Batch: 4}
	store := graph.NewStore()
	m, err := Build(c, s, graph.Float64(), store, rng)
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.NewEvaluator(m)
	if err != nil {
		t.Fatal(err)
	}
	x := randomBatch(rng, s.In*s.Batch)
	var z []float64
	for _, in := range m.Inputs {
		if in.Name == "z" {
			fill := in.Fill
			in.Fill = func(dst []float64, x []float32, r *rand.Rand, train bool) {
				fill(dst, x, r, train)
				z = append(z[:0], dst...)
			}
		}
	}
	if err := p.Run(x, rand.New(rand.NewPCG(1, 1)), true); err != nil {
		t.Fatal(err)
	}
	dense := func(in []float64, n, k int, w, b string) []float64 {
		W, B := store.Floats(w), store.Floats(b)
		m := len(B)
		out := make([]float64, n*m)
		for i := 0; i < n; i++ {
			for j := 0; j < m; j++ {
				v := B[j]
				for l := 0; l < k; l++ {
					v += in[i*k+l] * W[l*m+j]
				}
				out[i*m+j] = v
			}
		}
		return out
	}
	relu := func(v []float64) []float64 {
		for i := range v {
			v[i] = math.Max(v[i], 0)
		}
		return v
	}
	softplus := func(l float64) float64 { return math.Max(l, 0) + math.Log1p(math.Exp(-math.Abs(l))) }
	n, H := s.Batch, c.Hidden
	D := func(in []float64) []float64 {
		return dense(relu(dense(in, n, s.In, "disc.h.W", "disc.h.b")), n, H, "disc.out.W", "disc.out.b")
	}
	gx := dense(relu(dense(z, n, c.Latent, "gen.h.W", "gen.h.b")), n, H, "gen.out.W", "gen.out.b")
	for i := range gx {
		gx[i] = 1 / (1 + math.Exp(-gx[i]))
	}
	xf := make([]float64, len(x))
	for i, v := range x {
		xf[i] = float64(v)
	}
	dr, df := D(xf), D(gx)
	var real, fake, gen float64
	for i := 0; i < n; i++ {
		real += softplus(-dr[i]) / float64(n)
		fake += softplus(df[i]) / float64(n)
		gen += softplus(-df[i]) / float64(n)
	}
	for _, tc := range []struct {
		term graph.Term
		want float64
	}{{GANRealTerm, real}, {GANFakeTerm, fake}, {GANGenTerm, gen}, {graph.LossTerm, real + fake}} {
		got, ok := p.Term(tc.term)
		if !ok || math.Abs(got-tc.want) > 1e-10 {
			t.Errorf("%s = %.12g (ok %v), plain Go %.12g", tc.term, got, ok, tc.want)
		}
	}
}

// TestGANPlayersPartitionParameters: every parameter of the GAN is trained
// by exactly one player.
func TestGANPlayersPartitionParameters(t *testing.T) {
	c := tiny("gan", nil)
	s := graph.Shape{In: 6, Batch: 2}
	store := graph.NewStore()
	all, err := Build(c, s, graph.Float64(), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	owner := map[string]string{}
	spec, _ := Lookup("gan")
	for i, pl := range spec.Players {
		m, err := BuildPlayer(c, i, s, graph.Float64(), store, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Params {
			if o, dup := owner[p.Name()]; dup {
				t.Errorf("%s is trained by the %s and the %s", p.Name(), o, pl.Name)
			}
			owner[p.Name()] = pl.Name
		}
	}
	for _, p := range all.Params {
		if owner[p.Name()] == "" {
			t.Errorf("no player trains %s", p.Name())
		}
	}
	if len(owner) != len(all.Params) {
		t.Errorf("players train %d parameters, the model has %d", len(owner), len(all.Params))
	}
}

package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aezoo/aezoo/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestTrainerSameAsDualValues: a training program (graph.NewTrainer with
// graph.Adam, which reads the gradient nodes directly) and Gorgonia's dual
// values (graph.NewGradProgram, whose gradients the tape machine adds into
// the parameters' dual values, stepped by the same Adam, which zeroes
// them) give the same parameters and losses, bit for bit, over several
// steps, for every model of the gradient checks and the convolutional
// ones, in float32 and float64.
func TestTrainerSameAsDualValues(t *testing.T) {
	type tc struct {
		name  string
		cfg   Config
		shape graph.Shape
	}
	var cases []tc
	for _, c := range gradCases() {
		cases = append(cases, tc{c.name, c.cfg, graph.Shape{In: 6, Batch: 4}})
	}
	for _, name := range []string{"plain", "vae"} {
		cases = append(cases, tc{name + "/conv", tiny(name, func(c *Config) { c.Hidden, c.Latent, c.Arch = 8, 4, "conv" }), graph.Shape{In: 64, Batch: 8}})
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			build := func() *graph.Model {
				m, err := Build(c.cfg, c.shape, dt, nil, rand.New(rand.NewPCG(7, 8)))
				if err != nil {
					t.Fatalf("%s %v: %v", c.name, dt, err)
				}
				return m
			}
			ma, mb := build(), build()
			tr, errA := graph.NewTrainer(ma, graph.NewAdam(1e-2))
			gp, errB := graph.NewGradProgram(mb)
			if (errA == nil) != (errB == nil) {
				t.Fatalf("%s %v: NewTrainer: %v, NewGradProgram: %v", c.name, dt, errA, errB)
			}
			if errA != nil {
				continue // a model without a loss to train (the gan's evaluation graph)
			}
			adam := graph.NewAdam(1e-2)
			vgs := G.NodesToValueGrads(mb.Params)
			data := rand.New(rand.NewPCG(1, 2))
			for step := 0; step < 4; step++ {
				x := randomBatch(data, c.shape.In*c.shape.Batch)
				seed := data.Uint64()
				if err := tr.Run(x, rand.New(rand.NewPCG(seed, 3)), true); err != nil {
					t.Fatal(err)
				}
				if err := gp.Run(x, rand.New(rand.NewPCG(seed, 3)), true); err != nil {
					t.Fatal(err)
				}
				if err := adam.Step(vgs); err != nil {
					t.Fatal(err)
				}
				if a, b := tr.Loss(), gp.Loss(); math.Float64bits(a) != math.Float64bits(b) {
					t.Fatalf("%s %v step %d: loss %v, with dual values %v", c.name, dt, step, a, b)
				}
				for i, p := range ma.Params {
					a := graph.ToFloat64s(p.Value().Data(), nil)
					b := graph.ToFloat64s(mb.Params[i].Value().Data(), nil)
					for j := range a {
						if math.Float64bits(a[j]) != math.Float64bits(b[j]) {
							t.Fatalf("%s %v step %d: %s[%d] = %v, with dual values %v", c.name, dt, step, p.Name(), j, a[j], b[j])
						}
					}
				}
			}
		}
	}
}

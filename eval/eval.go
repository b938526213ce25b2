// Package eval measures trained models on a data set: the model's own
// terms, reconstruction error, sparsity of the code and the Jacobian norm
// of the encoder. Metrics are plain structs, usable from Go and notebooks.
package eval

import (
	"math"
	"math/rand/v2"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/internal/par"
	"github.com/aezoo/aezoo/models"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// ActiveThreshold is the activation above which a code unit counts as
// active in the sparsity metrics.
const ActiveThreshold = 0.1

// Metrics are per-example averages over a data set.
type Metrics struct {
	N     int                    `json:"n"`
	Loss  float64                `json:"loss"`  // the model's whole objective per image
	Terms map[graph.Term]float64 `json:"terms"` // each named term per image

	BCEPerImage float64 `json:"bce_per_image"` // Bernoulli NLL of the clean input, nats
	MSEPerPixel float64 `json:"mse_per_pixel"`

	// Code statistics (when the model names a graph.Code output).
	MeanActivation float64 `json:"mean_activation,omitempty"` // mean |h_j|
	ActiveFraction float64 `json:"active_fraction,omitempty"` // mean fraction of units with h_j > ActiveThreshold
	DeadUnits      int     `json:"dead_units"`                // units never above ActiveThreshold
	CodeUnits      int     `json:"code_units,omitempty"`

	// Mean ‖∂h/∂x‖_F (when the model names a graph.JF2 output).
	MeanJacobianFrob float64 `json:"mean_jacobian_frob,omitempty"`
}

// Evaluator runs forward-only programs of a model that share the
// parameters of a store. It builds one program per batch size it needs,
// once.
type Evaluator struct {
	Config models.Config
	Dtype  tensor.Dtype
	Store  *graph.Store
	Batch  int    // examples per forward pass
	Seed   uint64 // seeds the per-evaluation randomness (e.g. VAE ε)

	progs map[[2]int]*graph.Program
}

// NewEvaluator returns an evaluator of batch size batch (≤0: 500).
func NewEvaluator(c models.Config, dt tensor.Dtype, store *graph.Store, batch int, seed uint64) *Evaluator {
	if batch <= 0 {
		batch = 500
	}
	return &Evaluator{Config: c, Dtype: dt, Store: store, Batch: batch, Seed: seed, progs: map[[2]int]*graph.Program{}}
}

// Program returns (building once) the forward program for n examples of d
// features. It computes every term and every output the model declares.
func (e *Evaluator) Program(n, d int) (*graph.Program, error) {
	key := [2]int{n, d}
	if p, ok := e.progs[key]; ok {
		return p, nil
	}
	m, err := models.Build(e.Config, graph.Shape{In: d, Batch: n}, e.Dtype, e.Store, rand.New(rand.NewPCG(e.Seed, 1)))
	if err != nil {
		return nil, err
	}
	p, err := graph.NewEvaluator(m, m.Outputs()...)
	if err != nil {
		return nil, err
	}
	e.progs[key] = p
	return p, nil
}

// Batches calls fn for consecutive batches of ds (the last may be
// smaller), after running the model on each. x is the batch's input.
func (e *Evaluator) Batches(ds *data.Dataset, fn func(p *graph.Program, x []float32, start int) error) error {
	if ds.N == 0 {
		return errors.New("eval: empty data set")
	}
	rng := rand.New(rand.NewPCG(e.Seed, 0xe7a1))
	for start := 0; start < ds.N; start += e.Batch {
		n := min(e.Batch, ds.N-start)
		p, err := e.Program(n, ds.D)
		if err != nil {
			return err
		}
		x := ds.X[start*ds.D : (start+n)*ds.D]
		if err := p.Run(x, rng, false); err != nil {
			return errors.Wrapf(err, "eval: examples %d..%d", start, start+n)
		}
		if err := fn(p, x, start); err != nil {
			return err
		}
	}
	return nil
}

// Evaluate computes the metrics of the model on ds.
func (e *Evaluator) Evaluate(ds *data.Dataset) (Metrics, error) {
	mt := Metrics{N: ds.N, Terms: map[graph.Term]float64{}}
	var active []bool
	var actSum, activeCount, jf float64
	err := e.Batches(ds, func(p *graph.Program, x []float32, _ int) error {
		n := float64(p.Batch())
		mt.Loss += n * p.Loss()
		for _, t := range p.Terms() {
			v, _ := p.Term(t)
			mt.Terms[t] += n * v
		}
		bce, mse := reconErrors(p, x)
		mt.BCEPerImage += bce
		mt.MSEPerPixel += mse
		if code := p.Output(graph.Code); code != nil {
			h := len(code) / p.Batch()
			if active == nil {
				active = make([]bool, h)
				mt.CodeUnits = h
			}
			for i, v := range code {
				actSum += math.Abs(v)
				if v > ActiveThreshold {
					activeCount++
					active[i%h] = true
				}
			}
		}
		for _, v := range p.Output(graph.JF2) {
			jf += math.Sqrt(math.Max(v, 0))
		}
		return nil
	})
	if err != nil {
		return mt, err
	}
	N := float64(ds.N)
	mt.Loss /= N
	for k := range mt.Terms {
		mt.Terms[k] /= N
	}
	mt.BCEPerImage /= N
	mt.MSEPerPixel /= N * float64(ds.D)
	if active != nil {
		mt.MeanActivation = actSum / (N * float64(len(active)))
		mt.ActiveFraction = activeCount / (N * float64(len(active)))
		for _, a := range active {
			if !a {
				mt.DeadUnits++
			}
		}
	}
	mt.MeanJacobianFrob = jf / N
	return mt, nil
}

// reconErrors returns the summed BCE (nats) and summed squared error of the
// batch's reconstruction against its clean input x. BCE uses the logits when
// the model names them (exact and stable), else clamped probabilities.
// The entries are summed on every core in fixed blocks whose partial sums
// are added in block order: the same bits at any thread count. A model
// without a reconstruction (the GAN) has none: 0, 0.
func reconErrors(p *graph.Program, x []float32) (bce, sse float64) {
	recon := p.Output(graph.Recon)
	logits := p.Output(graph.Logits)
	if recon == nil {
		return 0, 0
	}
	grain := par.Grain(len(x), 40)
	part := make([][2]float64, par.Chunks(len(x), grain))
	par.For(len(x), grain, func(c, lo, hi int) {
		var bce, sse float64
		for i := lo; i < hi; i++ {
			t := float64(x[i])
			r := recon[i]
			sse += (r - t) * (r - t)
			if logits != nil {
				l := logits[i]
				bce += softplus(l) - t*l
			} else {
				q := math.Min(math.Max(r, 1e-7), 1-1e-7)
				bce -= t*math.Log(q) + (1-t)*math.Log(1-q)
			}
		}
		part[c] = [2]float64{bce, sse}
	})
	for _, s := range part {
		bce += s[0]
		sse += s[1]
	}
	return bce, sse
}

func softplus(l float64) float64 {
	if l > 0 {
		return l + math.Log1p(math.Exp(-l))
	}
	return math.Log1p(math.Exp(l))
}

package eval

import (
	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/pkg/errors"
)

// Codes runs the model on every example of ds and returns its named
// per-example output — graph.Code (the hidden code; μ for the VAE) or
// graph.Features (the top-K model's encode-time code) — as one flat row-major
// slice of N×dim values, for a linear probe or a scatter plot.
func (e *Evaluator) Codes(ds *data.Dataset, output graph.Output) (codes []float64, dim int, err error) {
	if err := checkSet(ds); err != nil {
		return nil, 0, err
	}
	err = e.Batches(ds, func(p *graph.Program, _ []float32, _ int) error {
		n := p.Batch()
		c := p.Output(output)
		if c == nil {
			return errors.Errorf("eval: model %s names no %q output", e.Config.Model, output)
		}
		if len(c)%n != 0 {
			return errors.Errorf("eval: output %q of model %s is not per example", output, e.Config.Model)
		}
		if dim == 0 {
			dim = len(c) / n
			codes = make([]float64, 0, ds.N*dim)
		}
		codes = append(codes, c...)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return codes, dim, nil
}

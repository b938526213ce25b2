package eval

import (
	"math"
	"math/rand/v2"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/internal/par"
	"github.com/pkg/errors"
)

// StandardCorruptions are the corruption levels of the zoo's denoising
// table: Gaussian noise σ ∈ {0.1, 0.3, 0.5} and masking noise
// ν ∈ {0.1, 0.25, 0.5}. Each call returns a fresh slice.
func StandardCorruptions() []data.Corruption {
	return []data.Corruption{
		{Kind: data.CorruptGaussian, Level: 0.1},
		{Kind: data.CorruptGaussian, Level: 0.3},
		{Kind: data.CorruptGaussian, Level: 0.5},
		{Kind: data.CorruptMasking, Level: 0.1},
		{Kind: data.CorruptMasking, Level: 0.25},
		{Kind: data.CorruptMasking, Level: 0.5},
	}
}

// DenoisingResult is one row of the denoising table: the mean squared
// error per pixel between the clean images and the reconstructions of
// their corrupted copies.
type DenoisingResult struct {
	Kind  string  `json:"kind"`
	Level float64 `json:"level"`
	MSE   float64 `json:"mse_per_pixel"`
}

// checkSet reports whether ds holds examples consistent with its sizes.
func checkSet(ds *data.Dataset) error {
	if ds == nil || ds.N <= 0 || ds.D <= 0 {
		return errors.New("eval: empty data set")
	}
	if len(ds.X) < ds.N*ds.D {
		return errors.Errorf("eval: data set has %d values, want %d×%d", len(ds.X), ds.N, ds.D)
	}
	return nil
}

// runRNG is the generator of the per-run model inputs (the VAE's ε), seeded
// like Batches.
func (e *Evaluator) runRNG() *rand.Rand { return rand.New(rand.NewPCG(e.Seed, 0xe7a1)) }

// Denoising returns the mean squared error per pixel between the clean
// examples of ds and the model's reconstructions of their corrupted copies
// x̃ ~ q(x̃|x). The corrupted batch is fed as the model's input "x" in
// evaluation mode, so it works for every model (a denoising model's own
// corruption input is the copy of x in evaluation mode). The corruption is
// drawn from a generator seeded by seed, example after example, so the
// result does not depend on the evaluator's batch size.
func (e *Evaluator) Denoising(ds *data.Dataset, q data.Corruption, seed uint64) (float64, error) {
	var sse float64
	err := e.denoise(ds, q, seed, func(p *graph.Program, clean, _ []float32, _ int) error {
		recon := p.Output(graph.Recon)
		if len(recon) != len(clean) {
			return errors.Errorf("eval: model %s has no per-pixel recon output", e.Config.Model)
		}
		for i, v := range clean {
			d := recon[i] - float64(v)
			sse += d * d
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return sse / float64(ds.N*ds.D), nil
}

// denoise runs the model on corrupted copies of the batches of ds and calls
// fn with the program, the clean and the corrupted batch.
func (e *Evaluator) denoise(ds *data.Dataset, q data.Corruption, seed uint64, fn func(p *graph.Program, clean, corrupted []float32, start int) error) error {
	if err := checkSet(ds); err != nil {
		return err
	}
	if err := q.Validate(); err != nil {
		return errors.Wrap(err, "eval: denoising")
	}
	noise := rand.New(rand.NewPCG(seed, 0xde7)).Uint64() // row i is corrupted from PCG(noise, i)
	rng := e.runRNG()
	buf := make([]float32, min(e.Batch, ds.N)*ds.D)
	for start := 0; start < ds.N; start += e.Batch {
		n := min(e.Batch, ds.N-start)
		p, err := e.Program(n, ds.D)
		if err != nil {
			return err
		}
		x := ds.X[start*ds.D : (start+n)*ds.D]
		xt := buf[:len(x)]
		q.ApplyRows(noise, start, ds.D, x, xt) // on every core
		if err := p.Run(xt, rng, false); err != nil {
			return errors.Wrapf(err, "eval: examples %d..%d", start, start+n)
		}
		if err := fn(p, x, xt, start); err != nil {
			return err
		}
	}
	return nil
}

// DenoisingTable returns Denoising for each corruption of
// StandardCorruptions, in that order.
func (e *Evaluator) DenoisingTable(ds *data.Dataset, seed uint64) ([]DenoisingResult, error) {
	var rows []DenoisingResult
	for _, q := range StandardCorruptions() {
		mse, err := e.Denoising(ds, q, seed)
		if err != nil {
			return nil, errors.Wrapf(err, "%s %g", q.Kind, q.Level)
		}
		rows = append(rows, DenoisingResult{Kind: q.Kind, Level: q.Level, MSE: mse})
	}
	return rows, nil
}

// DenoisingExamples returns, for the first n examples of ds (all if n ≤ 0
// or n > N), the clean images, their corrupted copies and the model's
// reconstructions of the corrupted copies, one slice per image, for
// figures. With the same seed the corrupted images are those that
// Denoising measures.
func (e *Evaluator) DenoisingExamples(ds *data.Dataset, q data.Corruption, seed uint64, n int) (clean, corrupted, recon [][]float64, err error) {
	if err := checkSet(ds); err != nil {
		return nil, nil, nil, err
	}
	ds = ds.Limit(n)
	err = e.denoise(ds, q, seed, func(p *graph.Program, x, xt []float32, _ int) error {
		r := p.Output(graph.Recon)
		if len(r) != len(x) {
			return errors.Errorf("eval: model %s has no per-pixel recon output", e.Config.Model)
		}
		for i := 0; i < len(x)/ds.D; i++ {
			lo, hi := i*ds.D, (i+1)*ds.D
			clean = append(clean, toFloat64s(x[lo:hi]))
			corrupted = append(corrupted, toFloat64s(xt[lo:hi]))
			recon = append(recon, append([]float64(nil), r[lo:hi]...))
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return clean, corrupted, recon, nil
}

func toFloat64s(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// UnitDirection returns the random unit direction u (‖u‖₂ = 1, d values)
// that ContractionCurve uses for example i with the given seed: a standard
// normal vector from a generator seeded by (seed, i), normalized.
func UnitDirection(seed uint64, i, d int) []float64 {
	u := make([]float64, d)
	unitDirection(u, seed, i)
	return u
}

// unitDirection writes UnitDirection(seed, i, len(u)) into u.
func unitDirection(u []float64, seed uint64, i int) {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	var s float64
	for s == 0 {
		for j := range u {
			u[j] = rng.NormFloat64()
			s += u[j] * u[j]
		}
	}
	s = 1 / math.Sqrt(s)
	for j := range u {
		u[j] *= s
	}
}

// ContractionCurve returns the contraction ratio of the encoder f (the
// model's graph.Code output) at each radius r of radii (Rifai et al. 2011):
//
//	CR(r) = mean over examples x of ‖f(x + r·u_x) − f(x)‖₂ / r
//
// where u_x = UnitDirection(seed, i, D) is a fixed random unit direction in
// input space for the i-th example, the same for every radius and every
// model. The perturbed input is not clipped to [0,1]. As r → 0, CR(r)
// tends to the mean ‖J_f(x)·u‖; a linear encoder x·W + b has the constant
// CR(r) = mean ‖uᵀW‖. The model's input is float32 (as every minibatch
// is), so x + r·u is rounded to float32 and radii below about 1e-3 measure
// mostly that rounding; float32 models also lose precision below r ≈ 1e-2.
func (e *Evaluator) ContractionCurve(ds *data.Dataset, radii []float64, seed uint64) ([]float64, error) {
	if err := checkSet(ds); err != nil {
		return nil, err
	}
	if len(radii) == 0 {
		return nil, errors.New("eval: contraction curve: no radii")
	}
	for _, r := range radii {
		if !(r > 0) || math.IsInf(r, 0) {
			return nil, errors.Errorf("eval: contraction curve: radius %g is not a positive number", r)
		}
	}
	cr := make([]float64, len(radii))
	rng := e.runRNG()
	var h0 []float64
	buf := make([]float32, min(e.Batch, ds.N)*ds.D)
	dirs := make([]float64, len(buf))
	norms := make([]float64, min(e.Batch, ds.N))
	for start := 0; start < ds.N; start += e.Batch {
		n := min(e.Batch, ds.N-start)
		p, err := e.Program(n, ds.D)
		if err != nil {
			return nil, err
		}
		x := ds.X[start*ds.D : (start+n)*ds.D]
		if err := p.Run(x, rng, false); err != nil {
			return nil, errors.Wrapf(err, "eval: examples %d..%d", start, start+n)
		}
		code := p.Output(graph.Code)
		if code == nil || len(code)%n != 0 {
			return nil, errors.Errorf("eval: model %s names no per-example code output", e.Config.Model)
		}
		h0 = append(h0[:0], code...)
		w := len(code) / n
		// Rows on every core; each row's arithmetic, and the order of the
		// sum over rows, are those of a plain loop.
		rows := par.Grain(n, 24*ds.D)
		par.For(n, rows, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				unitDirection(dirs[i*ds.D:(i+1)*ds.D], seed, start+i)
			}
		})
		xr := buf[:len(x)]
		for k, r := range radii {
			par.For(n, par.Grain(n, 2*ds.D), func(_, lo, hi int) {
				for j := lo * ds.D; j < hi*ds.D; j++ {
					xr[j] = float32(float64(x[j]) + r*dirs[j])
				}
			})
			if err := p.Run(xr, rng, false); err != nil {
				return nil, errors.Wrapf(err, "eval: examples %d..%d at radius %g", start, start+n, r)
			}
			hr := p.Output(graph.Code)
			par.For(n, par.Grain(n, 3*w), func(_, lo, hi int) {
				for i := lo; i < hi; i++ {
					var s float64
					for j := i * w; j < (i+1)*w; j++ {
						d := hr[j] - h0[j]
						s += d * d
					}
					norms[i] = math.Sqrt(s) / r
				}
			})
			for _, v := range norms[:n] {
				cr[k] += v
			}
		}
	}
	for k := range cr {
		cr[k] /= float64(ds.N)
	}
	return cr, nil
}

package eval

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/pkg/errors"
)

// iwDecodeBatch is the number of latent codes the decoder program of
// IWNLL decodes per run.
const iwDecodeBatch = 500

// IWNLL returns the importance-weighted estimate of the negative
// log-likelihood −log p(x) of a VAE, in nats per example of ds (Burda et
// al. 2016), with K samples from the encoder's posterior q(z|x):
//
//	log p(x) ≈ log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x),   z_k = μ + σ ⊙ ε_k
//
// with μ the graph.Code output, log σ² the graph.LogVar output, p(z) = N(0, I) and
// p(x|z) Bernoulli with the decoder's logits. Its expectation decreases with
// K towards −log p(x); with K = 1 it is a one-sample estimate of −ELBO. The
// ε are drawn from a generator seeded by (seed, example index), so the
// value does not depend on the evaluator's batch size. Pixel values in
// (0,1) are used as soft Bernoulli targets, as in the training loss.
func (e *Evaluator) IWNLL(ds *data.Dataset, K int, seed uint64) (float64, error) {
	nll, err := e.IWNLLPerExample(ds, K, seed)
	if err != nil {
		return 0, err
	}
	var s float64
	for _, v := range nll {
		s += v
	}
	return s / float64(len(nll)), nil
}

// IWNLLPerExample returns the IWNLL estimate of every example of ds (for
// standard errors and per-class breakdowns).
func (e *Evaluator) IWNLLPerExample(ds *data.Dataset, K int, seed uint64) ([]float64, error) {
	out := make([]float64, 0, max(ds.N, 0))
	err := e.iwLogWeights(ds, K, seed, func(_ int, logw []float64) error {
		out = append(out, math.Log(float64(len(logw)))-logSumExp(logw))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// iwEpsilon returns the K×L standard normal draws ε of example i.
func iwEpsilon(seed uint64, i, K, L int) []float64 {
	rng := rand.New(rand.NewPCG(seed, uint64(i)^0x1a5e))
	eps := make([]float64, K*L)
	for j := range eps {
		eps[j] = rng.NormFloat64()
	}
	return eps
}

// iwLogWeights calls fn with the K log importance weights
// log p(x|z_k) + log p(z_k) − log q(z_k|x) of every example of ds, in order.
func (e *Evaluator) iwLogWeights(ds *data.Dataset, K int, seed uint64, fn func(i int, logw []float64) error) error {
	if err := checkSet(ds); err != nil {
		return err
	}
	if K <= 0 {
		return errors.Errorf("eval: IWNLL needs K ≥ 1 samples, got %d", K)
	}
	L := e.Config.Latent
	if L <= 0 {
		return errors.Errorf("eval: IWNLL: model %s has no latent size", e.Config.Model)
	}
	// The decoder reads its codes from zbuf: Bd rows of L values.
	Bd := min(iwDecodeBatch, ds.N*K)
	zbuf := make([]float64, Bd*L)
	fill := func(dst []float64, _ []float32, _ *rand.Rand, _ bool) { copy(dst, zbuf) }
	dm, err := models.BuildDecoder(e.Config, graph.Shape{In: ds.D, Batch: Bd}, e.Dtype, e.Store, fill)
	if err != nil {
		return errors.Wrap(err, "eval: IWNLL")
	}
	// The likelihood reads the logits when the decoder names them (exact and
	// stable), else the reconstruction.
	out := graph.Recon
	if dm.Output(graph.Logits) != nil {
		out = graph.Logits
	}
	dec, err := graph.NewEvaluator(dm, out)
	if err != nil {
		return errors.Wrap(err, "eval: IWNLL")
	}
	dummy := make([]float32, Bd*ds.D)
	const halfLog2Pi = 0.91893853320467274178 // ½ log 2π

	// Pending work: the codes in zbuf belong to (example, k) pairs; the log
	// weights are completed when the decoder has run on them.
	type slot struct{ ex, k int }
	var (
		slots  []slot
		lls    = make([]float64, Bd) // log p(x|z) of the decoded rows
		logw   = map[int][]float64{} // example → its K log weights (prior and posterior parts first)
		left   = map[int]int{}       // example → samples not yet decoded
		xs     = map[int][]float32{} // example → its pixels
		next   = 0                   // the next example to hand to fn
		finish func() error
	)
	flush := func() error {
		if len(slots) == 0 {
			return nil
		}
		clear(zbuf[len(slots)*L:])
		if err := dec.Run(dummy, nil, false); err != nil {
			return errors.Wrap(err, "eval: IWNLL: decoding")
		}
		logits, recon := dec.Output(graph.Logits), dec.Output(graph.Recon)
		// log p(x|z) of every decoded row, on every core.
		parallelRows(len(slots), func(r0, r1 int) {
			for r := r0; r < r1; r++ {
				x := xs[slots[r].ex]
				var ll float64
				if logits != nil {
					for i, xv := range x {
						l := logits[r*ds.D+i]
						ll -= softplus(l) - float64(xv)*l
					}
				} else {
					for i, xv := range x {
						q := math.Min(math.Max(recon[r*ds.D+i], 1e-7), 1-1e-7)
						ll += float64(xv)*math.Log(q) + (1-float64(xv))*math.Log(1-q)
					}
				}
				lls[r] = ll
			}
		})
		for r, s := range slots {
			logw[s.ex][s.k] += lls[r]
			left[s.ex]--
		}
		slots = slots[:0]
		return finish()
	}
	finish = func() error {
		for {
			w, ok := logw[next]
			if !ok || left[next] > 0 {
				return nil
			}
			if err := fn(next, w); err != nil {
				return err
			}
			delete(logw, next)
			delete(left, next)
			delete(xs, next)
			next++
		}
	}
	err = e.Batches(ds, func(p *graph.Program, x []float32, start int) error {
		n := p.Batch()
		mu, lv := p.Output(graph.Code), p.Output(graph.LogVar)
		if mu == nil || lv == nil || len(mu) != n*L || len(lv) != n*L {
			return errors.Errorf("eval: IWNLL: model %s does not name %d-wide %q (μ) and %q outputs", e.Config.Model, L, graph.Code, graph.LogVar)
		}
		for b := 0; b < n; b++ {
			ex := start + b
			xs[ex] = x[b*ds.D : (b+1)*ds.D]
			w := make([]float64, K)
			logw[ex], left[ex] = w, K
			m, v := mu[b*L:(b+1)*L], lv[b*L:(b+1)*L]
			eps := iwEpsilon(seed, ex, K, L)
			for k := 0; k < K; k++ {
				ek := eps[k*L : (k+1)*L]
				z := zbuf[len(slots)*L : (len(slots)+1)*L]
				var lp, lq float64
				for j := range z {
					z[j] = m[j] + math.Exp(0.5*v[j])*ek[j]
					lp -= halfLog2Pi + 0.5*z[j]*z[j]
					lq -= halfLog2Pi + 0.5*v[j] + 0.5*ek[j]*ek[j]
				}
				w[k] = lp - lq
				slots = append(slots, slot{ex, k})
				if len(slots) == Bd {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	if next != ds.N {
		return errors.Errorf("eval: IWNLL: %d of %d examples finished", next, ds.N)
	}
	return nil
}

// logSumExp is log Σ exp(v_i), computed stably.
func logSumExp(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// parallelRows calls f on consecutive ranges of [0, n) from GOMAXPROCS
// goroutines and waits for them. The ranges are disjoint, so f may write
// per-row results without locking.
func parallelRows(n int, f func(r0, r1 int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := range w {
		r0, r1 := i*n/w, (i+1)*n/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(r0, r1)
		}()
	}
	wg.Wait()
}

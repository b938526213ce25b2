package eval

import (
	"math"
	"math/rand/v2"
	"runtime"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/internal/par"
	"github.com/aezoo/aezoo/models"
	"github.com/pkg/errors"
)

// iwDecodeBatch is the number of latent codes a decoder program of IWNLL
// decodes per run.
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
//
// For a VAE with two stochastic layers (models.Config.Latent2 > 0) the
// samples are z1_k = μ1 + σ1 ⊙ ε1_k from q(z1|x), then z2_k = μ2(z1_k) +
// σ2(z1_k) ⊙ ε2_k from q(z2|z1_k), and the weights
//
//	w_k = p(x|z1_k) p(z1_k|z2_k) p(z2_k) / (q(z1_k|x) q(z2_k|z1_k))
//
// with p(z2) = N(0, I) (ε2 from a second generator seeded by (seed, index)).
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

// iwEpsilon2 returns the K×L standard normal draws ε2 of example i (the
// second stochastic layer's).
func iwEpsilon2(seed uint64, i, K, L int) []float64 {
	rng := rand.New(rand.NewPCG(seed, uint64(i)^0x2b7f_0000_0000))
	eps := make([]float64, K*L)
	for j := range eps {
		eps[j] = rng.NormFloat64()
	}
	return eps
}

// iwLogWeights calls fn with the K log importance weights
// log p(x|z_k) + log p(z_k) − log q(z_k|x) of every example of ds, in order.
//
// The encoder runs first, on the evaluator's batches. The decoding, which
// is most of the work, is cut into units of examples whose K·(examples)
// codes are decoded in runs of at most iwDecodeBatch rows; the units run on
// GOMAXPROCS goroutines, each with its own decoder graph and machine. The
// units, and the rows of every decoder run, depend only on ds.N and K, so
// the weights do not depend on the number of threads.
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
	// The posterior of every example.
	mu, lv := make([]float64, ds.N*L), make([]float64, ds.N*L)
	err := e.Batches(ds, func(p *graph.Program, _ []float32, start int) error {
		n := p.Batch()
		m, v := p.Output(graph.Code), p.Output(graph.LogVar)
		if m == nil || v == nil || len(m) != n*L || len(v) != n*L {
			return errors.Errorf("eval: IWNLL: model %s does not name %d-wide %q (μ) and %q outputs", e.Config.Model, L, graph.Code, graph.LogVar)
		}
		copy(mu[start*L:], m)
		copy(lv[start*L:], v)
		return nil
	})
	if err != nil {
		return err
	}
	// Units of G examples; each decoder run takes Bd rows.
	G := min(max(1, iwDecodeBatch/K), ds.N)
	Bd := min(iwDecodeBatch, G*K)
	units := (ds.N + G - 1) / G
	workers := min(runtime.GOMAXPROCS(0), units)
	pool := make(chan *iwDecoder, workers)
	for range workers {
		d, err := e.newIWDecoder(ds.D, Bd, L)
		if err != nil {
			return err
		}
		pool <- d
	}
	// Windows of units run in parallel; their examples are then handed to
	// fn in order, so that only a window's weights are held.
	window := 4 * workers
	logw := make([][]float64, min(window*G, ds.N))
	for u0 := 0; u0 < units; u0 += window {
		u1 := min(u0+window, units)
		ex0 := u0 * G
		errs := make([]error, u1-u0)
		par.For(u1-u0, 1, func(c, _, _ int) {
			d := <-pool
			defer func() { pool <- d }()
			lo := (u0 + c) * G
			hi := min(lo+G, ds.N)
			for ex := lo; ex < hi; ex++ {
				if logw[ex-ex0] == nil || len(logw[ex-ex0]) != K {
					logw[ex-ex0] = make([]float64, K)
				}
			}
			errs[c] = d.unit(ds, mu, lv, lo, hi, K, seed, logw[lo-ex0:hi-ex0])
		})
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		for ex := ex0; ex < min(u1*G, ds.N); ex++ {
			if err := fn(ex, logw[ex-ex0]); err != nil {
				return err
			}
		}
	}
	return nil
}

// iwDecoder is one goroutine's decoder program and buffers.
type iwDecoder struct {
	prog  *graph.Program
	z     []float64 // Bd rows of L codes, read by the program's input
	dummy []float32
	L     int
	slots []iwSlot
	ll    []float64
	// Two stochastic layers: the program is models.BuildUpper's, z holds
	// z1 and eps2 the Bd rows of L2 draws ε2.
	L2   int
	eps2 []float64
}

type iwSlot struct{ ex, k int }

func (e *Evaluator) newIWDecoder(D, Bd, L int) (*iwDecoder, error) {
	d := &iwDecoder{z: make([]float64, Bd*L), dummy: make([]float32, Bd*D), L: L, ll: make([]float64, Bd)}
	fill := func(dst []float64, _ []float32, _ *rand.Rand, _ bool) { copy(dst, d.z) }
	if L2 := e.Config.Latent2; L2 > 0 {
		d.L2, d.eps2 = L2, make([]float64, Bd*L2)
		fill2 := func(dst []float64, _ []float32, _ *rand.Rand, _ bool) { copy(dst, d.eps2) }
		um, err := models.BuildUpper(e.Config, graph.Shape{In: D, Batch: Bd}, e.Dtype, e.Store, fill, fill2)
		if err != nil {
			return nil, errors.Wrap(err, "eval: IWNLL")
		}
		if d.prog, err = graph.NewEvaluator(um, graph.Logits, models.Mu2, models.LogVar2, models.PriorMu, models.PriorLogVar); err != nil {
			return nil, errors.Wrap(err, "eval: IWNLL")
		}
		return d, nil
	}
	dm, err := models.BuildDecoder(e.Config, graph.Shape{In: D, Batch: Bd}, e.Dtype, e.Store, fill)
	if err != nil {
		return nil, errors.Wrap(err, "eval: IWNLL")
	}
	// The likelihood reads the logits when the decoder names them (exact and
	// stable), else the reconstruction.
	out := graph.Recon
	if dm.Output(graph.Logits) != nil {
		out = graph.Logits
	}
	if d.prog, err = graph.NewEvaluator(dm, out); err != nil {
		return nil, errors.Wrap(err, "eval: IWNLL")
	}
	return d, nil
}

const halfLog2Pi = 0.91893853320467274178 // ½ log 2π

// unit writes the K log weights of examples lo … hi−1 into logw.
func (d *iwDecoder) unit(ds *data.Dataset, mu, lv []float64, lo, hi, K int, seed uint64, logw [][]float64) error {
	L, Bd := d.L, len(d.ll)
	d.slots = d.slots[:0]
	for ex := lo; ex < hi; ex++ {
		m, v := mu[ex*L:(ex+1)*L], lv[ex*L:(ex+1)*L]
		eps := iwEpsilon(seed, ex, K, L)
		var eps2 []float64
		if d.L2 > 0 {
			eps2 = iwEpsilon2(seed, ex, K, d.L2)
		}
		w := logw[ex-lo]
		for k := 0; k < K; k++ {
			ek := eps[k*L : (k+1)*L]
			z := d.z[len(d.slots)*L : (len(d.slots)+1)*L]
			var lp, lq float64
			for j := range z {
				z[j] = m[j] + math.Exp(0.5*v[j])*ek[j]
				lp -= halfLog2Pi + 0.5*z[j]*z[j]
				lq -= halfLog2Pi + 0.5*v[j] + 0.5*ek[j]*ek[j]
			}
			if d.L2 > 0 {
				// log p(z1|z2) replaces log N(z1; 0, I): added by flush.
				lp = 0
				copy(d.eps2[len(d.slots)*d.L2:], eps2[k*d.L2:(k+1)*d.L2])
			}
			w[k] = lp - lq
			d.slots = append(d.slots, iwSlot{ex, k})
			if len(d.slots) == Bd {
				if err := d.flush(ds, lo, logw); err != nil {
					return err
				}
			}
		}
	}
	return d.flush(ds, lo, logw)
}

// flush decodes the pending codes and adds log p(x|z) to their weights.
func (d *iwDecoder) flush(ds *data.Dataset, lo int, logw [][]float64) error {
	if len(d.slots) == 0 {
		return nil
	}
	clear(d.z[len(d.slots)*d.L:])
	if d.L2 > 0 {
		clear(d.eps2[len(d.slots)*d.L2:])
	}
	if err := d.prog.Run(d.dummy, nil, false); err != nil {
		return errors.Wrap(err, "eval: IWNLL: decoding")
	}
	if d.L2 > 0 {
		d.addUpper(lo, logw)
	}
	logits, recon := d.prog.Output(graph.Logits), d.prog.Output(graph.Recon)
	D := ds.D
	for r, s := range d.slots {
		x := ds.X[s.ex*D : (s.ex+1)*D]
		var ll float64
		if logits != nil {
			for i, xv := range x {
				l := logits[r*D+i]
				ll -= softplus(l) - float64(xv)*l
			}
		} else {
			for i, xv := range x {
				q := math.Min(math.Max(recon[r*D+i], 1e-7), 1-1e-7)
				ll += float64(xv)*math.Log(q) + (1-float64(xv))*math.Log(1-q)
			}
		}
		logw[s.ex-lo][s.k] += ll
	}
	d.slots = d.slots[:0]
	return nil
}

// addUpper adds log p(z1|z2) + log p(z2) − log q(z2|z1) to the weights of
// the pending slots, from the outputs of models.BuildUpper's program: z2 =
// μ2 + σ2 ⊙ ε2, p(z2) = N(0, I), p(z1|z2) = N(ν, τ²).
func (d *iwDecoder) addUpper(lo int, logw [][]float64) {
	L, L2 := d.L, d.L2
	mu2, lv2 := d.prog.Output(models.Mu2), d.prog.Output(models.LogVar2)
	nu, lt := d.prog.Output(models.PriorMu), d.prog.Output(models.PriorLogVar)
	for r, s := range d.slots {
		var l float64
		for j := r * L2; j < (r+1)*L2; j++ {
			e := d.eps2[j]
			z2 := mu2[j] + math.Exp(0.5*lv2[j])*e
			l += -0.5*z2*z2 + 0.5*lv2[j] + 0.5*e*e // log N(z2; 0, I) − log q(z2|z1)
		}
		for j := r * L; j < (r+1)*L; j++ {
			dz := d.z[j] - nu[j]
			l -= halfLog2Pi + 0.5*lt[j] + 0.5*dz*dz*math.Exp(-lt[j]) // log p(z1|z2)
		}
		logw[s.ex-lo][s.k] += l
	}
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

package eval

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
)

func tinyVAE(t testing.TB) models.Config {
	return config(t, "vae", func(c *models.Config) { c.Hidden, c.Latent = 64, 4 })
}

var trainedVAE struct {
	once              sync.Once
	grey, binary      *graph.Store
	binTrain, binTest *data.Dataset
}

// vaes returns tiny VAEs trained for 400 steps on the grey MNIST subset and
// on a dynamically binarized copy of it, with that binarized test set.
func vaes(t testing.TB) (grey, binary *graph.Store, binTest *data.Dataset) {
	t.Helper()
	train, test := testSets(t)
	trainedVAE.once.Do(func() {
		c := tinyVAE(t)
		trainedVAE.grey = trainTiny(t, c, graph.Float32(), train, 400, 1)
		rng := rand.New(rand.NewPCG(4, 4))
		bt, bs := *train, *test
		bt.X, bs.X = make([]float32, len(train.X)), make([]float32, len(test.X))
		data.SampleBinary(rng, train.X, bt.X)
		data.SampleBinary(rng, test.X, bs.X)
		trainedVAE.binary = trainTiny(t, c, graph.Float32(), &bt, 400, 1)
		trainedVAE.binTrain, trainedVAE.binTest = &bt, &bs
	})
	return trainedVAE.grey, trainedVAE.binary, trainedVAE.binTest
}

// TestIWLogWeightsPlainGo recomputes the log importance weights of one
// example in plain Go from the VAE's parameters.
func TestIWLogWeightsPlainGo(t *testing.T) {
	_, test := testSets(t)
	ds := test.Limit(30)
	c := tinyVAE(t)
	store := graph.NewStore()
	const K, seed, ex = 7, 99, 17
	e := NewEvaluator(c, graph.Float64(), store, 12, 1)
	if _, err := e.Program(1, ds.D); err != nil { // initializes the parameters
		t.Fatal(err)
	}
	lvb := make([]float64, c.Latent)
	for j := range lvb {
		lvb[j] = -1.5 + 0.4*float64(j) // σ ≠ 1
	}
	setParam(store, "logvar.b", []int{1, c.Latent}, lvb)
	var got []float64
	seen := 0
	err := e.iwLogWeights(ds, K, seed, func(i int, logw []float64) error {
		if i != seen {
			t.Fatalf("example %d handed over as %d", seen, i)
		}
		seen++
		if i == ex {
			got = append([]float64(nil), logw...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != ds.N || len(got) != K {
		t.Fatalf("%d examples, %d weights", seen, len(got))
	}
	P := store.Floats
	x := f64s(ds.Row(ex))
	h := dense(x, P("enc.W"), P("enc.b"), relu)
	mu := dense(h, P("mu.W"), P("mu.b"), nil)
	lv := dense(h, P("logvar.W"), P("logvar.b"), nil)
	eps := iwEpsilon(seed, ex, K, c.Latent)
	for k := 0; k < K; k++ {
		var logp, logq, logpx float64
		z := make([]float64, c.Latent)
		for j := range z {
			sd := math.Exp(0.5 * lv[j])
			z[j] = mu[j] + sd*eps[k*c.Latent+j]
			logp += -0.5*math.Log(2*math.Pi) - 0.5*z[j]*z[j]
			d := (z[j] - mu[j]) / sd
			logq += -0.5*math.Log(2*math.Pi) - math.Log(sd) - 0.5*d*d
		}
		l := dense(dense(z, P("dec1.W"), P("dec1.b"), relu), P("dec.W"), P("dec.b"), nil)
		for i, xi := range x {
			p := 1 / (1 + math.Exp(-l[i]))
			logpx += xi*math.Log(p) + (1-xi)*math.Log(1-p)
		}
		want := logpx + logp - logq
		if math.Abs(got[k]-want) > 1e-9*math.Abs(want) {
			t.Errorf("log w_%d = %.12g, plain Go %.12g", k, got[k], want)
		}
	}
	nll, err := e.IWNLLPerExample(ds, K, seed)
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for _, v := range got {
		s += math.Exp(v - got[0])
	}
	if want := -(got[0] + math.Log(s/K)); math.Abs(nll[ex]-want) > 1e-9*want {
		t.Errorf("IWNLL of example %d = %.12g, want %.12g", ex, nll[ex], want)
	}
	// Another batch size, the same estimate.
	e2 := NewEvaluator(c, graph.Float64(), store, 30, 1)
	nll2, err := e2.IWNLLPerExample(ds, K, seed)
	if err != nil {
		t.Fatal(err)
	}
	for i := range nll {
		if math.Abs(nll[i]-nll2[i]) > 1e-9*nll[i] {
			t.Fatalf("example %d: batch 12 gives %.12g, batch 30 %.12g", i, nll[i], nll2[i])
		}
	}
}

func meanSD(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)-1))
}

// TestIWNLLBounds: with K = 1 the estimate is −ELBO in expectation, and
// with more samples it is a tighter (smaller) bound, on grey and on
// dynamically binarized MNIST.
func TestIWNLLBounds(t *testing.T) {
	_, test := testSets(t)
	grey, binary, binTest := vaes(t)
	c := tinyVAE(t)
	for _, tc := range []struct {
		name  string
		store *graph.Store
		ds    *data.Dataset
	}{{"grey", grey, test}, {"binarized", binary, binTest}} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEvaluator(c, graph.Float32(), tc.store, 250, 3)
			m, err := e.Evaluate(tc.ds)
			if err != nil {
				t.Fatal(err)
			}
			negELBO := m.Terms[graph.ReconTerm] + m.Terms[graph.KLTerm]
			one, err := e.IWNLLPerExample(tc.ds, 1, 7)
			if err != nil {
				t.Fatal(err)
			}
			mean1, _ := meanSD(one)
			// The estimator's own noise, from the paired difference of two
			// seeds (the spread between examples cancels).
			other, err := e.IWNLLPerExample(tc.ds, 1, 8)
			if err != nil {
				t.Fatal(err)
			}
			diff := make([]float64, len(one))
			for i := range one {
				diff[i] = one[i] - other[i]
			}
			_, sdDiff := meanSD(diff)
			se := sdDiff / math.Sqrt(2*float64(len(one)))
			nll50, err := e.IWNLL(tc.ds, 50, 7)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("−ELBO %.2f (recon %.2f + KL %.2f), IWNLL K=1 %.2f ± %.2f, K=50 %.2f", negELBO, m.Terms[graph.ReconTerm], m.Terms[graph.KLTerm], mean1, se, nll50)
			// Both −ELBO (one-sample recon) and the K=1 estimate are noisy.
			if tol := 4 * math.Sqrt2 * se; math.Abs(mean1-negELBO) > tol {
				t.Errorf("IWNLL with K=1 is %.3f, −ELBO %.3f (tolerance %.3f)", mean1, negELBO, tol)
			}
			if !(nll50 > 0 && nll50 < negELBO-0.5 && nll50 < mean1-0.5) {
				t.Errorf("IWNLL with K=50 is %.3f, not below −ELBO %.3f and K=1 %.3f", nll50, negELBO, mean1)
			}
			if nll50 > 400 {
				t.Errorf("IWNLL %.1f nats: the trained VAE is no better than chance", nll50)
			}
		})
	}
}

func TestIWNLLErrors(t *testing.T) {
	_, test := testSets(t)
	ds := test.Limit(10)
	vae := NewEvaluator(tinyVAE(t), graph.Float32(), graph.NewStore(), 10, 1)
	plain := NewEvaluator(config(t, "plain", func(c *models.Config) { c.Hidden = 4 }), graph.Float32(), graph.NewStore(), 10, 1)
	cases := []struct {
		name string
		e    *Evaluator
		ds   *data.Dataset
		K    int
	}{
		{"K = 0", vae, ds, 0},
		{"empty set", vae, &data.Dataset{D: 784}, 5},
		{"not a VAE", plain, ds, 5},
	}
	for _, tc := range cases {
		if _, err := tc.e.IWNLL(tc.ds, tc.K, 1); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

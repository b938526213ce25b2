package eval

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"gorgonia.org/tensor"
)

var mnist struct {
	once        sync.Once
	train, test *data.Dataset
	err         error
}

// testSets returns the repository's MNIST subset: 2000 training and 500
// test images.
func testSets(t testing.TB) (trainSet, testSet *data.Dataset) {
	t.Helper()
	mnist.once.Do(func() {
		mnist.train, mnist.test, mnist.err = data.LoadMNIST(data.Testdata(), 2000, 500)
	})
	if mnist.err != nil {
		t.Fatal(mnist.err)
	}
	return mnist.train, mnist.test
}

// config returns a model's defaults changed by mod.
func config(t testing.TB, name string, mod func(c *models.Config)) models.Config {
	t.Helper()
	c, err := models.Defaults(name)
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(&c)
	}
	return c
}

// trainTiny trains c on ds for the given number of Adam steps (lr 3e-3,
// batch 50, seeded) and returns the store of its parameters.
func trainTiny(t testing.TB, c models.Config, dt tensor.Dtype, ds *data.Dataset, steps int, seed uint64) *graph.Store {
	t.Helper()
	const batch = 50
	store := graph.NewStore()
	rng := rand.New(rand.NewPCG(seed, 3))
	m, err := models.Build(c, graph.Shape{In: ds.D, Batch: batch}, dt, store, rng)
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.NewTrainer(m, graph.NewAdam(3e-3))
	if err != nil {
		t.Fatal(err)
	}
	idx := rng.Perm(ds.N)
	x := make([]float32, batch*ds.D)
	perEpoch := ds.N / batch
	for s := 0; s < steps; s++ {
		if s > 0 && s%perEpoch == 0 {
			rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		}
		k := (s % perEpoch) * batch
		ds.Gather(idx[k:k+batch], x)
		if err := p.Run(x, rng, true); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// setParam stores a float64 parameter of the given shape.
func setParam(s *graph.Store, name string, shape []int, v []float64) {
	s.Set(name, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...))))
}

// dense computes act(x·W + b) in plain Go for one example; W is in×out.
func dense(x, W, b []float64, act func(float64) float64) []float64 {
	out := len(b)
	y := append([]float64(nil), b...)
	for i, xi := range x {
		for j := 0; j < out; j++ {
			y[j] += xi * W[i*out+j]
		}
	}
	if act != nil {
		for j := range y {
			y[j] = act(y[j])
		}
	}
	return y
}

func f64s(x []float32) []float64 { return toFloat64s(x) }

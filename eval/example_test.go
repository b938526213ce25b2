package eval_test

import (
	"context"
	"fmt"
	"math"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
)

// The robustness metrics and the linear probe of a (here untrained) model:
// the denoising table, the contraction-ratio curve and a probe on its codes.
func Example() {
	train, test, err := data.LoadMNIST(data.Testdata(), 1000, 200)
	if err != nil {
		fmt.Println(err)
		return
	}
	c, _ := models.Defaults("lineardae")
	c.Hidden = 16
	e := eval.NewEvaluator(c, graph.Float64(), graph.NewStore(), 100, 1)

	rows, err := e.DenoisingTable(test, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rows {
		fmt.Printf("%-8s %.2f  MSE > 0: %v\n", r.Kind, r.Level, r.MSE > 0)
	}

	// A linear encoder contracts every radius alike.
	cr, err := e.ContractionCurve(test, []float64{0.1, 1, 10}, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("CR constant:", math.Abs(cr[0]-cr[2]) < 1e-4*cr[0])

	trX, dim, err := e.Codes(train, graph.Code)
	if err != nil {
		fmt.Println(err)
		return
	}
	teX, _, err := e.Codes(test, graph.Code)
	if err != nil {
		fmt.Println(err)
		return
	}
	o := eval.DefaultProbeOptions()
	o.LR = 1e-2 // a small training set: larger steps
	r, err := eval.LinearProbe(trX, train.Labels, teX, test.Labels, dim, o)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("probe on %d random linear features beats chance: %v\n", dim, r.TestError < 0.5)
	// Output:
	// gaussian 0.10  MSE > 0: true
	// gaussian 0.30  MSE > 0: true
	// gaussian 0.50  MSE > 0: true
	// masking  0.10  MSE > 0: true
	// masking  0.25  MSE > 0: true
	// masking  0.50  MSE > 0: true
	// CR constant: true
	// probe on 16 random linear features beats chance: true
}

// Evaluate trained models: a plain and a contractive autoencoder (whose
// penalty λ‖∂h/∂x‖²_F is a node of its graph), trained for two seeded
// epochs, compared on their test terms, Jacobian norm and denoising error.
func Example_trainedModels() {
	trainSet, testSet, err := data.LoadMNIST(data.Testdata(), 500, 100)
	if err != nil {
		fmt.Println(err)
		return
	}
	o := train.DefaultOptions()
	o.Epochs, o.Batch, o.LR = 2, 50, 3e-3
	metrics := map[string]eval.Metrics{}
	denoise := map[string]float64{}
	for _, name := range []string{"plain", "contractive"} {
		c, _ := models.Defaults(name)
		c.Hidden, c.Lambda = 32, 1
		t, err := train.New(c, o, trainSet, testSet, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		if err := t.Run(context.Background()); err != nil {
			fmt.Println(err)
			return
		}
		// An evaluator shares the trained parameters through the store.
		e := eval.NewEvaluator(c, graph.Float32(), t.Store, 100, 1)
		if metrics[name], err = e.Evaluate(testSet); err != nil {
			fmt.Println(err)
			return
		}
		q := data.Corruption{Kind: data.CorruptGaussian, Level: 0.3}
		if denoise[name], err = e.Denoising(testSet, q, 1); err != nil {
			fmt.Println(err)
			return
		}
	}
	p, ca := metrics["plain"], metrics["contractive"]
	fmt.Println("plain terms:", len(p.Terms), "contractive terms:", len(ca.Terms))
	fmt.Println("the CAE's Jacobian is smaller:", ca.MeanJacobianFrob < p.MeanJacobianFrob)
	fmt.Println("denoising MSE > clean MSE:", denoise["plain"] > p.MSEPerPixel, denoise["contractive"] > ca.MSEPerPixel)
	// Output:
	// plain terms: 1 contractive terms: 2
	// the CAE's Jacobian is smaller: true
	// denoising MSE > clean MSE: true true
}

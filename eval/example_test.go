package eval_test

import (
	"fmt"
	"math"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
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

	trX, dim, err := e.Codes(train, "code")
	if err != nil {
		fmt.Println(err)
		return
	}
	teX, _, err := e.Codes(test, "code")
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

package sweep_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/sweep"
	"github.com/aezoo/aezoo/train"
)

// A sweep of the sparse model's code size and penalty weight, two seeds
// each: the grid expands into numbered tasks, the last key fastest, each
// with its run folder's name.
func ExampleNew() {
	c, _ := models.Defaults("sparse")
	var axes []sweep.Axis
	for _, arg := range []string{"hidden=64,128", "lambda=0.01,0.1", "seed=1,2"} {
		a, err := sweep.ParseAxis(arg)
		if err != nil {
			panic(err)
		}
		axes = append(axes, a)
	}
	s, err := sweep.New(c, train.DefaultOptions(), axes)
	if err != nil {
		panic(err)
	}
	for _, t := range s.Tasks {
		fmt.Println(t.Name)
	}
	// A key the model does not have is an error naming it.
	k, _ := sweep.ParseAxis("k=5,10")
	_, err = sweep.New(c, train.DefaultOptions(), []sweep.Axis{k})
	var ke *sweep.KeyError
	if errors.As(err, &ke) {
		fmt.Printf("bad key %q: %s\n", ke.Key, strings.SplitN(ke.Err.Error(), " (", 2)[0])
	}
	// Output:
	// 0-hidden=64,lambda=0.01,seed=1
	// 1-hidden=64,lambda=0.01,seed=2
	// 2-hidden=64,lambda=0.1,seed=1
	// 3-hidden=64,lambda=0.1,seed=2
	// 4-hidden=128,lambda=0.01,seed=1
	// 5-hidden=128,lambda=0.01,seed=2
	// 6-hidden=128,lambda=0.1,seed=1
	// 7-hidden=128,lambda=0.1,seed=2
	// bad key "k": model sparse has no hyperparameter "k"
}

// MeanStd is the report's aggregate: the mean and the sample (n−1)
// standard deviation over seeds.
func ExampleMeanStd() {
	mean, std := sweep.MeanStd([]float64{98.0, 100.0, 102.0})
	fmt.Printf("%.1f ± %.1f\n", mean, std)
	// Output: 100.0 ± 2.0
}

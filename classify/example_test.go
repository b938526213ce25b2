package classify_test

import (
	"context"
	"fmt"

	"github.com/aezoo/aezoo/classify"
	"github.com/aezoo/aezoo/data"
)

// Train an MLP with one hidden layer on the MNIST subset embedded in the
// zoo, with early stopping on a held-out sixth of the training set, and
// measure it on the test images.
func Example() {
	trainSet, testSet, err := data.LoadSubset(1000, 500)
	if err != nil {
		fmt.Println(err)
		return
	}
	c := classify.Config{Hidden: []int{64}, Activation: "relu", Classes: 10}
	o := classify.DefaultOptions()
	o.Epochs, o.Patience, o.Batch = 20, 5, 25
	cl, err := classify.Train(context.Background(), c, o, trainSet)
	if err != nil {
		fmt.Println(err)
		return
	}
	e, _ := cl.Error(testSet)
	feats, dim, _ := cl.Features(testSet)
	fmt.Println("test error below 20%:", e < 0.2)
	fmt.Println("features:", len(feats)/dim, "×", dim)
	// Output:
	// test error below 20%: true
	// features: 500 × 64
}

// Fine-tune a pretrained encoder: the classifier's first hidden layers
// start from an autoencoder's encoder (here given directly; EncoderFromRun
// reads them from a run folder of `zoo train`).
func ExamplePretrained() {
	enc := classify.Layer{In: 4, Out: 3, W: make([]float64, 12), B: make([]float64, 3)}
	c := classify.Pretrained(classify.Config{Classes: 2}, []classify.Layer{enc}, "sigmoid", 5)
	fmt.Println(c.Hidden, c.Activation, len(c.Init))
	// Output: [3 5] sigmoid 1
}

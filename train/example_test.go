package train_test

import (
	"context"
	"fmt"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
)

// Train a registered model — the sparse autoencoder, whose L1 penalty is a
// node of its graph — for three seeded epochs, watching the test terms
// after each epoch, then evaluate the result.
func Example() {
	trainSet, testSet, err := data.LoadMNIST(data.Testdata(), 500, 100)
	if err != nil {
		fmt.Println(err)
		return
	}
	c, _ := models.Defaults("sparse")
	c.Hidden, c.Lambda = 64, 0.01

	o := train.DefaultOptions()
	o.Epochs, o.Batch, o.LR, o.Seed = 3, 50, 3e-3, 7
	t, err := train.New(c, o, trainSet, testSet, nil) // nil: a fresh parameter store
	if err != nil {
		fmt.Println(err)
		return
	}
	var logs []train.EpochLog
	t.OnEpoch = func(_ *train.Trainer, l train.EpochLog, _ eval.Metrics) error {
		logs = append(logs, l)
		return nil
	}
	if err := t.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("epochs:", len(logs), "steps:", t.Step)
	fmt.Println("test loss fell every epoch:", logs[1].TestLoss < logs[0].TestLoss && logs[2].TestLoss < logs[1].TestLoss)
	last := logs[len(logs)-1]
	fmt.Println("test loss = recon + penalty:", last.TestLoss == last.TestRecon+last.TestPenalty,
		last.TestRecon == last.TestTerms[graph.ReconTerm])

	m, err := t.Eval.Evaluate(t.Test) // the trained parameters, forward only
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("code units:", m.CodeUnits, "penalty > 0:", m.Terms[graph.PenaltyTerm] > 0)
	// Output:
	// epochs: 3 steps: 30
	// test loss fell every epoch: true
	// test loss = recon + penalty: true true
	// code units: 64 penalty > 0: true
}

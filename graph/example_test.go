package graph_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/losses"
)

// A model from scratch: declare an autoencoder whose L1 penalty is a node
// of the graph, train it with Adam on a TapeMachine program (Gorgonia
// differentiates the whole loss symbolically), then rebuild it at another
// batch size from the trained parameters and evaluate it.
func Example() {
	train, test, err := data.LoadMNIST(data.Testdata(), 500, 100)
	if err != nil {
		fmt.Println(err)
		return
	}
	const hidden, lambda = 32, 0.01
	body := func(b *graph.Builder) {
		x := b.Batch("x")
		h := b.Output(graph.Code, b.Act("sigmoid", b.Dense("enc", x, hidden).Pre))
		logits := b.Output(graph.Logits, b.Dense("dec", h, b.Shape().In).Pre)
		b.Objective(graph.ReconTerm, b.Must(losses.BCEWithLogits(logits, x)))
		b.Objective(graph.PenaltyTerm, b.Scale(lambda, b.Must(losses.L1(h))))
	}

	// Declare and train: 2 epochs of minibatches of 50.
	store := graph.NewStore() // the parameters, shared by every program of the model
	rng := rand.New(rand.NewPCG(1, 2))
	m, err := graph.Declare(graph.Shape{In: train.D, Batch: 50}, graph.Float32(), store, rng, body)
	if err != nil {
		fmt.Println(err)
		return
	}
	trainer, err := graph.NewTrainer(m, graph.NewAdam(3e-3))
	if err != nil {
		fmt.Println(err)
		return
	}
	var first, last float64
	for epoch := 0; epoch < 2; epoch++ {
		for i := 0; i+50 <= train.N; i += 50 {
			if err := trainer.Run(train.X[i*train.D:(i+50)*train.D], rng, true); err != nil {
				fmt.Println(err)
				return
			}
			if first == 0 {
				first = trainer.Loss()
			}
			last = trainer.Loss()
		}
	}
	fmt.Println("training lowered the loss:", last < first)

	// Evaluate: the same graph for the 100 test images at once, its
	// parameters taken from the store; only the code is computed besides
	// the terms.
	em, err := graph.Declare(graph.Shape{In: test.D, Batch: test.N}, graph.Float32(), store, nil, body)
	if err != nil {
		fmt.Println(err)
		return
	}
	ev, err := graph.NewEvaluator(em, graph.Code)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := ev.Run(test.X, nil, false); err != nil {
		fmt.Println(err)
		return
	}
	recon, _ := ev.Term(graph.ReconTerm)
	penalty, _ := ev.Term(graph.PenaltyTerm)
	fmt.Println("terms:", ev.Terms())
	fmt.Println("loss = recon + penalty:", fmt.Sprintf("%.3f", ev.Loss()) == fmt.Sprintf("%.3f", recon+penalty))
	fmt.Println("code:", len(ev.Output(graph.Code)), "values =", ev.Batch(), "×", hidden)
	fmt.Println("reconstruction not computed:", ev.Output(graph.Recon) == nil)
	// Output:
	// training lowered the loss: true
	// terms: [recon penalty]
	// loss = recon + penalty: true
	// code: 3200 values = 100 × 32
	// reconstruction not computed: true
}

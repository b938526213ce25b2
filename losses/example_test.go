package losses_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/losses"
)

// Ng's KL-sparsity penalty Σ_j KL(ρ ‖ ρ̂_j) as a node of a sigmoid
// autoencoder: its value matches the formula computed in plain Go from the
// code, and training with it (β = 3) drives the mean activation ρ̂ towards
// the target ρ = 0.05.
func Example() {
	train, _, err := data.LoadMNIST(data.Testdata(), 500, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	const hidden, rho, beta, batch = 64, 0.05, 3.0, 50
	store := graph.NewStore()
	rng := rand.New(rand.NewPCG(3, 4))
	declare := func() (*graph.Model, error) {
		return graph.Declare(graph.Shape{In: train.D, Batch: batch}, graph.Float64(), store, rng, func(b *graph.Builder) {
			x := b.Batch("x")
			h := b.Output(graph.Code, b.Act("sigmoid", b.Dense("enc", x, hidden).Pre))
			b.Objective(graph.ReconTerm, b.Must(losses.BCEWithLogits(b.Dense("dec", h, b.Shape().In).Pre, x)))
			kl := b.Monitor("kl_sparsity", b.Must(losses.KLSparsity(h, rho)))
			b.Objective(graph.PenaltyTerm, b.Scale(beta, kl))
		})
	}
	// meanActivation evaluates the model on the first batch and checks the
	// graph's penalty against Σ_j ρ log(ρ/ρ̂_j) + (1−ρ) log((1−ρ)/(1−ρ̂_j)).
	meanActivation := func() float64 {
		m, err := declare() // parameters from the store
		if err != nil {
			panic(err)
		}
		ev, err := graph.NewEvaluator(m, graph.Code)
		if err != nil {
			panic(err)
		}
		if err := ev.Run(train.X[:batch*train.D], nil, false); err != nil {
			panic(err)
		}
		code := ev.Output(graph.Code)
		var kl, mean float64
		for j := 0; j < hidden; j++ {
			var r float64
			for n := 0; n < batch; n++ {
				r += code[n*hidden+j] / batch
			}
			kl += rho*math.Log(rho/r) + (1-rho)*math.Log((1-rho)/(1-r))
			mean += r / hidden
		}
		got, _ := ev.Term("kl_sparsity")
		fmt.Println("penalty = plain-Go KL:", math.Abs(got-kl) < 1e-9*kl)
		return mean
	}

	before := meanActivation()
	m, err := declare()
	if err != nil {
		fmt.Println(err)
		return
	}
	trainer, err := graph.NewTrainer(m, graph.NewAdam(3e-3))
	if err != nil {
		fmt.Println(err)
		return
	}
	for epoch := 0; epoch < 3; epoch++ {
		for i := 0; i+batch <= train.N; i += batch {
			if err := trainer.Run(train.X[i*train.D:(i+batch)*train.D], rng, true); err != nil {
				fmt.Println(err)
				return
			}
		}
	}
	after := meanActivation()
	fmt.Println("ρ̂ moved towards ρ:", math.Abs(after-rho) < math.Abs(before-rho))
	// Output:
	// penalty = plain-Go KL: true
	// penalty = plain-Go KL: true
	// ρ̂ moved towards ρ: true
}

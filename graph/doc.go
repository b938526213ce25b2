// Package graph is the zoo's Gorgonia toolkit: it declares models as
// expression graphs (inputs fed every step, named parameters, named scalar
// terms), compiles them once into TapeMachine programs, and runs them.
//
// A model is declared with Declare, whose body reads like the model's
// equations:
//
//	m, err := graph.Declare(graph.Shape{In: 784, Batch: 128}, graph.Float32(), store, rng,
//		func(b *graph.Builder) {
//			x := b.Batch("x")                      // the clean minibatch
//			h := b.Act("sigmoid", b.Dense("enc", x, 256).Pre)
//			logits := b.Dense("dec", h, 784).Pre
//			b.Objective(graph.ReconTerm, b.Must(losses.BCEWithLogits(logits, x)))
//		})
//
// Declare recovers the panics of Must and of Gorgonia's node constructors
// into an error, so no panic crosses the package boundary.
//
// Training programs (NewTrainer) differentiate the loss symbolically with
// gorgonia.Grad; the solver reads each parameter's gradient from its
// gradient node (graph.Adam) or from the parameter's dual value (Gorgonia's
// solvers); evaluation
// programs (NewEvaluator) run the forward pass only, on their own graph of
// their own batch size, sharing the trained parameter tensors through a
// Store.
package graph

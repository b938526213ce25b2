package zoo_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/aezoo/aezoo/zoo"
)

// Example declares a small denoising autoencoder, trains it on the
// repo's MNIST subset into a run folder, reopens that folder as a later
// program (or notebook cell) would, and evaluates the reloaded model.
func Example() {
	dir, err := os.MkdirTemp("", "zoo-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "run")

	// Declare: a registered model with its defaults, then changes.
	c, err := models.Defaults("denoising")
	if err != nil {
		log.Fatal(err)
	}
	c.Hidden = 32
	o := train.DefaultOptions()
	o.Epochs, o.Batch, o.TrainLimit, o.TestLimit = 2, 50, 500, 100

	// Train: writes metrics.jsonl, the model, a checkpoint per epoch and
	// summary.json into out (which must be new or empty).
	s, err := zoo.Train(context.Background(), c, o, zoo.TrainOptions{Out: out, Data: data.Testdata()})
	if err != nil {
		log.Fatal(err)
	}

	// Open the run folder: the model, its settings, summary and log.
	run, err := zoo.OpenRun(out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s, %d hidden units, %d epochs, %d log lines\n", run.Config.Model, run.Config.Hidden, run.Epochs, len(run.Logs))

	// Evaluate the reloaded model on the run's test set.
	test, err := run.TestSet(data.Testdata())
	if err != nil {
		log.Fatal(err)
	}
	m, err := run.Eval.Evaluate(test)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d test images; same test loss as when trained: %v\n", m.N, m.Loss == s.TestLoss)

	// A second run into the same folder is refused: nothing is lost.
	_, err = zoo.Train(context.Background(), c, o, zoo.TrainOptions{Out: out, Data: data.Testdata()})
	_, refused := err.(*zoo.OccupiedError)
	fmt.Println("second run refused:", refused)
	// Output:
	// denoising, 32 hidden units, 2 epochs, 2 log lines
	// 100 test images; same test loss as when trained: true
	// second run refused: true
}

// A small table of numbers, as the notebooks print summaries.
func ExampleTable() {
	t := zoo.Table{Header: []string{"model", "test BCE", "active"}}
	t.Add("sparse", "61.8", "19.2%")
	t.Add("contractive", "80.5", "81.5%")
	fmt.Print(t.String())
	// Output:
	// model        test BCE  active
	// sparse           61.8   19.2%
	// contractive      80.5   81.5%
}

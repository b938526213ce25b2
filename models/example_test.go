package models_test

import (
	"context"
	"fmt"
	"sort"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/losses"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	G "gorgonia.org/gorgonia"
)

// A researcher adds a penalty of their own — an L2 activity penalty
// λ·mean_n Σ_j h_j² — to the plain autoencoder, as a graph node, and trains
// the new model like any other.
func Example_customPenalty() {
	err := models.Extend("plain", "plain-l2code", "plain AE + λ·Σ_j h_j²", func(c models.Config, b *graph.Builder) {
		h := b.Model().Outputs["code"]
		sq := b.Must(G.Square(h))
		b.Objective("penalty", b.Scale(c.Lambda, b.Must(losses.BatchMean(sq))))
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	c, _ := models.Defaults("plain-l2code")
	c.Hidden, c.Lambda = 32, 0.05
	trainSet, testSet, _ := data.LoadMNIST(data.Testdata(), 500, 100)
	o := train.DefaultOptions()
	o.Epochs, o.Batch = 1, 50
	t, err := train.New(c, o, trainSet, testSet, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := t.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	m, _ := t.Eval.Evaluate(t.Test)
	var names []string
	for name := range m.Terms {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Println("terms:", names)
	fmt.Println("loss = recon + penalty:", fmt.Sprintf("%.3f", m.Loss) == fmt.Sprintf("%.3f", m.Terms["recon"]+m.Terms["penalty"]))
	fmt.Println("penalty > 0:", m.Terms["penalty"] > 0)
	// Output:
	// terms: [penalty recon]
	// loss = recon + penalty: true
	// penalty > 0: true
}

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
// γ·mean_n Σ_j h_j², with a new hyperparameter γ — to the plain
// autoencoder, as a graph node, and trains the new model like any other.
// Its runs record γ and this package's import path in config.json.
func Example_customPenalty() {
	err := models.Extend(models.Extension{
		Base: "plain", Name: "plain-l2code", Doc: "plain AE + γ·Σ_j h_j²",
		Hypers: []models.NewHyper{{Name: "gamma", Usage: "weight γ of the L2 activity penalty", Default: 0.01}},
		Declare: func(c models.Config, b *graph.Builder) {
			h := b.Declared(graph.Code) // the base model's code
			sq := b.Must(G.Square(h))
			b.Objective(graph.PenaltyTerm, b.Scale(c.Extra("gamma"), b.Must(losses.BatchMean(sq))))
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	c, _ := models.Defaults("plain-l2code")
	c.Hidden = 32
	c.Extras.Set("gamma", 0.05)
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
		names = append(names, string(name))
	}
	sort.Strings(names)
	fmt.Println("terms:", names)
	fmt.Println("loss = recon + penalty:", fmt.Sprintf("%.3f", m.Loss) == fmt.Sprintf("%.3f", m.Terms[graph.ReconTerm]+m.Terms[graph.PenaltyTerm]))
	fmt.Println("penalty > 0:", m.Terms[graph.PenaltyTerm] > 0)
	fmt.Println("registered by:", c.Package)
	// Output:
	// terms: [penalty recon]
	// loss = recon + penalty: true
	// penalty > 0: true
	// registered by: github.com/aezoo/aezoo/models_test
}

// The --latent flag takes one size (one stochastic layer) or two (z1,z2:
// Burda et al.'s two-stochastic-layer VAE).
func ExampleParseLatent() {
	c, _ := models.Defaults("vae")
	c.Latent, c.Latent2, _ = models.ParseLatent("100,50")
	c.Layers, c.Activation = "100,100", "tanh"
	q2, _ := c.Sizes2()
	fmt.Println(c.LatentSizes(), c.TopLatent(), q2)
	// Output: [100 50] 50 [50 50]
}

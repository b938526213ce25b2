package ckpt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	G "gorgonia.org/gorgonia"
)

// TestExtendedModelReloads: a run folder of a model made with
// models.Extend reloads with its extra hyperparameters when the package
// that registers it is linked in (here: this test binary), and otherwise
// fails with a message naming the package to import.
func TestExtendedModelReloads(t *testing.T) {
	err := models.Extend(models.Extension{
		Base: "plain", Name: "plain-ckpt-ext", Doc: "plain + γ·‖∂h/∂x‖²_F",
		Hypers: []models.NewHyper{{Name: "gamma", Usage: "γ", Default: 0.3}},
		Declare: func(c models.Config, b *graph.Builder) {
			jf2 := b.Must(G.Mean(b.Declared(graph.JF2))) // mean over the batch
			b.Objective(graph.PenaltyTerm, b.Scale(c.Extra("gamma"), jf2))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := models.Defaults("plain-ckpt-ext")
	c.Hidden = 4
	if err := c.Extras.Set("gamma", 0.7); err != nil {
		t.Fatal(err)
	}
	store := graph.NewStore()
	if _, err := models.Build(c, graph.Shape{In: 6, Batch: 1}, graph.Float32(), store, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Save(dir, Saved{Model: c, Dtype: "float32", In: 6, Epoch: 1}, store); err != nil {
		t.Fatal(err)
	}
	saved, _, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Model != c {
		t.Errorf("reloaded config %+v, want %+v", saved.Model, c)
	}
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"gamma": 0.7`) || !strings.Contains(string(b), `"package": "github.com/aezoo/aezoo/ckpt"`) {
		t.Errorf("config.json lacks the extension's record:\n%s", b)
	}
	gone := strings.Replace(string(b), `"plain-ckpt-ext"`, `"plain-gone-ext"`, 1)
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(gone), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `import _ "github.com/aezoo/aezoo/ckpt"`) {
		t.Errorf("loading a run of a model not linked in: %v", err)
	}
}

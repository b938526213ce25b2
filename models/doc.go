// Package models is the zoo's catalogue of autoencoders. Each model lives
// in one file that declares its graph with package graph and its penalty
// with package losses, and registers itself by name with its default
// hyperparameters, so that `zoo list`, `zoo train` and notebooks see it.
//
// A model's file owns its hyperparameters: which it reads (Spec.Hypers),
// what they mean for it (Spec.Usage) and which values it accepts
// (Spec.Check). Their values travel in one flat, comparable Config — the
// record saved as a run folder's config.json — whose fields are shared by
// name: Beta is the KL-sparsity weight of "sparse" and the β of "vae".
//
// Extend makes a new model from a registered one plus nodes of its own,
// typically a penalty, with new hyperparameters (Config.Extras); its runs
// record the Go package that registers it, so that a program lacking that
// package says which one to link in.
package models

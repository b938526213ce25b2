// Package models is the zoo's catalogue of autoencoders. Each model lives
// in one file that declares its graph with package graph and its penalty
// with package losses, and registers itself by name with its default
// hyperparameters, so that `zoo list`, `zoo train` and notebooks see it.
//
// All models share one flat Config; each Spec says which of its fields the
// model reads (Hypers) and what their defaults are.
package models

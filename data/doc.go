// Package data reads MNIST-style IDX files, locates the MNIST data set,
// and provides binarization and input-corruption samplers.
package data

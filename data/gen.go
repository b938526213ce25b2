package data

// Regenerate the small MNIST subset in testdata/mnist from the full data set.
//go:generate go run ../internal/mktestdata -out ../testdata/mnist

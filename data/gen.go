package data

// Regenerate the small MNIST subset in data/subset from the full data set.
//go:generate go run ../internal/mktestdata -out subset

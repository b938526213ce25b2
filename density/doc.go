// Package density fits simple densities to vectors (an autoencoder's codes,
// a classifier's features), samples from them, and compares two sets of
// vectors by the Fréchet distance of their Gaussian moments.
//
// It serves ex-post density estimation (Ghosh et al. 2020, "From
// variational to deterministic autoencoders"): a deterministic autoencoder
// becomes a generator by fitting a full-covariance Gaussian or a K-component
// Gaussian mixture to its training codes and decoding samples of that
// density; and the Fréchet distance in a classifier's feature space (the FID
// recipe of Heusel et al. 2017) scores the samples against real data.
//
// Data come as one flat row-major slice of n×dim float64 values, the layout
// of eval.Codes; samples are returned as rows ([][]float64), the layout that
// zoo.Generator.Decode takes. Randomness comes only from the caller's seeded
// *rand.Rand (math/rand/v2), so every fit and every sample is reproducible.
package density

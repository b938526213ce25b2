// Package data reads the zoo's data sets: MNIST-style IDX files, NumPy
// .npy arrays and .npz archives (the Keras layout), and folders of PNG or
// JPEG images with one sub-folder per class (Open, Source). It finds named
// data sets (MNIST, Fashion-MNIST, KMNIST; Find, Available), carries an
// embedded MNIST subset for quick runs (LoadSubset), and provides
// binarization and input-corruption samplers.
package data

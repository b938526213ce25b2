// Command mktestdata writes a small subset of MNIST for the tests.
//
// It reads the full data set found by data.Locate (the -data flag,
// $AEZOO_DATA, or the GoMNIST module in the Go module cache) and writes the
// first -train training and -test test examples as gzip-compressed IDX
// files to the folder -out. The output is deterministic: the gzip headers
// carry no name and no time stamp.
//
// Usage:
//
//	go run ./internal/mktestdata -train 2000 -test 500 -out data/subset
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/aezoo/aezoo/data"
)

func main() {
	var (
		src   = flag.String("data", "", "folder holding the full MNIST (default: $AEZOO_DATA or the GoMNIST module)")
		out   = flag.String("out", filepath.Join("data", "subset"), "output folder")
		train = flag.Int("train", 2000, "number of training examples to keep")
		test  = flag.Int("test", 500, "number of test examples to keep")
	)
	flag.Parse()
	if err := run(*src, *out, *train, *test); err != nil {
		fmt.Fprintln(os.Stderr, "mktestdata:", err)
		os.Exit(1)
	}
}

// run copies the first ntrain and ntest examples from the MNIST folder src
// (located with data.Locate) to out.
func run(src, out string, ntrain, ntest int) error {
	if ntrain <= 0 || ntest <= 0 {
		return errors.Errorf("-train and -test must be positive, got %d and %d", ntrain, ntest)
	}
	dir, err := data.Locate(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return errors.Wrap(err, "creating output folder")
	}
	for _, f := range []struct {
		name string
		n    int
	}{
		{"train-images-idx3-ubyte", ntrain},
		{"train-labels-idx1-ubyte", ntrain},
		{"t10k-images-idx3-ubyte", ntest},
		{"t10k-labels-idx1-ubyte", ntest},
	} {
		if err := copyHead(filepath.Join(dir, f.name+".gz"), filepath.Join(out, f.name+".gz"), f.n); err != nil {
			return err
		}
	}
	return nil
}

// copyHead writes the first n items of the IDX file src to dst as a
// gzip-compressed IDX file.
func copyHead(src, dst string, n int) error {
	m, err := data.ReadIDXFile(src)
	if err != nil {
		return err
	}
	if n > m.Dims[0] {
		return errors.Errorf("%s holds %d items, fewer than the %d asked for", src, m.Dims[0], n)
	}
	item := 1
	for _, d := range m.Dims[1:] {
		item *= d
	}
	dims := append([]int{n}, m.Dims[1:]...)

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return errors.Wrap(err, "gzip")
	}
	// Leave Name and ModTime empty for reproducible output.
	if err := data.WriteIDX(zw, dims, m.Data[:n*item]); err != nil {
		return errors.Wrapf(err, "encoding %s", dst)
	}
	if err := zw.Close(); err != nil {
		return errors.Wrapf(err, "compressing %s", dst)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		return errors.Wrap(err, "writing output")
	}
	fmt.Printf("%s: %d items, %d bytes\n", dst, n, buf.Len())
	return nil
}

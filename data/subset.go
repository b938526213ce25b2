package data

import (
	"embed"
	"io/fs"

	"github.com/pkg/errors"
)

// SubsetName names the embedded MNIST subset in summaries and reports.
const SubsetName = "MNIST subset embedded in the binary (2,000 training + 500 test images)"

// subsetFS holds data/subset: the first 2,000 training and 500 test
// images of MNIST, gzip-compressed IDX files (about 400 kB).
//
//go:embed subset/*.gz
var subsetFS embed.FS

// Subset returns the embedded MNIST subset as a file system whose root
// holds its four IDX files, for LoadFS.
func Subset() fs.FS {
	sub, err := fs.Sub(subsetFS, "subset")
	if err != nil { // cannot happen: "subset" is a valid path
		return subsetFS
	}
	return sub
}

// LoadSubset loads the MNIST subset embedded in the binary, keeping the
// first trainLimit and testLimit examples (all of them for a limit <= 0).
// It needs no file on disk, so an installed zoo runs its quick
// reproduction from any folder.
func LoadSubset(trainLimit, testLimit int) (train, test *Dataset, err error) {
	train, err = LoadFS(Subset(), ".", Train, trainLimit)
	if err != nil {
		return nil, nil, errors.Wrap(err, "embedded MNIST subset")
	}
	test, err = LoadFS(Subset(), ".", Test, testLimit)
	if err != nil {
		return nil, nil, errors.Wrap(err, "embedded MNIST subset")
	}
	return train, test, nil
}

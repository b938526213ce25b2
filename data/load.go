package data

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// Split selects the training or the test part of MNIST.
type Split int

// The MNIST splits.
const (
	Train Split = iota // the training set, files train-*
	Test               // the test set, files t10k-*
)

// String returns "train" or "test".
func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	}
	return "Split(" + strconv.Itoa(int(s)) + ")"
}

// prefix returns the file name prefix of s.
func (s Split) prefix() (string, error) {
	switch s {
	case Train:
		return "train", nil
	case Test:
		return "t10k", nil
	}
	return "", errors.Errorf("unknown split %v", s)
}

// FileNames returns the candidate file names of the images and of the
// labels of split s, in the order Load tries them: the canonical name
// (such as train-images-idx3-ubyte), then the dotted variant (such as
// train-images.idx3-ubyte), each first with and then without a ".gz"
// suffix.
func FileNames(s Split) (images, labels []string, err error) {
	p, err := s.prefix()
	if err != nil {
		return nil, nil, err
	}
	names := func(kind, idx string) []string {
		var out []string
		for _, base := range []string{p + "-" + kind + "-" + idx + "-ubyte", p + "-" + kind + "." + idx + "-ubyte"} {
			out = append(out, base+".gz", base)
		}
		return out
	}
	return names("images", "idx3"), names("labels", "idx1"), nil
}

// findFile returns the first of names that exists as a regular file in
// the folder dir of fsys.
func findFile(fsys fs.FS, dir string, names []string) (string, bool) {
	for _, n := range names {
		p := path.Join(dir, n)
		if fi, err := fs.Stat(fsys, p); err == nil && fi.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

// readIDXFS reads the IDX file name of fsys; shown is the name errors give.
func readIDXFS(fsys fs.FS, name, shown string) (*IDX, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, errors.Wrap(err, "idx")
	}
	defer f.Close()
	m, err := ReadIDX(f)
	if err != nil {
		return nil, errors.Wrapf(err, "reading %s", shown)
	}
	return m, nil
}

// missingError explains that the MNIST files of split s are missing from dir.
func missingError(dir string, s Split, what string, names []string) error {
	return errors.Errorf("MNIST %s %s not found in %s: looked for %s; "+
		"put the MNIST files there, or pass --data DIR or set AEZOO_DATA to a folder that holds them",
		s, what, dir, strings.Join(names, ", "))
}

// Load reads the images and labels of one split from dir, keeping the first
// limit examples (all of them if limit <= 0). It accepts the file names
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
// and t10k-labels-idx1-ubyte, their dotted variants such as
// train-images.idx3-ubyte, each optionally gzip-compressed with a ".gz"
// suffix. The images must have rank 3 (count, rows, cols), the labels rank
// 1, and both the same count. Pixels are scaled by 1/255 into [0,1].
func Load(dir string, split Split, limit int) (*Dataset, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, errors.Wrapf(err, "loading MNIST %s from %s", split, dir)
	}
	root := filepath.VolumeName(abs) + string(filepath.Separator)
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return nil, errors.Wrapf(err, "loading MNIST %s from %s", split, dir)
	}
	return loadFS(os.DirFS(root), filepath.ToSlash(rel), dir, split, limit)
}

// LoadFS is Load on the folder dir of fsys (a slash-separated path, "."
// for the root), for data sets embedded in the binary or in an archive.
func LoadFS(fsys fs.FS, dir string, split Split, limit int) (*Dataset, error) {
	return loadFS(fsys, dir, dir, split, limit)
}

// loadFS is LoadFS; shown is the folder errors name.
func loadFS(fsys fs.FS, dir, shown string, split Split, limit int) (*Dataset, error) {
	imgNames, lblNames, err := FileNames(split)
	if err != nil {
		return nil, err
	}
	imgPath, ok := findFile(fsys, dir, imgNames)
	if !ok {
		return nil, missingError(shown, split, "images", imgNames)
	}
	lblPath, ok := findFile(fsys, dir, lblNames)
	if !ok {
		return nil, missingError(shown, split, "labels", lblNames)
	}
	showPath := func(p string) string { return filepath.Join(shown, path.Base(p)) }
	img, err := readIDXFS(fsys, imgPath, showPath(imgPath))
	if err != nil {
		return nil, errors.Wrapf(err, "loading MNIST %s", split)
	}
	if len(img.Dims) != 3 {
		return nil, errors.Errorf("loading MNIST %s: %s: images must have rank 3 (count, rows, cols), got dims %s",
			split, showPath(imgPath), dimString(img.Dims))
	}
	lbl, err := readIDXFS(fsys, lblPath, showPath(lblPath))
	if err != nil {
		return nil, errors.Wrapf(err, "loading MNIST %s", split)
	}
	if len(lbl.Dims) != 1 {
		return nil, errors.Errorf("loading MNIST %s: %s: labels must have rank 1, got dims %s",
			split, showPath(lblPath), dimString(lbl.Dims))
	}
	d, err := NewDataset(img, lbl, limit)
	if err != nil {
		return nil, errors.Wrapf(err, "loading MNIST %s from %s", split, shown)
	}
	return d, nil
}

// NewDataset builds a Dataset from decoded images of rank 3 (count, rows,
// cols) and labels of rank 1, keeping the first limit examples (all of them
// if limit <= 0). Pixels are scaled by 1/255 into [0,1]; the label bytes
// are copied.
func NewDataset(images, labels *IDX, limit int) (*Dataset, error) {
	if images == nil || labels == nil {
		return nil, errors.New("nil images or labels")
	}
	if len(images.Dims) != 3 {
		return nil, errors.Errorf("images must have rank 3 (count, rows, cols), got dims %s", dimString(images.Dims))
	}
	if len(labels.Dims) != 1 {
		return nil, errors.Errorf("labels must have rank 1, got dims %s", dimString(labels.Dims))
	}
	for _, m := range []*IDX{images, labels} {
		for _, d := range m.Dims {
			if d < 0 || d > maxIDXElements {
				return nil, errors.Errorf("invalid dims %s", dimString(m.Dims))
			}
		}
	}
	n, rows, cols := images.Dims[0], images.Dims[1], images.Dims[2]
	if rows > 0 && cols > maxIDXElements/rows {
		return nil, errors.Errorf("invalid dims %s: too many pixels per image", dimString(images.Dims))
	}
	if n != labels.Dims[0] {
		return nil, errors.Errorf("image/label count mismatch: %d images, %d labels", n, labels.Dims[0])
	}
	dim := rows * cols
	if dim > 0 && n > maxIDXElements/dim {
		return nil, errors.Errorf("invalid dims %s: too many elements", dimString(images.Dims))
	}
	if len(images.Data) != n*dim || len(labels.Data) != n {
		return nil, errors.Errorf("inconsistent IDX: dims %s with %d bytes, dims %s with %d bytes",
			dimString(images.Dims), len(images.Data), dimString(labels.Dims), len(labels.Data))
	}
	if limit > 0 && limit < n {
		n = limit
	}
	var scale [256]float32
	for i := range scale {
		scale[i] = float32(i) / 255
	}
	d := &Dataset{
		X:      make([]float32, n*dim),
		Labels: make([]uint8, n),
		N:      n,
		D:      dim,
		Rows:   rows,
		Cols:   cols,
	}
	for i, b := range images.Data[:n*dim] {
		d.X[i] = scale[b]
	}
	copy(d.Labels, labels.Data)
	return d, nil
}

// LoadMNIST loads the training and test sets from dir, keeping the first
// trainLimit and testLimit examples (all of them for a limit <= 0).
func LoadMNIST(dir string, trainLimit, testLimit int) (train, test *Dataset, err error) {
	train, err = Load(dir, Train, trainLimit)
	if err != nil {
		return nil, nil, err
	}
	test, err = Load(dir, Test, testLimit)
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

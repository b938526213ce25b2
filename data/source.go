package data

import (
	"bytes"
	"image"
	"image/color"
	_ "image/jpeg" // JPEG images in image folders
	_ "image/png"  // PNG images in image folders
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/aezoo/aezoo/internal/npy"
	"github.com/pkg/errors"
	"golang.org/x/image/draw"
)

// Source says where a data set comes from: a named data set, or a path
// to a folder of MNIST-style IDX files, a .npy array, a .npz archive or
// a folder of images with one sub-folder per class. The zero Source is
// MNIST, located as Locate does.
type Source struct {
	// Dataset is a named data set (--dataset); it excludes Path.
	Dataset Name
	// Path is a folder of IDX files, a .npy or .npz file, or an image
	// folder (--data).
	Path string
	// Labels is a .npy file of labels for a .npy Path (--labels).
	Labels string
	// Rows and Cols, when positive, resize the images of an image folder
	// (--size HxW).
	Rows, Cols int
	// HoldOut is the fraction of the examples held out as the test set
	// when the source has no test split (0: DefaultHoldOut).
	HoldOut float64
	// Seed seeds the held-out split.
	Seed uint64
	// Lookup finds named data sets.
	Lookup LookupOptions
}

// DefaultHoldOut is the fraction of a source without a test split that
// is held out as the test set.
const DefaultHoldOut = 0.2

// ParseSize parses --size HxW (such as 28x28).
func ParseSize(s string) (rows, cols int, err error) {
	h, w, ok := strings.Cut(strings.ToLower(s), "x")
	if ok {
		rows, err = strconv.Atoi(h)
		if err == nil {
			cols, err = strconv.Atoi(w)
		}
	}
	if !ok || err != nil || rows <= 0 || cols <= 0 || rows > 4096 || cols > 4096 {
		return 0, 0, errors.Errorf("invalid size %q: want HxW with positive H and W up to 4096, such as 28x28", s)
	}
	return rows, cols, nil
}

// Open loads the training and test sets of src, keeping the first
// trainLimit and testLimit examples (all of them for a limit <= 0). where
// describes the source for summaries; it states a held-out split when the
// source had no test split.
func Open(src Source, trainLimit, testLimit int) (train, test *Dataset, where string, err error) {
	if src.Dataset != "" {
		if src.Path != "" {
			return nil, nil, "", errors.New("give either a named data set (--dataset) or a path (--data), not both")
		}
		return LoadNamed(src.Dataset, src.Lookup, trainLimit, testLimit)
	}
	if src.Labels != "" && !strings.EqualFold(filepath.Ext(src.Path), ".npy") {
		return nil, nil, "", errors.Errorf("--labels %s goes with a .npy --data file", src.Labels)
	}
	switch strings.ToLower(filepath.Ext(src.Path)) {
	case ".npy":
		train, test, where, err = openNpy(src)
	case ".npz":
		train, test, where, err = openNpz(src)
	default:
		if src.Path != "" && isDir(src.Path) && !hasIDX(src.Path) && hasSubdirs(src.Path) {
			train, test, where, err = openImages(src)
		} else {
			var dir string
			if dir, err = Locate(src.Path); err != nil {
				return nil, nil, "", err
			}
			train, test, err = LoadMNIST(dir, trainLimit, testLimit)
			return train, test, dir, err
		}
	}
	if err != nil {
		return nil, nil, "", err
	}
	return train.Limit(trainLimit), test.Limit(testLimit), where, nil
}

// hasSubdirs reports whether dir has a sub-folder.
func hasSubdirs(dir string) bool {
	es, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range es {
		if e.IsDir() {
			return true
		}
	}
	return false
}

// readArrayFile reads a .npy file.
func readArrayFile(path string) (*npy.Array, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "reading array")
	}
	a, err := npy.Read(bytes.NewReader(b), int64(len(b)), nil)
	return a, errors.Wrap(err, path)
}

// fromArrays builds a Dataset from an image array (N×D, N×H×W or
// N×H×W×C with C 1 or 3) and optional labels (length N, integers 0–255).
// uint8 pixels are scaled by 1/255; float pixels must lie in [0,1].
func fromArrays(x, y *npy.Array, what string) (*Dataset, error) {
	if x.Dtype == "b1" {
		return nil, errors.Errorf("%s: boolean images are not supported", what)
	}
	var n, rows, cols, ch int
	switch len(x.Shape) {
	case 2:
		n, rows, cols, ch = x.Shape[0], 1, x.Shape[1], 1
	case 3:
		n, rows, cols, ch = x.Shape[0], x.Shape[1], x.Shape[2], 1
	case 4:
		n, rows, cols, ch = x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		if ch != 1 && ch != 3 {
			return nil, errors.Errorf("%s: shape %v: the last axis must be 1 (grey) or 3 (RGB) channels", what, x.Shape)
		}
	default:
		return nil, errors.Errorf("%s: shape %v: want N×D, N×H×W or N×H×W×C", what, x.Shape)
	}
	if len(x.Shape) == 2 {
		// A square D is drawn as a square image.
		if s := int(math.Sqrt(float64(cols))); s*s == cols {
			rows, cols = s, s
		}
	}
	v := x.Float64s()
	scale := 1.0
	switch x.Dtype {
	case "f4", "f8":
	case "u1":
		scale = 1.0 / 255
	default:
		return nil, errors.Errorf("%s: dtype %s: want uint8 (0–255), float32 or float64 (0–1)", what, x.Dtype)
	}
	d := &Dataset{N: n, D: rows * cols * ch, Rows: rows, Cols: cols, Channels: ch, X: make([]float32, len(v))}
	for i, f := range v {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.Errorf("%s: element %d (example %d) is %v", what, i, i/d.D, f)
		}
		f *= scale
		if f < 0 || f > 1 {
			return nil, errors.Errorf("%s: element %d (example %d) is %v, outside [0,1] (float pixels must be scaled to [0,1])", what, i, i/d.D, v[i])
		}
		d.X[i] = float32(f)
	}
	d.Labels = make([]uint8, n)
	if y != nil {
		if len(y.Shape) != 1 && !(len(y.Shape) == 2 && y.Shape[1] == 1) {
			return nil, errors.Errorf("%s: labels have shape %v, want (N,)", what, y.Shape)
		}
		if y.Shape[0] != n {
			return nil, errors.Errorf("%s: %d labels for %d examples", what, y.Shape[0], n)
		}
		for i, l := range y.Float64s() {
			if l != math.Trunc(l) || l < 0 || l > 255 {
				return nil, errors.Errorf("%s: label %d is %v, want an integer in 0–255", what, i, l)
			}
			d.Labels[i] = uint8(l)
		}
	}
	return d, nil
}

// split holds out a seeded fraction of d as the test set.
func split(d *Dataset, frac float64, seed uint64) (train, test *Dataset, err error) {
	if frac == 0 {
		frac = DefaultHoldOut
	}
	if !(frac > 0 && frac < 1) {
		return nil, nil, errors.Errorf("held-out fraction %v must be in (0,1)", frac)
	}
	nTest := int(math.Round(frac * float64(d.N)))
	if nTest < 1 || nTest >= d.N {
		return nil, nil, errors.Errorf("%d examples are too few to hold out a test set (need at least 2)", d.N)
	}
	perm := rand.New(rand.NewPCG(seed, 0x5e11)).Perm(d.N)
	pick := func(idx []int) *Dataset {
		out := *d
		out.N = len(idx)
		out.X = make([]float32, len(idx)*d.D)
		d.Gather(idx, out.X)
		out.Labels = make([]uint8, len(idx))
		for k, i := range idx {
			out.Labels[k] = d.Labels[i]
		}
		return &out
	}
	return pick(perm[nTest:]), pick(perm[:nTest]), nil
}

// heldOut describes a held-out split for where.
func heldOut(path string, src Source, train, test *Dataset) string {
	frac := src.HoldOut
	if frac == 0 {
		frac = DefaultHoldOut
	}
	return path + " (no test split: " + strconv.Itoa(test.N) + " examples (" + strconv.FormatFloat(100*frac, 'g', 3, 64) +
		"%) held out as the test set, seed " + strconv.FormatUint(src.Seed, 10) + "; " + strconv.Itoa(train.N) + " for training)"
}

func openNpy(src Source) (train, test *Dataset, where string, err error) {
	x, err := readArrayFile(src.Path)
	if err != nil {
		return nil, nil, "", err
	}
	var y *npy.Array
	if src.Labels != "" {
		if y, err = readArrayFile(src.Labels); err != nil {
			return nil, nil, "", err
		}
	}
	d, err := fromArrays(x, y, src.Path)
	if err != nil {
		return nil, nil, "", err
	}
	if train, test, err = split(d, src.HoldOut, src.Seed); err != nil {
		return nil, nil, "", errors.Wrap(err, src.Path)
	}
	return train, test, heldOut(src.Path, src, train, test), nil
}

func openNpz(src Source) (train, test *Dataset, where string, err error) {
	b, err := os.ReadFile(src.Path)
	if err != nil {
		return nil, nil, "", errors.Wrap(err, "reading archive")
	}
	arrays, err := npy.ReadNpz(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		return nil, nil, "", errors.Wrap(err, src.Path)
	}
	get := func(name string) (*Dataset, error) {
		x := arrays["x_"+name]
		if x == nil {
			return nil, nil
		}
		return fromArrays(x, arrays["y_"+name], src.Path+": x_"+name)
	}
	if train, err = get("train"); err != nil {
		return nil, nil, "", err
	}
	if train == nil {
		var names []string
		for k := range arrays {
			names = append(names, k)
		}
		sort.Strings(names)
		return nil, nil, "", errors.Errorf("%s: no x_train array (Keras layout: x_train, y_train, x_test, y_test); it holds %s",
			src.Path, strings.Join(names, ", "))
	}
	if test, err = get("test"); err != nil {
		return nil, nil, "", err
	}
	if test == nil {
		if train, test, err = split(train, src.HoldOut, src.Seed); err != nil {
			return nil, nil, "", errors.Wrap(err, src.Path)
		}
		return train, test, heldOut(src.Path, src, train, test), nil
	}
	if test.D != train.D || test.Rows != train.Rows || test.Cols != train.Cols || test.Channels != train.Channels {
		return nil, nil, "", errors.Errorf("%s: x_test has images of %s, x_train of %s", src.Path, test.ShapeString(), train.ShapeString())
	}
	return train, test, src.Path, nil
}

// imageExts are the file name extensions read from image folders.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true}

// openImages reads an image folder: one sub-folder per class (classes
// numbered in sorted order), PNG or JPEG images all of one size unless
// src.Rows and src.Cols resize them. If every image is grey the set is
// grey, else RGB (3 channels, D = H·W·3).
func openImages(src Source) (train, test *Dataset, where string, err error) {
	es, err := os.ReadDir(src.Path)
	if err != nil {
		return nil, nil, "", errors.Wrap(err, "reading image folder")
	}
	var classes []string
	for _, e := range es {
		if e.IsDir() {
			classes = append(classes, e.Name())
		}
	}
	sort.Strings(classes)
	if len(classes) > 256 {
		return nil, nil, "", errors.Errorf("%s: %d class folders, at most 256", src.Path, len(classes))
	}
	type item struct {
		img   image.Image
		label uint8
		path  string
	}
	var items []item
	grey := true
	for ci, c := range classes {
		files, err := os.ReadDir(filepath.Join(src.Path, c))
		if err != nil {
			return nil, nil, "", errors.Wrap(err, "reading image folder")
		}
		for _, f := range files {
			if f.IsDir() || !imageExts[strings.ToLower(filepath.Ext(f.Name()))] {
				continue
			}
			p := filepath.Join(src.Path, c, f.Name())
			img, err := decodeImage(p)
			if err != nil {
				return nil, nil, "", err
			}
			if !isGrey(img) {
				grey = false
			}
			items = append(items, item{img, uint8(ci), p})
		}
	}
	if len(items) == 0 {
		return nil, nil, "", errors.Errorf("%s: no PNG or JPEG images in its class sub-folders", src.Path)
	}
	rows, cols := src.Rows, src.Cols
	resize := rows > 0 && cols > 0
	if !resize {
		b := items[0].img.Bounds()
		rows, cols = b.Dy(), b.Dx()
	}
	ch := 3
	if grey {
		ch = 1
	}
	d := &Dataset{N: len(items), Rows: rows, Cols: cols, Channels: ch, D: rows * cols * ch,
		X: make([]float32, len(items)*rows*cols*ch), Labels: make([]uint8, len(items))}
	dst := image.NewRGBA64(image.Rect(0, 0, cols, rows))
	for i, it := range items {
		b := it.img.Bounds()
		if !resize && (b.Dy() != rows || b.Dx() != cols) {
			return nil, nil, "", errors.Errorf("%s is %d×%d, but %s is %d×%d: images must all have one size, or pass --size HxW to resize them",
				it.path, b.Dy(), b.Dx(), items[0].path, rows, cols)
		}
		draw.CatmullRom.Scale(dst, dst.Bounds(), it.img, b, draw.Src, nil)
		row := d.X[i*d.D : (i+1)*d.D]
		for y := range rows {
			for x := range cols {
				c := dst.RGBA64At(x, y)
				k := (y*cols + x) * ch
				if ch == 1 {
					row[k] = float32(c.R) / 0xffff
				} else {
					row[k], row[k+1], row[k+2] = float32(c.R)/0xffff, float32(c.G)/0xffff, float32(c.B)/0xffff
				}
			}
		}
		d.Labels[i] = it.label
	}
	if train, test, err = split(d, src.HoldOut, src.Seed); err != nil {
		return nil, nil, "", errors.Wrap(err, src.Path)
	}
	return train, test, heldOut(src.Path, src, train, test) + ", classes " + strings.Join(classes, ", "), nil
}

// decodeImage reads a PNG or JPEG file.
func decodeImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "reading image")
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return nil, errors.Errorf("%s: not a readable PNG or JPEG image: %v", path, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > 8192 || cfg.Height > 8192 {
		return nil, errors.Errorf("%s: image size %d×%d is not supported (1 to 8192 pixels a side)", path, cfg.Height, cfg.Width)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, errors.Wrap(err, path)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, errors.Errorf("%s: not a readable PNG or JPEG image: %v", path, err)
	}
	return img, nil
}

// isGrey reports whether every pixel of img has equal R, G and B.
func isGrey(img image.Image) bool {
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		return true
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBA64Model.Convert(img.At(x, y)).(color.RGBA64)
			if c.R != c.G || c.G != c.B {
				return false
			}
		}
	}
	return true
}

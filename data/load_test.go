package data

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadTestdata(t *testing.T) {
	dir := Testdata()
	for _, test := range []struct {
		split      Split
		limit      int
		wantN      int
		firstLabel uint8
	}{
		{Train, 0, 2000, 5},
		{Test, 0, 500, 7},
		{Train, -3, 2000, 5},
		{Train, 10, 10, 5},
		{Test, 1, 1, 7},
		{Test, 501, 500, 7},
	} {
		d, err := Load(dir, test.split, test.limit)
		if err != nil {
			t.Fatalf("%v limit %d: %v", test.split, test.limit, err)
		}
		if d.N != test.wantN || d.D != 784 || d.Rows != 28 || d.Cols != 28 {
			t.Errorf("%v limit %d: N=%d D=%d %dx%d, want N=%d D=784 28x28", test.split, test.limit, d.N, d.D, d.Rows, d.Cols, test.wantN)
		}
		if len(d.X) != d.N*d.D || len(d.Labels) != d.N {
			t.Errorf("%v limit %d: len(X)=%d len(Labels)=%d", test.split, test.limit, len(d.X), len(d.Labels))
		}
		if d.Labels[0] != test.firstLabel {
			t.Errorf("%v: first label %d, want %d", test.split, d.Labels[0], test.firstLabel)
		}
		var lo, hi float32 = 1, 0
		for _, v := range d.X {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != 0 || hi != 1 {
			t.Errorf("%v limit %d: pixels in [%v,%v], want exactly [0,1]", test.split, test.limit, lo, hi)
		}
		for i, l := range d.Labels {
			if l > 9 {
				t.Errorf("%v: label %d is %d", test.split, i, l)
				break
			}
		}
	}
}

func TestLoadMNIST(t *testing.T) {
	train, test, err := LoadMNIST(Testdata(), 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 100 || test.N != 500 {
		t.Errorf("N = %d, %d, want 100, 500", train.N, test.N)
	}
	if _, _, err := LoadMNIST(t.TempDir(), 0, 0); err == nil {
		t.Error("empty folder: no error")
	}
}

// writeSplit writes IDX images (n×rows×cols) and labels (nl) for the
// training split to dir under the given names; gz selects compression.
func writeSplit(t *testing.T, dir, imgName, lblName string, gz bool, imgDims []uint32, nl int) {
	t.Helper()
	size := 1
	for _, d := range imgDims {
		size *= int(d)
	}
	pix := make([]byte, size)
	for i := range pix {
		pix[i] = byte(i)
	}
	img := encodeIDX(0x08, imgDims, pix)
	lbl := encodeIDX(0x08, []uint32{uint32(nl)}, bytes.Repeat([]byte{200}, nl))
	if gz {
		img, lbl = gzipBytes(t, img), gzipBytes(t, lbl)
	}
	writeFile(t, dir, imgName, img)
	writeFile(t, dir, lblName, lbl)
}

func TestLoadFiles(t *testing.T) {
	for _, test := range []struct {
		name             string
		imgName, lblName string
		gz               bool
		imgDims          []uint32
		nLabels          int
		wantErr          []string // empty for success
	}{
		{"raw", "train-images-idx3-ubyte", "train-labels-idx1-ubyte", false, []uint32{3, 2, 2}, 3, nil},
		{"gzip", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", true, []uint32{3, 2, 2}, 3, nil},
		{"dotted", "train-images.idx3-ubyte", "train-labels.idx1-ubyte", false, []uint32{3, 2, 2}, 3, nil},
		{"dotted-gzip", "train-images.idx3-ubyte.gz", "train-labels.idx1-ubyte.gz", true, []uint32{3, 2, 2}, 3, nil},
		{"mismatch", "train-images-idx3-ubyte", "train-labels-idx1-ubyte", false, []uint32{2000, 2, 2}, 1999,
			[]string{"image/label count mismatch: 2000 images, 1999 labels"}},
		{"image-rank", "train-images-idx3-ubyte", "train-labels-idx1-ubyte", false, []uint32{3, 4}, 3,
			[]string{"rank 3", "3x4", "train-images-idx3-ubyte"}},
		{"label-rank", "train-images-idx3-ubyte", "train-labels-idx1-ubyte", false, []uint32{3, 2, 2}, -1,
			[]string{"labels must have rank 1"}},
		{"missing-labels", "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte", false, []uint32{3, 2, 2}, 3,
			[]string{"labels not found", "train-labels-idx1-ubyte.gz", "train-labels.idx1-ubyte", "--data DIR", "AEZOO_DATA"}},
		{"missing-images", "t10k-images-idx3-ubyte", "train-labels-idx1-ubyte", false, []uint32{3, 2, 2}, 3,
			[]string{"images not found", "train-images-idx3-ubyte", "--data DIR", "AEZOO_DATA"}},
		{"corrupt", "train-images-idx3-ubyte", "train-labels-idx1-ubyte", false, []uint32{3, 2, 2}, 3,
			[]string{"truncated", "train-images-idx3-ubyte"}},
	} {
		dir := t.TempDir()
		writeSplit(t, dir, test.imgName, test.lblName, test.gz, test.imgDims, max(test.nLabels, 0))
		switch test.name {
		case "label-rank":
			writeFile(t, dir, test.lblName, encodeIDX(0x08, []uint32{3, 1}, []byte{1, 2, 3}))
		case "corrupt":
			path := filepath.Join(dir, test.imgName)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, test.imgName, b[:len(b)-1])
		}
		d, err := Load(dir, Train, 0)
		if len(test.wantErr) == 0 {
			if err != nil {
				t.Errorf("%s: %v", test.name, err)
				continue
			}
			if d.N != 3 || d.D != 4 || d.Rows != 2 || d.Cols != 2 {
				t.Errorf("%s: N=%d D=%d %dx%d", test.name, d.N, d.D, d.Rows, d.Cols)
			}
			for i, v := range d.X {
				if want := float32(i) / 255; v != want {
					t.Errorf("%s: X[%d] = %v, want %v", test.name, i, v, want)
				}
			}
			if d.Labels[2] != 200 {
				t.Errorf("%s: label %d, want 200 (labels are not restricted to digits)", test.name, d.Labels[2])
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error", test.name)
			continue
		}
		for _, want := range append(test.wantErr, dir) {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not mention %q", test.name, err, want)
			}
		}
	}
}

func TestLoadBadSplit(t *testing.T) {
	if _, err := Load(Testdata(), Split(7), 0); err == nil || !strings.Contains(err.Error(), "unknown split") {
		t.Errorf("error %v, want unknown split", err)
	}
}

func TestSplitString(t *testing.T) {
	for _, test := range []struct {
		s    Split
		want string
	}{
		{Train, "train"},
		{Test, "test"},
		{Split(5), "Split(5)"},
	} {
		if got := test.s.String(); got != test.want {
			t.Errorf("%d: %q, want %q", int(test.s), got, test.want)
		}
	}
}

func TestNewDatasetErrors(t *testing.T) {
	img := &IDX{Dims: []int{2, 1, 2}, Data: []byte{1, 2, 3, 4}}
	lbl := &IDX{Dims: []int{2}, Data: []byte{0, 1}}
	for _, test := range []struct {
		name     string
		img, lbl *IDX
		wantErr  string
	}{
		{"nil", nil, lbl, "nil"},
		{"rank", &IDX{Dims: []int{4}, Data: []byte{1, 2, 3, 4}}, lbl, "rank 3"},
		{"short-data", &IDX{Dims: []int{2, 1, 2}, Data: []byte{1}}, lbl, "inconsistent"},
		{"count", img, &IDX{Dims: []int{1}, Data: []byte{0}}, "2 images, 1 labels"},
		{"negative", &IDX{Dims: []int{0, -5, 5}}, &IDX{Dims: []int{0}}, "invalid dims"},
		{"overflow", &IDX{Dims: []int{2, 1 << 40, 1 << 40}}, lbl, "invalid dims"},
		{"overflow-product", &IDX{Dims: []int{1 << 20, 1 << 10, 1 << 10}}, &IDX{Dims: []int{1 << 20}}, "too many"},
	} {
		_, err := NewDataset(test.img, test.lbl, 0)
		if err == nil || !strings.Contains(err.Error(), test.wantErr) {
			t.Errorf("%s: error %v, want %q", test.name, err, test.wantErr)
		}
	}
}

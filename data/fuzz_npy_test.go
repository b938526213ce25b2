package data

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"github.com/aezoo/aezoo/internal/npy"
)

// FuzzReadArrays checks that the .npy and .npz readers and the array
// checks never panic, that a decoded array writes back to an equal one,
// and that every Dataset they build is consistent, with pixels in [0,1].
func FuzzReadArrays(f *testing.F) {
	enc := func(a *npy.Array) []byte {
		var b bytes.Buffer
		npy.Write(&b, a)
		return b.Bytes()
	}
	encZ := func(m map[string]*npy.Array) []byte {
		var b bytes.Buffer
		npy.WriteNpz(&b, m)
		return b.Bytes()
	}
	f.Add(enc(bytesArray(3, 2, 2)))
	f.Add(enc(npy.FromFloat32s([]float32{0, 0.5, 1, 0.25}, 2, 2)))
	f.Add(enc(npy.FromFloat64s([]float64{0, math.NaN(), 1, 2}, 1, 2, 2)))
	f.Add(enc(labelsArray(4)))
	f.Add(enc(npy.FromFloat32s(make([]float32, 12), 1, 2, 2, 3)))
	f.Add(encZ(map[string]*npy.Array{"x_train": bytesArray(3, 2, 2), "y_train": labelsArray(3)}))
	f.Add(encZ(map[string]*npy.Array{"x_train": bytesArray(2, 4), "x_test": bytesArray(1, 4)}))
	f.Fuzz(func(t *testing.T, in []byte) {
		check := func(d *Dataset, err error) {
			if err != nil {
				return
			}
			if d.N <= 0 || d.D <= 0 || len(d.X) != d.N*d.D || len(d.Labels) != d.N || d.Rows*d.Cols*max(d.Channels, 1) != d.D {
				t.Fatalf("inconsistent dataset N=%d D=%d %s len(X)=%d len(Labels)=%d", d.N, d.D, d.ShapeString(), len(d.X), len(d.Labels))
			}
			for _, v := range d.X {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("pixel %v outside [0,1]", v)
				}
			}
		}
		if a, err := npy.Read(bytes.NewReader(in), int64(len(in)), nil); err == nil {
			if a.Len()*npy.Width(a.Dtype) != len(a.Data) {
				t.Fatalf("%s %v with %d bytes", a.Dtype, a.Shape, len(a.Data))
			}
			back, err := npy.Read(bytes.NewReader(enc(a)), 0, nil)
			if err != nil || back.Dtype != a.Dtype || !slices.Equal(back.Shape, a.Shape) || !bytes.Equal(back.Data, a.Data) {
				t.Fatalf("round trip of %s %v: %v", a.Dtype, a.Shape, err)
			}
			check(fromArrays(a, nil, "fuzz"))
			check(fromArrays(a, a, "fuzz"))
		}
		if m, err := npy.ReadNpz(bytes.NewReader(in), int64(len(in)), nil); err == nil {
			for _, a := range m {
				check(fromArrays(a, m["y_train"], "fuzz"))
			}
		}
	})
}

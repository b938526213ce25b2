package npy

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, a := range []*Array{
		{Dtype: "u1", Shape: []int{2, 3}, Data: []byte{0, 1, 2, 253, 254, 255}},
		FromFloat32s([]float32{0, 0.5, 1}, 3),
		FromFloat64s([]float64{0.25, 1, 0, 0.75}, 1, 2, 2),
		FromInt64s([]int64{-1, 7}, 2),
	} {
		var b bytes.Buffer
		if err := Write(&b, a); err != nil {
			t.Fatal(err)
		}
		if (b.Len()-len(a.Data))%64 != 0 {
			t.Errorf("%s: header not padded to 64 bytes", a.Dtype)
		}
		got, err := Read(bytes.NewReader(b.Bytes()), int64(b.Len()), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.Dtype != a.Dtype || !slices.Equal(got.Shape, a.Shape) || !bytes.Equal(got.Data, a.Data) {
			t.Errorf("round trip of %s %v gave %s %v", a.Dtype, a.Shape, got.Dtype, got.Shape)
		}
	}
	if v := FromInt64s([]int64{-1, 7}, 2).Float64s(); !slices.Equal(v, []float64{-1, 7}) {
		t.Errorf("Float64s = %v", v)
	}
}

func TestReadRejects(t *testing.T) {
	header := func(version byte, h string) []byte {
		b := []byte("\x93NUMPY")
		b = append(b, version, 0)
		if version == 1 {
			b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
		} else {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(h)))
		}
		return append(b, h...)
	}
	for _, tc := range []struct {
		name    string
		in      []byte
		allowed []string
		want    string
	}{
		{"big endian", header(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }"), nil, "big-endian"},
		{"fortran", header(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }"), nil, "C-order"},
		{"object", header(1, "{'descr': '|O8', 'fortran_order': False, 'shape': (1,), }"), nil, "header has no dtype"},
		{"not allowed", header(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }\x07"), []string{"f4"}, "want f4"},
		{"rank 5", header(2, "{'descr': '|u1', 'fortran_order': False, 'shape': (1,1,1,1,1), }\x07"), nil, "rank 5"},
		{"huge", header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }"), nil, "too large"},
		{"truncated data", header(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\x00\x00"), nil, "truncated"},
	} {
		_, err := Read(bytes.NewReader(tc.in), 0, tc.allowed)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	// Version 2 headers read.
	a, err := Read(bytes.NewReader(append(header(2, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }"), 5, 6)), 0, nil)
	if err != nil || !bytes.Equal(a.Data, []byte{5, 6}) {
		t.Errorf("version 2: %v", err)
	}
}

package data

import (
	"bytes"
	"testing"
)

// FuzzReadIDX checks that ReadIDX never panics, that the sized and the
// streaming code paths agree, and that a decoded file is consistent and
// encodes back to its input.
func FuzzReadIDX(f *testing.F) {
	f.Add(encodeIDX(0x08, []uint32{3}, []byte{1, 2, 3}))
	f.Add(encodeIDX(0x08, []uint32{2, 2, 2}, make([]byte, 8)))
	f.Add(gzipBytes(f, encodeIDX(0x08, []uint32{1, 2}, []byte{9, 9})))
	f.Add(encodeIDX(0x08, []uint32{60000, 28, 28}, make([]byte, 10)))
	f.Fuzz(func(t *testing.T, in []byte) {
		sized, errSized := ReadIDX(bytes.NewReader(in))
		streamed, errStream := ReadIDX(streamReader{bytes.NewReader(in)})
		if (errSized == nil) != (errStream == nil) {
			t.Fatalf("sized reader error %v, stream reader error %v", errSized, errStream)
		}
		if errSized != nil {
			return
		}
		for _, m := range []*IDX{sized, streamed} {
			if len(m.Dims) < 1 || len(m.Dims) > 4 {
				t.Fatalf("rank %d", len(m.Dims))
			}
			n := 1
			for _, d := range m.Dims {
				if d < 0 {
					t.Fatalf("negative dimension in %v", m.Dims)
				}
				n *= d
			}
			if len(m.Data) != n {
				t.Fatalf("dims %v but %d bytes of data", m.Dims, len(m.Data))
			}
		}
		if !bytes.Equal(sized.Data, streamed.Data) {
			t.Fatal("sized and stream readers decode different data")
		}
		var buf bytes.Buffer
		if err := WriteIDX(&buf, sized.Dims, sized.Data); err != nil {
			t.Fatalf("WriteIDX of a decoded file: %v", err)
		}
		if len(in) < 2 || in[0] != 0x1f || in[1] != 0x8b {
			if !bytes.Equal(buf.Bytes(), in) {
				t.Fatal("re-encoding differs from the input")
			}
		}
	})
}

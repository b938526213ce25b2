package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestIDXRoundTrip(t *testing.T) {
	seq := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 7)
		}
		return b
	}
	for _, test := range []struct {
		name string
		dims []int
	}{
		{"rank1", []int{10}},
		{"rank1-empty", []int{0}},
		{"rank2", []int{3, 5}},
		{"rank3", []int{4, 28, 28}},
		{"rank3-zero", []int{0, 28, 28}},
		{"rank4", []int{2, 3, 4, 5}},
	} {
		n := 1
		for _, d := range test.dims {
			n *= d
		}
		data := seq(n)
		var raw bytes.Buffer
		if err := WriteIDX(&raw, test.dims, data); err != nil {
			t.Fatalf("%s: WriteIDX: %v", test.name, err)
		}
		if got, want := raw.Len(), 4+4*len(test.dims)+n; got != want {
			t.Errorf("%s: encoded %d bytes, want %d", test.name, got, want)
		}
		for _, kind := range readerKinds {
			m, err := ReadIDX(openAs(t, kind, raw.Bytes()))
			if err != nil {
				t.Errorf("%s/%s: ReadIDX: %v", test.name, kind, err)
				continue
			}
			if !reflect.DeepEqual(m.Dims, test.dims) {
				t.Errorf("%s/%s: dims %v, want %v", test.name, kind, m.Dims, test.dims)
			}
			if !bytes.Equal(m.Data, data) {
				t.Errorf("%s/%s: data differs", test.name, kind)
			}
		}
	}
}

func TestReadIDXFile(t *testing.T) {
	dir := t.TempDir()
	raw := encodeIDX(0x08, []uint32{2, 2}, []byte{1, 2, 3, 4})
	writeFile(t, dir, "raw", raw)
	writeFile(t, dir, "gz", gzipBytes(t, raw))
	writeFile(t, dir, "short", raw[:len(raw)-1])
	for _, test := range []struct {
		name    string
		wantErr string // empty for success
	}{
		{"raw", ""},
		{"gz", ""},
		{"short", "truncated"},
		{"missing", "no such file"},
	} {
		path := filepath.Join(dir, test.name)
		m, err := ReadIDXFile(path)
		if test.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", test.name, err)
			} else if !reflect.DeepEqual(m.Data, []byte{1, 2, 3, 4}) {
				t.Errorf("%s: data %v", test.name, m.Data)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error", test.name)
			continue
		}
		if !strings.Contains(err.Error(), test.wantErr) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q should mention %q and the path", test.name, err, test.wantErr)
		}
	}
}

func TestReadIDXErrors(t *testing.T) {
	for _, test := range []struct {
		name    string
		in      []byte
		wantErr []string
	}{
		{"empty", nil, []string{"too short"}},
		{"short-magic", []byte{0, 0, 8}, []string{"too short"}},
		{"bad-magic", []byte("ABCD\x00\x00\x00\x01x"), []string{"bad magic", "0x41"}},
		{"float-type", encodeIDX(0x0D, []uint32{1}, []byte{0, 0, 0, 0}), []string{"unsupported element type", "0x0d", "float32"}},
		{"unknown-type", encodeIDX(0x42, []uint32{1}, []byte{0}), []string{"unknown element type", "0x42"}},
		{"rank0", encodeIDX(0x08, nil, nil), []string{"rank 0"}},
		{"rank5", encodeIDX(0x08, []uint32{1, 1, 1, 1, 1}, []byte{0}), []string{"rank 5"}},
		{"short-dims", encodeIDX(0x08, []uint32{3, 3}, nil)[:9], []string{"truncated header", "rank 2"}},
		{"truncated", encodeIDX(0x08, []uint32{2, 3}, []byte{1, 2, 3, 4, 5}), []string{"truncated", "declares 6 bytes", "holds 5"}},
		{"no-data", encodeIDX(0x08, []uint32{2}, nil), []string{"truncated", "declares 2 bytes", "holds 0"}},
		{"trailing", encodeIDX(0x08, []uint32{2}, []byte{1, 2, 3}), []string{"trailing data", "declares 2 bytes"}},
		{"huge-dims", encodeIDX(0x08, []uint32{60000, 28, 28}, make([]byte, 10)), []string{"truncated", "declares 47040000 bytes", "60000x28x28", "holds 10"}},
		{"overflow", encodeIDX(0x08, []uint32{0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, nil), []string{"more than", "elements"}},
		{"overflow-product", encodeIDX(0x08, []uint32{1 << 16, 1 << 16}, nil), []string{"more than", "elements"}},
	} {
		for _, kind := range readerKinds {
			_, err := ReadIDX(openAs(t, kind, test.in))
			if err == nil {
				t.Errorf("%s/%s: no error", test.name, kind)
				continue
			}
			if testing.Verbose() && (kind == "file" || kind == "gzip-stream") {
				t.Logf("%s/%s: %v", test.name, kind, err)
			}
			for _, want := range test.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s/%s: error %q does not mention %q", test.name, kind, err, want)
				}
			}
		}
	}
}

func TestReadIDXNilReader(t *testing.T) {
	if _, err := ReadIDX(nil); err == nil {
		t.Error("ReadIDX(nil): no error")
	}
}

// TestReadIDXHugeDimsNoAlloc checks that a tiny input that declares a huge
// array is rejected without allocating memory for that array.
func TestReadIDXHugeDimsNoAlloc(t *testing.T) {
	in := encodeIDX(0x08, []uint32{60000, 28, 28}, make([]byte, 10))    // declares 47 MB
	in4 := encodeIDX(0x08, []uint32{1 << 15, 1 << 15, 1, 1}, []byte{1}) // declares 1 GiB
	const limit = 1 << 20
	for _, src := range [][]byte{in, in4} {
		for _, kind := range readerKinds {
			readers := make([]io.Reader, 5)
			for i := range readers {
				readers[i] = openAs(t, kind, src)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for _, r := range readers {
				if _, err := ReadIDX(r); err == nil {
					t.Fatalf("%s: no error", kind)
				}
			}
			runtime.ReadMemStats(&after)
			perRun := (after.TotalAlloc - before.TotalAlloc) / uint64(len(readers))
			if perRun > limit {
				t.Errorf("%s: ReadIDX allocated %d bytes per call on a %d-byte input, want < %d", kind, perRun, len(src), limit)
			}
		}
	}
}

func TestReadIDXCorruptGzip(t *testing.T) {
	valid := gzipBytes(t, encodeIDX(0x08, []uint32{100, 10}, bytes.Repeat([]byte("abcdefghij"), 100)))
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		b[i] ^= 0xFF
		return b
	}
	// A second gzip member after a complete IDX file is trailing data.
	twoMembers := append(bytes.Clone(valid), gzipBytes(t, []byte{1, 2, 3})...)
	for _, test := range []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"magic-only", []byte{0x1f, 0x8b}, "gzip"},
		{"bad-header", []byte{0x1f, 0x8b, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "gzip"},
		{"cut-in-half", valid[:len(valid)/2], "gzip"},
		{"cut-trailer", valid[:len(valid)-4], "gzip"},
		{"bad-crc", flip(valid, len(valid)-6), "gzip"},
		{"bad-size", flip(valid, len(valid)-2), "gzip"},
		{"flipped-data", flip(valid, 14), "gzip"},
		{"garbage-after", append(bytes.Clone(valid), "garbage"...), "gzip"},
		{"second-member", twoMembers, "trailing data"},
	} {
		for _, kind := range []string{"bytes", "stream", "file"} {
			_, err := ReadIDX(openAs(t, kind, test.in))
			if err == nil {
				t.Errorf("%s/%s: no error", test.name, kind)
				continue
			}
			if !strings.Contains(err.Error(), test.wantErr) {
				t.Errorf("%s/%s: error %q does not mention %q", test.name, kind, err, test.wantErr)
			}
			if testing.Verbose() && kind == "stream" {
				t.Logf("%s: %v", test.name, err)
			}
		}
	}
}

// errReader fails after delivering its prefix.
type errReader struct {
	prefix []byte
	err    error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.prefix) == 0 {
		return 0, r.err
	}
	n := copy(p, r.prefix)
	r.prefix = r.prefix[n:]
	return n, nil
}

func TestReadIDXReadError(t *testing.T) {
	boom := errors.New("boom")
	full := encodeIDX(0x08, []uint32{4}, []byte{1, 2, 3, 4})
	for _, n := range []int{0, 2, 6, 9} {
		_, err := ReadIDX(&errReader{prefix: full[:n], err: boom})
		if !errors.Is(err, boom) {
			t.Errorf("prefix %d: error %v, want it to wrap %v", n, err, boom)
		}
	}
}

func TestWriteIDXErrors(t *testing.T) {
	for _, test := range []struct {
		name    string
		dims    []int
		data    []byte
		wantErr string
	}{
		{"rank0", nil, nil, "rank 0"},
		{"rank5", []int{1, 1, 1, 1, 1}, []byte{1}, "rank 5"},
		{"negative", []int{-1}, nil, "dimension 0 is -1"},
		{"too-large", []int{1, 1 << 33}, nil, "dimension 1"},
		{"short-data", []int{2, 2}, []byte{1, 2, 3}, "need 4 bytes of data, got 3"},
		{"long-data", []int{2}, []byte{1, 2, 3}, "need 2 bytes of data, got 3"},
		{"overflow", []int{1 << 16, 1 << 16}, nil, "more than"},
	} {
		var buf bytes.Buffer
		err := WriteIDX(&buf, test.dims, test.data)
		if err == nil {
			t.Errorf("%s: no error", test.name)
			continue
		}
		if !strings.Contains(err.Error(), test.wantErr) {
			t.Errorf("%s: error %q does not mention %q", test.name, err, test.wantErr)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes despite the error", test.name, buf.Len())
		}
	}
	if err := WriteIDX(nil, []int{1}, []byte{1}); err == nil {
		t.Error("nil writer: no error")
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteIDXWriterError(t *testing.T) {
	if err := WriteIDX(failWriter{}, []int{1}, []byte{1}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("error %v, want it to wrap %v", err, os.ErrClosed)
	}
}

// TestReadIDXFileGzipWriter checks that WriteIDX through a gzip.Writer, as
// the test-data generator uses it, reads back.
func TestReadIDXFileGzipWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if err := WriteIDX(zw, []int{3}, []byte{7, 8, 9}); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := ReadIDXFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Dims, []int{3}) || !bytes.Equal(m.Data, []byte{7, 8, 9}) {
		t.Errorf("got %v %v", m.Dims, m.Data)
	}
}

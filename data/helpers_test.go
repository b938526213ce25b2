package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// encodeIDX builds an IDX file by hand: magic bytes, big-endian dims, data.
// Unlike WriteIDX it accepts any header, valid or not.
func encodeIDX(typ byte, dims []uint32, data []byte) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

// gzipBytes compresses b.
func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// streamReader hides the concrete type of a reader, so that ReadIDX cannot
// learn its size in advance.
type streamReader struct{ io.Reader }

// readerKinds are the ways the tests feed bytes to ReadIDX.
var readerKinds = []string{"bytes", "stream", "file", "gzip-bytes", "gzip-stream", "gzip-file"}

// openAs returns a reader of kind over b, compressing b for the gzip kinds.
func openAs(t testing.TB, kind string, b []byte) io.Reader {
	t.Helper()
	switch kind {
	case "gzip-bytes", "gzip-stream", "gzip-file":
		b = gzipBytes(t, b)
		kind = kind[len("gzip-"):]
	}
	switch kind {
	case "bytes":
		return bytes.NewReader(b)
	case "stream":
		return streamReader{bytes.NewReader(b)}
	case "file":
		path := filepath.Join(t.TempDir(), "f.idx")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	t.Fatalf("unknown reader kind %q", kind)
	return nil
}

// writeFile writes b to dir/name.
func writeFile(t testing.TB, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

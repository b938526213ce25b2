package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"strings"

	"github.com/pkg/errors"
)

// IDX is a decoded IDX file of unsigned bytes (type code 0x08).
//
// Dims holds the size of each dimension, outermost first, and Data holds
// the elements in row-major order, so len(Data) is the product of Dims.
type IDX struct {
	Dims []int
	Data []byte
}

const (
	// idxUnsignedByte is the only IDX element type code that is supported.
	idxUnsignedByte = 0x08

	// maxIDXRank is the largest IDX rank that is accepted.
	maxIDXRank = 4

	// maxIDXElements caps the element count that an IDX header may declare.
	// It fits an int on every platform.
	maxIDXElements = math.MaxInt32
)

// idxTypeNames names the element type codes defined by the IDX format.
var idxTypeNames = map[byte]string{
	0x08: "unsigned byte",
	0x09: "signed byte",
	0x0B: "int16",
	0x0C: "int32",
	0x0D: "float32",
	0x0E: "float64",
}

// ReadIDX decodes an IDX file of unsigned bytes from r. A gzip-compressed
// stream (one that starts with the bytes 1f 8b) is decompressed
// transparently.
//
// ReadIDX checks the header before it allocates the data buffer: the
// declared element count must not exceed math.MaxInt32, and the declared
// size must match the bytes that are actually present. When r is a raw
// regular *os.File, *bytes.Reader or *strings.Reader its remaining size is
// used for that check; any other reader is read through a buffer that grows
// only as data arrives, so a short input that declares huge dimensions
// never causes a huge allocation. Missing or trailing bytes are errors.
func ReadIDX(r io.Reader) (*IDX, error) {
	if r == nil {
		return nil, errors.New("idx: nil reader")
	}
	var magic [4]byte
	n, err := io.ReadFull(r, magic[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, errors.Wrap(err, "idx: reading header")
	}
	if n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return readGzipIDX(io.MultiReader(bytes.NewReader(magic[:n]), r))
	}
	if n < 4 {
		return nil, errors.Errorf("idx: file too short for a header: %d bytes, need at least 4", n)
	}
	return readIDX(r, magic[:])
}

// maxGzipCheck bounds how much of a gzip stream readGzipIDX decompresses,
// after a format error, to tell a damaged stream from a bad IDX file.
const maxGzipCheck = 1 << 26

// readGzipIDX decodes a gzip-compressed IDX file.
func readGzipIDX(r io.Reader) (*IDX, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, errors.Wrap(err, "idx: corrupt gzip stream")
	}
	defer zr.Close()
	zer := &gzipErrReader{r: zr}
	m, err := readIDX(zer, nil)
	if err == nil || zer.err != nil {
		return m, err
	}
	// The decompressed bytes are not a valid IDX file. If the gzip stream
	// is damaged, say so: its checksum is verified only at its end.
	if _, cerr := io.Copy(io.Discard, io.LimitReader(zer, maxGzipCheck)); cerr != nil && zer.err != nil {
		return nil, errors.Wrapf(zer.err, "idx: corrupt gzip stream (decoded %v)", err)
	}
	return nil, err
}

// gzipErrReader marks every error of a gzip reader as a decompression error,
// so that a damaged stream is reported as such and not as a short IDX file.
// It records the first such error in err.
type gzipErrReader struct {
	r   io.Reader
	err error
}

// Read implements io.Reader.
func (g *gzipErrReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		if g.err == nil {
			g.err = err
		}
		err = errors.Wrap(err, "corrupt gzip stream")
	}
	return n, err
}

// readIDX decodes an uncompressed IDX stream. If magic is not nil it holds
// the first four bytes, already read from r.
func readIDX(r io.Reader, magic []byte) (*IDX, error) {
	if magic == nil {
		magic = make([]byte, 4)
		n, err := io.ReadFull(r, magic)
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, errors.Errorf("idx: file too short for a header: %d bytes, need at least 4", n)
			}
			return nil, errors.Wrap(err, "idx: reading header")
		}
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, errors.Errorf("idx: bad magic: first two bytes are %#02x %#02x, want 0x00 0x00 (not an IDX file?)", magic[0], magic[1])
	}
	if typ := magic[2]; typ != idxUnsignedByte {
		if name, ok := idxTypeNames[typ]; ok {
			return nil, errors.Errorf("idx: unsupported element type %#02x (%s): only 0x08 (unsigned byte) is supported", typ, name)
		}
		return nil, errors.Errorf("idx: unknown element type %#02x: only 0x08 (unsigned byte) is supported", typ)
	}
	rank := int(magic[3])
	if rank < 1 || rank > maxIDXRank {
		return nil, errors.Errorf("idx: unsupported rank %d: must be 1 to %d", rank, maxIDXRank)
	}
	hdr := make([]byte, 4*rank)
	if n, err := io.ReadFull(r, hdr); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, errors.Errorf("idx: truncated header: rank %d needs %d bytes of dimensions, file holds %d", rank, 4*rank, n)
		}
		return nil, errors.Wrap(err, "idx: reading dimensions")
	}
	dims := make([]uint32, rank)
	for i := range dims {
		dims[i] = binary.BigEndian.Uint32(hdr[4*i:])
	}
	total, err := elementCount(dims)
	if err != nil {
		return nil, err
	}
	m := &IDX{Dims: make([]int, rank)}
	for i, d := range dims {
		m.Dims[i] = int(d)
	}

	if have, ok := remaining(r); ok {
		if have < total {
			return nil, errors.Errorf("idx: truncated: header declares %d bytes (dims %s), file holds %d", total, dimString(dims), have)
		}
		if have > total {
			return nil, errors.Errorf("idx: trailing data: header declares %d bytes (dims %s), file holds %d", total, dimString(dims), have)
		}
		m.Data = make([]byte, total)
		if n, err := io.ReadFull(r, m.Data); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, errors.Errorf("idx: truncated: header declares %d bytes (dims %s), file holds %d", total, dimString(dims), n)
			}
			return nil, errors.Wrap(err, "idx: reading data")
		}
		return m, nil
	}

	// Unknown size: let the buffer grow only as data arrives. Reading one
	// byte past the declared size detects trailing data.
	var buf bytes.Buffer
	got, err := buf.ReadFrom(io.LimitReader(r, total+1))
	if err != nil {
		return nil, errors.Wrap(err, "idx: reading data")
	}
	if got < total {
		return nil, errors.Errorf("idx: truncated: header declares %d bytes (dims %s), file holds %d", total, dimString(dims), got)
	}
	if got > total {
		return nil, errors.Errorf("idx: trailing data: header declares %d bytes (dims %s), file holds more", total, dimString(dims))
	}
	m.Data = buf.Bytes()[:total:total]
	return m, nil
}

// elementCount returns the product of dims, or an error if it exceeds
// maxIDXElements.
func elementCount(dims []uint32) (int64, error) {
	var total uint64 = 1
	overflow := false
	for _, d := range dims {
		if d == 0 {
			return 0, nil
		}
		if d > maxIDXElements {
			overflow = true
			continue
		}
		hi, lo := bits.Mul64(total, uint64(d))
		if hi != 0 || lo > maxIDXElements {
			overflow = true
			continue
		}
		total = lo
	}
	if overflow {
		return 0, errors.Errorf("idx: dims %s declare more than %d elements", dimString(dims), maxIDXElements)
	}
	return int64(total), nil
}

// remaining reports how many unread bytes r holds, if r is a reader whose
// size can be known without reading it.
func remaining(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case *os.File:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, false
		}
		off, err := v.Seek(0, io.SeekCurrent)
		if err != nil || off > fi.Size() {
			return 0, false
		}
		return fi.Size() - off, true
	case *bytes.Reader:
		return int64(v.Len()), true
	case *strings.Reader:
		return int64(v.Len()), true
	}
	return 0, false
}

// dimString formats dims as 60000x28x28.
func dimString[T int | uint32](dims []T) string {
	var sb strings.Builder
	for i, d := range dims {
		if i > 0 {
			sb.WriteByte('x')
		}
		fmt.Fprint(&sb, d)
	}
	return sb.String()
}

// ReadIDXFile reads the IDX file at path, which may be gzip-compressed.
// Errors name the path.
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "idx")
	}
	defer f.Close()
	m, err := ReadIDX(f)
	if err != nil {
		return nil, errors.Wrapf(err, "reading %s", path)
	}
	return m, nil
}

// WriteIDX writes an uncompressed IDX file of unsigned bytes with the given
// dims and data to w. The rank len(dims) must be 1 to 4, every dimension
// must fit a uint32, and len(data) must equal the product of dims. To write
// a compressed file, pass a *gzip.Writer as w.
func WriteIDX(w io.Writer, dims []int, data []byte) error {
	if w == nil {
		return errors.New("idx: nil writer")
	}
	if len(dims) < 1 || len(dims) > maxIDXRank {
		return errors.Errorf("idx: unsupported rank %d: must be 1 to %d", len(dims), maxIDXRank)
	}
	hdr := make([]byte, 4+4*len(dims))
	hdr[2] = idxUnsignedByte
	hdr[3] = byte(len(dims))
	udims := make([]uint32, len(dims))
	for i, d := range dims {
		if d < 0 || uint64(d) > math.MaxUint32 {
			return errors.Errorf("idx: dimension %d is %d: must be 0 to %d", i, d, uint32(math.MaxUint32))
		}
		udims[i] = uint32(d)
		binary.BigEndian.PutUint32(hdr[4+4*i:], uint32(d))
	}
	total, err := elementCount(udims)
	if err != nil {
		return err
	}
	if int64(len(data)) != total {
		return errors.Errorf("idx: dims %s need %d bytes of data, got %d", dimString(dims), total, len(data))
	}
	if _, err := w.Write(hdr); err != nil {
		return errors.Wrap(err, "idx: writing header")
	}
	if _, err := w.Write(data); err != nil {
		return errors.Wrap(err, "idx: writing data")
	}
	return nil
}

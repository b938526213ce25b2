// Package npy reads NumPy .npy arrays (format versions 1, 2 and 3,
// little-endian, C order) and .npz archives of them, checking every
// header against the size of its source before allocating.
package npy

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// MaxElems bounds the element count a header may declare.
const MaxElems = 1 << 31

// Array is a decoded .npy array: its dtype code without byte order (such
// as "u1", "f4", "f8", "i8"), its shape and its raw little-endian bytes.
type Array struct {
	Dtype string
	Shape []int
	Data  []byte
}

// Len returns the number of elements.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Width returns the bytes per element of dtype, or 0 if it is not supported.
func Width(dtype string) int {
	switch dtype {
	case "u1", "i1", "b1":
		return 1
	case "u2", "i2":
		return 2
	case "u4", "i4", "f4":
		return 4
	case "u8", "i8", "f8":
		return 8
	}
	return 0
}

// Float64s returns the elements as float64 values.
func (a *Array) Float64s() []float64 {
	n := a.Len()
	out := make([]float64, n)
	d := a.Data
	for i := range out {
		switch a.Dtype {
		case "u1", "b1":
			out[i] = float64(d[i])
		case "i1":
			out[i] = float64(int8(d[i]))
		case "u2":
			out[i] = float64(binary.LittleEndian.Uint16(d[2*i:]))
		case "i2":
			out[i] = float64(int16(binary.LittleEndian.Uint16(d[2*i:])))
		case "u4":
			out[i] = float64(binary.LittleEndian.Uint32(d[4*i:]))
		case "i4":
			out[i] = float64(int32(binary.LittleEndian.Uint32(d[4*i:])))
		case "f4":
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:])))
		case "u8":
			out[i] = float64(binary.LittleEndian.Uint64(d[8*i:]))
		case "i8":
			out[i] = float64(int64(binary.LittleEndian.Uint64(d[8*i:])))
		case "f8":
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:]))
		}
	}
	return out
}

var (
	reDescr   = regexp.MustCompile(`'descr'\s*:\s*'([<>|=]?)([a-z]\d+)'`)
	reFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	reShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// Read reads one .npy array from r. size, when positive, is the number of
// bytes the source holds: a header declaring more data than that is
// rejected before anything is allocated. allowed lists the accepted dtype
// codes (nil: every one Width knows). Empty arrays and ranks above 4 are
// errors.
func Read(r io.Reader, size int64, allowed []string) (*Array, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, errors.New("npy: too short for a .npy header")
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return nil, errors.New("npy: bad magic (not a .npy file)")
	}
	var hlen, prefix int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, errors.New("npy: truncated header")
		}
		hlen, prefix = int(binary.LittleEndian.Uint16(b[:])), 10
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, errors.New("npy: truncated header")
		}
		hlen, prefix = int(binary.LittleEndian.Uint32(b[:])), 12
	default:
		return nil, errors.Errorf("npy: unsupported version %d.%d", pre[6], pre[7])
	}
	if hlen > 1<<16 || (size > 0 && int64(hlen) > size) {
		return nil, errors.Errorf("npy: header length %d is too large", hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, errors.New("npy: truncated header")
	}
	h := string(hb)
	m := reDescr.FindStringSubmatch(h)
	if m == nil {
		return nil, errors.Errorf("npy: header has no dtype: %q", h)
	}
	width := Width(m[2])
	if m[1] == ">" && width > 1 {
		return nil, errors.New("npy: big-endian data is not supported")
	}
	ok := width > 0
	if ok && allowed != nil {
		ok = false
		for _, a := range allowed {
			ok = ok || a == m[2]
		}
	}
	if !ok {
		want := "a numeric dtype"
		if allowed != nil {
			want = strings.Join(allowed, ", ")
		}
		return nil, errors.Errorf("npy: dtype %s not supported (want %s)", m[2], want)
	}
	if f := reFortran.FindStringSubmatch(h); f == nil || f[1] != "False" {
		return nil, errors.New("npy: only C-order arrays are supported")
	}
	s := reShape.FindStringSubmatch(h)
	if s == nil {
		return nil, errors.Errorf("npy: header has no shape: %q", h)
	}
	var shape []int
	total := 1
	for _, part := range strings.Split(s[1], ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := strconv.Atoi(part)
		if err != nil || d < 0 || d > MaxElems {
			return nil, errors.Errorf("npy: bad dimension %q", part)
		}
		if d > 0 && total > MaxElems/d {
			return nil, errors.Errorf("npy: shape (%s) is too large", s[1])
		}
		total *= d
		shape = append(shape, d)
	}
	if total == 0 {
		return nil, errors.Errorf("npy: empty array (shape (%s))", s[1])
	}
	if len(shape) == 0 || len(shape) > 4 {
		return nil, errors.Errorf("npy: rank %d not supported", len(shape))
	}
	need := int64(total) * int64(width)
	if size > 0 && need > size-int64(prefix+hlen) {
		return nil, errors.Errorf("npy: header declares %d bytes of data, the file holds %d", need, size-int64(prefix+hlen))
	}
	// Read through a limited buffer that grows as data arrives.
	data := make([]byte, 0, min(need, 1<<20))
	buf := make([]byte, 1<<16)
	for int64(len(data)) < need {
		n, err := r.Read(buf[:min(int64(len(buf)), need-int64(len(data)))])
		data = append(data, buf[:n]...)
		if err != nil {
			break
		}
	}
	if int64(len(data)) != need {
		return nil, errors.Errorf("npy: truncated: header declares %d bytes of data, read %d", need, len(data))
	}
	return &Array{Dtype: m[2], Shape: shape, Data: data}, nil
}

// maxNpzEntry bounds the uncompressed size of one .npz member.
const maxNpzEntry = 1 << 32

// ReadNpz reads the arrays of a .npz archive (a zip of NAME.npy members)
// held in r of the given size, keyed by NAME. Members not ending in .npy
// are ignored.
func ReadNpz(r io.ReaderAt, size int64, allowed []string) (map[string]*Array, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, errors.Wrap(err, "npz: not a zip archive")
	}
	out := map[string]*Array{}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".npy") {
			continue
		}
		name := strings.TrimSuffix(f.Name, ".npy")
		if f.UncompressedSize64 > maxNpzEntry {
			return nil, errors.Errorf("npz: member %s is too large", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, errors.Wrapf(err, "npz: member %s", f.Name)
		}
		a, err := Read(io.LimitReader(rc, int64(f.UncompressedSize64)), int64(f.UncompressedSize64), allowed)
		rc.Close()
		if err != nil {
			return nil, errors.Wrapf(err, "npz: member %s", f.Name)
		}
		out[name] = a
	}
	if len(out) == 0 {
		return nil, errors.New("npz: no .npy arrays in the archive")
	}
	return out, nil
}

// Write writes a as a version 1.0 .npy file.
func Write(w io.Writer, a *Array) error {
	var dims []string
	for _, d := range a.Shape {
		dims = append(dims, strconv.Itoa(d))
	}
	sh := strings.Join(dims, ", ")
	if len(dims) == 1 {
		sh += ","
	}
	order := "<"
	if Width(a.Dtype) == 1 {
		order = "|"
	}
	header := "{'descr': '" + order + a.Dtype + "', 'fortran_order': False, 'shape': (" + sh + "), }"
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	b.WriteString(header)
	b.Write(a.Data)
	_, err := w.Write(b.Bytes())
	return errors.Wrap(err, "npy: writing")
}

// WriteNpz writes the arrays as an uncompressed .npz archive.
func WriteNpz(w io.Writer, arrays map[string]*Array) error {
	zw := zip.NewWriter(w)
	for name, a := range arrays {
		f, err := zw.Create(name + ".npy")
		if err != nil {
			return errors.Wrap(err, "npz")
		}
		if err := Write(f, a); err != nil {
			return err
		}
	}
	return errors.Wrap(zw.Close(), "npz")
}

// FromFloat32s returns a float32 array of the given shape.
func FromFloat32s(v []float32, shape ...int) *Array {
	d := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(d[4*i:], math.Float32bits(x))
	}
	return &Array{Dtype: "f4", Shape: shape, Data: d}
}

// FromFloat64s returns a float64 array of the given shape.
func FromFloat64s(v []float64, shape ...int) *Array {
	d := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(d[8*i:], math.Float64bits(x))
	}
	return &Array{Dtype: "f8", Shape: shape, Data: d}
}

// FromInt64s returns an int64 array of the given shape.
func FromInt64s(v []int64, shape ...int) *Array {
	d := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(d[8*i:], uint64(x))
	}
	return &Array{Dtype: "i8", Shape: shape, Data: d}
}

package ckpt

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// maxNpyElems bounds the element count a .npy header may declare.
const maxNpyElems = 1 << 31

// WriteNpy writes t (float32 or float64, C order) as a NumPy .npy file,
// version 1.0, with the header padded to 64 bytes and ended by a newline.
func WriteNpy(w io.Writer, t *tensor.Dense) error {
	var descr string
	switch t.Dtype() {
	case tensor.Float32:
		descr = "<f4"
	case tensor.Float64:
		descr = "<f8"
	default:
		return errors.Errorf("npy: unsupported dtype %v", t.Dtype())
	}
	shape := t.Shape()
	var dims []string
	for _, d := range shape {
		dims = append(dims, strconv.Itoa(d))
	}
	sh := strings.Join(dims, ", ")
	if len(dims) == 1 {
		sh += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, sh)
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	bw := bufio.NewWriter(w)
	bw.WriteString("\x93NUMPY\x01\x00")
	binary.Write(bw, binary.LittleEndian, uint16(len(header)))
	bw.WriteString(header)
	var buf [8]byte
	switch d := t.Data().(type) {
	case []float32:
		for _, v := range d {
			binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(v))
			bw.Write(buf[:4])
		}
	case []float64:
		for _, v := range d {
			binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
			bw.Write(buf[:])
		}
	}
	return errors.Wrap(bw.Flush(), "npy: writing")
}

var (
	reDescr   = regexp.MustCompile(`'descr'\s*:\s*'([<>|=]?)([a-z]\d+)'`)
	reFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	reShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// ReadNpy reads a little-endian float32 or float64 C-order .npy array.
// size, when positive, is the number of bytes the source holds: a header
// declaring more data than that is rejected before anything is allocated.
func ReadNpy(r io.Reader, size int64) (*tensor.Dense, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, errors.New("npy: too short for a .npy header")
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return nil, errors.New("npy: bad magic (not a .npy file)")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, errors.New("npy: truncated header")
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, errors.New("npy: truncated header")
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
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
	if m[1] == ">" {
		return nil, errors.New("npy: big-endian data is not supported")
	}
	var width int
	switch m[2] {
	case "f4":
		width = 4
	case "f8":
		width = 8
	default:
		return nil, errors.Errorf("npy: dtype %s not supported (want float32 or float64)", m[2])
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
		if err != nil || d < 0 || d > maxNpyElems {
			return nil, errors.Errorf("npy: bad dimension %q", part)
		}
		if d > 0 && total > maxNpyElems/d {
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
	if size > 0 && need > size-int64(10+hlen) {
		return nil, errors.Errorf("npy: header declares %d bytes of data, the file holds %d", need, size-int64(10+hlen))
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
	if width == 4 {
		v := make([]float32, total)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)), nil
	}
	v := make([]float64, total)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)), nil
}

// ReadNpyFile reads a .npy file, checking its header against its size.
func ReadNpyFile(path string) (*tensor.Dense, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	t, err := ReadNpy(bufio.NewReaderSize(f, 1<<16), st.Size())
	return t, errors.Wrap(err, path)
}

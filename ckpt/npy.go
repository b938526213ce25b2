package ckpt

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/aezoo/aezoo/internal/npy"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

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

// ReadNpy reads a little-endian float32 or float64 C-order .npy array.
// size, when positive, is the number of bytes the source holds: a header
// declaring more data than that is rejected before anything is allocated.
// The parsing is npy.Read's, shared with the data loaders.
func ReadNpy(r io.Reader, size int64) (*tensor.Dense, error) {
	a, err := npy.Read(r, size, []string{"f4", "f8"})
	if err != nil {
		return nil, err
	}
	total := a.Len()
	if a.Dtype == "f4" {
		v := make([]float32, total)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(a.Data[4*i:]))
		}
		return tensor.New(tensor.WithShape(a.Shape...), tensor.WithBacking(v)), nil
	}
	v := make([]float64, total)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(a.Data[8*i:]))
	}
	return tensor.New(tensor.WithShape(a.Shape...), tensor.WithBacking(v)), nil
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

package ckpt

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"gorgonia.org/tensor"
)

// FuzzReadNpy: no input may panic, and a successful read holds exactly the
// declared elements.
func FuzzReadNpy(f *testing.F) {
	for _, t := range []*tensor.Dense{
		tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6})),
		tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{1, -2, 3.5, 0})),
	} {
		var buf bytes.Buffer
		WriteNpy(&buf, t)
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, size := range []int64{int64(len(b)), 0} {
			d, err := ReadNpy(bytes.NewReader(b), size)
			if err != nil {
				continue
			}
			if d.Shape().TotalSize() != len(graph.ToFloat64s(d.Data(), nil)) {
				t.Fatalf("shape %v but %d values", d.Shape(), len(graph.ToFloat64s(d.Data(), nil)))
			}
			if d.Shape().TotalSize()*4 > len(b) {
				t.Fatalf("%d elements from %d bytes", d.Shape().TotalSize(), len(b))
			}
		}
	})
}

// FuzzLoadCheckpoint damages the state file of a valid checkpoint: loading
// must fail cleanly or succeed, never panic or allocate a model the files
// do not hold.
func FuzzLoadCheckpoint(f *testing.F) {
	dir := f.TempDir()
	c, _ := models.Defaults("plain")
	c.Hidden = 3
	store := graph.NewStore()
	if _, err := models.Build(c, graph.Shape{In: 4, Batch: 1}, graph.Float32(), store, rand.New(rand.NewPCG(1, 1))); err != nil {
		f.Fatal(err)
	}
	pcg := rand.NewPCG(1, 2)
	rng, _ := pcg.MarshalBinary()
	st := State{Model: c, Train: []byte(`{"epochs":1}`), Dtype: "float32", In: 4, Epoch: 1, Step: 5, RNG: rng, AdamT: 0}
	if err := SaveCheckpoint(dir, st, store, Moments{}); err != nil {
		f.Fatal(err)
	}
	cp := filepath.Join(dir, CheckpointsDir, "step-00000005-epoch-1", StateFile)
	valid, err := os.ReadFile(cp)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(bytes.Replace(valid, []byte(`"hidden": 3`), []byte(`"hidden": 2000000000`), 1))
	f.Add(bytes.Replace(valid, []byte(`"in": 4`), []byte(`"in": 4000000000`), 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(cp, b, 0o644); err != nil {
			t.Fatal(err)
		}
		LoadCheckpoint(dir)
	})
}

func TestLoadCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c, _ := models.Defaults("plain")
	c.Hidden = 3
	store := graph.NewStore()
	if _, err := models.Build(c, graph.Shape{In: 4, Batch: 1}, graph.Float64(), store, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	mom := Moments{M: map[string]*tensor.Dense{}, V: map[string]*tensor.Dense{}}
	for _, n := range store.Names() {
		mom.M[n] = store.Get(n).Clone().(*tensor.Dense)
		mom.V[n] = store.Get(n).Clone().(*tensor.Dense)
	}
	pcg := rand.NewPCG(3, 4)
	rng, _ := pcg.MarshalBinary()
	st := State{Model: c, Train: []byte(`{"epochs":2}`), Dtype: "float64", In: 4, Epoch: 1, Step: 7, EpochStep: 2, LossSum: 1.25, Perm: []int{1, 0, 2}, RNG: rng, AdamT: 7}
	if err := SaveCheckpoint(dir, st, store, mom); err != nil {
		t.Fatal(err)
	}
	// A second checkpoint replaces the first.
	st.Step, st.EpochStep = 8, 3
	if err := SaveCheckpoint(dir, st, store, mom); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, CheckpointsDir))
	if len(entries) != 1 {
		t.Errorf("%d checkpoint folders kept, want 1", len(entries))
	}
	got, gs, gm, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Step != 8 || got.LossSum != 1.25 || len(got.Perm) != 3 || !bytes.Equal(got.RNG, rng) || got.AdamT != 7 {
		t.Errorf("state did not round-trip: %+v", got)
	}
	for _, n := range store.Names() {
		a, b := store.Get(n).Data().([]float64), gs.Get(n).Data().([]float64)
		for i := range a {
			if a[i] != b[i] || gm.M[n].Data().([]float64)[i] != a[i] {
				t.Fatalf("%s[%d] did not round-trip", n, i)
			}
		}
	}
}

func TestNpyRoundTripAndErrors(t *testing.T) {
	for _, d := range []*tensor.Dense{
		tensor.New(tensor.WithShape(3, 5), tensor.WithBacking(make([]float32, 15))),
		tensor.New(tensor.WithShape(1, 7), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6, 7})),
		tensor.New(tensor.WithShape(9), tensor.WithBacking(make([]float64, 9))),
	} {
		var buf bytes.Buffer
		if err := WriteNpy(&buf, d); err != nil {
			t.Fatal(err)
		}
		if (buf.Len()-len(graph.ToFloat64s(d.Data(), nil))*int(d.Dtype().Size()))%64 != 0 {
			t.Errorf("header of %v not 64-byte aligned", d.Shape())
		}
		got, err := ReadNpy(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		if !got.Shape().Eq(d.Shape()) || got.Dtype() != d.Dtype() {
			t.Errorf("round trip: %v %v → %v %v", d.Shape(), d.Dtype(), got.Shape(), got.Dtype())
		}
	}
	for name, b := range map[string]string{
		"empty":      "",
		"magic":      "\x93NUMPX\x01\x00\x10\x00{}",
		"huge shape": "\x93NUMPY\x01\x00\x46\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000), }",
		"big endian": "\x93NUMPY\x01\x00\x3c\x00{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }    ",
		"int dtype":  "\x93NUMPY\x01\x00\x3c\x00{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }    ",
		"fortran":    "\x93NUMPY\x01\x00\x3c\x00{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }     ",
		"truncated":  "\x93NUMPY\x01\x00\x3c\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }    \x00\x00",
		"neg dim":    "\x93NUMPY\x01\x00\x3c\x00{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }   ",
	} {
		if _, err := ReadNpy(bytes.NewReader([]byte(b)), int64(len(b))); err == nil {
			t.Errorf("%s: no error", name)
		}
		if _, err := ReadNpy(bytes.NewReader([]byte(b)), 0); err == nil {
			t.Errorf("%s (stream): no error", name)
		}
	}
}

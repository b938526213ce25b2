package data

import (
	"slices"
	"testing"
)

// TestLoadSubset checks that the embedded subset is the one in data/subset.
func TestLoadSubset(t *testing.T) {
	tr, te, err := LoadSubset(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantTr, wantTe, err := LoadMNIST(Testdata(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want *Dataset
		n         int
	}{{"train", tr, wantTr, 2000}, {"test", te, wantTe, 500}} {
		if c.got.N != c.n || c.got.D != 784 || c.got.Rows != 28 || c.got.Cols != 28 {
			t.Errorf("%s: N=%d D=%d %d×%d, want N=%d D=784 28×28", c.name, c.got.N, c.got.D, c.got.Rows, c.got.Cols, c.n)
		}
		if !slices.Equal(c.got.X, c.want.X) || !slices.Equal(c.got.Labels, c.want.Labels) {
			t.Errorf("%s: embedded subset differs from %s", c.name, Testdata())
		}
	}
	tr, te, err = LoadSubset(10, 5)
	if err != nil || tr.N != 10 || te.N != 5 {
		t.Errorf("LoadSubset(10, 5): %v", err)
	}
}

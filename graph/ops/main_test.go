package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/aezoo/aezoo/internal/blas/blastest"
)

// TestMain installs the zoo's BLAS with the kernel $AEZOO_BLAS names, as
// the zoo command does, so the ops are tested with that GEMM kernel.
func TestMain(m *testing.M) { blastest.Main(m) }

func matrix(g *G.ExprGraph, rows, cols int, v []float64, name string) *G.Node {
	return G.NewMatrix(g, tensor.Float64, G.WithShape(rows, cols), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(v))))
}

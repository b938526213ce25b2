package graph

import (
	"fmt"
	"os"
	"testing"

	"github.com/aezoo/aezoo/internal/blas"
)

// TestMain installs the zoo's BLAS with the kernel $AEZOO_BLAS names, as
// the zoo command does.
func TestMain(m *testing.M) {
	if err := blas.InstallFromEnv(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// Package blastest is the TestMain of the zoo's test packages that run
// models: it installs the zoo's BLAS with the kernel $AEZOO_BLAS names, as
// the zoo command does, so the tests run the same GEMM kernel (CI runs them
// again with AEZOO_BLAS=vek).
package blastest

import (
	"fmt"
	"os"
	"testing"

	"github.com/aezoo/aezoo/internal/blas"
)

// Main installs the BLAS (blas.InstallFromEnv), runs the tests and exits;
// a bad $AEZOO_BLAS exits 2 before any test runs.
func Main(m *testing.M) {
	if err := blas.InstallFromEnv(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

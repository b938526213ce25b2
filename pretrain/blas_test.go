package pretrain

import (
	"testing"

	"github.com/aezoo/aezoo/internal/blas/blastest"
)

// TestMain installs the zoo's BLAS with the kernel $AEZOO_BLAS names.
func TestMain(m *testing.M) { blastest.Main(m) }

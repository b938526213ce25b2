package blas

import (
	"runtime"
	"sync"

	"github.com/ebitengine/purego"
	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas"
)

// openBLAS is a system OpenBLAS (libopenblas.so.0, e.g. Debian's
// libopenblas0) loaded at run time with github.com/ebitengine/purego: no
// cgo at build time, no library needed to build or run. Only its two
// matrix products are used, through the CBLAS row-major interface.
type openBLAS struct {
	lib   string
	sgemm func(order, tA, tB, m, n, k int32, alpha float32, a *float32, lda int32, b *float32, ldb int32, beta float32, c *float32, ldc int32)
	dgemm func(order, tA, tB, m, n, k int32, alpha float64, a *float64, lda int32, b *float64, ldb int32, beta float64, c *float64, ldc int32)
}

// CBLAS enumerations.
const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

// openBLASNames are tried in order by loadOpenBLAS.
var openBLASNames = []string{"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"}

var (
	openBLASOnce sync.Once
	openBLASLib  *openBLAS
	openBLASErr  error
)

// loadOpenBLAS opens OpenBLAS once and sets its thread count to GOMAXPROCS.
func loadOpenBLAS() (*openBLAS, error) {
	openBLASOnce.Do(func() { openBLASLib, openBLASErr = openOpenBLAS() })
	return openBLASLib, openBLASErr
}

func openOpenBLAS() (o *openBLAS, err error) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		return nil, errors.Errorf("blas: OpenBLAS loading is not supported on %s", runtime.GOOS)
	}
	defer func() { // purego panics on missing symbols or unsupported signatures
		if r := recover(); r != nil {
			o, err = nil, errors.Errorf("blas: loading OpenBLAS: %v", r)
		}
	}()
	var h uintptr
	var lib string
	var errs []string
	for _, name := range openBLASNames {
		if h, err = purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL); err == nil {
			lib = name
			break
		}
		errs = append(errs, err.Error())
	}
	if h == 0 {
		return nil, errors.Errorf("blas: no OpenBLAS library found (%v); install one, e.g. apt-get install libopenblas0", errs)
	}
	o = &openBLAS{lib: lib}
	purego.RegisterLibFunc(&o.sgemm, h, "cblas_sgemm")
	purego.RegisterLibFunc(&o.dgemm, h, "cblas_dgemm")
	if sym, err := purego.Dlsym(h, "openblas_set_num_threads"); err == nil {
		var set func(int32)
		purego.RegisterFunc(&set, sym)
		set(int32(runtime.GOMAXPROCS(0)))
	}
	return o, nil
}

func cblasTranspose(t blas.Transpose) int32 {
	if t == blas.NoTrans {
		return cblasNoTrans
	}
	return cblasTrans
}

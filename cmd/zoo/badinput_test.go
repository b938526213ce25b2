package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/internal/npy"
)

// writeSet writes an MNIST-style folder with n images of rows×cols pixels
// and labels, taken from the test data, then lets mutate damage the files.
func writeSet(t *testing.T, n, rows, cols, labels int, mutate func(dir string)) string {
	t.Helper()
	dir := t.TempDir()
	src, err := data.Load(data.Testdata(), data.Train, n)
	if err != nil {
		t.Fatal(err)
	}
	pix := make([]byte, n*rows*cols)
	for i := range pix {
		pix[i] = byte(255 * src.X[i%len(src.X)])
	}
	lab := make([]byte, labels)
	for i := range lab {
		lab[i] = src.Labels[i%n]
	}
	for _, split := range []string{"train", "t10k"} {
		writeGz(t, filepath.Join(dir, split+"-images-idx3-ubyte.gz"), []int{n, rows, cols}, pix)
		writeGz(t, filepath.Join(dir, split+"-labels-idx1-ubyte.gz"), []int{labels}, lab)
	}
	if mutate != nil {
		mutate(dir)
	}
	return dir
}

func writeGz(t *testing.T, path string, dims []int, b []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := data.WriteIDX(zw, dims, b); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rawIDX(dims []int, payload int, magicType byte) []byte {
	b := []byte{0, 0, magicType, byte(len(dims))}
	for _, d := range dims {
		b = append(b, byte(uint32(d)>>24), byte(uint32(d)>>16), byte(uint32(d)>>8), byte(d))
	}
	return append(b, make([]byte, payload)...)
}

// trainRun makes a small trained run folder of the given model.
func trainRun(t *testing.T, model string, extra ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), model)
	args := append([]string{"train", model, "--out", out, "--data", data.Testdata(), "--epochs", "1",
		"--batch", "100", "--train-limit", "500", "--test-limit", "100", "--quiet"}, extra...)
	if code, o, e := runZoo(t, args...); code != 0 {
		t.Fatalf("training %s: exit %d\n%s\n%s", model, code, o, e)
	}
	return out
}

func checkpointDir(t *testing.T, run string) string {
	t.Helper()
	path, _ := readPointer(t, run)
	return filepath.Join(run, path)
}

// readPointer reads checkpoint.json of a run folder.
func readPointer(t *testing.T, run string) (path string, step int) {
	t.Helper()
	var p struct {
		Path string
		Step int
	}
	b, err := os.ReadFile(filepath.Join(run, "checkpoint.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p.Path, p.Step
}

// TestBadInput runs the built zoo binary on bad input of every kind: each
// must give a clear message and a non-zero exit, never a panic trace.
func TestBadInput(t *testing.T) {
	td := data.Testdata()
	small := []string{"--epochs", "1", "--batch", "50", "--quiet"}
	train := func(extra ...string) []string {
		return append(append([]string{"train", "plain", "--out", t.TempDir(), "--data"}, extra...), small...)
	}
	plainRun := trainRun(t, "plain", "--hidden", "16")
	damagedRun := trainRun(t, "plain", "--hidden", "16")
	os.WriteFile(filepath.Join(checkpointDir(t, damagedRun), "weights", "enc.W.npy"), []byte("\x93NUMPY garbage"), 0o644)
	shapeRun := trainRun(t, "plain", "--hidden", "16")
	st := filepath.Join(checkpointDir(t, shapeRun), "state.json")
	b, _ := os.ReadFile(st)
	os.WriteFile(st, bytes.Replace(b, []byte(`"hidden": 16`), []byte(`"hidden": 17`), 1), 0o644)
	evalShapeRun := trainRun(t, "plain", "--hidden", "16")
	cfg := filepath.Join(evalShapeRun, "config.json")
	b, _ = os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(b, []byte(`"hidden": 16`), []byte(`"hidden": 17`), 1), 0o644)
	// Bad arrays and image folders.
	adir := t.TempDir()
	arr := func(name string, a *npy.Array) string {
		var b bytes.Buffer
		if err := npy.Write(&b, a); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(adir, name)
		os.WriteFile(p, b.Bytes(), 0o644)
		return p
	}
	npz := func(name string, m map[string]*npy.Array) string {
		var b bytes.Buffer
		if err := npy.WriteNpz(&b, m); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(adir, name)
		os.WriteFile(p, b.Bytes(), 0o644)
		return p
	}
	bad := func(name, content string) string {
		p := filepath.Join(adir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	nan, inf, big := make([]float32, 7840), make([]float64, 7840), make([]float32, 7840)
	nan[100], inf[7] = float32(math.NaN()), math.Inf(1)
	big[5] = 1.01
	pngAt := func(path string, w, h int, rgb bool) {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = byte(i)
			if !rgb || i%4 == 3 {
				img.Pix[i] = 255
			}
		}
		var b bytes.Buffer
		png.Encode(&b, img)
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, b.Bytes(), 0o644)
	}
	mixed, broken, colour := t.TempDir(), t.TempDir(), t.TempDir()
	pngAt(filepath.Join(mixed, "a", "1.png"), 28, 28, false)
	pngAt(filepath.Join(mixed, "b", "2.png"), 27, 28, false)
	pngAt(filepath.Join(broken, "a", "1.png"), 28, 28, false)
	os.WriteFile(filepath.Join(broken, "a", "2.png"), []byte("not a png"), 0o644)
	for i := range 10 {
		pngAt(filepath.Join(colour, "c", fmt.Sprint(i, ".png")), 28, 28, true)
	}
	afile := filepath.Join(t.TempDir(), "file")
	os.WriteFile(afile, []byte("x"), 0o644)

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing data folder", train(filepath.Join(t.TempDir(), "none")), 2, "none: no such file or folder"},
		{"missing labels file", append(train(td), "--labels", filepath.Join(t.TempDir(), "y.npy")), 2, "y.npy: no such file or folder"},
		{"reproduce on a missing data folder", []string{"reproduce", "vae", "--out", t.TempDir(), "--data", filepath.Join(t.TempDir(), "none")}, 2, "no such file or folder"},
		{"missing data files", train(t.TempDir()), 1, "train-images-idx3-ubyte"},
		{"truncated data file", train(writeSet(t, 100, 28, 28, 100, func(dir string) {
			p := filepath.Join(dir, "train-images-idx3-ubyte.gz")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		})), 1, "train-images-idx3-ubyte.gz"},
		{"corrupt gzip", train(writeSet(t, 100, 28, 28, 100, func(dir string) {
			p := filepath.Join(dir, "train-images-idx3-ubyte.gz")
			b, _ := os.ReadFile(p)
			for i := 20; i < len(b)-10; i += 7 {
				b[i] ^= 0x5a
			}
			os.WriteFile(p, b, 0o644)
		})), 1, "gzip"},
		{"wrong IDX magic", train(writeSet(t, 100, 28, 28, 100, func(dir string) {
			os.Remove(filepath.Join(dir, "train-images-idx3-ubyte.gz"))
			os.WriteFile(filepath.Join(dir, "train-images-idx3-ubyte"), rawIDX([]int{10, 28, 28}, 7840, 0x0D), 0o644)
		})), 1, "train-images-idx3-ubyte"},
		{"dimensions exceed the file", train(writeSet(t, 100, 28, 28, 100, func(dir string) {
			os.Remove(filepath.Join(dir, "train-images-idx3-ubyte.gz"))
			os.WriteFile(filepath.Join(dir, "train-images-idx3-ubyte"), rawIDX([]int{60000, 28, 28}, 100, 0x08), 0o644)
		})), 1, "train-images-idx3-ubyte"},
		{"dimensions overflow", train(writeSet(t, 100, 28, 28, 100, func(dir string) {
			os.Remove(filepath.Join(dir, "train-images-idx3-ubyte.gz"))
			os.WriteFile(filepath.Join(dir, "train-images-idx3-ubyte"), rawIDX([]int{-1, -1, -1}, 16, 0x08), 0o644)
		})), 1, "train-images-idx3-ubyte"},
		{"image/label count mismatch", train(writeSet(t, 100, 28, 28, 99, nil)), 1, "mismatch"},
		{"image size does not match the model (eval)", []string{"eval", plainRun, "--data", writeSet(t, 60, 10, 10, 60, nil)}, 1, "10×10 = 100 values, the plain model"},
		{"image size does not match the model (resume)", []string{"train", "--resume", plainRun, "--out", t.TempDir(), "--epochs", "2", "--data", writeSet(t, 60, 10, 10, 60, nil)}, 1, "10×10 = 100 values, the checkpointed plain model takes 784"},
		{"colour images for a grey model (eval)", []string{"eval", plainRun, "--data", colour}, 1, "28×28×3 = 2352 values"},
		{"npy with NaN", train(arr("nan.npy", npy.FromFloat32s(nan, 10, 28, 28))), 1, "is NaN"},
		{"npy with Inf", train(arr("inf.npy", npy.FromFloat64s(inf, 10, 784))), 1, "is +Inf"},
		{"npy out of range", train(arr("big.npy", npy.FromFloat32s(big, 10, 784))), 1, "outside [0,1]"},
		{"npy of int pixels", train(arr("int.npy", &npy.Array{Dtype: "i8", Shape: []int{10, 784}, Data: make([]byte, 8*7840)})), 1, "want uint8"},
		{"npy empty", train(arr("empty.npy", npy.FromFloat32s(nil, 0, 784))), 1, "empty array"},
		{"npy garbage", train(bad("junk.npy", "\x93NUMPY garbage")), 1, "npy"},
		{"npy labels of the wrong length", append(train(arr("ok.npy", npy.FromFloat32s(make([]float32, 7840), 10, 784))), "--labels", arr("y9.npy", npy.FromInt64s(make([]int64, 9), 9))), 1, "9 labels for 10 examples"},
		{"labels without npy data", append(train(td), "--labels", arr("y.npy", npy.FromInt64s(make([]int64, 9), 9))), 1, "goes with a .npy"},
		{"npz garbage", train(bad("junk.npz", "PK not a zip")), 1, "not a zip"},
		{"npz without x_train", train(npz("nox.npz", map[string]*npy.Array{"images": npy.FromFloat32s(make([]float32, 784), 1, 784)})), 1, "no x_train"},
		{"npz ragged splits", train(npz("rag.npz", map[string]*npy.Array{"x_train": npy.FromFloat32s(make([]float32, 7840), 10, 28, 28), "x_test": npy.FromFloat32s(make([]float32, 270), 10, 27, 1)})), 1, "x_test has images of 27×1"},
		{"image folder of mixed sizes", train(mixed), 1, "must all have one size"},
		{"unreadable image", train(broken), 1, "not a readable PNG or JPEG"},
		{"bad --size", append(train(mixed), "--size", "28by28"), 2, "invalid size"},
		{"unknown --dataset", []string{"train", "plain", "--out", t.TempDir(), "--dataset", "cifar10"}, 2, "unknown data set"},
		{"--dataset and --data", []string{"train", "plain", "--out", t.TempDir(), "--dataset", "mnist", "--data", td}, 2, "not both"},
		{"reproduce on 10×10 images", []string{"reproduce", "all", "--out", t.TempDir(), "--data", arr("small.npy", npy.FromFloat32s(make([]float32, 1000), 10, 100))}, 1, "need 28×28 grey images"},
		{"reproduce on a missing data set", []string{"reproduce", "all", "--out", t.TempDir(), "--dataset", "kmnist"}, 1, "kmnist not found"},
		{"reproduce --quick on a missing data set", []string{"reproduce", "all", "--quick", "--out", t.TempDir(), "--dataset", "kmnist"}, 1, "kmnist not found"},
		{"reproduce with an unknown launcher", []string{"reproduce", "vae", "--quick", "--out", t.TempDir(), "--launcher", "pbs"}, 2, `invalid --launcher "pbs"`},
		{"reproduce --dry-run of a task", []string{"reproduce", "vae", "--quick", "--out", t.TempDir(), "--task", "--dry-run"}, 2, "--dry-run shows a launcher's plan"},
		{"reproduce --run without --task", []string{"reproduce", "vae", "--quick", "--out", t.TempDir(), "--run", "8e0b83cb"}, 2, "--run KEY is a task"},
		{"reproduce --task with a launcher", []string{"reproduce", "vae", "--quick", "--out", t.TempDir(), "--task", "--jobs", "2"}, 2, "goes without --launcher"},
		{"reproduce --jobs on Slurm", []string{"reproduce", "vae", "--quick", "--out", t.TempDir(), "--launcher", "slurm", "--jobs", "2"}, 2, "--jobs is for --launcher local"},
		{"reproduce negative --jobs", []string{"reproduce", "vae", "--quick", "--out", t.TempDir(), "--jobs", "-1"}, 2, "must be ≥ 0"},
		{"reproduce on Slurm with a bad --time", []string{"reproduce", "vae", "--quick", "--out", t.TempDir(), "--launcher", "slurm", "--dry-run", "--time", "1 day"}, 2, "bad Slurm option value"},
		{"missing kmnist", []string{"train", "plain", "--out", t.TempDir(), "--dataset", "kmnist"}, 1, "kmnist not found"},
		{"checkpoint of another model", []string{"train", "sparse", "--resume", plainRun, "--out", t.TempDir(), "--data", td}, 1, "is of model plain, not sparse"},
		{"checkpoint with wrong shapes", []string{"train", "--resume", shapeRun, "--out", t.TempDir(), "--data", td}, 1, "shape"},
		{"saved model with wrong shapes", []string{"eval", evalShapeRun, "--data", td}, 1, "shape"},
		{"damaged checkpoint file", []string{"train", "--resume", damagedRun, "--out", t.TempDir(), "--data", td}, 1, "enc.W.npy"},
		{"no checkpoint", []string{"train", "--resume", t.TempDir(), "--data", td}, 1, "no checkpoint"},
		{"resume changing a setting", []string{"train", "--resume", plainRun, "--lr", "0.1"}, 2, "--lr cannot be changed"},
		{"unknown model", []string{"train", "diffusion", "--out", t.TempDir()}, 2, `unknown model "diffusion"`},
		{"k = 0", []string{"train", "topk", "--out", t.TempDir(), "--k", "0"}, 2, "invalid --k 0"},
		{"k > hidden", []string{"train", "topk", "--out", t.TempDir(), "--hidden", "50", "--k", "51"}, 2, "invalid --k 51"},
		{"negative noise", []string{"train", "denoising", "--out", t.TempDir(), "--noise", "gaussian", "--noise-level", "-0.1"}, 2, "invalid --noise-level"},
		{"masking level 1", []string{"train", "denoising", "--out", t.TempDir(), "--noise", "masking", "--noise-level", "1"}, 2, "must be in [0,1)"},
		{"unknown noise", []string{"train", "denoising", "--out", t.TempDir(), "--noise", "pink"}, 2, "invalid --noise"},
		{"lineardae masking", []string{"train", "lineardae", "--out", t.TempDir(), "--noise", "masking"}, 2, "invalid --noise \"masking\" for lineardae"},
		{"latent 0", []string{"train", "vae", "--out", t.TempDir(), "--latent", "0"}, 2, "invalid --latent 0"},
		{"lr 0", []string{"train", "plain", "--out", t.TempDir(), "--lr", "0"}, 2, "invalid --lr"},
		{"batch 0", []string{"train", "plain", "--out", t.TempDir(), "--batch", "0"}, 2, "invalid --batch"},
		{"negative epochs", []string{"train", "plain", "--out", t.TempDir(), "--epochs", "-1"}, 2, "invalid --epochs"},
		{"batch larger than the data", []string{"train", "plain", "--out", t.TempDir(), "--data", td, "--batch", "5000"}, 1, "fewer than one batch"},
		{"output folder not writable", []string{"train", "plain", "--out", filepath.Join(afile, "run"), "--data", td}, 1, "output folder"},
		{"sample from a non-generative model", []string{"sample", plainRun, "--out", filepath.Join(t.TempDir(), "s.png")}, 1, "not generative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runZoo(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			if !strings.Contains(errs, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, errs)
			}
			if code != 0 && strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("error is not one line:\n%s", errs)
			}
		})
	}
}

// TestInterruptAndResume sends SIGINT to a training run, checks that it
// exits non-zero with a checkpoint and a message, resumes it, and compares
// the result with an uninterrupted run: the weights must be identical.
func TestInterruptAndResume(t *testing.T) {
	common := []string{"--data", data.Testdata(), "--hidden", "64", "--batch", "10", "--train-limit", "1000", "--test-limit", "100", "--quiet=false"}
	full := filepath.Join(t.TempDir(), "full")
	if code, o, e := runZoo(t, append([]string{"train", "denoising", "--out", full, "--epochs", "3"}, common...)...); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, o, e)
	}
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(zooBin, append([]string{"train", "denoising", "--out", out, "--epochs", "1000"}, common...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "epoch 1:") {
			time.Sleep(50 * time.Millisecond)
			cmd.Process.Signal(syscall.SIGINT)
		}
	}
	err = cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() == 0 {
		t.Fatalf("interrupted run: %v\n%s", err, log.String())
	}
	if s := log.String(); !strings.Contains(s, "interrupted") || !strings.Contains(s, "--resume") || strings.Contains(s, "panic:") {
		t.Errorf("unexpected message:\n%s", s)
	}
	var p struct{ Epoch, Step int }
	b, err := os.ReadFile(filepath.Join(out, "checkpoint.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &p)
	if p.Epoch < 1 || p.Epoch >= 3 {
		t.Fatalf("checkpoint at epoch %d: the interruption came too late for this test", p.Epoch)
	}
	if code, o, e := runZoo(t, "train", "--resume", out, "--epochs", "3", "--data", data.Testdata(), "--quiet"); code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", code, o, e)
	}
	for _, w := range []string{"enc.W", "enc.b", "dec.W", "dec.b"} {
		a, _ := os.ReadFile(filepath.Join(full, "weights", w+".npy"))
		b, _ := os.ReadFile(filepath.Join(out, "weights", w+".npy"))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the uninterrupted and the interrupted+resumed run", w)
		}
	}
}

// TestBadBLASEnv checks that an unknown $AEZOO_BLAS is a usage error.
func TestBadBLASEnv(t *testing.T) {
	cmd := exec.Command(zooBin, "list")
	cmd.Env = append(os.Environ(), "AEZOO_BLAS=mkl")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), `unknown GEMM kernel "mkl"`) || strings.Contains(string(out), "panic:") {
		t.Fatalf("AEZOO_BLAS=mkl zoo list: %v\n%s", err, out)
	}
}

package ckpt

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/pkg/errors"
)

// TestHookEnv names an environment variable read by SaveCheckpoint, for
// tests of crash safety only (never set it otherwise). Its value is
// ACTION@N: the action applies to the Nth checkpoint this process writes
// (counting from 1), just before its second file is written (so one file
// of it is already on disk):
//
//	pause@N   print "ckpt test hook: paused writing checkpoint N in DIR" to
//	          stderr and block forever, so that a test can kill -9 the
//	          process in the middle of a checkpoint write
//	fail@N    fail that file's write with ENOSPC, as a full disk would
const TestHookEnv = "AEZOO_CKPT_TEST_HOOK"

// checkpoints counts the checkpoints this process has started writing.
var checkpoints atomic.Int64

type testHook struct {
	action string // "", "pause" or "fail"
	files  int    // files of this checkpoint passed so far
}

func newTestHook() *testHook {
	n := checkpoints.Add(1)
	action, at, ok := strings.Cut(os.Getenv(TestHookEnv), "@")
	if !ok {
		return &testHook{}
	}
	if k, err := strconv.ParseInt(at, 10, 64); err != nil || k != n {
		return &testHook{}
	}
	return &testHook{action: action}
}

// file is called before each file of a checkpoint is written.
func (h *testHook) file(path string) error {
	h.files++
	if h.files != 2 {
		return nil
	}
	switch h.action {
	case "pause":
		fmt.Fprintf(os.Stderr, "ckpt test hook: paused writing checkpoint %d in %s\n", checkpoints.Load(), path)
		select {}
	case "fail":
		return errors.Wrapf(&os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}, "writing %s (%s)", path, TestHookEnv)
	}
	return nil
}

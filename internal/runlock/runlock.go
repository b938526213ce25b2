// Package runlock gives a process exclusive use of a run folder for its
// lifetime: an advisory flock(2) on the file .zoo.lock inside the folder.
// The kernel drops the lock when the process ends, however it ends, so a
// crash or kill -9 never leaves a stale lock behind: the next Acquire
// finds the file unlocked and takes it over.
//
// The holder writes its process id into the lock file, so that a refused
// process can say who holds the folder.
package runlock

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/errors"
)

// File is the lock file's name inside a locked folder.
const File = ".zoo.lock"

// BusyError reports a folder locked by another holder.
type BusyError struct {
	Dir string
	PID int // the holder's process id (0 if it could not be read)
}

func (e *BusyError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("%s is in use by pid %d", e.Dir, e.PID)
	}
	return fmt.Sprintf("%s is in use by another process", e.Dir)
}

// Lock is an exclusive lock on a folder, held until Release.
type Lock struct {
	dir string
	f   *os.File
}

// Dir is the locked folder.
func (l *Lock) Dir() string { return l.dir }

// Acquire creates dir if needed and locks it exclusively, without
// waiting: a folder locked by another process (or by another Lock of this
// process) gives a *BusyError.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, errors.Errorf("cannot create folder %s: %v", dir, err)
	}
	path := filepath.Join(dir, File)
	for range 100 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, errors.Errorf("cannot lock %s: %v", dir, err)
		}
		locked, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, errors.Errorf("cannot lock %s: %v", dir, err)
		}
		if !locked {
			pid := readPID(f)
			f.Close()
			return nil, &BusyError{Dir: dir, PID: pid}
		}
		// A holder that released between our open and our lock has
		// removed the file we locked: start again on the current file.
		if same(f, path) {
			if err := writePID(f); err != nil {
				unlock(f)
				f.Close()
				return nil, errors.Errorf("cannot lock %s: %v", dir, err)
			}
			return &Lock{dir: dir, f: f}, nil
		}
		unlock(f)
		f.Close()
	}
	return nil, errors.Errorf("cannot lock %s: the lock file keeps changing", dir)
}

// Release removes the lock file and drops the lock. It is safe to call on
// a nil or released Lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	// Remove before unlocking: a waiting Acquire that opened the old file
	// sees it is gone and retries on a new one.
	err := os.Remove(filepath.Join(l.dir, File))
	unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil && !os.IsNotExist(err) {
		return errors.Wrapf(err, "releasing the lock of %s", l.dir)
	}
	return nil
}

func same(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID reads the holder's pid, waiting briefly for a holder that has
// just taken the lock and not yet written it.
func readPID(f *os.File) int {
	for range 50 {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n]))); err == nil && pid > 0 {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0
}

//go:build !unix

package runlock

import (
	"os"

	"github.com/pkg/errors"
)

func tryLock(f *os.File) (bool, error) {
	return false, errors.New("folder locks need a Unix system")
}

func unlock(f *os.File) {}

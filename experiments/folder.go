package experiments

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aezoo/aezoo/internal/runlock"
	"github.com/aezoo/aezoo/zoo"
	"github.com/pkg/errors"
)

// reproductionFiles are the entries a reproduction writes into its folder:
// the trained runs, the combined report, one folder per experiment, and the
// batch scripts and logs of a reproduction on Slurm (see the sweep package).
func reproductionFiles() map[string]bool {
	m := map[string]bool{"runs": true, "report.md": true, "results.json": true,
		// a reproduction launched on Slurm: its batch scripts and logs
		"reproduce.sbatch": true, "reproduce-report.sbatch": true, "reproduce-runs.sbatch": true, "logs": true}
	for _, e := range Catalogue() {
		m[e.Name] = true
	}
	return m
}

// NotReproductionError refuses an output folder that holds files that are
// not a reproduction's.
type NotReproductionError struct {
	Dir   string
	Other []string
}

func (e *NotReproductionError) Error() string {
	other := e.Other
	more := ""
	if len(other) > 3 {
		other, more = other[:3], fmt.Sprintf(" and %d more", len(e.Other)-3)
	}
	return fmt.Sprintf("%s holds files that are not a reproduction's (%s%s): choose an empty or new folder, or write the reproduction among them with --overwrite",
		e.Dir, strings.Join(other, ", "), more)
}

// ClaimFolder locks dir for a reproduction (a folder in use gives a
// *zoo.FolderInUseError naming the holder's pid). An absent or empty
// folder, or one holding an earlier reproduction, is accepted: the earlier
// reproduction is continued, or with overwrite its files are removed (and
// the removal stated on log). Other files refuse the folder with a
// *NotReproductionError, unless overwrite, which keeps them.
func ClaimFolder(dir string, overwrite bool, log io.Writer) (*runlock.Lock, error) {
	if dir == "" {
		return nil, errors.New("no output folder (--out DIR)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, errors.Errorf("cannot create output folder %s: %v", dir, err)
	}
	lock, err := zoo.LockFolder(dir)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*runlock.Lock, error) {
		lock.Release()
		return nil, err
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		return fail(errors.Wrapf(err, "reading output folder %s", dir))
	}
	ours := reproductionFiles()
	var found, other []string
	for _, e := range es {
		switch {
		case e.Name() == runlock.File || strings.HasPrefix(e.Name(), ".write-test"):
		case ours[e.Name()]:
			found = append(found, e.Name())
		default:
			other = append(other, e.Name())
		}
	}
	sort.Strings(other)
	if len(other) > 0 && !overwrite {
		return fail(&NotReproductionError{Dir: dir, Other: other})
	}
	if log == nil {
		log = io.Discard
	}
	if len(other) > 0 {
		fmt.Fprintf(log, "--overwrite: writing the reproduction into %s beside files that are not a reproduction's, which are kept\n", dir)
	}
	if len(found) == 0 {
		return lock, nil
	}
	if !overwrite {
		runs, _ := os.ReadDir(filepath.Join(dir, "runs"))
		fmt.Fprintf(log, "continuing the reproduction in %s: its finished runs (of %d run folders) are reused (--overwrite starts afresh)\n", dir, len(runs))
		return lock, nil
	}
	fmt.Fprintf(log, "--overwrite: removing the earlier reproduction in %s (%s)\n", dir, strings.Join(found, ", "))
	for _, f := range found {
		if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
			return fail(errors.Wrapf(err, "--overwrite: removing %s", filepath.Join(dir, f)))
		}
	}
	return lock, nil
}

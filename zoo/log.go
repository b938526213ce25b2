package zoo

import (
	"fmt"
	"io"

	"github.com/aezoo/aezoo/internal/progress"
	"github.com/aezoo/aezoo/train"
)

// EpochLine formats an epoch's log line (at most 100 characters for any
// model): the training loss, and for an evaluated epoch the test loss
// split into the terms the model has (recon, and KL or a penalty), and
// the test BCE where it is a number not shown already.
func EpochLine(l train.EpochLog) string {
	s := fmt.Sprintf("epoch %d: train loss %.4f", l.Epoch, l.TrainLoss)
	if !l.Evaluated() {
		return s + fmt.Sprintf(", %s samples/s (not evaluated)", progress.Rate(l.SamplesPerS))
	}
	s += fmt.Sprintf(", test loss %.4f", l.TestLoss)
	f4 := func(v float64) string { return fmt.Sprintf("%.4f", v) }
	penalty := l.TestLoss - l.TestRecon
	kl, hasKL := l.TestTerms["kl"]
	_, hasPenalty := l.TestTerms["penalty"]
	switch {
	case hasKL && f4(kl) == f4(penalty):
		s += fmt.Sprintf(" (recon %.4f + KL %.4f)", l.TestRecon, kl)
	case hasKL:
		s += fmt.Sprintf(" (recon %.4f + β·KL %.4f)", l.TestRecon, penalty)
	case hasPenalty:
		s += fmt.Sprintf(" (recon %.4f + penalty %.4f)", l.TestRecon, penalty)
	}
	f2 := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	if b := f2(l.TestBCE); b != f2(l.TestLoss) && b != f2(l.TestRecon) {
		s += ", BCE " + b
	}
	return s + fmt.Sprintf(", %s samples/s", progress.Rate(l.SamplesPerS))
}

func writeEpochLine(w io.Writer, l train.EpochLog) {
	fmt.Fprintln(w, EpochLine(l))
}

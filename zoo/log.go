package zoo

import (
	"fmt"
	"github.com/aezoo/aezoo/graph"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/aezoo/aezoo/internal/progress"
	"github.com/aezoo/aezoo/train"
)

// EpochLine formats an epoch's log line (at most 100 characters): the
// mean training loss, and for an evaluated epoch the test loss
// split into the terms the model has (recon, and KL or a penalty), and
// the test BCE where it is a number not shown already.
func EpochLine(l train.EpochLog) string { return EpochLineWidth(l, 101) }

// EpochLineWidth is EpochLine shortened to fewer than width columns: it
// leaves out the speed, then the BCE, then the split into terms.
func EpochLineWidth(l train.EpochLog, width int) string {
	parts := epochLineParts(l)
	for n := len(parts); n > 1; n-- {
		s := strings.Join(parts[:n], "")
		if utf8.RuneCountInString(s) < width {
			return s
		}
	}
	return parts[0]
}

// epochLineParts are the pieces of an epoch line, most important first.
func epochLineParts(l train.EpochLog) []string {
	head := fmt.Sprintf("epoch %d: train %.4f", l.Epoch, l.TrainLoss)
	speed := fmt.Sprintf(", %s samples/s", progress.Rate(l.SamplesPerS))
	if !l.Evaluated() {
		return []string{head, speed, " (not evaluated)"}
	}
	head += fmt.Sprintf(", test %.4f", l.TestLoss)
	terms, bce := "", ""
	f4 := func(v float64) string { return fmt.Sprintf("%.4f", v) }
	penalty := l.TestLoss - l.TestRecon
	kl, hasKL := l.TestTerms[graph.KLTerm]
	_, hasPenalty := l.TestTerms[graph.PenaltyTerm]
	_, hasIW := l.TestTerms[graph.IWTerm]
	switch {
	case hasIW && hasKL: // the loss is the IWAE bound; recon and KL are monitored
		terms = fmt.Sprintf(" (−ELBO %.2f: recon %.2f + KL %.2f)", l.TestRecon+kl, l.TestRecon, kl)
	case hasKL && f4(kl) == f4(penalty):
		terms = fmt.Sprintf(" (recon %.4f + KL %.4f)", l.TestRecon, kl)
	case hasKL:
		terms = fmt.Sprintf(" (recon %.4f + β·KL %.4f)", l.TestRecon, penalty)
	case hasPenalty:
		terms = fmt.Sprintf(" (recon %.4f + penalty %.4f)", l.TestRecon, penalty)
	}
	f2 := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	if b := f2(l.TestBCE); b != f2(l.TestLoss) && b != f2(l.TestRecon) {
		bce = ", BCE " + b
	}
	return []string{head, terms, bce, speed}
}

// writeEpochLine writes an epoch's line to w, fitted to its width when
// w is a terminal.
func writeEpochLine(w io.Writer, l train.EpochLog) {
	width := 101
	if progress.IsTerminal(w) {
		width = progress.Width(w)
	}
	fmt.Fprintln(w, EpochLineWidth(l, width))
}

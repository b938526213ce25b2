// Package progress draws the zoo's live progress on a terminal: a bar per
// training epoch (step/total, live samples/s, elapsed time and ETA) that
// fits the terminal's width, and a spinner that says what the zoo is doing
// while it loads data or evaluates. It is built on
// github.com/schollz/progressbar/v3, which draws synchronously from the
// caller's goroutine, so the epoch lines the zoo prints between bars never
// interleave with a redraw.
//
// Every function takes the writer to draw on; a nil writer draws nothing,
// and so does a writer that is not a terminal: callers pass their stderr
// only when it is one (see IsTerminal).
package progress

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Width returns the width of the terminal w in columns, or 80 when it
// has none.
func Width(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if c, _, err := term.GetSize(int(f.Fd())); err == nil && c > 0 {
			return c
		}
	}
	return 80
}

// overhead is what progressbar/v3 draws around the description and the
// bar itself: "NNN% |" … "| " and " [elapsed:eta]" without the two times,
// plus the column it leaves free at the end of the line.
const overhead = 14

// Bar is the progress bar of one training epoch. A nil *Bar draws nothing.
type Bar struct {
	pb                   *progressbar.ProgressBar
	w                    io.Writer
	epoch, epochs, steps int
	batch, first         int
	start                time.Time
	cols                 int // terminal width; 0: ask the terminal
}

// NewEpoch starts the bar of epoch (1-based) of epochs, of steps steps of
// batch examples, resumed at step first (0 for a fresh epoch). It returns
// nil when w is nil.
func NewEpoch(w io.Writer, epoch, epochs, steps, batch, first int) *Bar {
	if w == nil || steps <= 0 {
		return nil
	}
	b := &Bar{w: w, epoch: epoch, epochs: epochs, steps: steps, batch: batch, first: first, start: time.Now()}
	b.pb = progressbar.NewOptions(steps,
		progressbar.OptionSetWriter(w),
		progressbar.OptionFullWidth(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionSetTheme(progressbar.ThemeASCII),
		progressbar.OptionSetDescription(b.describe(first, 0, 0)),
	)
	if first > 0 {
		_ = b.pb.Set(first)
	}
	return b
}

// Update shows that step steps of the epoch are done, with mean loss so far.
func (b *Bar) Update(step int, loss float64) {
	if b == nil {
		return
	}
	el := time.Since(b.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64((step-b.first)*b.batch) / el
	}
	b.pb.Describe(b.describe(step, loss, rate))
	_ = b.pb.Set(step)
}

// Done erases the bar.
func (b *Bar) Done() {
	if b == nil {
		return
	}
	_ = b.pb.Exit()
	fmt.Fprint(b.w, "\r\033[2K")
}

// describe returns the richest description of the bar's state that leaves
// room for a bar of a few columns on the terminal, or "" when none does.
func (b *Bar) describe(step int, loss, rate float64) string {
	width := b.cols
	if width == 0 {
		width = Width(b.w)
	}
	el := time.Since(b.start)
	eta := time.Duration(0)
	if step > b.first {
		eta = time.Duration(float64(el) / float64(step-b.first) * float64(b.steps-step))
	}
	// The times progressbar prints, with a margin for its own ETA estimate.
	times := len(el.Truncate(time.Second).String()) + len(eta.Truncate(time.Second).String()) + 2
	room := width - overhead - times
	cands := []string{
		fmt.Sprintf("epoch %d/%d  step %d/%d  loss %.4f  %s samples/s ", b.epoch, b.epochs, step, b.steps, loss, Rate(rate)),
		fmt.Sprintf("epoch %d/%d  %d/%d  loss %.2f  %s/s ", b.epoch, b.epochs, step, b.steps, loss, Rate(rate)),
		fmt.Sprintf("%d/%d %d/%d %s/s", b.epoch, b.epochs, step, b.steps, Rate(rate)),
		fmt.Sprintf("%d/%d", step, b.steps),
	}
	// The long forms want a bar of 12 columns; the short ones make do with
	// less rather than lose the rate.
	minBar := []int{12, 12, 3, 1}
	for i, c := range cands {
		if len(c)+minBar[i] <= room {
			return c
		}
	}
	return ""
}

// Rate formats a rate compactly: 950, 9.5k, 95k, 1.2M.
func Rate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.1fM", r/1e6)
	case r >= 1e4:
		return fmt.Sprintf("%.0fk", r/1e3)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

// Status shows msg with a spinner on the terminal w until stop is called
// (which erases it). With a nil w it does nothing.
func Status(w io.Writer, msg string) (stop func()) {
	if w == nil {
		return func() {}
	}
	// The spinner line is "S msg  ": keep it a column short of the width.
	if max := Width(w) - 5; len([]rune(msg)) > max {
		if max < 2 {
			return func() {}
		}
		msg = string([]rune(msg)[:max-1]) + "…"
	}
	pb := progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(msg),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionSetRenderBlankState(true),
	)
	return func() {
		_ = pb.Finish() // stops its redraw goroutine and erases the line
		fmt.Fprint(w, "\r\033[2K")
	}
}

package train

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// bar draws "epoch 2/10 [=====>    ]  45% loss 81.2341 ETA 12s" on a terminal.
type bar struct {
	w             io.Writer
	epoch, epochs int
	steps         int
	start, last   time.Time
}

func newBar(w io.Writer, epoch, epochs, steps int) *bar {
	return &bar{w: w, epoch: epoch, epochs: epochs, steps: steps, start: time.Now()}
}

func (b *bar) update(step int, loss float64) {
	if b.w == nil || (time.Since(b.last) < 100*time.Millisecond && step < b.steps) {
		return
	}
	b.last = time.Now()
	const width = 30
	done := width * step / max(b.steps, 1)
	el := time.Since(b.start)
	eta := time.Duration(float64(el) / float64(step) * float64(b.steps-step)).Round(time.Second)
	fmt.Fprintf(b.w, "\repoch %d/%d [%s>%s] %3d%% loss %.4f ETA %v ", b.epoch, b.epochs,
		strings.Repeat("=", done), strings.Repeat(" ", width-done), 100*step/max(b.steps, 1), loss, eta)
}

func (b *bar) done() {
	if b.w != nil {
		fmt.Fprint(b.w, "\r\033[K")
	}
}

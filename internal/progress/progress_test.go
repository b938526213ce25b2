package progress

import (
	"strings"
	"testing"
	"time"
)

func TestDescribeFits(t *testing.T) {
	for _, cols := range []int{30, 40, 50, 60, 80, 120} {
		b := &Bar{epoch: 3, epochs: 10, steps: 600, batch: 100, start: time.Now().Add(-90 * time.Second), cols: cols}
		d := b.describe(300, 98.76543, 9500)
		if len(d)+overhead+len("1m30s")+len("1m30s")+3 > cols {
			t.Errorf("%d columns: description %q leaves no room for the bar", cols, d)
		}
		if cols >= 50 && !strings.Contains(d, "/s") {
			t.Errorf("%d columns: description %q lacks the rate", cols, d)
		}
		if cols >= 40 && !strings.Contains(d, "300/600") {
			t.Errorf("%d columns: description %q lacks the step", cols, d)
		}
	}
}

func TestRate(t *testing.T) {
	for in, want := range map[float64]string{950: "950", 9500: "9.5k", 95000: "95k", 1.25e6: "1.2M"} {
		if got := Rate(in); got != want {
			t.Errorf("Rate(%v) = %q, want %q", in, got, want)
		}
	}
}

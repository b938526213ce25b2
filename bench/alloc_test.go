package bench

import (
	"testing"

	"github.com/aezoo/aezoo/data"
)

// maxAllocPerStep is issue #11's budget: at most 64 KiB allocated per
// training step.
const maxAllocPerStep = 64 << 10

// TestAllocPerStep: a training step of ae512, vae and conv (feed,
// forward, backward, Adam) allocates at most 64 KiB, in float32 and
// float64, at 2 threads. Allocation counts do not depend on the machine's load.
func TestAllocPerStep(t *testing.T) {
	if testing.Short() {
		t.Skip("trains six models for 30 steps each")
	}
	for _, config := range []string{"ae512", "vae", "conv"} {
		for _, dtype := range []string{"float32", "float64"} {
			r, err := RunOpts(config, 30, dtype, Options{Warmup: 3, DataDir: data.Testdata(), Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s: %.0f B and %.0f objects per step", config, dtype, r.AllocBytesPerStep, r.AllocsPerStep)
			if r.AllocBytesPerStep > maxAllocPerStep {
				t.Errorf("%s %s: %.0f B allocated per step, want ≤ %d", config, dtype, r.AllocBytesPerStep, maxAllocPerStep)
			}
		}
	}
}

// TestHeapFlat: the live heap after a GC is the same, within 32 KiB, before
// and after 400 steps (what a step allocates is garbage by the next one),
// for ae512 and vae in float32. A leak of one 128-byte object per step
// would grow it by 50 KiB.
func TestHeapFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two models for 400 steps each")
	}
	for _, config := range []string{"ae512", "vae"} {
		r, err := RunOpts(config, 400, "float32", Options{Warmup: 3, DataDir: data.Testdata(), Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		grow := int64(r.HeapEndBytes) - int64(r.HeapStartBytes)
		t.Logf("%s: live heap %d B before, %d B after %d steps (%+d B)", config, r.HeapStartBytes, r.HeapEndBytes, r.Steps, grow)
		if grow > 32<<10 {
			t.Errorf("%s: live heap grew by %d B over %d steps", config, grow, r.Steps)
		}
	}
}

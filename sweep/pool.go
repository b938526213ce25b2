package sweep

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// pool runs numbered tasks on this machine, jobs at a time, with a
// progress line per finished task: the worker pool of RunLocal and of
// ReproduceLocal's phases.
type pool struct {
	jobs int
	// progress receives "[k/n] NAME: LINE" per finished task, or nil.
	progress io.Writer
	// interrupted is the line of a task that failed because ctx was
	// cancelled.
	interrupted string
}

// run runs do(i) for i = 0…n-1 in order, p.jobs at a time; name(i) names
// task i in progress lines and failures. do returns the line of a task
// that succeeded. When ctx is cancelled, no new task starts and run waits
// for the running ones. It returns the number of tasks finished and, for
// each that failed, "NAME: its error's last line".
func (p pool) run(ctx context.Context, n int, name func(i int) string, do func(i int) (string, error)) (finished int, failed []string) {
	var mu sync.Mutex
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(p.jobs, n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				line, err := do(i)
				if err != nil {
					line = "FAILED: " + lastLine(err.Error())
					if ctx.Err() != nil {
						line = p.interrupted
					}
				}
				mu.Lock()
				finished++
				if err != nil {
					failed = append(failed, name(i)+": "+lastLine(err.Error()))
				}
				if p.progress != nil {
					fmt.Fprintf(p.progress, "[%d/%d] %s: %s\n", finished, n, name(i), line)
				}
				mu.Unlock()
			}
		}()
	}
dispatch:
	for i := range n {
		select {
		case work <- i:
		case <-ctx.Done():
			break dispatch
		}
	}
	close(work)
	wg.Wait()
	return finished, failed
}

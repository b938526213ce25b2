package data

import (
	"math/rand/v2"

	"github.com/aezoo/aezoo/internal/par"
)

// forRows calls fn for every row r of src (rows of d values; a ragged last
// row is a row) on every core, with a generator seeded PCG(seed, first+r):
// the draws of a row depend on the seed and the row's index only — not on
// the number of threads, nor on how a data set is cut into batches.
func forRows(seed uint64, first, d int, n int, fn func(rng *rand.Rand, lo, hi int)) {
	if d <= 0 || n <= 0 {
		return
	}
	rows := (n + d - 1) / d
	par.For(rows, par.Grain(rows, 24*d), func(_, lo, hi int) {
		pcg := rand.NewPCG(0, 0)
		rng := rand.New(pcg)
		for r := lo; r < hi; r++ {
			pcg.Seed(seed, uint64(first+r))
			fn(rng, r*d, min((r+1)*d, n))
		}
	})
}

// SampleBinaryRows is SampleBinary on every core for rows of d values: row
// r is drawn from its own generator PCG(seed, first+r), so the result
// depends on the seed and the rows' indices only, never on the number of
// threads (first is the index of src's first row in a larger set).
func SampleBinaryRows(seed uint64, first, d int, src, dst []float32) {
	n := min(len(src), len(dst))
	forRows(seed, first, d, n, func(rng *rand.Rand, lo, hi int) {
		SampleBinary(rng, src[lo:hi], dst[lo:hi])
	})
}

// ApplyRows is Apply on every core for rows of d values: row r is corrupted
// with its own generator PCG(seed, first+r), so the result depends on the
// seed and the rows' indices only, never on the number of threads or on
// how a data set is cut into batches (first is the index of src's first
// row in the set).
func (c Corruption) ApplyRows(seed uint64, first, d int, src, dst []float32) {
	n := min(len(src), len(dst))
	forRows(seed, first, d, n, func(rng *rand.Rand, lo, hi int) {
		c.Apply(rng, src[lo:hi], dst[lo:hi])
	})
}

package graph

import "golang.org/x/sys/cpu"

// haveAdamAVX reports whether adamAVX can run (AVX: 8-wide float32).
var haveAdamAVX = cpu.X86.HasAVX

// adamAVX runs adamUpdate's float32 loop on the first len(g)/8·8 entries
// with AVX, with the same bits (adam_amd64.s), zeroing g when zero is set. w, m and v must be at least
// as long as g.
//
//go:noescape
func adamAVX(w, g, m, v []float32, b1, omb1, b2, omb2, step, sc2, eps float32, zero bool)

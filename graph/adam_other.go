//go:build !amd64

package graph

const haveAdamAVX = false

func adamAVX(w, g, m, v []float32, b1, omb1, b2, omb2, step, sc2, eps float32, zero bool) {
	panic("graph: adamAVX without amd64")
}

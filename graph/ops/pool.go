package ops

import (
	"fmt"
	"hash"

	"github.com/aezoo/aezoo/internal/par"
	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Pool is the geometry of a 2-D max pooling on images stored one per row
// (see Conv): windows of Kernel slide over each map with Stride, without
// padding.
type Pool struct {
	In     [3]int // the input images' channels, height and width
	Kernel [2]int
	Stride [2]int // 0 means the kernel's size (windows that do not overlap)
}

func (p Pool) stride(i int) int {
	if p.Stride[i] <= 0 {
		return p.Kernel[i]
	}
	return p.Stride[i]
}

// OutSize returns the output height and width: ⌊(H − kernel)/stride⌋ + 1
// each.
func (p Pool) OutSize() (h, w int) {
	return (p.In[1]-p.Kernel[0])/p.stride(0) + 1, (p.In[2]-p.Kernel[1])/p.stride(1) + 1
}

// MaxPool2d returns the maximum of each window of each map of the images
// x (n×(C·H·W)) as an n×(C·OH·OW) matrix (see Pool.OutSize), as one fused
// node. Its gradient sends each output's gradient to the first maximum of
// its window (in row-major order), found again from x.
func MaxPool2d(x *G.Node, p Pool) (*G.Node, error) {
	for i, v := range p.In {
		if v <= 0 {
			return nil, errors.Errorf("MaxPool2d: input size %v: entry %d is not positive", p.In, i)
		}
	}
	if p.Kernel[0] <= 0 || p.Kernel[1] <= 0 || p.Stride[0] < 0 || p.Stride[1] < 0 || p.Kernel[0] > p.In[1] || p.Kernel[1] > p.In[2] {
		return nil, errors.Errorf("MaxPool2d: kernel %v, stride %v for images of %v", p.Kernel, p.Stride, p.In)
	}
	if x.Dims() != 2 || x.Shape()[1] != p.In[0]*p.In[1]*p.In[2] {
		return nil, errors.Errorf("MaxPool2d: images %v: want n×%d (one flattened C×H×W image per row)", x.Shape(), p.In[0]*p.In[1]*p.In[2])
	}
	if x.Dtype() != tensor.Float32 && x.Dtype() != tensor.Float64 {
		return nil, errors.Errorf("MaxPool2d: dtype %v (want float32 or float64)", x.Dtype())
	}
	oh, ow := p.OutSize()
	g := geom{p.In[0], p.In[1], p.In[2], p.Kernel[0], p.Kernel[1], p.stride(0), p.stride(1), 0, 0, oh, ow}
	n, err := G.ApplyOp(poolOp{fusedBase{"maxpool2d", new(outBuf)}, g}, x)
	return n, errors.Wrap(err, "MaxPool2d")
}

// poolOp: x ↦ the window maxima.
type poolOp struct {
	fusedBase
	g geom
}

func (op poolOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "aezoo.%s(%p)[%v]", op.kind, op.st, op.g) }
func (op poolOp) Hashcode() uint32      { return hashOf(op) }
func (op poolOp) String() string        { return fmt.Sprintf("aezoo.%s[%v]", op.kind, op.g) }
func (op poolOp) Arity() int            { return 1 }
func (op poolOp) Type() hm.Type         { return matrixType(1) }
func (op poolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[0].(tensor.Shape)[0], op.g.c * op.g.grid()}, nil
}

func (op poolOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 1, vals)
	if err != nil {
		return nil, err
	}
	x := a[0]
	if x.Shape()[1] != op.g.image() {
		return nil, errors.Errorf("%s: shape %v does not fit %v", op.kind, x.Shape(), op.g)
	}
	n := x.Shape()[0]
	y := op.st.get(x.Dtype(), n, op.g.c*op.g.grid())
	switch yd := y.Data().(type) {
	case []float32:
		maxPool(yd, nil, x.Data().([]float32), n, op.g)
	case []float64:
		maxPool(yd, nil, x.Data().([]float64), n, op.g)
	}
	return y, nil
}

// DiffWRT implements gorgonia.SDOp.
func (op poolOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff implements gorgonia.SDOp: ∂x gets each window's ∂y at the
// window's first maximum.
func (op poolOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%s: %d inputs", op.kind, len(inputs))
	}
	dx, err := G.ApplyOp(poolGradOp{gradOnly{fusedBase{op.kind + ".dx", new(outBuf)}}, op.g}, inputs[0], grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%s: gradient", op.kind)
	}
	return G.Nodes{dx}, nil
}

// poolGradOp: (x, dy) ↦ dx.
type poolGradOp struct {
	gradOnly
	g geom
}

func (op poolGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "aezoo.%s(%p)[%v]", op.kind, op.st, op.g)
}
func (op poolGradOp) Hashcode() uint32 { return hashOf(op) }
func (op poolGradOp) Arity() int       { return 2 }
func (op poolGradOp) Type() hm.Type    { return matrixType(2) }
func (op poolGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (op poolGradOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 2, vals)
	if err != nil {
		return nil, err
	}
	x, dy := a[0], a[1]
	n := x.Shape()[0]
	if x.Shape()[1] != op.g.image() || dy.Shape()[0] != n || dy.Shape()[1] != op.g.c*op.g.grid() {
		return nil, errors.Errorf("%s: shapes %v, %v do not fit %v", op.kind, x.Shape(), dy.Shape(), op.g)
	}
	dx := op.st.get(x.Dtype(), x.Shape()...)
	switch d := dx.Data().(type) {
	case []float32:
		maxPool(nil, d, x.Data().([]float32), n, op.g, dy.Data().([]float32)...)
	case []float64:
		maxPool(nil, d, x.Data().([]float64), n, op.g, dy.Data().([]float64)...)
	}
	return dx, nil
}

// maxPool finds the first maximum of each window of the n images x: with y
// set it writes the maxima there; with dx set it writes dx = 0 plus, for
// each window, dy's entry at its maximum. Images in parallel.
func maxPool[T float32 | float64](y, dx, x []T, n int, g geom, dy ...T) {
	size, out := g.image(), g.c*g.grid()
	par.For(n, par.Grain(n, size), func(_, lo, hi int) {
		for img := lo; img < hi; img++ {
			src := x[img*size : (img+1)*size]
			if dx != nil {
				clear(dx[img*size : (img+1)*size])
			}
			for c := 0; c < g.c; c++ {
				plane := src[c*g.h*g.w : (c+1)*g.h*g.w]
				if g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 {
					o := img*out + c*g.grid()
					if y != nil {
						maxPool2x2(y[o:o+g.grid()], nil, plane, nil, g)
					} else {
						maxPool2x2(nil, dx[img*size+c*g.h*g.w:img*size+(c+1)*g.h*g.w], plane, dy[o:o+g.grid()], g)
					}
					continue
				}
				for oy := 0; oy < g.oh; oy++ {
					for ox := 0; ox < g.ow; ox++ {
						y0, x0 := oy*g.sh, ox*g.sw
						best := y0*g.w + x0
						for u := 0; u < g.kh; u++ {
							row := (y0 + u) * g.w
							for v := 0; v < g.kw; v++ {
								// > keeps the first maximum; a NaN is kept once met.
								if at := row + x0 + v; plane[at] > plane[best] || (plane[at] != plane[at] && plane[best] == plane[best]) {
									best = at
								}
							}
						}
						o := img*out + (c*g.oh+oy)*g.ow + ox
						if y != nil {
							y[o] = plane[best]
						} else {
							dx[img*size+c*g.h*g.w+best] += dy[o]
						}
					}
				}
			}
		}
	})
}

// maxPool2x2 is maxPool on one map for 2×2 windows of stride 2: y gets the
// maxima, or dx (the map's gradient, zero) dy's entries at the first
// maxima (the same choice as the general loop).
func maxPool2x2[T float32 | float64](y, dx, plane, dy []T, g geom) {
	for oy := 0; oy < g.oh; oy++ {
		r0 := plane[2*oy*g.w : (2*oy+1)*g.w]
		r1 := plane[(2*oy+1)*g.w : (2*oy+2)*g.w]
		if y != nil { // the maxima alone: no branches (max is NaN if any is)
			out := y[oy*g.ow : (oy+1)*g.ow]
			for ox := range out {
				i := 2 * ox
				out[ox] = max(max(r0[i], r0[i+1]), max(r1[i], r1[i+1]))
			}
			continue
		}
		for ox := 0; ox < g.ow; ox++ {
			i := 2 * ox
			best, at := r0[i], 2*oy*g.w+i
			// v > best keeps the first maximum; v != v takes a NaN once met
			// (best == best: the maximum is not a NaN yet).
			if v := r0[i+1]; v > best || (v != v && best == best) {
				best, at = v, at+1
			}
			if v := r1[i]; v > best || (v != v && best == best) {
				best, at = v, (2*oy+1)*g.w+i
			}
			if v := r1[i+1]; v > best || (v != v && best == best) {
				best, at = v, (2*oy+1)*g.w+i+1
			}
			dx[at] += dy[oy*g.ow+ox]
		}
	}
}

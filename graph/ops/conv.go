package ops

import (
	"fmt"
	"hash"

	"github.com/aezoo/aezoo/internal/par"
	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv is the geometry of a 2-D convolution (Conv2d) or transposed
// convolution (ConvTranspose2d) on a batch of images stored one per row of
// a matrix, each row an image flattened in C×H×W order: an n×(C·H·W)
// matrix holds the NCHW tensor n×C×H×W in the same memory order.
type Conv struct {
	// In is the input images' channels, height and width.
	In [3]int
	// Kernel is the filters' height and width.
	Kernel [2]int
	// Stride is the step between two windows (vertical, horizontal); 0
	// means 1.
	Stride [2]int
	// Pad is the zero padding on each side (top and bottom, left and right).
	Pad [2]int
	// OutPad, for ConvTranspose2d only, adds rows and columns at the bottom
	// and right of the output (each less than its stride): several output
	// sizes convolve to the same input size, and OutPad picks one (as
	// PyTorch's output_padding does).
	OutPad [2]int
}

func (p Conv) stride(i int) int { return max(p.Stride[i], 1) }

// OutSize returns the output height and width of Conv2d with p:
// ⌊(H + 2·pad − kernel)/stride⌋ + 1 each.
func (p Conv) OutSize() (h, w int) {
	return (p.In[1]+2*p.Pad[0]-p.Kernel[0])/p.stride(0) + 1, (p.In[2]+2*p.Pad[1]-p.Kernel[1])/p.stride(1) + 1
}

// TransposeOutSize returns the output height and width of ConvTranspose2d
// with p: (H − 1)·stride − 2·pad + kernel + outpad each.
func (p Conv) TransposeOutSize() (h, w int) {
	return (p.In[1]-1)*p.stride(0) - 2*p.Pad[0] + p.Kernel[0] + p.OutPad[0],
		(p.In[2]-1)*p.stride(1) - 2*p.Pad[1] + p.Kernel[1] + p.OutPad[1]
}

// check validates p's numbers.
func (p Conv) check(transpose bool) error {
	for i, v := range p.In {
		if v <= 0 {
			return errors.Errorf("input size %v: entry %d is not positive", p.In, i)
		}
	}
	for i := range 2 {
		if p.Kernel[i] <= 0 || p.Stride[i] < 0 || p.Pad[i] < 0 || p.OutPad[i] < 0 {
			return errors.Errorf("kernel %v, stride %v, padding %v, output padding %v: need positive kernels and non-negative strides and paddings",
				p.Kernel, p.Stride, p.Pad, p.OutPad)
		}
		if !transpose && p.OutPad[i] != 0 {
			return errors.Errorf("output padding %v is for ConvTranspose2d only", p.OutPad)
		}
		if transpose && p.OutPad[i] >= p.stride(i) {
			return errors.Errorf("output padding %v must be less than the stride %v", p.OutPad, p.Stride)
		}
	}
	return nil
}

// geom is a convolution's two sides: the image side (c×h×w, padded by
// ph, pw) that windows of kh×kw slide over with strides sh, sw, and the
// grid side (oh×ow) of window positions. Conv2d maps images to grids,
// ConvTranspose2d (its adjoint) grids to images.
type geom struct{ c, h, w, kh, kw, sh, sw, ph, pw, oh, ow int }

func (g geom) kdim() int  { return g.c * g.kh * g.kw } // rows of the column matrix
func (g geom) grid() int  { return g.oh * g.ow }       // window positions per image
func (g geom) image() int { return g.c * g.h * g.w }   // values per image
func (g geom) String() string {
	return fmt.Sprintf("%dx%dx%d k%dx%d s%dx%d p%dx%d → %dx%d", g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.oh, g.ow)
}

// Conv2d returns the 2-D convolution (cross-correlation, as PyTorch's
// Conv2d) of the images x (n×(C·H·W), see Conv) with the filters w
// (O×(C·KH·KW): PyTorch's O×C×KH×KW weight, flattened) plus the bias b
// (1×O, one per output map): an n×(O·OH·OW) matrix (see Conv.OutSize),
//
//	y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v] · x[n, c, i·sh − ph + u, j·sw − pw + v]
//
// with x zero outside the image. It is two fused nodes: the column matrix
// of x (im2col, (C·KH·KW)×(n·OH·OW)), then one matrix product with w and a
// scatter to the output plus the bias. Its gradient with respect to w is
// one matrix product with that column matrix (kept from the forward pass);
// with respect to x (built only when x is not a leaf) one matrix product
// and col2im, ConvTranspose2d's kernel.
func Conv2d(x, w, b *G.Node, p Conv) (*G.Node, error) {
	if err := p.check(false); err != nil {
		return nil, errors.Wrap(err, "Conv2d")
	}
	oh, ow := p.OutSize()
	if oh <= 0 || ow <= 0 {
		return nil, errors.Errorf("Conv2d: a %v kernel with padding %v does not fit images of %v", p.Kernel, p.Pad, p.In)
	}
	g := geom{p.In[0], p.In[1], p.In[2], p.Kernel[0], p.Kernel[1], p.stride(0), p.stride(1), p.Pad[0], p.Pad[1], oh, ow}
	if err := convArgs("Conv2d", x, w, b, g.image(), g.kdim()); err != nil {
		return nil, err
	}
	needDX := !isLeaf(x)
	col, err := G.ApplyOp(im2colOp{fusedBase: fusedBase{"conv2d.im2col", new(outBuf)}, g: g, needDX: needDX}, x)
	if err != nil {
		return nil, errors.Wrap(err, "Conv2d: im2col")
	}
	op := colMMOp{fusedBase: fusedBase{"conv2d", new(outBuf)}, g: g, bias: true, needDCol: needDX, sc: new(convScratch)}
	n, err := G.ApplyOp(op, col, w, b)
	return n, errors.Wrap(err, "Conv2d")
}

// ConvTranspose2d returns the transposed convolution (PyTorch's
// ConvTranspose2d) of the images x (n×(C·H·W), see Conv) with the filters
// w (C×(O·KH·KW): PyTorch's C×O×KH×KW weight, flattened) plus the bias b
// (1×O), as one fused node: an n×(O·OH·OW) matrix (see
// Conv.TransposeOutSize). Without its bias it is the adjoint of Conv2d
// with the same w, stride and padding from O×OH×OW images to C×H×W ones:
// every input value spreads w[c,·,·,·] over the output,
//
//	y[n, o, i·sh − ph + u, j·sw − pw + v] += w[c,o,u,v] · x[n,c,i,j]
//
// It runs as a gather, one matrix product and col2im, as one fused node.
// Its gradient takes the column matrix of ∂y (one im2col node) to ∂x
// (Conv2d's product and scatter, built only when x is not a leaf) and to
// ∂w (one matrix product).
func ConvTranspose2d(x, w, b *G.Node, p Conv) (*G.Node, error) {
	if err := p.check(true); err != nil {
		return nil, errors.Wrap(err, "ConvTranspose2d")
	}
	if w.Dims() != 2 || w.Shape()[0] != p.In[0] {
		return nil, errors.Errorf("ConvTranspose2d: filters %v for %d input maps: want %d×(out·%d·%d)", w.Shape(), p.In[0], p.In[0], p.Kernel[0], p.Kernel[1])
	}
	k := p.Kernel[0] * p.Kernel[1]
	if w.Shape()[1]%k != 0 {
		return nil, errors.Errorf("ConvTranspose2d: filters %v: %d columns are not out·%d·%d", w.Shape(), w.Shape()[1], p.Kernel[0], p.Kernel[1])
	}
	oh, ow := p.TransposeOutSize()
	if oh <= 0 || ow <= 0 {
		return nil, errors.Errorf("ConvTranspose2d: a %v kernel with padding %v gives no output for images of %v", p.Kernel, p.Pad, p.In)
	}
	out := w.Shape()[1] / k
	// The adjoint of a convolution from out×oh×ow images to the input's grid.
	g := geom{out, oh, ow, p.Kernel[0], p.Kernel[1], p.stride(0), p.stride(1), p.Pad[0], p.Pad[1], p.In[1], p.In[2]}
	if gh, gw := (oh+2*g.ph-g.kh)/g.sh+1, (ow+2*g.pw-g.kw)/g.sw+1; gh != g.oh || gw != g.ow {
		return nil, errors.Errorf("ConvTranspose2d: %v is not a convolution's grid (%d×%d)", g, gh, gw)
	}
	if err := convArgs("ConvTranspose2d", x, w, b, p.In[0]*g.grid(), -1); err != nil {
		return nil, err
	}
	if b.Shape()[1] != out {
		return nil, errors.Errorf("ConvTranspose2d: bias %v for %d output maps", b.Shape(), out)
	}
	op := convTOp{fusedBase: fusedBase{"convT2d", new(outBuf)}, g: g, needDX: !isLeaf(x), sc: new(convScratch)}
	n, err := G.ApplyOp(op, x, w, b)
	return n, errors.Wrap(err, "ConvTranspose2d")
}

// convArgs checks the operands of Conv2d and ConvTranspose2d: x n×cols,
// w a matrix with wcols columns (-1: any), b a row with a value per row of
// w (Conv2d) or checked by the caller, one dtype.
func convArgs(name string, x, w, b *G.Node, cols, wcols int) error {
	if x.Dims() != 2 || x.Shape()[1] != cols {
		return errors.Errorf("%s: images %v: want n×%d (one flattened C×H×W image per row)", name, x.Shape(), cols)
	}
	if w.Dims() != 2 || (wcols >= 0 && w.Shape()[1] != wcols) {
		return errors.Errorf("%s: filters %v: want out×%d", name, w.Shape(), wcols)
	}
	if b.Dims() != 2 || b.Shape()[0] != 1 || (wcols >= 0 && b.Shape()[1] != w.Shape()[0]) {
		return errors.Errorf("%s: bias %v for filters %v: want a row of one value per output map", name, b.Shape(), w.Shape())
	}
	if x.Dtype() != w.Dtype() || x.Dtype() != b.Dtype() {
		return errors.Errorf("%s: mixed dtypes %v, %v, %v", name, x.Dtype(), w.Dtype(), b.Dtype())
	}
	if x.Dtype() != tensor.Float32 && x.Dtype() != tensor.Float64 {
		return errors.Errorf("%s: dtype %v (want float32 or float64)", name, x.Dtype())
	}
	return nil
}

// convScratch is a convolution node's working memory, kept between runs:
// the column matrix and the row-layout matrix of its kernels.
type convScratch struct{ col, rows any }

// scratchSlice returns *p as a []T of length n, growing it when needed.
func scratchSlice[T float32 | float64](p *any, n int) []T {
	s, _ := (*p).([]T)
	if cap(s) < n {
		s = make([]T, n)
		*p = s
	}
	return s[:n]
}

// im2colOp: images (n×(c·h·w)) ↦ their column matrix (K×(n·P)), see
// im2col. Its gradient is col2im.
type im2colOp struct {
	fusedBase
	g      geom
	needDX bool
	inGrad bool // inside a gradient: not differentiated again
}

func (op im2colOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "aezoo.%s(%p)[%v g%v]", op.kind, op.st, op.g, op.inGrad)
}
func (op im2colOp) Hashcode() uint32 { return hashOf(op) }
func (op im2colOp) String() string   { return fmt.Sprintf("aezoo.%s[%v]", op.kind, op.g) }
func (op im2colOp) Arity() int       { return 1 }
func (op im2colOp) Type() hm.Type    { return matrixType(1) }
func (op im2colOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.g.kdim(), in[0].(tensor.Shape)[0] * op.g.grid()}, nil
}

func (op im2colOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 1, vals)
	if err != nil {
		return nil, err
	}
	x := a[0]
	if x.Shape()[1] != op.g.image() {
		return nil, errors.Errorf("%s: shape %v does not fit %v", op.kind, x.Shape(), op.g)
	}
	n := x.Shape()[0]
	col := op.st.get(x.Dtype(), op.g.kdim(), n*op.g.grid())
	switch c := col.Data().(type) {
	case []float32:
		im2col(c, x.Data().([]float32), n, op.g)
	case []float64:
		im2col(c, x.Data().([]float64), n, op.g)
	default:
		return nil, errors.Errorf("%s: dtype %v", op.kind, x.Dtype())
	}
	return col, nil
}

// DiffWRT implements gorgonia.SDOp.
func (op im2colOp) DiffWRT(inputs int) []bool { return []bool{op.needDX && !op.inGrad} }

// SymDiff implements gorgonia.SDOp: ∂x = col2im(∂col).
func (op im2colOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.inGrad {
		return nil, errors.Errorf("aezoo: second derivatives through %s are not supported", op.kind)
	}
	dx, err := G.ApplyOp(col2imOp{gradOnly{fusedBase{op.kind + ".dx", new(outBuf)}}, op.g}, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%s: ∂x", op.kind)
	}
	return G.Nodes{dx}, nil
}

// col2imOp: a column matrix (K×(n·P)) ↦ images (n×(c·h·w)), see col2im.
type col2imOp struct {
	gradOnly
	g geom
}

func (op col2imOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "aezoo.%s(%p)[%v]", op.kind, op.st, op.g) }
func (op col2imOp) Hashcode() uint32      { return hashOf(op) }
func (op col2imOp) Arity() int            { return 1 }
func (op col2imOp) Type() hm.Type         { return matrixType(1) }
func (op col2imOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[0].(tensor.Shape)[1] / op.g.grid(), op.g.image()}, nil
}

func (op col2imOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 1, vals)
	if err != nil {
		return nil, err
	}
	col := a[0]
	if col.Shape()[0] != op.g.kdim() || col.Shape()[1]%op.g.grid() != 0 {
		return nil, errors.Errorf("%s: shape %v does not fit %v", op.kind, col.Shape(), op.g)
	}
	n := col.Shape()[1] / op.g.grid()
	x := op.st.get(col.Dtype(), n, op.g.image())
	switch d := x.Data().(type) {
	case []float32:
		col2im(d, col.Data().([]float32), n, op.g)
	case []float64:
		col2im(d, col.Data().([]float64), n, op.g)
	}
	return x, nil
}

// colMMOp: (col, w[, b]) ↦ the grids w·col (o maps of P values per image,
// n×(o·P)) plus the bias b of each map: Conv2d after im2col, and the ∂x
// of ConvTranspose2d (no bias, inside its gradient).
type colMMOp struct {
	fusedBase
	g        geom
	bias     bool
	needDCol bool
	inGrad   bool // inside a gradient: not differentiated again
	sc       *convScratch
}

func (op colMMOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "aezoo.%s(%p)[%v b%v g%v]", op.kind, op.st, op.g, op.bias, op.inGrad)
}
func (op colMMOp) Hashcode() uint32 { return hashOf(op) }
func (op colMMOp) String() string   { return fmt.Sprintf("aezoo.%s[%v]", op.kind, op.g) }
func (op colMMOp) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}
func (op colMMOp) Type() hm.Type { return matrixType(op.Arity()) }
func (op colMMOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	cs, ws := in[0].(tensor.Shape), in[1].(tensor.Shape)
	return tensor.Shape{cs[1] / op.g.grid(), ws[0] * op.g.grid()}, nil
}

func (op colMMOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, op.Arity(), vals)
	if err != nil {
		return nil, err
	}
	col, w := a[0], a[1]
	k, p := op.g.kdim(), op.g.grid()
	if col.Shape()[0] != k || col.Shape()[1]%p != 0 || w.Shape()[1] != k {
		return nil, errors.Errorf("%s: shapes col %v, w %v do not fit %v", op.kind, col.Shape(), w.Shape(), op.g)
	}
	n, o := col.Shape()[1]/p, w.Shape()[0]
	y := op.st.get(col.Dtype(), n, o*p)
	switch yd := y.Data().(type) {
	case []float32:
		var b []float32
		if op.bias {
			b = a[2].Data().([]float32)
		}
		rows := scratchSlice[float32](&op.sc.rows, o*n*p)
		gemmSlices(false, false, o, n*p, k, w.Data().([]float32), k, col.Data().([]float32), n*p, rows, n*p)
		scatterRows(yd, rows, b, n, o, p)
	case []float64:
		var b []float64
		if op.bias {
			b = a[2].Data().([]float64)
		}
		rows := scratchSlice[float64](&op.sc.rows, o*n*p)
		gemmSlices(false, false, o, n*p, k, w.Data().([]float64), k, col.Data().([]float64), n*p, rows, n*p)
		scatterRows(yd, rows, b, n, o, p)
	}
	return y, nil
}

// DiffWRT implements gorgonia.SDOp.
func (op colMMOp) DiffWRT(inputs int) []bool {
	if op.inGrad {
		return make([]bool, inputs)
	}
	return []bool{op.needDCol, true, true}
}

// SymDiff implements gorgonia.SDOp: ∂col = wᵀ·∂y (as rows), ∂w[o,k] =
// Σ ∂y[o,·]·col[k,·], ∂b[o] = Σ ∂y[·,o,·].
func (op colMMOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.inGrad {
		return nil, errors.Errorf("aezoo: second derivatives through %s are not supported", op.kind)
	}
	if len(inputs) != 3 {
		return nil, errors.Errorf("%s: %d inputs", op.kind, len(inputs))
	}
	col, w := inputs[0], inputs[1]
	var dcol *G.Node
	var err error
	if op.needDCol {
		if dcol, err = G.ApplyOp(gridTColOp{gradOnly{fusedBase{op.kind + ".dcol", new(outBuf)}}, op.g, new(convScratch)}, grad, w); err != nil {
			return nil, errors.Wrapf(err, "%s: ∂col", op.kind)
		}
	}
	dw, err := G.ApplyOp(convWGradOp{gradOnly{fusedBase{op.kind + ".dW", new(outBuf)}}, op.g, new(convScratch)}, col, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%s: ∂w", op.kind)
	}
	db, err := G.ApplyOp(chanSumOp{gradOnly{fusedBase{op.kind + ".db", new(outBuf)}}, w.Shape()[0], op.g.grid()}, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%s: ∂b", op.kind)
	}
	return G.Nodes{dcol, dw, db}, nil
}

// gridTColOp: (grids n×(o·P), w o×K) ↦ wᵀ·rows(grids), K×(n·P): a column
// matrix (the ∂col of Conv2d).
type gridTColOp struct {
	gradOnly
	g  geom
	sc *convScratch
}

func (op gridTColOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "aezoo.%s(%p)[%v]", op.kind, op.st, op.g) }
func (op gridTColOp) Hashcode() uint32      { return hashOf(op) }
func (op gridTColOp) Arity() int            { return 2 }
func (op gridTColOp) Type() hm.Type         { return matrixType(2) }
func (op gridTColOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.g.kdim(), in[0].(tensor.Shape)[0] * op.g.grid()}, nil
}

func (op gridTColOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 2, vals)
	if err != nil {
		return nil, err
	}
	grid, w := a[0], a[1]
	n, o, k, p := grid.Shape()[0], w.Shape()[0], op.g.kdim(), op.g.grid()
	if grid.Shape()[1] != o*p || w.Shape()[1] != k {
		return nil, errors.Errorf("%s: shapes %v, %v do not fit %v", op.kind, grid.Shape(), w.Shape(), op.g)
	}
	col := op.st.get(grid.Dtype(), k, n*p)
	switch c := col.Data().(type) {
	case []float32:
		gridToCol(op.sc, c, grid.Data().([]float32), w.Data().([]float32), n, o, op.g)
	case []float64:
		gridToCol(op.sc, c, grid.Data().([]float64), w.Data().([]float64), n, o, op.g)
	}
	return col, nil
}

// gridToCol writes wᵀ·rows(grid) into col (K×(n·P)), rows(grid) being the
// o×(n·P) gather of the grids.
func gridToCol[T float32 | float64](sc *convScratch, col, grid, w []T, n, o int, g geom) {
	k, np := g.kdim(), n*g.grid()
	rows := scratchSlice[T](&sc.rows, o*np)
	gatherRows(rows, grid, n, o, g.grid())
	gemmSlices(true, false, k, np, o, w, k, rows, np, col, np)
}

// convTOp is ConvTranspose2d: (x, w, b) ↦ col2im(wᵀ·rows(x)) plus the
// bias b of each output map.
type convTOp struct {
	fusedBase
	g      geom
	needDX bool
	sc     *convScratch
}

func (op convTOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "aezoo.%s(%p)[%v]", op.kind, op.st, op.g) }
func (op convTOp) Hashcode() uint32      { return hashOf(op) }
func (op convTOp) String() string        { return fmt.Sprintf("aezoo.%s[%v]", op.kind, op.g) }
func (op convTOp) Arity() int            { return 3 }
func (op convTOp) Type() hm.Type         { return matrixType(3) }
func (op convTOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[0].(tensor.Shape)[0], op.g.image()}, nil
}

func (op convTOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 3, vals)
	if err != nil {
		return nil, err
	}
	x, w := a[0], a[1]
	n, o := x.Shape()[0], w.Shape()[0]
	if x.Shape()[1] != o*op.g.grid() || w.Shape()[1] != op.g.kdim() {
		return nil, errors.Errorf("%s: shapes x %v, w %v do not fit %v", op.kind, x.Shape(), w.Shape(), op.g)
	}
	y := op.st.get(x.Dtype(), n, op.g.image())
	switch yd := y.Data().(type) {
	case []float32:
		convT(op, yd, x.Data().([]float32), w.Data().([]float32), a[2].Data().([]float32), n, o)
	case []float64:
		convT(op, yd, x.Data().([]float64), w.Data().([]float64), a[2].Data().([]float64), n, o)
	default:
		return nil, errors.Errorf("%s: dtype %v", op.kind, x.Dtype())
	}
	return y, nil
}

// convT computes ConvTranspose2d of the n rows of x with the filters w
// (o×K) and the bias b into y.
func convT[T float32 | float64](op convTOp, y, x, w, b []T, n, o int) {
	col := scratchSlice[T](&op.sc.col, op.g.kdim()*n*op.g.grid())
	gridToCol(op.sc, col, x, w, n, o, op.g)
	col2im(y, col, n, op.g)
	addChannelBias(y, b, n, op.g.c, op.g.h*op.g.w)
}

// DiffWRT implements gorgonia.SDOp.
func (op convTOp) DiffWRT(inputs int) []bool { return []bool{op.needDX, true, true} }

// SymDiff implements gorgonia.SDOp: with col = im2col(∂y) (one node),
// ∂x = w·col as grids (Conv2d's product), ∂w[c,k] = Σ x[c,·]·col[k,·],
// ∂b[o] = Σ ∂y[·,o,·].
func (op convTOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 3 {
		return nil, errors.Errorf("%s: %d inputs", op.kind, len(inputs))
	}
	x, w := inputs[0], inputs[1]
	col, err := G.ApplyOp(im2colOp{fusedBase: fusedBase{op.kind + ".im2col", new(outBuf)}, g: op.g, inGrad: true}, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%s: im2col of ∂y", op.kind)
	}
	var dx *G.Node
	if op.needDX {
		mm := colMMOp{fusedBase: fusedBase{op.kind + ".dx", new(outBuf)}, g: op.g, inGrad: true, sc: new(convScratch)}
		if dx, err = G.ApplyOp(mm, col, w); err != nil {
			return nil, errors.Wrapf(err, "%s: ∂x", op.kind)
		}
	}
	dw, err := G.ApplyOp(convWGradOp{gradOnly{fusedBase{op.kind + ".dW", new(outBuf)}}, op.g, new(convScratch)}, col, x)
	if err != nil {
		return nil, errors.Wrapf(err, "%s: ∂w", op.kind)
	}
	db, err := G.ApplyOp(chanSumOp{gradOnly{fusedBase{op.kind + ".db", new(outBuf)}}, op.g.c, op.g.h * op.g.w}, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "%s: ∂b", op.kind)
	}
	return G.Nodes{dx, dw, db}, nil
}

// convWGradOp: (col K×(n·P), grids n×(o·P)) ↦ the filters' gradient
// rows(grids)·colᵀ, o×K.
type convWGradOp struct {
	gradOnly
	g  geom
	sc *convScratch
}

func (op convWGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "aezoo.%s(%p)[%v]", op.kind, op.st, op.g)
}
func (op convWGradOp) Hashcode() uint32 { return hashOf(op) }
func (op convWGradOp) Arity() int       { return 2 }
func (op convWGradOp) Type() hm.Type    { return matrixType(2) }
func (op convWGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[1].(tensor.Shape)[1] / op.g.grid(), op.g.kdim()}, nil
}

func (op convWGradOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 2, vals)
	if err != nil {
		return nil, err
	}
	col, grid := a[0], a[1]
	n, k, p := grid.Shape()[0], op.g.kdim(), op.g.grid()
	if col.Shape()[0] != k || col.Shape()[1] != n*p || grid.Shape()[1]%p != 0 {
		return nil, errors.Errorf("%s: shapes %v, %v do not fit %v", op.kind, col.Shape(), grid.Shape(), op.g)
	}
	o, np := grid.Shape()[1]/p, n*p
	dw := op.st.get(col.Dtype(), o, k)
	switch d := dw.Data().(type) {
	case []float32:
		rows := scratchSlice[float32](&op.sc.rows, o*np)
		gatherRows(rows, grid.Data().([]float32), n, o, p)
		gemmSlices(false, true, o, k, np, rows, np, col.Data().([]float32), np, d, k) // rows·colᵀ
	case []float64:
		rows := scratchSlice[float64](&op.sc.rows, o*np)
		gatherRows(rows, grid.Data().([]float64), n, o, p)
		gemmSlices(false, true, o, k, np, rows, np, col.Data().([]float64), np, d, k)
	}
	return dw, nil
}

// chanSumOp: a (n×(C·P)) ↦ 1×C, the sum of each channel's P values over
// all rows (a bias's gradient).
type chanSumOp struct {
	gradOnly
	c, p int
}

func (op chanSumOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "aezoo.%s(%p)[%d×%d]", op.kind, op.st, op.c, op.p)
}
func (op chanSumOp) Hashcode() uint32 { return hashOf(op) }
func (op chanSumOp) Arity() int       { return 1 }
func (op chanSumOp) Type() hm.Type    { return matrixType(1) }
func (op chanSumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{1, op.c}, nil
}

func (op chanSumOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := denseArgs(op.kind, 1, vals)
	if err != nil {
		return nil, err
	}
	if a[0].Shape()[1] != op.c*op.p {
		return nil, errors.Errorf("%s: shape %v, want n×%d", op.kind, a[0].Shape(), op.c*op.p)
	}
	n := a[0].Shape()[0]
	s := op.st.get(a[0].Dtype(), 1, op.c)
	switch d := s.Data().(type) {
	case []float32:
		channelSums(d, a[0].Data().([]float32), n, op.c, op.p)
	case []float64:
		channelSums(d, a[0].Data().([]float64), n, op.c, op.p)
	}
	return s, nil
}

// gemmSlices computes c = op(a)·op(b) (m×n, row stride ldc) with the BLAS
// Gorgonia uses (the zoo's, see internal/blas); a and b have row strides
// lda and ldb as stored.
func gemmSlices[T float32 | float64](tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	switch cd := any(c).(type) {
	case []float32:
		G.WhichBLAS().Sgemm(ta, tb, m, n, k, 1, any(a).([]float32), lda, any(b).([]float32), ldb, 0, cd, ldc)
	case []float64:
		G.WhichBLAS().Dgemm(ta, tb, m, n, k, 1, any(a).([]float64), lda, any(b).([]float64), ldb, 0, cd, ldc)
	}
}

// im2col writes the column matrix of the n images x (n×image) into col
// (K×(n·P), K = c·kh·kw, P = oh·ow): col[(c·kh+u)·kw+v, i·P + y·ow + x]
// = x[i, c, y·sh − ph + u, x·sw − pw + v], 0 outside the image. Images
// in parallel.
func im2col[T float32 | float64](col, x []T, n int, g geom) {
	p, size, ld := g.grid(), g.image(), n*g.grid()
	par.For(n, par.Grain(n, g.kdim()*p), func(_, lo, hi int) {
		for img := lo; img < hi; img++ {
			src := x[img*size : (img+1)*size]
			for c := 0; c < g.c; c++ {
				plane := src[c*g.h*g.w : (c+1)*g.h*g.w]
				for u := 0; u < g.kh; u++ {
					for v := 0; v < g.kw; v++ {
						r := (c*g.kh+u)*g.kw + v
						row := col[r*ld+img*p : r*ld+(img+1)*p]
						// The window positions x whose column x·sw − pw + v is
						// inside the image: [x0, x1).
						x0 := max(0, ceilDiv(g.pw-v, g.sw))
						x1 := min(g.ow, ceilDiv(g.w+g.pw-v, g.sw))
						for y := 0; y < g.oh; y++ {
							dst := row[y*g.ow : (y+1)*g.ow]
							iy := y*g.sh - g.ph + u
							if iy < 0 || iy >= g.h || x0 >= x1 {
								clear(dst)
								continue
							}
							srow := plane[iy*g.w : (iy+1)*g.w]
							clear(dst[:x0])
							if g.sw == 1 {
								copy(dst[x0:x1], srow[x0-g.pw+v:])
							} else {
								for ox := x0; ox < x1; ox++ {
									dst[ox] = srow[ox*g.sw-g.pw+v]
								}
							}
							clear(dst[x1:])
						}
					}
				}
			}
		}
	})
}

// col2im is im2col's adjoint: it writes into x (n×image) the sums of the
// entries of col (K×(n·P)) over the places im2col copies each image value
// to. Images in parallel; each value sums its terms in one fixed order.
func col2im[T float32 | float64](x, col []T, n int, g geom) {
	p, size, ld := g.grid(), g.image(), n*g.grid()
	par.For(n, par.Grain(n, g.kdim()*p), func(_, lo, hi int) {
		for img := lo; img < hi; img++ {
			dst := x[img*size : (img+1)*size]
			clear(dst)
			for c := 0; c < g.c; c++ {
				plane := dst[c*g.h*g.w : (c+1)*g.h*g.w]
				for u := 0; u < g.kh; u++ {
					for v := 0; v < g.kw; v++ {
						r := (c*g.kh+u)*g.kw + v
						row := col[r*ld+img*p : r*ld+(img+1)*p]
						x0 := max(0, ceilDiv(g.pw-v, g.sw))
						x1 := min(g.ow, ceilDiv(g.w+g.pw-v, g.sw))
						if x0 >= x1 {
							continue
						}
						for y := 0; y < g.oh; y++ {
							iy := y*g.sh - g.ph + u
							if iy < 0 || iy >= g.h {
								continue
							}
							drow := plane[iy*g.w : (iy+1)*g.w]
							src := row[y*g.ow : (y+1)*g.ow]
							if g.sw == 1 {
								addTo(drow[x0-g.pw+v:x1-g.pw+v], src[x0:x1])
							} else {
								for ox := x0; ox < x1; ox++ {
									drow[ox*g.sw-g.pw+v] += src[ox]
								}
							}
						}
					}
				}
			}
		}
	})
}

// ceilDiv is ⌈a/b⌉ for b > 0 and any a.
func ceilDiv(a, b int) int {
	if a <= 0 {
		return -((-a) / b)
	}
	return (a + b - 1) / b
}

// gatherRows copies a (n×(o·p): per row, o maps of p values) into rows
// (o×(n·p)): rows[m, i·p + j] = a[i, m·p + j]. Rows of a in parallel.
func gatherRows[T float32 | float64](rows, a []T, n, o, p int) {
	ld := n * p
	par.For(n, par.Grain(n, o*p), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			for m := 0; m < o; m++ {
				copy(rows[m*ld+i*p:m*ld+(i+1)*p], a[(i*o+m)*p:(i*o+m+1)*p])
			}
		}
	})
}

// scatterRows is gatherRows' inverse plus the bias b (nil: none) of each
// map: y[i, m·p + j] = rows[m, i·p + j] + b[m].
func scatterRows[T float32 | float64](y, rows, b []T, n, o, p int) {
	ld := n * p
	par.For(n, par.Grain(n, o*p), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			for m := 0; m < o; m++ {
				dst, src := y[(i*o+m)*p:(i*o+m+1)*p], rows[m*ld+i*p:m*ld+(i+1)*p]
				if b == nil {
					copy(dst, src)
					continue
				}
				bm := b[m]
				for j, v := range src {
					dst[j] = v + bm
				}
			}
		}
	})
}

// addChannelBias adds b[m] to the p values of map m of each of the n rows
// of y (n×(c·p)).
func addChannelBias[T float32 | float64](y, b []T, n, c, p int) {
	par.For(n, par.Grain(n, c*p), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			for m := 0; m < c; m++ {
				bm := b[m]
				seg := y[(i*c+m)*p : (i*c+m+1)*p]
				for j := range seg {
					seg[j] += bm
				}
			}
		}
	})
}

// channelSums writes into s (c values) the sum of each map's p values
// over the n rows of a (n×(c·p)), maps in parallel, each summed in float64
// over the rows in order.
func channelSums[T float32 | float64](s, a []T, n, c, p int) {
	par.For(c, max(par.Grain(c, n*p), 1), func(_, lo, hi int) {
		for m := lo; m < hi; m++ {
			var t float64
			for i := 0; i < n; i++ {
				for _, v := range a[(i*c+m)*p : (i*c+m+1)*p] {
					t += float64(v)
				}
			}
			s[m] = T(t)
		}
	})
}

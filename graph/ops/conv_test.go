package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convCase is one geometry of the convolution tests: images C×H×W, O
// output maps, a KH×KW kernel, strides and paddings.
type convCase struct {
	c, h, w, o     int
	kh, kw, sh, sw int
	ph, pw         int
}

func (tc convCase) String() string {
	return fmt.Sprintf("%dx%dx%d→%d/k%dx%d/s%dx%d/p%dx%d", tc.c, tc.h, tc.w, tc.o, tc.kh, tc.kw, tc.sh, tc.sw, tc.ph, tc.pw)
}

func (tc convCase) params() Conv {
	return Conv{In: [3]int{tc.c, tc.h, tc.w}, Kernel: [2]int{tc.kh, tc.kw}, Stride: [2]int{tc.sh, tc.sw}, Pad: [2]int{tc.ph, tc.pw}}
}

// convCases cover 1×1 to 5×5 kernels, square and rectangular, strides 1
// to 3, paddings 0 to 2, padding as large as the kernel, one and several
// channels.
var convCases = []convCase{
	{1, 5, 5, 2, 3, 3, 1, 1, 1, 1},
	{2, 6, 7, 3, 3, 3, 1, 1, 0, 0},
	{3, 7, 6, 2, 2, 3, 2, 1, 0, 1},
	{2, 8, 8, 4, 4, 4, 2, 2, 1, 1},
	{1, 9, 7, 2, 3, 2, 3, 2, 1, 0},
	{2, 4, 5, 2, 1, 1, 1, 1, 0, 0},
	{2, 5, 5, 3, 5, 5, 1, 1, 2, 2},
	{1, 3, 3, 2, 4, 4, 2, 2, 2, 2},
	{3, 6, 6, 1, 3, 3, 2, 2, 1, 1},
	{1, 7, 7, 2, 2, 2, 3, 3, 2, 1},
}

func randSlice(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// directConv is Conv2d's definition in plain Go: y[n,o,i,j] = b[o] +
// Σ_{c,u,v} w[o,c,u,v]·x[n,c,i·sh−ph+u,j·sw−pw+v], x zero outside.
func directConv(x, w, b []float64, n int, tc convCase) []float64 {
	oh, ow := tc.params().OutSize()
	y := make([]float64, n*tc.o*oh*ow)
	for in := 0; in < n; in++ {
		for o := 0; o < tc.o; o++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					s := b[o]
					for c := 0; c < tc.c; c++ {
						for u := 0; u < tc.kh; u++ {
							for v := 0; v < tc.kw; v++ {
								iy, ix := i*tc.sh-tc.ph+u, j*tc.sw-tc.pw+v
								if iy >= 0 && iy < tc.h && ix >= 0 && ix < tc.w {
									s += w[((o*tc.c+c)*tc.kh+u)*tc.kw+v] * x[((in*tc.c+c)*tc.h+iy)*tc.w+ix]
								}
							}
						}
					}
					y[((in*tc.o+o)*oh+i)*ow+j] = s
				}
			}
		}
	}
	return y
}

// directConvT is ConvTranspose2d's definition in plain Go, from input maps
// tc.c of tc.h×tc.w to tc.o maps of oh×ow: every x[n,c,i,j] adds
// w[c,o,u,v]·x[n,c,i,j] to y[n,o,i·sh−ph+u,j·sw−pw+v] where that is inside.
func directConvT(x, w, b []float64, n int, tc convCase, oh, ow int) []float64 {
	y := make([]float64, n*tc.o*oh*ow)
	for in := 0; in < n; in++ {
		for o := 0; o < tc.o; o++ {
			for p := 0; p < oh*ow; p++ {
				y[(in*tc.o+o)*oh*ow+p] = b[o]
			}
		}
		for c := 0; c < tc.c; c++ {
			for i := 0; i < tc.h; i++ {
				for j := 0; j < tc.w; j++ {
					xv := x[((in*tc.c+c)*tc.h+i)*tc.w+j]
					for o := 0; o < tc.o; o++ {
						for u := 0; u < tc.kh; u++ {
							for v := 0; v < tc.kw; v++ {
								oy, ox := i*tc.sh-tc.ph+u, j*tc.sw-tc.pw+v
								if oy >= 0 && oy < oh && ox >= 0 && ox < ow {
									y[((in*tc.o+o)*oh+oy)*ow+ox] += w[((c*tc.o+o)*tc.kh+u)*tc.kw+v] * xv
								}
							}
						}
					}
				}
			}
		}
	}
	return y
}

// convOpFn applies Conv2d or ConvTranspose2d.
type convOpFn func(x, w, b *G.Node, p Conv) (*G.Node, error)

// runConv builds op(x, w, b) on x (n×xcols) in dtype dt, with x the output
// of a stock op (so that its gradient is built), and returns the output
// and the gradients of Σ y⊙r with respect to x, w and b.
func runConv(t *testing.T, dt tensor.Dtype, op convOpFn, p Conv, x, w, b, r []float64, n int, ws []int) (y, dx, dw, db []float64) {
	t.Helper()
	g := G.NewGraph()
	node := func(v []float64, name string, shape ...int) *G.Node {
		var val *tensor.Dense
		if dt == tensor.Float32 {
			f := make([]float32, len(v))
			for i := range v {
				f[i] = float32(v[i])
			}
			val = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
		} else {
			val = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
		}
		return G.NewMatrix(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(val))
	}
	xIn := node(x, "x", n, len(x)/n)
	wrt := G.Nodes{xIn}
	var W, B *G.Node
	if ws != nil { // nil: pooling, no parameters
		W, B = node(w, "w", ws...), node(b, "b", 1, len(b))
		wrt = append(wrt, W, B)
	}
	one := G.NewConstant(1.0)
	if dt == tensor.Float32 {
		one = G.NewConstant(float32(1))
	}
	X := G.Must(G.Mul(xIn, one)) // not a leaf: ∂x is built
	Y, err := op(X, W, B, p)
	if err != nil {
		t.Fatal(err)
	}
	R := node(r, "r", Y.Shape()...)
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(Y, R))))
	if _, err := G.Grad(loss, wrt...); err != nil {
		t.Fatal(err)
	}
	var yv G.Value
	G.Read(Y, &yv)
	vm := G.NewTapeMachine(g, G.BindDualValues(wrt...))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	f64 := func(v G.Value) []float64 {
		switch d := v.Data().(type) {
		case []float32:
			o := make([]float64, len(d))
			for i := range d {
				o[i] = float64(d[i])
			}
			return o
		case []float64:
			return append([]float64(nil), d...)
		}
		t.Fatalf("data %T", v.Data())
		return nil
	}
	grad := func(n *G.Node) []float64 {
		gv, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		return f64(gv)
	}
	if W == nil {
		return f64(yv), grad(xIn), nil, nil
	}
	return f64(yv), grad(xIn), grad(W), grad(B)
}

// checkGrads compares the symbolic gradients dx, dw, db of Σ f(x,w,b)⊙r
// with central differences of the plain-Go f (linear in each argument,
// so the differences are exact up to rounding).
func checkGrads(t *testing.T, f func(x, w, b []float64) []float64, x, w, b, r, dx, dw, db []float64) {
	checkGradsStep(t, 1e-3, f, x, w, b, r, dx, dw, db)
}

// checkGradsStep is checkGrads with the step h.
func checkGradsStep(t *testing.T, h float64, f func(x, w, b []float64) []float64, x, w, b, r, dx, dw, db []float64) {
	t.Helper()
	loss := func() float64 {
		var s float64
		for i, v := range f(x, w, b) {
			s += v * r[i]
		}
		return s
	}
	for _, arg := range []struct {
		name string
		v, g []float64
	}{{"x", x, dx}, {"w", w, dw}, {"b", b, db}} {
		for i := range arg.v {
			orig := arg.v[i]
			arg.v[i] = orig + h
			lp := loss()
			arg.v[i] = orig - h
			lm := loss()
			arg.v[i] = orig
			num := (lp - lm) / (2 * h)
			if math.Abs(num-arg.g[i]) > 1e-12/h*(1+math.Abs(num)) {
				t.Fatalf("∂%s[%d] = %.12g, finite difference %.12g", arg.name, i, arg.g[i], num)
			}
		}
	}
}

func closeTo(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %.10g, want %.10g", what, i, got[i], want[i])
		}
	}
}

// TestConv2d: Conv2d's output equals the direct convolution, in float64
// and float32, over the table of geometries; its gradients with respect
// to x, w and b equal the central differences of the direct convolution.
func TestConv2d(t *testing.T) {
	for _, tc := range convCases {
		t.Run(tc.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.c*100+tc.h), uint64(tc.kh*10+tc.sh)))
			const n = 3
			oh, ow := tc.params().OutSize()
			x, w, b := randSlice(rng, n*tc.c*tc.h*tc.w), randSlice(rng, tc.o*tc.c*tc.kh*tc.kw), randSlice(rng, tc.o)
			r := randSlice(rng, n*tc.o*oh*ow)
			want := directConv(x, w, b, n, tc)
			y, dx, dw, db := runConv(t, tensor.Float64, Conv2d, tc.params(), x, w, b, r, n, []int{tc.o, tc.c * tc.kh * tc.kw})
			closeTo(t, "y", y, want, 1e-12)
			checkGrads(t, func(x, w, b []float64) []float64 { return directConv(x, w, b, n, tc) }, x, w, b, r, dx, dw, db)
			y32, dx32, dw32, db32 := runConv(t, tensor.Float32, Conv2d, tc.params(), x, w, b, r, n, []int{tc.o, tc.c * tc.kh * tc.kw})
			closeTo(t, "y (float32)", y32, want, 1e-5)
			closeTo(t, "∂x (float32)", dx32, dx, 1e-5)
			closeTo(t, "∂w (float32)", dw32, dw, 1e-5)
			closeTo(t, "∂b (float32)", db32, db, 1e-5)
		})
	}
}

// transposeCase returns the ConvTranspose2d of tc's table entry: from
// tc.c maps of tc.h×tc.w to tc.o maps, with output padding outPad on both
// axes where the stride allows it.
func transposeCase(tc convCase, outPad int) (Conv, int, int) {
	p := tc.params()
	p.OutPad = [2]int{min(outPad, tc.sh-1), min(outPad, tc.sw-1)}
	oh, ow := p.TransposeOutSize()
	return p, oh, ow
}

// TestConvTranspose2d: ConvTranspose2d's output equals the direct
// transposed convolution (each input value spreads the kernel over the
// output), with and without output padding, in float64 and float32; its
// gradients equal the central differences of the direct form.
func TestConvTranspose2d(t *testing.T) {
	for _, tc := range convCases {
		for _, outPad := range []int{0, 1} {
			p, oh, ow := transposeCase(tc, outPad)
			if oh <= 0 || ow <= 0 {
				continue
			}
			t.Run(fmt.Sprintf("%v/outpad%v", tc, p.OutPad), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(tc.c*100+tc.h), uint64(tc.kh*10+tc.sh+outPad)))
				const n = 2
				x, w, b := randSlice(rng, n*tc.c*tc.h*tc.w), randSlice(rng, tc.c*tc.o*tc.kh*tc.kw), randSlice(rng, tc.o)
				r := randSlice(rng, n*tc.o*oh*ow)
				want := directConvT(x, w, b, n, tc, oh, ow)
				ws := []int{tc.c, tc.o * tc.kh * tc.kw}
				y, dx, dw, db := runConv(t, tensor.Float64, ConvTranspose2d, p, x, w, b, r, n, ws)
				closeTo(t, "y", y, want, 1e-12)
				checkGrads(t, func(x, w, b []float64) []float64 { return directConvT(x, w, b, n, tc, oh, ow) }, x, w, b, r, dx, dw, db)
				y32, dx32, dw32, _ := runConv(t, tensor.Float32, ConvTranspose2d, p, x, w, b, r, n, ws)
				closeTo(t, "y (float32)", y32, want, 1e-5)
				closeTo(t, "∂x (float32)", dx32, dx, 1e-5)
				closeTo(t, "∂w (float32)", dw32, dw, 1e-5)
			})
		}
	}
}

// TestConvTransposeIsAdjoint: for the filters w of a Conv2d from C×H×W
// images to O×OH×OW grids, the ConvTranspose2d with the same w, stride and
// padding (and the output padding that gives back H×W) is its adjoint:
// ⟨Conv(x), y⟩ = ⟨x, ConvT(y)⟩ for random x and y, both without bias.
func TestConvTransposeIsAdjoint(t *testing.T) {
	for _, tc := range convCases {
		t.Run(tc.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.o), uint64(tc.w)))
			const n = 2
			p := tc.params()
			oh, ow := p.OutSize()
			// ConvT from the O×OH×OW grids back to C×H×W: its weight is
			// Conv's O×(C·KH·KW) matrix, read as Cin = O, Cout = C.
			pt := Conv{In: [3]int{tc.o, oh, ow}, Kernel: p.Kernel, Stride: p.Stride, Pad: p.Pad}
			th, tw := pt.TransposeOutSize()
			pt.OutPad = [2]int{tc.h - th, tc.w - tw}
			x, y, w := randSlice(rng, n*tc.c*tc.h*tc.w), randSlice(rng, n*tc.o*oh*ow), randSlice(rng, tc.o*tc.c*tc.kh*tc.kw)
			ws := []int{tc.o, tc.c * tc.kh * tc.kw}
			cx, _, _, _ := runConv(t, tensor.Float64, Conv2d, p, x, w, make([]float64, tc.o), make([]float64, len(y)), n, ws)
			ty, _, _, _ := runConv(t, tensor.Float64, ConvTranspose2d, pt, y, w, make([]float64, tc.c), make([]float64, len(x)), n, ws)
			var lhs, rhs, scale float64
			for i := range y {
				lhs += cx[i] * y[i]
				scale += math.Abs(cx[i] * y[i])
			}
			for i := range x {
				rhs += x[i] * ty[i]
			}
			if math.Abs(lhs-rhs) > 1e-12*scale {
				t.Errorf("⟨Conv x, y⟩ = %.15g, ⟨x, ConvT y⟩ = %.15g", lhs, rhs)
			}
		})
	}
}

// directMaxPool is max pooling in plain Go.
func directMaxPool(x []float64, n int, p Pool) []float64 {
	oh, ow := p.OutSize()
	c, h, w := p.In[0], p.In[1], p.In[2]
	y := make([]float64, n*c*oh*ow)
	for i := range n * c {
		for a := 0; a < oh; a++ {
			for bb := 0; bb < ow; bb++ {
				m := math.Inf(-1)
				for u := 0; u < p.Kernel[0]; u++ {
					for v := 0; v < p.Kernel[1]; v++ {
						m = math.Max(m, x[(i*h+a*p.stride(0)+u)*w+bb*p.stride(1)+v])
					}
				}
				y[(i*oh+a)*ow+bb] = m
			}
		}
	}
	return y
}

// TestMaxPool2d: MaxPool2d's output equals plain-Go max pooling, and its
// gradient the central differences (distinct values: no ties), for
// windows that tile, overlap or leave a remainder; with ties, the first
// maximum of a window gets its gradient.
func TestMaxPool2d(t *testing.T) {
	for _, p := range []Pool{
		{In: [3]int{2, 6, 6}, Kernel: [2]int{2, 2}},
		{In: [3]int{1, 7, 5}, Kernel: [2]int{2, 2}},
		{In: [3]int{3, 5, 6}, Kernel: [2]int{3, 2}, Stride: [2]int{1, 2}},
		{In: [3]int{1, 4, 4}, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}},
	} {
		t.Run(fmt.Sprint(p), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(p.In[1]), uint64(p.Kernel[0])))
			const n = 2
			x := randSlice(rng, n*p.In[0]*p.In[1]*p.In[2])
			oh, ow := p.OutSize()
			r := randSlice(rng, n*p.In[0]*oh*ow)
			pool := func(x, _, _ *G.Node, _ Conv) (*G.Node, error) { return MaxPool2d(x, p) }
			y, dx, _, _ := runConv(t, tensor.Float64, pool, Conv{}, x, nil, nil, r, n, nil)
			closeTo(t, "y", y, directMaxPool(x, n, p), 0)
			// h = 1e-6: no nearer than that to a tie between two values of a window.
			checkGradsStep(t, 1e-6, func(x, _, _ []float64) []float64 { return directMaxPool(x, n, p) }, x, []float64{}, []float64{}, r, dx, nil, nil)
			y32, dx32, _, _ := runConv(t, tensor.Float32, pool, Conv{}, x, nil, nil, r, n, nil)
			closeTo(t, "y (float32)", y32, y, 1e-6)
			closeTo(t, "∂x (float32)", dx32, dx, 1e-6)
		})
	}
	// Ties: a 2×2 window of equal values sends its gradient to the first.
	p := Pool{In: [3]int{1, 2, 4}, Kernel: [2]int{2, 2}}
	pool := func(x, _, _ *G.Node, _ Conv) (*G.Node, error) { return MaxPool2d(x, p) }
	_, dx, _, _ := runConv(t, tensor.Float64, pool, Conv{}, []float64{1, 1, 0, 3, 1, 1, 3, 3}, nil, nil, []float64{5, 7}, 1, nil)
	if want := []float64{5, 0, 0, 7, 0, 0, 0, 0}; fmt.Sprint(dx) != fmt.Sprint(want) {
		t.Errorf("∂x with ties = %v, want %v", dx, want)
	}
	// A NaN in a window is its maximum (a diverged layer shows), in the
	// 2×2 path and in the general one (3×2 windows).
	nan := math.NaN()
	for _, q := range []Pool{p, {In: [3]int{1, 3, 4}, Kernel: [2]int{3, 2}}} {
		pool := func(x, _, _ *G.Node, _ Conv) (*G.Node, error) { return MaxPool2d(x, q) }
		x := []float64{1, 2, 0, 3, 4, nan, 3, 3, 1, 1, 1, 1}[:q.In[1]*q.In[2]]
		y, dx, _, _ := runConv(t, tensor.Float64, pool, Conv{}, x, nil, nil, []float64{5, 7}, 1, nil)
		if !math.IsNaN(y[0]) || y[1] != 3 || !(dx[5] == 5) {
			t.Errorf("%v: NaN in the first window: y = %v, ∂x = %v", q, y, dx)
		}
	}
}

// TestConvKernelsThreadInvariant: the convolution, its transpose, their
// gradients and pooling give the same bits at 1 and 4 threads (the chunks
// of the image loops do not depend on the thread count).
func TestConvKernelsThreadInvariant(t *testing.T) {
	tc := convCase{3, 12, 12, 4, 3, 3, 1, 1, 1, 1}
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 37
	oh, ow := tc.params().OutSize()
	x, w, b := randSlice(rng, n*tc.c*tc.h*tc.w), randSlice(rng, tc.o*tc.c*tc.kh*tc.kw), randSlice(rng, tc.o)
	r := randSlice(rng, n*tc.o*oh*ow)
	pt, th, tw := transposeCase(convCase{tc.o, oh, ow, tc.c, 4, 4, 2, 2, 1, 1}, 0)
	rt := randSlice(rng, n*tc.c*th*tw)
	wt, bt := randSlice(rng, tc.o*tc.c*16), randSlice(rng, tc.c)
	pool := func(x, _, _ *G.Node, _ Conv) (*G.Node, error) {
		return MaxPool2d(x, Pool{In: [3]int{tc.c, tc.h, tc.w}, Kernel: [2]int{2, 2}})
	}
	run := func() string {
		y, dx, dw, db := runConv(t, tensor.Float32, Conv2d, tc.params(), x, w, b, r, n, []int{tc.o, tc.c * 9})
		yt, dxt, dwt, dbt := runConv(t, tensor.Float32, ConvTranspose2d, pt, r, wt, bt, rt, n, []int{tc.o, tc.c * 16})
		yp, dxp, _, _ := runConv(t, tensor.Float32, pool, Conv{}, x, nil, nil, r[:n*tc.c*36], n, nil)
		return fmt.Sprint(y, dx, dw, db, yt, dxt, dwt, dbt, yp, dxp)
	}
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	one := run()
	runtime.GOMAXPROCS(4)
	if four := run(); four != one {
		t.Error("results differ between 1 and 4 threads")
	}
}

// TestConvErrors: operands that do not fit are refused with an error.
func TestConvErrors(t *testing.T) {
	g := G.NewGraph()
	m := func(r, c int) *G.Node { return matrix(g, r, c, make([]float64, r*c), "m") }
	p := Conv{In: [3]int{2, 5, 5}, Kernel: [2]int{3, 3}, Pad: [2]int{1, 1}}
	for name, f := range map[string]func() error{
		"x columns": func() error { _, err := Conv2d(m(2, 49), m(4, 18), m(1, 4), p); return err },
		"w columns": func() error { _, err := Conv2d(m(2, 50), m(4, 17), m(1, 4), p); return err },
		"bias":      func() error { _, err := Conv2d(m(2, 50), m(4, 18), m(1, 3), p); return err },
		"kernel too big": func() error {
			_, err := Conv2d(m(2, 50), m(4, 98), m(1, 4), Conv{In: p.In, Kernel: [2]int{7, 7}})
			return err
		},
		"outpad in Conv": func() error {
			q := p
			q.OutPad = [2]int{1, 0}
			_, err := Conv2d(m(2, 50), m(4, 18), m(1, 4), q)
			return err
		},
		"outpad ≥ stride": func() error {
			q := p
			q.OutPad = [2]int{1, 0}
			_, err := ConvTranspose2d(m(2, 50), m(2, 18), m(1, 2), q)
			return err
		},
		"T w rows":  func() error { _, err := ConvTranspose2d(m(2, 50), m(3, 18), m(1, 2), p); return err },
		"T w cols":  func() error { _, err := ConvTranspose2d(m(2, 50), m(2, 17), m(1, 2), p); return err },
		"T bias":    func() error { _, err := ConvTranspose2d(m(2, 50), m(2, 18), m(1, 3), p); return err },
		"pool size": func() error { _, err := MaxPool2d(m(2, 49), Pool{In: p.In, Kernel: [2]int{2, 2}}); return err },
		"pool kernel": func() error {
			_, err := MaxPool2d(m(2, 50), Pool{In: p.In, Kernel: [2]int{6, 2}})
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

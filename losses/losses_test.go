package losses

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fixture is a float64 graph with a batch x (n×d), weights W (d×h), bias b
// (1×h), pre-activation a = xW + b and code h = act(a).
type fixture struct {
	g          *G.ExprGraph
	n, d, hdim int
	x, w, bias []float64
	X, W, B    *G.Node
}

func newFixture(seed uint64, n, d, h int) *fixture {
	rng := rand.New(rand.NewPCG(seed, 3))
	f := &fixture{g: G.NewGraph(), n: n, d: d, hdim: h}
	f.x = randn(rng, n*d, 1)
	f.w = randn(rng, d*h, 0.7)
	f.bias = randn(rng, h, 0.3)
	f.X = G.NewMatrix(f.g, tensor.Float64, G.WithShape(n, d), G.WithName("x"), G.WithValue(tensor.New(tensor.WithShape(n, d), tensor.WithBacking(f.x))))
	f.W = G.NewMatrix(f.g, tensor.Float64, G.WithShape(d, h), G.WithName("W"), G.WithValue(tensor.New(tensor.WithShape(d, h), tensor.WithBacking(f.w))))
	f.B = G.NewMatrix(f.g, tensor.Float64, G.WithShape(1, h), G.WithName("b"), G.WithValue(tensor.New(tensor.WithShape(1, h), tensor.WithBacking(f.bias))))
	return f
}

func randn(rng *rand.Rand, n int, s float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = s * rng.NormFloat64()
	}
	return v
}

func (f *fixture) code(t *testing.T, act string) *G.Node {
	t.Helper()
	a := G.Must(G.BroadcastAdd(G.Must(G.Mul(f.X, f.W)), f.B, nil, []byte{0}))
	switch act {
	case "sigmoid":
		return G.Must(G.Sigmoid(a))
	case "tanh":
		return G.Must(G.Tanh(a))
	case "relu":
		return G.Must(G.Rectify(a))
	}
	return a
}

func run(t *testing.T, g *G.ExprGraph, n *G.Node) []float64 {
	t.Helper()
	var v G.Value
	G.Read(n, &v)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	switch d := v.Data().(type) {
	case float64:
		return []float64{d}
	case []float64:
		return append([]float64(nil), d...)
	}
	t.Fatalf("unexpected value %T", v.Data())
	return nil
}

func actGo(act string, a float64) float64 {
	switch act {
	case "sigmoid":
		return 1 / (1 + math.Exp(-a))
	case "tanh":
		return math.Tanh(a)
	case "relu":
		return math.Max(a, 0)
	}
	return a
}

// encodeGo is h = act(xW + b) for one example, in plain Go.
func (f *fixture) encodeGo(act string, x []float64) []float64 {
	h := make([]float64, f.hdim)
	for j := range h {
		a := f.bias[j]
		for i := 0; i < f.d; i++ {
			a += x[i] * f.w[i*f.hdim+j]
		}
		h[j] = actGo(act, a)
	}
	return h
}

func relErr(a, b float64) float64 { return math.Abs(a-b) / math.Max(math.Abs(a)+math.Abs(b), 1e-300) }

// TestContractiveMatchesFiniteDifferenceJacobian compares the analytic
// penalty with ‖J‖²_F of a Jacobian computed by central differences of the
// encoder, in plain Go.
func TestContractiveMatchesFiniteDifferenceJacobian(t *testing.T) {
	for _, act := range []string{"sigmoid", "tanh", "relu", "linear"} {
		t.Run(act, func(t *testing.T) {
			f := newFixture(11, 5, 7, 6)
			h := f.code(t, act)
			pen, err := Contractive(act, h, f.W)
			if err != nil {
				t.Fatal(err)
			}
			perEx, err := JacobianFrobSqPerExample(act, h, f.W)
			if err != nil {
				t.Fatal(err)
			}
			G.Read(perEx, new(G.Value))
			got := run(t, f.g, pen)[0]

			const eps = 1e-5
			var want float64
			for n := 0; n < f.n; n++ {
				x := append([]float64(nil), f.x[n*f.d:(n+1)*f.d]...)
				var fro float64
				for i := 0; i < f.d; i++ {
					orig := x[i]
					x[i] = orig + eps
					hp := f.encodeGo(act, x)
					x[i] = orig - eps
					hm := f.encodeGo(act, x)
					x[i] = orig
					for j := range hp {
						d := (hp[j] - hm[j]) / (2 * eps)
						fro += d * d
					}
				}
				want += fro / float64(f.n)
			}
			if e := relErr(got, want); e > 1e-6 {
				t.Errorf("contractive penalty %.12g, finite-difference Jacobian %.12g (rel %.2g)", got, want, e)
			}
		})
	}
}

func TestGaussianKL(t *testing.T) {
	f := newFixture(2, 4, 3, 3)
	rng := rand.New(rand.NewPCG(5, 5))
	mu, lv := randn(rng, 12, 1), randn(rng, 12, 0.8)
	Mu := G.NewMatrix(f.g, tensor.Float64, G.WithShape(4, 3), G.WithName("mu"), G.WithValue(tensor.New(tensor.WithShape(4, 3), tensor.WithBacking(mu))))
	LV := G.NewMatrix(f.g, tensor.Float64, G.WithShape(4, 3), G.WithName("lv"), G.WithValue(tensor.New(tensor.WithShape(4, 3), tensor.WithBacking(lv))))
	kl, err := GaussianKL(Mu, LV)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, f.g, kl)[0]
	// Direct sum of the closed form KL(N(μ,σ²)‖N(0,1)) = ½(σ² + μ² − 1 − log σ²).
	var want float64
	for i := range mu {
		s2 := math.Exp(lv[i])
		want += 0.5 * (s2 + mu[i]*mu[i] - 1 - lv[i])
	}
	want /= 4
	if e := relErr(got, want); e > 1e-12 {
		t.Errorf("Gaussian KL %.15g, direct sum %.15g", got, want)
	}
}

func TestL1AndKLSparsity(t *testing.T) {
	f := newFixture(3, 6, 5, 4)
	h := f.code(t, "sigmoid")
	l1, err := L1(h)
	if err != nil {
		t.Fatal(err)
	}
	const rho = 0.1
	kl, err := KLSparsity(h, rho)
	if err != nil {
		t.Fatal(err)
	}
	var l1v, klv G.Value
	G.Read(l1, &l1v)
	G.Read(kl, &klv)
	vm := G.NewTapeMachine(f.g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var wantL1 float64
	mean := make([]float64, f.hdim)
	for n := 0; n < f.n; n++ {
		hv := f.encodeGo("sigmoid", f.x[n*f.d:(n+1)*f.d])
		for j, v := range hv {
			wantL1 += math.Abs(v) / float64(f.n)
			mean[j] += v / float64(f.n)
		}
	}
	var wantKL float64
	for _, r := range mean {
		wantKL += rho*math.Log(rho/r) + (1-rho)*math.Log((1-rho)/(1-r))
	}
	if e := relErr(l1v.Data().(float64), wantL1); e > 1e-12 {
		t.Errorf("L1 %.15g, direct %.15g", l1v.Data(), wantL1)
	}
	if e := relErr(klv.Data().(float64), wantKL); e > 1e-9 {
		t.Errorf("KL sparsity %.15g, direct %.15g", klv.Data(), wantKL)
	}
	if _, err := KLSparsity(h, 1); err == nil {
		t.Error("KLSparsity accepted ρ = 1")
	}
}

func TestReconstructionLosses(t *testing.T) {
	f := newFixture(4, 3, 5, 5)
	rng := rand.New(rand.NewPCG(9, 9))
	target := make([]float64, 15)
	for i := range target {
		target[i] = rng.Float64()
	}
	// Logits include extremes, where a naive log(sigmoid) would overflow.
	logits := randn(rng, 15, 3)
	logits[0], logits[1] = 60, -60
	T := G.NewMatrix(f.g, tensor.Float64, G.WithShape(3, 5), G.WithName("t"), G.WithValue(tensor.New(tensor.WithShape(3, 5), tensor.WithBacking(target))))
	L := G.NewMatrix(f.g, tensor.Float64, G.WithShape(3, 5), G.WithName("l"), G.WithValue(tensor.New(tensor.WithShape(3, 5), tensor.WithBacking(logits))))
	bce, err := BCEWithLogits(L, T)
	if err != nil {
		t.Fatal(err)
	}
	se, err := SquaredError(L, T)
	if err != nil {
		t.Fatal(err)
	}
	var bv, sv G.Value
	G.Read(bce, &bv)
	G.Read(se, &sv)
	vm := G.NewTapeMachine(f.g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var wantB, wantS float64
	for i, l := range logits {
		x := target[i]
		// −[x log σ(l) + (1−x) log(1−σ(l))], with log σ(l) = −log1p(e^{−l}).
		logp := -math.Log1p(math.Exp(-l))
		log1mp := -math.Log1p(math.Exp(l))
		if l > 30 {
			log1mp = -l
		}
		if l < -30 {
			logp = l
		}
		wantB += -(x*logp + (1-x)*log1mp) / 3
		wantS += (l - x) * (l - x) / 3
	}
	if e := relErr(bv.Data().(float64), wantB); e > 1e-9 {
		t.Errorf("BCE %.15g, direct %.15g", bv.Data(), wantB)
	}
	if e := relErr(sv.Data().(float64), wantS); e > 1e-12 {
		t.Errorf("squared error %.15g, direct %.15g", sv.Data(), wantS)
	}
}

func TestUnknownActivation(t *testing.T) {
	f := newFixture(1, 2, 2, 2)
	if _, err := Contractive("swish", f.code(t, "sigmoid"), f.W); err == nil {
		t.Error("Contractive accepted an unknown activation")
	}
}

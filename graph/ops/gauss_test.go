package ops

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
)

// gaussLoss is Σ z⊙w + β·KL in plain Go, z = μ + exp(½ lv)·ε: the loss
// whose gradient TestGaussianOpsGradient checks by finite differences.
func gaussLoss(mu, lv, eps, w []float64, rows int, beta float64) float64 {
	var s, kl float64
	for i := range mu {
		z := mu[i] + math.Exp(0.5*lv[i])*eps[i]
		s += z * w[i]
		kl += -0.5 * (1 + lv[i] - mu[i]*mu[i] - math.Exp(lv[i]))
	}
	return s + beta*kl/float64(rows)
}

// TestGaussianOpsGradient: Reparameterize and GaussianKL give the plain-Go
// values, and their symbolic gradients (with μ and log σ² reaching the
// loss through both) match central differences of the plain-Go loss.
func TestGaussianOpsGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const rows, cols, beta = 4, 3, 0.7
	randv := func(s float64) []float64 {
		v := make([]float64, rows*cols)
		for i := range v {
			v[i] = s * rng.NormFloat64()
		}
		return v
	}
	mu, lv, eps, w := randv(1), randv(0.8), randv(1), randv(1)
	g := G.NewGraph()
	Mu, LV, Eps, W := matrix(g, rows, cols, mu, "mu"), matrix(g, rows, cols, lv, "lv"), matrix(g, rows, cols, eps, "eps"), matrix(g, rows, cols, w, "w")
	z := G.Must(Reparameterize(Mu, LV, Eps))
	kl := G.Must(GaussianKL(Mu, LV))
	loss := G.Must(G.Add(G.Must(G.Sum(G.Must(G.HadamardProd(z, W)))), G.Must(G.Mul(kl, G.NewConstant(beta)))))
	if _, err := G.Grad(loss, Mu, LV); err != nil {
		t.Fatal(err)
	}
	var lossV, klV G.Value
	G.Read(loss, &lossV)
	G.Read(kl, &klV)
	vm := G.NewTapeMachine(g, G.BindDualValues(Mu, LV))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if got, want := lossV.Data().(float64), gaussLoss(mu, lv, eps, w, rows, beta); math.Abs(got-want) > 1e-12*math.Abs(want) {
		t.Errorf("loss %.15g, plain Go %.15g", got, want)
	}
	var wantKL float64
	for i := range mu {
		wantKL += 0.5 * (math.Exp(lv[i]) + mu[i]*mu[i] - 1 - lv[i]) // the closed form
	}
	if got := klV.Data().(float64); math.Abs(got-wantKL/rows) > 1e-12 {
		t.Errorf("KL %.15g, closed form %.15g", got, wantKL/rows)
	}
	for _, p := range []struct {
		name string
		node *G.Node
		v    []float64
	}{{"μ", Mu, mu}, {"log σ²", LV, lv}} {
		gv, err := p.node.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grad := gv.Data().([]float64)
		for i := range p.v {
			const h = 1e-6
			old := p.v[i]
			p.v[i] = old + h
			up := gaussLoss(mu, lv, eps, w, rows, beta)
			p.v[i] = old - h
			down := gaussLoss(mu, lv, eps, w, rows, beta)
			p.v[i] = old
			if num := (up - down) / (2 * h); math.Abs(grad[i]-num) > 1e-6*(1+math.Abs(num)) {
				t.Errorf("∂loss/∂%s[%d] = %.10g, finite difference %.10g", p.name, i, grad[i], num)
			}
		}
	}
}

// TestGaussianKernelsMatchPlainLoops: the reparameterization, the KL and
// their gradients give the same bits at 1 and 4 threads as plain loops.
func TestGaussianKernelsMatchPlainLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	const n = 129 * 787 // several chunks, a ragged last one
	randv := func(s float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(s * rng.NormFloat64())
		}
		return v
	}
	mu, lv, eps, dz := randv(1), randv(1), randv(1), randv(1)
	z, d := make([]float32, n), make([]float32, n)
	var wantKL float64
	for i := range mu {
		m, l := float64(mu[i]), float64(lv[i])
		wantKL += 1 + l - m*m - math.Exp(l)
	}
	wantKL *= -0.5
	for _, procs := range []int{1, 4} {
		old := runtime.GOMAXPROCS(procs)
		reparam(z, mu, lv, eps)
		for i := range z {
			if want := float32(float64(mu[i]) + math.Exp(0.5*float64(lv[i]))*float64(eps[i])); z[i] != want {
				t.Fatalf("procs %d: reparam[%d] = %g, want %g", procs, i, z[i], want)
			}
		}
		reparamGrad(d, lv, eps, dz)
		for i := range d {
			if want := float32(0.5 * float64(dz[i]) * math.Exp(0.5*float64(lv[i])) * float64(eps[i])); d[i] != want {
				t.Fatalf("procs %d: reparamGrad[%d] = %g, want %g", procs, i, d[i], want)
			}
		}
		if got := gaussKLSum(new(outBuf), mu, lv); math.Abs(got-wantKL) > 1e-12*math.Abs(wantKL) {
			t.Fatalf("procs %d: KL sum %g, want %g", procs, got, wantKL)
		}
		for _, wrtLV := range []bool{false, true} {
			src := mu
			if wrtLV {
				src = lv
			}
			gaussKLGrad(d, src, 0.25, wrtLV)
			for i, v := range src {
				want := float32(0.25 * float64(v))
				if wrtLV {
					want = float32(0.25 * 0.5 * (math.Exp(float64(v)) - 1))
				}
				if d[i] != want {
					t.Fatalf("procs %d: gaussKLGrad(wrt log σ² %v)[%d] = %g, want %g", procs, wrtLV, i, d[i], want)
				}
			}
		}
		runtime.GOMAXPROCS(old)
	}
	// The KL sum's chunks do not depend on the thread count: the same bits.
	old := runtime.GOMAXPROCS(1)
	one := gaussKLSum(new(outBuf), mu, lv)
	runtime.GOMAXPROCS(4)
	four := gaussKLSum(new(outBuf), mu, lv)
	runtime.GOMAXPROCS(old)
	if one != four {
		t.Errorf("KL sum %v at 1 thread, %v at 4", one, four)
	}
}

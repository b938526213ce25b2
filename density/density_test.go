package density

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// rotation returns a d×d orthogonal matrix (QR of a Gaussian matrix).
func rotation(rng *rand.Rand, d int) *mat.Dense {
	a := mat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

// covFrom returns Q·diag(ev)·Qᵀ (Q = nil: the identity).
func covFrom(q *mat.Dense, ev []float64) *mat.SymDense {
	d := len(ev)
	s := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			v := 0.0
			for k := 0; k < d; k++ {
				qi, qj := 0.0, 0.0
				if q == nil {
					if i == k {
						qi = 1
					}
					if j == k {
						qj = 1
					}
				} else {
					qi, qj = q.At(i, k), q.At(j, k)
				}
				v += qi * ev[k] * qj
			}
			s.SetSym(i, j, v)
		}
	}
	return s
}

// commutingFD is the closed form for covariances with the same
// eigenvectors: |μ1−μ2|² + Σᵢ(√aᵢ − √bᵢ)².
func commutingFD(mu1, mu2, a, b []float64) float64 {
	s := 0.0
	for i := range mu1 {
		t := mu1[i] - mu2[i]
		s += t * t
		u := math.Sqrt(a[i]) - math.Sqrt(b[i])
		s += u * u
	}
	return s
}

// TestFrechetClosedForm checks FrechetDistance against closed forms: the
// commuting case |μ1−μ2|² + Σ(√a−√b)² (diagonal and commonly rotated
// covariances) and, for 2×2 covariances that do not commute,
// tr(Σ1Σ2)^½ = √(tr(Σ1Σ2) + 2√(det Σ1 det Σ2)).
func TestFrechetClosedForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	q5 := rotation(rng, 5)
	type tc struct {
		name   string
		mu1    []float64
		mu2    []float64
		c1, c2 *mat.SymDense
		want   float64
	}
	cases := []tc{
		{"identical", []float64{1, 2}, []float64{1, 2}, covFrom(nil, []float64{2, 3}), covFrom(nil, []float64{2, 3}), 0},
		{"means only", []float64{0, 0, 0}, []float64{1, -2, 2}, covFrom(nil, []float64{1, 1, 1}), covFrom(nil, []float64{1, 1, 1}), 9},
		{"diagonal", []float64{0, 1, 0, 0}, []float64{0.5, 1, 0, -1},
			covFrom(nil, []float64{1, 4, 9, 0.25}), covFrom(nil, []float64{4, 1, 9, 1}),
			commutingFD([]float64{0, 1, 0, 0}, []float64{0.5, 1, 0, -1}, []float64{1, 4, 9, 0.25}, []float64{4, 1, 9, 1})},
		{"rotated commuting", []float64{1, 0, 0, 2, 0}, []float64{0, 0, 1, 2, 0},
			covFrom(q5, []float64{0.1, 1, 2, 5, 0.3}), covFrom(q5, []float64{3, 1, 0.2, 5, 0.01}),
			commutingFD([]float64{1, 0, 0, 2, 0}, []float64{0, 0, 1, 2, 0}, []float64{0.1, 1, 2, 5, 0.3}, []float64{3, 1, 0.2, 5, 0.01})},
		{"singular", []float64{0, 0}, []float64{0, 0}, covFrom(nil, []float64{0, 1}), covFrom(nil, []float64{1, 1}), 1},
	}
	// 2×2 covariances that do not commute.
	c1 := mat.NewSymDense(2, []float64{2, 0.8, 0.8, 1})
	c2 := mat.NewSymDense(2, []float64{1, -0.3, -0.3, 3})
	var p mat.Dense
	p.Mul(c1, c2)
	tr := mat.Trace(&p)
	trSqrt := math.Sqrt(tr + 2*math.Sqrt(mat.Det(c1)*mat.Det(c2)))
	cases = append(cases, tc{"2×2 non-commuting", []float64{1, 1}, []float64{0, 2}, c1, c2,
		2 + mat.Trace(c1) + mat.Trace(c2) - 2*trSqrt})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Moments{Mean: c.mu1, Cov: c.c1}
			b := Moments{Mean: c.mu2, Cov: c.c2}
			got, err := FrechetDistance(a, b)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-c.want) > 1e-9*(1+c.want) {
				t.Errorf("FD = %.12g, want %.12g", got, c.want)
			}
			back, err := FrechetDistance(b, a)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(back-got) > 1e-9*(1+got) {
				t.Errorf("not symmetric: %.12g vs %.12g", got, back)
			}
		})
	}
}

// gaussianRows draws n rows μ + Q·diag(√ev)·ε in plain Go (independent of
// Gaussian.Sample).
func gaussianRows(rng *rand.Rand, n int, mu []float64, q *mat.Dense, ev []float64) []float64 {
	d := len(mu)
	out := make([]float64, n*d)
	e := make([]float64, d)
	for i := 0; i < n; i++ {
		for k := range e {
			e[k] = math.Sqrt(ev[k]) * rng.NormFloat64()
		}
		for j := 0; j < d; j++ {
			v := mu[j]
			for k := 0; k < d; k++ {
				if q == nil {
					if j == k {
						v += e[k]
					}
				} else {
					v += q.At(j, k) * e[k]
				}
			}
			out[i*d+j] = v
		}
	}
	return out
}

// TestFrechetFromSamples checks Frechet on samples against the closed form
// of the generating Gaussians. With n = 20,000 rows, each sample mean is
// off by about σ/√n ≈ 0.01 and each covariance entry by about
// σ²·√(2/n) ≈ 0.01·σ², so the estimate lies within a few hundredths of
// the truth; the tolerance 0.05 + 2% allows for that, while every case's
// distance is far larger than the tolerance.
func TestFrechetFromSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	q := rotation(rng, 4)
	cases := []struct {
		name     string
		mu1, mu2 []float64
		q        *mat.Dense
		a, b     []float64
	}{
		{"diagonal", []float64{0, 0, 0, 0}, []float64{1, 0, -1, 0}, nil, []float64{1, 2, 0.5, 1}, []float64{2, 2, 2, 0.25}},
		{"rotated", []float64{0, 1, 0, 0}, []float64{0, 0, 0, 1}, q, []float64{0.3, 1, 3, 1}, []float64{1, 1, 0.5, 4}},
	}
	const n = 20000
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := gaussianRows(rng, n, c.mu1, c.q, c.a)
			y := gaussianRows(rng, n, c.mu2, c.q, c.b)
			got, err := Frechet(x, y, len(c.mu1))
			if err != nil {
				t.Fatal(err)
			}
			want := commutingFD(c.mu1, c.mu2, c.a, c.b)
			if math.Abs(got-want) > 0.05+0.02*want {
				t.Errorf("FD from samples = %.4f, closed form %.4f", got, want)
			}
			self, err := Frechet(x, x, len(c.mu1))
			if err != nil {
				t.Fatal(err)
			}
			if self > 1e-9 {
				t.Errorf("FD of a set with itself = %g", self)
			}
		})
	}
}

// TestMomentsOf compares the mean and unbiased covariance with a plain
// double loop.
func TestMomentsOf(t *testing.T) {
	x := []float64{1, 2, 3, 5, 0, -1, 2, 2, 7, 4, 1, 0}
	const d, n = 3, 4
	m, err := MomentsOf(x, d)
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < d; j++ {
		mu := 0.0
		for i := 0; i < n; i++ {
			mu += x[i*d+j]
		}
		mu /= n
		if math.Abs(m.Mean[j]-mu) > 1e-12 {
			t.Errorf("mean[%d] = %g, want %g", j, m.Mean[j], mu)
		}
	}
	for j := 0; j < d; j++ {
		for k := 0; k < d; k++ {
			c := 0.0
			for i := 0; i < n; i++ {
				c += (x[i*d+j] - m.Mean[j]) * (x[i*d+k] - m.Mean[k])
			}
			c /= n - 1
			if math.Abs(m.Cov.At(j, k)-c) > 1e-12 {
				t.Errorf("cov[%d,%d] = %g, want %g", j, k, m.Cov.At(j, k), c)
			}
		}
	}
}

// TestGaussianLogProb checks LogProb against the product of univariate
// densities (diagonal covariance) and the explicit 2×2 formula, and the
// batched logProbRows against LogProb.
func TestGaussianLogProb(t *testing.T) {
	diag := []float64{0.5, 2, 3}
	mu := []float64{1, -1, 0}
	g, err := NewGaussian(mu, covFrom(nil, diag))
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{0.3, 0.7, -2}
	want := 0.0
	for i, v := range x {
		want += -0.5*math.Log(2*math.Pi*diag[i]) - (v-mu[i])*(v-mu[i])/(2*diag[i])
	}
	if got := g.LogProb(x); math.Abs(got-want) > 1e-12 {
		t.Errorf("diagonal: LogProb = %.15g, want %.15g", got, want)
	}

	// 2×2: Σ = [[a, b], [b, c]], Σ⁻¹ = [[c, −b], [−b, a]]/det.
	a, b, c := 2.0, 0.7, 1.5
	det := a*c - b*b
	g2, err := NewGaussian([]float64{0, 1}, mat.NewSymDense(2, []float64{a, b, b, c}))
	if err != nil {
		t.Fatal(err)
	}
	r0, r1 := 1.2-0, -0.4-1
	q := (c*r0*r0 - 2*b*r0*r1 + a*r1*r1) / det
	want2 := -math.Log(2*math.Pi) - 0.5*math.Log(det) - 0.5*q
	if got := g2.LogProb([]float64{1.2, -0.4}); math.Abs(got-want2) > 1e-12 {
		t.Errorf("2×2: LogProb = %.15g, want %.15g", got, want2)
	}

	rows := []float64{1.2, -0.4, 0, 0, 3, -2}
	dst := make([]float64, 3)
	g2.logProbRows(rows, 3, dst)
	for i := 0; i < 3; i++ {
		if w := g2.LogProb(rows[2*i : 2*i+2]); math.Abs(dst[i]-w) > 1e-12 {
			t.Errorf("row %d: batched %.15g, single %.15g", i, dst[i], w)
		}
	}
}

// TestGaussianSampleAndFit draws from a known Gaussian and refits it: the
// fitted mean and covariance match within sampling error (n = 40,000:
// about 0.01·σ per entry; tolerance 0.05).
func TestGaussianSampleAndFit(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cov := mat.NewSymDense(3, []float64{1, 0.5, -0.2, 0.5, 2, 0.3, -0.2, 0.3, 0.5})
	g, err := NewGaussian([]float64{1, 2, 3}, cov)
	if err != nil {
		t.Fatal(err)
	}
	s := g.Sample(rng, 40000)
	flat := make([]float64, 0, 3*len(s))
	for _, r := range s {
		flat = append(flat, r...)
	}
	f, err := FitGaussian(flat, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if math.Abs(f.Mean[i]-g.Mean[i]) > 0.05 {
			t.Errorf("mean[%d] = %g, want %g", i, f.Mean[i], g.Mean[i])
		}
		for j := 0; j < 3; j++ {
			if math.Abs(f.Cov.At(i, j)-cov.At(i, j)) > 0.05 {
				t.Errorf("cov[%d,%d] = %g, want %g", i, j, f.Cov.At(i, j), cov.At(i, j))
			}
		}
	}
}

// TestFitGaussianMLE checks FitGaussian's covariance (divided by n, plus
// the ridge) against a plain loop on a tiny set.
func TestFitGaussianMLE(t *testing.T) {
	x := []float64{0, 0, 2, 0, 0, 4, 2, 4}
	const reg = 0.01
	g, err := FitGaussian(x, 2, reg)
	if err != nil {
		t.Fatal(err)
	}
	// Mean (1, 2); deviations (±1, ±2) independent: var 1 and 4, cov 0.
	want := [][]float64{{1 + reg, 0}, {0, 4 + reg}}
	for i := range want {
		for j := range want[i] {
			if math.Abs(g.Cov.At(i, j)-want[i][j]) > 1e-12 {
				t.Errorf("cov[%d,%d] = %g, want %g", i, j, g.Cov.At(i, j), want[i][j])
			}
		}
	}
}

type cluster struct {
	w     float64
	mu    []float64
	ev    []float64 // covariance eigenvalues
	rotat bool
}

// mixtureRows draws n rows from the clusters in plain Go, with labels.
func mixtureRows(rng *rand.Rand, n int, cs []cluster) ([]float64, []int) {
	d := len(cs[0].mu)
	qs := make([]*mat.Dense, len(cs))
	for k, c := range cs {
		if c.rotat {
			qs[k] = rotation(rng, d)
		}
	}
	x := make([]float64, 0, n*d)
	lab := make([]int, n)
	for i := 0; i < n; i++ {
		u, k := rng.Float64(), len(cs)-1
		acc := 0.0
		for j, c := range cs {
			acc += c.w
			if u < acc {
				k = j
				break
			}
		}
		lab[i] = k
		x = append(x, gaussianRows(rng, 1, cs[k].mu, qs[k], cs[k].ev)...)
	}
	return x, lab
}

// TestGMMRecoversClusters fits mixtures to synthetic, well-separated
// clusters and matches each true cluster to the fitted component with the
// nearest mean. Against the oracle that knows every row's cluster (the
// per-cluster sample means and shares), the fit agrees to 0.02 in the mean
// and 0.005 in the weight; against the generating parameters, within four
// standard errors: √(tr Σ/(w·n)) for the mean and √(w(1−w)/n) for the
// weight.
func TestGMMRecoversClusters(t *testing.T) {
	cases := []struct {
		name string
		cs   []cluster
	}{
		{"2-d, 3 clusters", []cluster{
			{0.5, []float64{0, 0}, []float64{1, 0.3}, true},
			{0.3, []float64{6, 1}, []float64{0.5, 0.5}, false},
			{0.2, []float64{-3, 7}, []float64{2, 0.2}, true},
		}},
		{"5-d, 4 clusters", []cluster{
			{0.1, []float64{5, 0, 0, 0, 0}, []float64{1, 1, 1, 1, 1}, false},
			{0.2, []float64{0, 5, 0, 0, 0}, []float64{0.2, 1, 0.5, 1, 2}, true},
			{0.3, []float64{0, 0, 5, 0, 5}, []float64{1, 0.1, 1, 0.3, 1}, true},
			{0.4, []float64{-5, 0, 0, 5, 0}, []float64{0.5, 0.5, 0.5, 0.5, 0.5}, false},
		}},
	}
	const n = 6000
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			d := len(c.cs[0].mu)
			x, lab := mixtureRows(rng, n, c.cs)
			m, err := FitGMM(x, d, GMMOptions{K: len(c.cs)}, rand.New(rand.NewPCG(9, 10)))
			if err != nil {
				t.Fatal(err)
			}
			if !m.Converged {
				t.Errorf("EM did not converge in %d iterations", m.Iter)
			}
			used := map[int]bool{}
			for ci, cl := range c.cs {
				// The oracle: sample mean and share of the rows drawn from cl.
				om, cnt := make([]float64, d), 0
				for i, l := range lab {
					if l != ci {
						continue
					}
					cnt++
					for j := 0; j < d; j++ {
						om[j] += x[i*d+j]
					}
				}
				for j := range om {
					om[j] /= float64(cnt)
				}
				share := float64(cnt) / n

				best, bd := -1, math.Inf(1)
				for k, g := range m.Components {
					if dd := sqDist(g.Mean, cl.mu); dd < bd {
						best, bd = k, dd
					}
				}
				if used[best] {
					t.Fatalf("component %d matched twice", best)
				}
				used[best] = true
				g, w := m.Components[best], m.Weights[best]
				tr := 0.0
				for _, e := range cl.ev {
					tr += e
				}
				if se := math.Sqrt(tr / (cl.w * n)); math.Sqrt(bd) > 4*se {
					t.Errorf("cluster at %v: nearest mean %v (distance %.3f > 4 SE = %.3f)", cl.mu, g.Mean, math.Sqrt(bd), 4*se)
				}
				if dd := math.Sqrt(sqDist(g.Mean, om)); dd > 0.02 {
					t.Errorf("cluster at %v: mean %v, oracle sample mean %v (distance %.4f)", cl.mu, g.Mean, om, dd)
				}
				if se := math.Sqrt(cl.w * (1 - cl.w) / n); math.Abs(w-cl.w) > 4*se {
					t.Errorf("cluster at %v: weight %.4f, want %.4f ± %.4f", cl.mu, w, cl.w, 4*se)
				}
				if math.Abs(w-share) > 0.005 {
					t.Errorf("cluster at %v: weight %.4f, oracle share %.4f", cl.mu, w, share)
				}
				// The fitted covariance's trace matches the cluster's.
				if got := mat.Trace(g.Cov); math.Abs(got-tr) > 0.1*tr {
					t.Errorf("cluster at %v: covariance trace %.3f, want %.3f", cl.mu, got, tr)
				}
			}
		})
	}
}

// TestGMMMonotone checks EM's defining property: with the same seed, more
// iterations never lower the training log-likelihood.
func TestGMMMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x, _ := mixtureRows(rng, 1500, []cluster{
		{0.5, []float64{0, 0}, []float64{1, 1}, false},
		{0.5, []float64{1.5, 0.5}, []float64{0.3, 2}, true},
	})
	prev := math.Inf(-1)
	for it := 1; it <= 15; it++ {
		m, err := FitGMM(x, 2, GMMOptions{K: 3, MaxIter: it, Tol: 1e-300}, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if m.MeanLogLik < prev-1e-9 {
			t.Errorf("iteration %d: mean log-likelihood %.9f < %.9f", it, m.MeanLogLik, prev)
		}
		prev = m.MeanLogLik
	}
}

// TestGMMLogProbAndSample checks LogProb against a plain log-sum-exp over
// the components, the mean log-likelihood record against LogProb, and the
// component frequencies of Sample against the weights; and that equal
// seeds give equal fits.
func TestGMMLogProbAndSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	x, _ := mixtureRows(rng, 2000, []cluster{
		{0.7, []float64{0, 0, 0}, []float64{1, 1, 1}, false},
		{0.3, []float64{8, 8, 8}, []float64{1, 1, 1}, false},
	})
	m, err := FitGMM(x, 3, GMMOptions{K: 2}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := FitGMM(x, 3, GMMOptions{K: 2}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if m.MeanLogLik != m2.MeanLogLik || m.Weights[0] != m2.Weights[0] {
		t.Errorf("same seed, different fits: %v vs %v", m.MeanLogLik, m2.MeanLogLik)
	}
	p := []float64{0.5, 1, -0.3}
	s := 0.0
	for k, g := range m.Components {
		s += m.Weights[k] * math.Exp(g.LogProb(p))
	}
	if got := m.LogProb(p); math.Abs(got-math.Log(s)) > 1e-10 {
		t.Errorf("LogProb = %.12g, want %.12g", got, math.Log(s))
	}
	ll := 0.0
	for i := 0; i < 2000; i++ {
		ll += m.LogProb(x[3*i : 3*i+3])
	}
	// MeanLogLik is recorded after the last E step, before a final M step:
	// with Tol 1e-4 it is within that of the returned parameters' value.
	if math.Abs(ll/2000-m.MeanLogLik) > 1e-3 {
		t.Errorf("mean LogProb %.6f, recorded %.6f", ll/2000, m.MeanLogLik)
	}
	far := 0
	const n = 20000
	for _, r := range m.Sample(rand.New(rand.NewPCG(3, 3)), n) {
		if r[0]+r[1]+r[2] > 12 {
			far++
		}
	}
	hi := 0
	if m.Components[1].Mean[0] > m.Components[0].Mean[0] {
		hi = 1
	}
	if got := float64(far) / n; math.Abs(got-m.Weights[hi]) > 0.015 {
		t.Errorf("share of samples near (8,8,8) %.4f, weight %.4f", got, m.Weights[hi])
	}
}

// TestBadInput: malformed input gives an error, never a panic.
func TestBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		name string
		f    func() error
	}{
		{"dim 0", func() error { _, err := MomentsOf([]float64{1, 2}, 0); return err }},
		{"ragged", func() error { _, err := MomentsOf([]float64{1, 2, 3}, 2); return err }},
		{"one row", func() error { _, err := MomentsOf([]float64{1, 2}, 2); return err }},
		{"NaN", func() error { _, err := FitGaussian([]float64{1, math.NaN(), 3, 4}, 2, 0); return err }},
		{"negative reg", func() error { _, err := FitGaussian([]float64{1, 2, 3, 4}, 2, -1); return err }},
		{"singular fit", func() error { _, err := FitGaussian([]float64{1, 1, 2, 2}, 2, 1e-300); return err }},
		{"K too large", func() error { _, err := FitGMM([]float64{1, 2, 3, 4}, 2, GMMOptions{K: 3}, rng); return err }},
		{"K zero", func() error { _, err := FitGMM([]float64{1, 2, 3, 4}, 2, GMMOptions{}, rng); return err }},
		{"no rng", func() error { _, err := FitGMM([]float64{1, 2, 3, 4}, 2, GMMOptions{K: 1}, nil); return err }},
		{"dimension mismatch", func() error {
			a, _ := MomentsOf([]float64{1, 2, 3, 4}, 2)
			b, _ := MomentsOf([]float64{1, 2, 3, 4, 5, 6}, 3)
			_, err := FrechetDistance(a, b)
			return err
		}},
		{"not positive definite", func() error {
			_, err := NewGaussian([]float64{0, 0}, mat.NewSymDense(2, []float64{1, 2, 2, 1}))
			return err
		}},
		{"cov size", func() error {
			_, err := NewGaussian([]float64{0, 0, 0}, mat.NewSymDense(2, []float64{1, 0, 0, 1}))
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.f(); err == nil {
				t.Error("no error")
			}
		})
	}
}

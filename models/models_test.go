package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/graph"
	"gorgonia.org/tensor"
)

func randomBatch(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

// tiny shrinks a model's defaults so that every parameter entry can be
// checked by finite differences.
func tiny(name string, mod func(c *Config)) Config {
	c, err := Defaults(name)
	if err != nil {
		panic(err)
	}
	c.Hidden = 5
	if mod != nil {
		mod(&c)
	}
	return c
}

// gradCases are the models (and variants) whose gradients are checked.
func gradCases() []struct {
	name string
	cfg  Config
} {
	return []struct {
		name string
		cfg  Config
	}{
		{"plain/sigmoid/bce", tiny("plain", nil)},
		{"plain/tanh/mse", tiny("plain", func(c *Config) { c.Activation, c.Loss = "tanh", "mse" })},
		{"plain/relu/bce", tiny("plain", func(c *Config) { c.Activation = "relu" })},
		{"sparse/l1/relu", tiny("sparse", func(c *Config) { c.Lambda = 0.3 })},
		{"sparse/kl/sigmoid", tiny("sparse", func(c *Config) { c.Sparsity, c.Activation, c.Beta = "kl", "sigmoid", 0.5 })},
		{"topk/linear", tiny("topk", func(c *Config) { c.K = 2 })},
		{"topk/relu", tiny("topk", func(c *Config) { c.K, c.Activation = 3, "relu" })},
		{"topk/tied/bce", tiny("topk", func(c *Config) { c.K, c.Loss = 2, "bce" })},
		{"topk/untied/uncentred/bce", tiny("topk", func(c *Config) { c.K, c.Loss, c.Tied, c.Centre = 2, "bce", false, false })},
		{"denoising/gaussian", tiny("denoising", func(c *Config) { c.Noise, c.NoiseLevel = "gaussian", 0.3 })},
		{"denoising/masking", tiny("denoising", nil)},
		{"denoising/saltpepper", tiny("denoising", func(c *Config) { c.Noise, c.NoiseLevel = "saltpepper", 0.2 })},
		{"contractive/sigmoid", tiny("contractive", func(c *Config) { c.Lambda = 0.7 })},
		{"contractive/tanh", tiny("contractive", func(c *Config) { c.Activation, c.Lambda = "tanh", 0.7 })},
		{"contractive/relu", tiny("contractive", func(c *Config) { c.Activation, c.Lambda = "relu", 0.7 })},
		{"vae", tiny("vae", func(c *Config) { c.Latent = 3 })},
		{"vae/beta", tiny("vae", func(c *Config) { c.Latent, c.Beta = 2, 4 })},
		{"vae/2layers/tanh", tiny("vae", func(c *Config) { c.Latent, c.Layers, c.Activation = 3, "5,4", "tanh" })},
		{"vae/iwae-k4", tiny("vae", func(c *Config) { c.Latent, c.IWK = 3, 4 })},
		{"vae/iwae-k3/2layers/tanh", tiny("vae", func(c *Config) { c.Latent, c.IWK, c.Layers, c.Activation = 2, 3, "5,4", "tanh" })},
		{"lineardae", tiny("lineardae", func(c *Config) { c.NoiseLevel = 0.2 })},
		{"lineardae/marginalized", tiny("lineardae", func(c *Config) { c.Noise, c.NoiseLevel = Marginalized, 0.7 })},
		{"gan/evaluation graph", tiny("gan", func(c *Config) { c.Latent = 3 })},
		// Stacked encoders with mirrored decoders (--layers), tied and untied.
		{"plain/layers", tiny("plain", func(c *Config) { c.Layers = "5,4,3" })},
		{"plain/layers/tied/tanh/mse", tiny("plain", func(c *Config) { c.Layers, c.Tied, c.Activation, c.Loss = "5,4,3", true, "tanh", "mse" })},
		{"plain/tied", tiny("plain", func(c *Config) { c.Tied = true })},
		{"sparse/layers/kl", tiny("sparse", func(c *Config) { c.Layers, c.Sparsity, c.Activation, c.Beta = "5,4", "kl", "sigmoid", 0.5 })},
		{"sparse/layers/l1/tied", tiny("sparse", func(c *Config) { c.Layers, c.Tied, c.Lambda = "4,5", true, 0.3 })},
		{"denoising/layers/tied", tiny("denoising", func(c *Config) { c.Layers, c.Tied = "5,4,3", true })},
		{"denoising/layers/gaussian", tiny("denoising", func(c *Config) { c.Layers, c.Noise, c.NoiseLevel = "4,3", "gaussian", 0.3 })},
		{"contractive/layers", tiny("contractive", func(c *Config) { c.Layers, c.Lambda = "5,4,3", 0.7 })},
		{"contractive/layers/tied/tanh", tiny("contractive", func(c *Config) { c.Layers, c.Tied, c.Activation, c.Lambda = "5,3", true, "tanh", 0.7 })},
		{"vae/layers", tiny("vae", func(c *Config) { c.Layers, c.Latent = "5,4", 2 })},
		// Two stochastic layers (--latent z1,z2): the ELBO with the one-sample
		// KL, a β-VAE, and the IWAE bound.
		{"vae/latent3,2/tanh", tiny("vae", func(c *Config) { c.Latent, c.Latent2, c.Activation = 3, 2, "tanh" })},
		{"vae/latent3,2/beta", tiny("vae", func(c *Config) { c.Latent, c.Latent2, c.Beta = 3, 2, 0.5 })},
		{"vae/latent3,2/iwae-k3/tanh", tiny("vae", func(c *Config) { c.Latent, c.Latent2, c.IWK, c.Activation = 3, 2, 3, "tanh" })},
		{"vae/latent3,2/layers2=4,5,3/iwae-k2/tanh", tiny("vae", func(c *Config) { c.Latent, c.Latent2, c.Layers2, c.IWK, c.Activation = 3, 2, "4,5,3", 2, "tanh" })},
		{"vae/latent3,2/iwae-k2/2layers/tanh", tiny("vae", func(c *Config) { c.Latent, c.Latent2, c.IWK, c.Layers, c.Activation = 3, 2, 2, "5,4", "tanh" })},
	}
}

func TestGradients(t *testing.T) {
	for _, tc := range gradCases() {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			s := graph.Shape{In: 6, Batch: 4}
			m, err := Build(tc.cfg, s, graph.Float64(), nil, rng)
			if err != nil {
				t.Fatal(err)
			}
			// h = 1e-5: the central difference's round-off (≈ 1e-16·L/h) stays
			// far below 1e-5 relative even for entries near 1e-5 (the IWAE
			// bound's small decoder gradients), its truncation error (≈ h²)
			// far below that.
			h, floor := 1e-5, 1e-6
			if tc.cfg.Layers != "" {
				// In depth the lower layers' gradients are smaller still (1e-8
				// to 1e-6: products of activation slopes ≤ ¼ and weights
				// ≈ 1/√fan-in), where the central difference's rounding
				// and truncation noise (≈1e-10 at h = 1e-5) would read as
				// a relative mismatch: an absolute floor of 1e-4·1e-5 = 1e-9
				// on the compared difference.
				floor = 1e-4
			}
			r, err := graph.CheckGradients(m, randomBatch(rng, s.In*s.Batch), rng, h, floor, 0)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, p := range m.Params {
				total += p.Shape().TotalSize()
			}
			if r.Checked != total {
				t.Errorf("checked %d entries, the model has %d", r.Checked, total)
			}
			if r.MaxRel > 1e-5 {
				t.Errorf("gradient mismatch at %s: symbolic %.10g, finite difference %.10g (rel %.2g)", r.Worst, r.Analytic, r.Numeric, r.MaxRel)
			}
		})
	}
}

// TestOneLayerIsHidden: --layers with one size declares the same graph as
// --hidden: the same parameters, drawn the same, and the same loss, bit
// for bit.
func TestOneLayerIsHidden(t *testing.T) {
	for _, name := range []string{"plain", "sparse", "denoising", "contractive", "vae"} {
		one := tiny(name, nil)
		layered := one
		layered.Hidden, layered.Layers = 99, "5"
		s := graph.Shape{In: 6, Batch: 4}
		var losses [2]float64
		var stores [2]*graph.Store
		for k, c := range []Config{one, layered} {
			stores[k] = graph.NewStore()
			m, err := Build(c, s, graph.Float64(), stores[k], rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			p, err := graph.NewEvaluator(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Run(randomBatch(rand.New(rand.NewPCG(3, 3)), s.In*s.Batch), rand.New(rand.NewPCG(4, 4)), true); err != nil {
				t.Fatal(err)
			}
			losses[k] = p.Loss()
		}
		if losses[0] != losses[1] {
			t.Errorf("%s: loss %v with --hidden 5, %v with --layers 5", name, losses[0], losses[1])
		}
		if a, b := stores[0].Names(), stores[1].Names(); strings.Join(a, " ") != strings.Join(b, " ") {
			t.Errorf("%s: parameters %v and %v", name, a, b)
		}
	}
}

// TestStackedShapes: a stacked model has the encoder layers enc, enc2, …
// of the given sizes, a mirrored decoder (dec2 … dec; biases only when
// tied), a code of the last size, and no JF2 output (no closed form in
// depth).
func TestStackedShapes(t *testing.T) {
	for _, tied := range []bool{false, true} {
		c := tiny("plain", func(c *Config) { c.Layers, c.Tied = "7, 5,3", tied })
		store := graph.NewStore()
		m, err := Build(c, graph.Shape{In: 6, Batch: 2}, graph.Float64(), store, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]int{"enc.W": {6, 7}, "enc.b": {1, 7}, "enc2.W": {7, 5}, "enc2.b": {1, 5}, "enc3.W": {5, 3}, "enc3.b": {1, 3},
			"dec3.b": {1, 5}, "dec2.b": {1, 7}, "dec.b": {1, 6}}
		if !tied {
			want["dec3.W"], want["dec2.W"], want["dec.W"] = []int{3, 5}, []int{5, 7}, []int{7, 6}
		}
		if len(store.Names()) != len(want) {
			t.Errorf("tied=%v: parameters %v, want %d", tied, store.Names(), len(want))
		}
		for name, shape := range want {
			got := store.Get(name)
			if got == nil || !got.Shape().Eq(tensor.Shape(shape)) {
				t.Errorf("tied=%v: %s = %v, want shape %v", tied, name, got, shape)
			}
		}
		if code := m.Output(graph.Code); code == nil || code.Shape()[1] != 3 {
			t.Errorf("tied=%v: code %v", tied, code)
		}
		if m.Output(graph.JF2) != nil {
			t.Errorf("tied=%v: a stacked encoder declares JF2", tied)
		}
	}
}

// TestStackedContractivePenalty: in depth the contractive penalty is the
// first layer's analytic ‖∂h_1/∂x‖²_F, checked against a plain-Go
// computation from the weights.
func TestStackedContractivePenalty(t *testing.T) {
	c := tiny("contractive", func(c *Config) { c.Layers, c.Lambda = "5,4", 0.7 })
	s := graph.Shape{In: 6, Batch: 3}
	store := graph.NewStore()
	m, err := Build(c, s, graph.Float64(), store, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.NewEvaluator(m)
	if err != nil {
		t.Fatal(err)
	}
	x := randomBatch(rand.New(rand.NewPCG(5, 5)), s.In*s.Batch)
	if err := p.Run(x, nil, false); err != nil {
		t.Fatal(err)
	}
	got, _ := p.Term(graph.PenaltyTerm)
	W, bias := store.Floats("enc.W"), store.Floats("enc.b")
	var want float64
	for n := 0; n < s.Batch; n++ {
		for j := 0; j < 5; j++ {
			a := bias[j]
			var col float64
			for i := 0; i < s.In; i++ {
				a += float64(x[n*s.In+i]) * W[i*5+j]
				col += W[i*5+j] * W[i*5+j]
			}
			h := 1 / (1 + math.Exp(-a))
			want += h * (1 - h) * h * (1 - h) * col
		}
	}
	want *= c.Lambda / float64(s.Batch)
	if math.Abs(got-want) > 1e-12*want {
		t.Errorf("penalty %.15g, plain Go %.15g", got, want)
	}
}

func TestRegistry(t *testing.T) {
	if _, err := Lookup("nope"); err == nil {
		t.Error("Lookup of an unknown model succeeded")
	}
	for _, name := range Names() {
		s, _ := Lookup(name)
		if s.Defaults.Model != name {
			t.Errorf("%s: defaults name %q", name, s.Defaults.Model)
		}
		if err := s.Validate(s.Defaults); err != nil {
			t.Errorf("%s: defaults invalid: %v", name, err)
		}
		for _, h := range s.Hypers {
			if _, ok := s.Hyper(h); !ok {
				t.Errorf("%s: unknown hyperparameter %q", name, h)
			}
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"plain", "sparse", "topk", "denoising", "contractive", "vae", "lineardae"}
	for _, tc := range []struct{ in, want string }{
		{"vea", "vae"}, {"plian", "plain"}, {"spars", "sparse"}, {"top", "topk"},
		{"contractiv", "contractive"}, {"gan", ""}, {"xyzzy", ""}, {"", ""},
	} {
		if got := Suggest(tc.in, names); got != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	_, err := Lookup("vea")
	if err == nil || !strings.Contains(err.Error(), `unknown model "vea"; did you mean "vae"?`) || strings.Contains(err.Error(), "[") {
		t.Errorf("Lookup(vea): %v", err)
	}
}

// TestConvGradients checks the convolutional models (--arch conv, on 8×8
// images) against central finite differences: every parameter, up to 20
// entries each spread over it (the fused convolution, max-pooling and
// transposed-convolution nodes of graph/ops and their per-map biases).
func TestConvGradients(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"plain/conv", tiny("plain", func(c *Config) { c.Hidden, c.Arch = 3, "conv" })},
		{"plain/conv/relu/mse", tiny("plain", func(c *Config) { c.Hidden, c.Arch, c.Activation, c.Loss = 3, "conv", "relu", "mse" })},
		{"denoising/conv", tiny("denoising", func(c *Config) { c.Hidden, c.Arch = 3, "conv" })},
		{"vae/conv", tiny("vae", func(c *Config) { c.Hidden, c.Latent, c.Arch = 4, 2, "conv" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			s := graph.Shape{In: 64, Batch: 2}
			m, err := Build(tc.cfg, s, graph.Float64(), nil, rng)
			if err != nil {
				t.Fatal(err)
			}
			// h = 1e-5: a larger step crosses the ReLU and max-pooling
			// kinks (one entry off by 15% at h = 1e-4); at this step the
			// central difference of a loss summed over 64 pixels carries
			// ≈1e-9 of rounding noise, hence the absolute floor of
			// 1e-3·1e-5 = 1e-8 on the compared difference.
			r, err := graph.CheckGradients(m, randomBatch(rng, s.In*s.Batch), rng, 1e-5, 1e-3, 20)
			if err != nil {
				t.Fatal(err)
			}
			if r.Checked < 20*len(m.Params)/2 {
				t.Errorf("checked only %d entries of %d parameters", r.Checked, len(m.Params))
			}
			if r.MaxRel > 1e-5 {
				t.Errorf("gradient mismatch at %s: symbolic %.10g, finite difference %.10g (rel %.2g)", r.Worst, r.Analytic, r.Numeric, r.MaxRel)
			}
		})
	}
}

// TestConvShapes: the convolutional models' parameters and code, and the
// rules of --arch conv (square sides that are multiples of 4, no --layers,
// no --tied).
func TestConvShapes(t *testing.T) {
	c := tiny("plain", func(c *Config) { c.Hidden, c.Arch = 10, "conv" })
	store := graph.NewStore()
	m, err := Build(c, graph.Shape{In: 784, Batch: 2}, graph.Float32(), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"conv1.W": {16, 9}, "conv1.b": {1, 16}, "conv2.W": {32, 144}, "conv2.b": {1, 32},
		"enc.W": {32 * 7 * 7, 10}, "enc.b": {1, 10}, "decfc.W": {10, 32 * 7 * 7}, "decfc.b": {1, 32 * 7 * 7},
		"deconv2.W": {32, 16 * 16}, "deconv2.b": {1, 16}, "deconv1.W": {16, 16}, "deconv1.b": {1, 1}}
	if len(store.Names()) != len(want) {
		t.Errorf("parameters %v", store.Names())
	}
	for name, shape := range want {
		if got := store.Get(name); got == nil || !got.Shape().Eq(tensor.Shape(shape)) {
			t.Errorf("%s = %v, want shape %v", name, got, shape)
		}
	}
	if code := m.Output(graph.Code); code == nil || code.Shape()[1] != 10 {
		t.Errorf("code %v", code)
	}
	if recon := m.Output(graph.Recon); recon == nil || recon.Shape()[1] != 784 {
		t.Errorf("recon %v", recon)
	}
	if _, err := Build(c, graph.Shape{In: 30 * 30, Batch: 2}, graph.Float32(), nil, nil); err == nil || !strings.Contains(err.Error(), "multiple of 4") {
		t.Errorf("30×30 images: %v", err)
	}
	for _, bad := range []Config{
		tiny("plain", func(c *Config) { c.Arch, c.Layers = "conv", "10,5" }),
		tiny("denoising", func(c *Config) { c.Arch, c.Tied = "conv", true }),
		tiny("vae", func(c *Config) { c.Arch, c.Layers = "conv", "10" }),
		tiny("plain", func(c *Config) { c.Arch = "resnet" }),
	} {
		s, _ := Lookup(bad.Model)
		if err := s.Validate(bad); err == nil || !strings.Contains(err.Error(), "--") {
			t.Errorf("%s %+v: %v", bad.Model, bad, err)
		}
	}
}

// TestConvTrains: Adam steps on one batch of 8×8 binary images (horizontal
// and vertical stripes) lower the convolutional models' loss by a fifth
// (the graph trains end to end).
func TestConvTrains(t *testing.T) {
	for _, name := range []string{"plain", "vae"} {
		c := tiny(name, func(c *Config) { c.Hidden, c.Latent, c.Arch = 8, 4, "conv" })
		s := graph.Shape{In: 64, Batch: 8}
		rng := rand.New(rand.NewPCG(3, 4))
		m, err := Build(c, s, graph.Float32(), nil, rng)
		if err != nil {
			t.Fatal(err)
		}
		p, err := graph.NewTrainer(m, graph.NewAdam(1e-2))
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, s.In*s.Batch)
		for n := 0; n < s.Batch; n++ {
			for i := 0; i < 8; i++ {
				for j := 0; j < 8; j++ {
					if (n%2 == 0 && (i+n/2)%2 == 0) || (n%2 == 1 && (j+n/2)%2 == 0) {
						x[n*64+i*8+j] = 1
					}
				}
			}
		}
		var first, last float64
		for i := 0; i < 60; i++ {
			if err := p.Run(x, rand.New(rand.NewPCG(5, 5)), true); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = p.Loss()
			}
			last = p.Loss()
		}
		if !(last < 0.8*first) {
			t.Errorf("%s --arch conv: loss %.3f → %.3f after 60 steps", name, first, last)
		}
	}
}

// TestParseLayers: the sizes of --layers, in both spellings.
func TestParseLayers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		ok   bool
	}{
		{"", nil, true}, {"1000,1000,1000", []int{1000, 1000, 1000}, true}, {"500-250", []int{500, 250}, true},
		{" 7 , 3 ", []int{7, 3}, true}, {"7", []int{7}, true},
		{"-4", nil, false}, {"4,", nil, false}, {"4,,2", nil, false}, {"0", nil, false}, {"a", nil, false},
		{"1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1", nil, false}, // more than MaxLayers
	} {
		got, err := ParseLayers(tc.in)
		if (err == nil) != tc.ok || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ParseLayers(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

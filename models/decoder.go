package models

import (
	"strconv"

	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/graph/ops"
	"github.com/aezoo/aezoo/losses"
	G "gorgonia.org/gorgonia"
)

// EncoderLayer is the parameter prefix of encoder layer i (0-based): "enc"
// for the first, then "enc2", "enc3", …. DecoderLayer(i) is its mirror.
func EncoderLayer(i int) string {
	if i == 0 {
		return "enc"
	}
	return "enc" + strconv.Itoa(i+1)
}

// DecoderLayer is the parameter prefix of the decoder layer that mirrors
// encoder layer i: "dec" (the output layer, back to pixel space) for the
// first, then "dec2", "dec3", …; with --tied its weights are EncoderLayer(i)'s
// transpose and only its bias is its own.
func DecoderLayer(i int) string {
	if i == 0 {
		return "dec"
	}
	return "dec" + strconv.Itoa(i+1)
}

// sizes returns c's encoder layer sizes, aborting the declaration on a bad
// --layers (Validate catches it first).
func sizes(b *graph.Builder, c Config) []int {
	s, err := c.Sizes()
	if err != nil {
		b.Fail(err)
	}
	return s
}

// encoded holds the nodes an encoder declares.
type encoded struct {
	code   *G.Node       // h_L, the Code output
	first  *G.Node       // h_1, the first layer's activation
	layers []graph.Layer // the layers EncoderLayer(0), (1), …
}

// encode declares the encoder
//
//	h_1 = act(x·W_1 + b_1),  h_l = act(h_{l−1}·W_l + b_l),  l = 2..L
//
// (parameters enc, enc2, …; one layer of c.Hidden units unless c.Layers is
// set) and names h_L as the Code output. For one layer it also names the
// analytic per-example ‖∂h/∂x‖²_F as the JF2 output, for the robustness
// metrics; deeper encoders have no closed form for it and declare none.
func encode(b *graph.Builder, c Config, x *G.Node) encoded {
	var e encoded
	h := x
	for i, units := range sizes(b, c) {
		l := b.Dense(EncoderLayer(i), h, units)
		h = b.Act(c.Activation, l.Pre)
		if i == 0 {
			e.first = h
		}
		e.layers = append(e.layers, l)
	}
	e.code = b.Output(graph.Code, h)
	if len(e.layers) == 1 {
		b.Output(graph.JF2, b.Must(losses.JacobianFrobSqPerExample(c.Activation, h, e.layers[0].W)))
	}
	return e
}

// mirror declares the decoder that mirrors the encoder e back to pixel
// space, then the ReconTerm objective against target and the outputs (see
// objective):
//
//	g_L = h_L,  g_{l−1} = act(g_l·V_l + c_l),  l = L..2;   l = g_1·V_1 + c_1
//
// with V_l = W_lᵀ when c.Tied (parameters dec, dec2, …: biases only when
// tied).
func mirror(b *graph.Builder, c Config, e encoded, target *G.Node) decoded {
	g := e.code
	for i := len(e.layers) - 1; i >= 1; i-- {
		g = b.Act(c.Activation, mirrorLayer(b, c, e.layers[i], i, g))
	}
	return objective(b, c, mirrorLayer(b, c, e.layers[0], 0, g), target)
}

// mirrorLayer declares DecoderLayer(i) on g: the pre-activation g·V + c,
// from encoder layer enc's output size back to its input size.
func mirrorLayer(b *graph.Builder, c Config, enc graph.Layer, i int, g *G.Node) *G.Node {
	in, out := enc.W.Shape()[1], enc.W.Shape()[0]
	if !c.Tied {
		return b.Dense(DecoderLayer(i), g, out).Pre
	}
	bias := b.Param(DecoderLayer(i)+".b", []int{1, out}, graph.Uniform(in))
	return b.Must(ops.AffineT(g, enc.W, bias))
}

// decoded holds the nodes a decoder declares: the reconstruction x̂ and,
// for a Bernoulli (bce) output, its logits l (x̂ = sigmoid(l); nil for mse).
type decoded struct{ recon, logits *G.Node }

// reconstruct declares a one-layer decoder from code h back to pixel space
// (parameters dec.W, dec.b), the ReconTerm objective against target, and the
// Recon output (and Logits for a sigmoid output).
//
//	bce: x̂ = sigmoid(h·V + c),  recon = Σ_i softplus(l_i) − x_i l_i
//	mse: x̂ = h·V + c,           recon = Σ_i (x̂_i − x_i)²
func reconstruct(b *graph.Builder, c Config, h, target *G.Node) decoded {
	return objective(b, c, b.Dense("dec", h, b.Shape().In).Pre, target)
}

// objective declares the ReconTerm objective and the outputs from the
// decoder's pre-activation l (see reconstruct).
func objective(b *graph.Builder, c Config, l, target *G.Node) decoded {
	if c.Loss == "mse" {
		d := decoded{recon: b.Output(graph.Recon, l)}
		b.Objective(graph.ReconTerm, b.Must(losses.SquaredError(l, target)))
		return d
	}
	d := bernoulli(b, l)
	b.Objective(graph.ReconTerm, b.Must(losses.BCEWithLogits(l, target)))
	return d
}

// bernoulli names the logits l and x̂ = sigmoid(l) as the Logits and Recon
// outputs.
func bernoulli(b *graph.Builder, l *G.Node) decoded {
	return decoded{logits: b.Output(graph.Logits, l), recon: b.Output(graph.Recon, b.Act("sigmoid", l))}
}

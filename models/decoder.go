package models

import (
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/losses"
	G "gorgonia.org/gorgonia"
)

// encode declares the one-layer encoder h = act(x·W + b) (parameters enc.W,
// enc.b) and names h as the "code" output. It also names the analytic
// per-example ‖∂h/∂x‖²_F as the "jf2" output, for the robustness metrics.
func encode(b *graph.Builder, c Config, x *G.Node) (h *G.Node, enc graph.Layer) {
	enc = b.Dense("enc", x, c.Hidden)
	h = b.Act(c.Activation, enc.Pre)
	b.Output("code", h)
	b.Output("jf2", b.Must(losses.JacobianFrobSqPerExample(c.Activation, h, enc.W)))
	return h, enc
}

// reconstruct declares the decoder from code h back to pixel space
// (parameters dec.W, dec.b), the "recon" objective against target, and the
// "recon" output (and "logits" for a sigmoid output).
//
//	bce: x̂ = sigmoid(h·V + c),  recon = Σ_i softplus(l_i) − x_i l_i
//	mse: x̂ = h·V + c,           recon = Σ_i (x̂_i − x_i)²
func reconstruct(b *graph.Builder, c Config, h, target *G.Node) {
	objective(b, c, b.Dense("dec", h, b.Shape().In).Pre, target)
}

// objective declares the "recon" objective and outputs from the decoder's
// pre-activation l (see reconstruct).
func objective(b *graph.Builder, c Config, l, target *G.Node) {
	switch c.Loss {
	case "mse":
		b.Output("recon", l)
		b.Objective("recon", b.Must(losses.SquaredError(l, target)))
	default:
		b.Output("logits", l)
		b.Output("recon", b.Act("sigmoid", l))
		b.Objective("recon", b.Must(losses.BCEWithLogits(l, target)))
	}
}

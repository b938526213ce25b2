package models

import (
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/losses"
	G "gorgonia.org/gorgonia"
)

// encode declares the one-layer encoder h = act(x·W + b) (parameters enc.W,
// enc.b) and names h as the Code output. It also names the analytic
// per-example ‖∂h/∂x‖²_F as the JF2 output, for the robustness metrics.
func encode(b *graph.Builder, c Config, x *G.Node) (h *G.Node, enc graph.Layer) {
	enc = b.Dense("enc", x, c.Hidden)
	h = b.Output(graph.Code, b.Act(c.Activation, enc.Pre))
	b.Output(graph.JF2, b.Must(losses.JacobianFrobSqPerExample(c.Activation, h, enc.W)))
	return h, enc
}

// decoded holds the nodes a decoder declares: the reconstruction x̂ and,
// for a Bernoulli (bce) output, its logits l (x̂ = sigmoid(l); nil for mse).
type decoded struct{ recon, logits *G.Node }

// reconstruct declares the decoder from code h back to pixel space
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

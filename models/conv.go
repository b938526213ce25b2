package models

import (
	"github.com/aezoo/aezoo/graph"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The convolutional encoder and decoder (--arch conv) of the plain,
// denoising and variational models, for square grey images whose side S is
// a multiple of 4 (MNIST: 28), from Gorgonia's own convolution, max-pooling
// and nearest-upsampling nodes:
//
//	encoder: x (S×S) → conv1 3×3, 16 maps, ReLU → max-pool 2×2 → conv2 3×3, 32 maps, ReLU → max-pool 2×2
//	         → flatten (32·S/4·S/4) → enc: h = act(·W + b)                        (the code, --hidden units)
//	decoder: h → decfc: ReLU(h·V + c) → 32 maps of S/4×S/4 → upsample ×2 → deconv2 3×3, 16 maps, ReLU
//	         → upsample ×2 → deconv1 3×3, 1 map → logits (S×S)
//
// Convolutions are padded to keep the size ("same"). The filters are stored
// as matrices out×(in·3·3) (parameters conv1.W, conv1.b, …; PyTorch's
// Conv2d.weight reshaped) and reshaped to out×in×3×3 in the graph.
const (
	convMaps1 = 16 // feature maps of the first convolution
	convMaps2 = 32 // feature maps of the second
)

// conv reports whether c asks for the convolutional architecture.
func (c Config) conv() bool { return c.Arch == "conv" }

// checkArch: the convolutional architecture has its own fixed stack and an
// untied decoder.
func checkArch(c Config) error {
	if !c.conv() {
		return nil
	}
	var errs []error
	if c.Layers != "" {
		errs = append(errs, errors.Errorf("--layers %q cannot be used with --arch conv (its encoder is two convolutions and a dense code layer)", c.Layers))
	}
	if c.Tied {
		errs = append(errs, errors.New("--tied cannot be used with --arch conv"))
	}
	return checks(errs...)
}

// convSide returns the side S of the model's square grey images, aborting
// the declaration when the input is not S×S with S a multiple of 4.
func convSide(b *graph.Builder) int {
	in := b.Shape().In
	s := 0
	for (s+1)*(s+1) <= in {
		s++
	}
	if s*s != in || s%4 != 0 {
		b.Failf("--arch conv needs square grey images whose side is a multiple of 4, such as 28×28 (got %d values per image)", in)
	}
	return s
}

// convLayer declares the "same" 3×3 convolution name from in to out maps on
// x (n×in×S×S), plus a bias per map, then act.
func convLayer(b *graph.Builder, name string, x *G.Node, in, out int, act string) *G.Node {
	w := b.Param(name+".W", []int{out, in * 9}, graph.Uniform(in*9))
	bias := b.Param(name+".b", []int{1, out}, graph.Uniform(in*9))
	w4 := b.Must(G.Reshape(w, tensor.Shape{out, in, 3, 3}))
	y := b.Must(G.Conv2d(x, w4, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1}))
	y = b.Must(G.BroadcastAdd(y, b.Must(G.Reshape(bias, tensor.Shape{1, out, 1, 1})), nil, []byte{0, 2, 3}))
	return b.Act(act, y)
}

func maxPool(b *graph.Builder, x *G.Node) *G.Node {
	return b.Must(G.MaxPool2D(x, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}))
}

// convFeatures declares the convolutional stack of the encoder on x
// (n×S²) and returns its flattened output (n×32·(S/4)²).
func convFeatures(b *graph.Builder, x *G.Node) *G.Node {
	s, n := convSide(b), b.Shape().Batch
	img := b.Must(G.Reshape(x, tensor.Shape{n, 1, s, s}))
	h := maxPool(b, convLayer(b, "conv1", img, 1, convMaps1, "relu"))
	h = maxPool(b, convLayer(b, "conv2", h, convMaps1, convMaps2, "relu"))
	return b.Must(G.Reshape(h, tensor.Shape{n, convMaps2 * (s / 4) * (s / 4)}))
}

// encodeConv declares the convolutional encoder and its code layer enc,
// naming the code as the Code output.
func encodeConv(b *graph.Builder, c Config, x *G.Node) encoded {
	l := b.Dense("enc", convFeatures(b, x), c.Hidden)
	h := b.Act(c.Activation, l.Pre)
	return encoded{code: b.Output(graph.Code, h), first: h, layers: []graph.Layer{l}}
}

// convLogits declares the convolutional decoder from h (n×k) to the
// pixels' logits (n×S²).
func convLogits(b *graph.Builder, h *G.Node) *G.Node {
	s, n := convSide(b), b.Shape().Batch
	q := s / 4
	d := b.Act("relu", b.Dense("decfc", h, convMaps2*q*q).Pre)
	img := b.Must(G.Reshape(d, tensor.Shape{n, convMaps2, q, q}))
	img = convLayer(b, "deconv2", b.Must(G.Upsample2D(img, 2)), convMaps2, convMaps1, "relu")
	img = convLayer(b, "deconv1", b.Must(G.Upsample2D(img, 2)), convMaps1, 1, "linear")
	return b.Must(G.Reshape(img, tensor.Shape{n, s * s}))
}

// encodeAny declares c's encoder: dense (encode) or convolutional.
func encodeAny(b *graph.Builder, c Config, x *G.Node) encoded {
	if c.conv() {
		return encodeConv(b, c, x)
	}
	return encode(b, c, x)
}

// decodeAny declares c's decoder from the encoder e and its objective
// against target: the mirror of a dense encoder, or the convolutional
// decoder.
func decodeAny(b *graph.Builder, c Config, e encoded, target *G.Node) decoded {
	if c.conv() {
		return objective(b, c, convLogits(b, e.code), target)
	}
	return mirror(b, c, e, target)
}

package models

import (
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/graph/ops"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// The convolutional encoder and decoder (--arch conv) of the plain,
// denoising and variational models, for square grey images whose side S is
// a multiple of 4 (MNIST: 28), from the zoo's fused convolution,
// max-pooling and transposed-convolution nodes (graph/ops):
//
//	encoder: x (S×S) → conv1 3×3, 16 maps, ReLU → max-pool 2×2 → conv2 3×3, 32 maps, ReLU → max-pool 2×2
//	         → flatten (32·S/4·S/4) → enc: h = act(·W + b)                        (the code, --hidden units)
//	decoder: h → decfc: ReLU(h·V + c) → 32 maps of S/4×S/4 → deconv2: transposed conv 4×4, stride 2, 16 maps, ReLU
//	         → deconv1: transposed conv 4×4, stride 2, 1 map → logits (S×S)
//
// The convolutions are padded by 1 to keep the size ("same"); the
// transposed convolutions (padding 1) double it. Images travel as n×(C·H·W)
// matrices (ops.Conv), so no node reshapes. The filters are stored as
// matrices: conv1.W, conv2.W out×(in·3·3) (PyTorch's Conv2d.weight
// flattened), deconv2.W, deconv1.W in×(out·4·4) (PyTorch's
// ConvTranspose2d.weight flattened), with a bias per output map.
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

// convLayer declares the "same" 3×3 convolution name from in to out maps
// of side×side on x (n×(in·side²)), plus a bias per map, then act. Its
// parameters are initialized as PyTorch's Conv2d: U(±1/√(in·3·3)).
func convLayer(b *graph.Builder, name string, x *G.Node, in, out, side int, act string) *G.Node {
	w := b.Param(name+".W", []int{out, in * 9}, graph.Uniform(in*9))
	bias := b.Param(name+".b", []int{1, out}, graph.Uniform(in*9))
	p := ops.Conv{In: [3]int{in, side, side}, Kernel: [2]int{3, 3}, Pad: [2]int{1, 1}}
	return b.Act(act, b.Must(ops.Conv2d(x, w, bias, p)))
}

// deconvLayer declares the transposed convolution name (4×4, stride 2,
// padding 1) from in maps of side×side to out maps of 2·side×2·side on x,
// plus a bias per map, then act. Its parameters are initialized as
// PyTorch's ConvTranspose2d: U(±1/√(out·4·4)).
func deconvLayer(b *graph.Builder, name string, x *G.Node, in, out, side int, act string) *G.Node {
	w := b.Param(name+".W", []int{in, out * 16}, graph.Uniform(out*16))
	bias := b.Param(name+".b", []int{1, out}, graph.Uniform(out*16))
	p := ops.Conv{In: [3]int{in, side, side}, Kernel: [2]int{4, 4}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}}
	return b.Act(act, b.Must(ops.ConvTranspose2d(x, w, bias, p)))
}

// maxPool declares the 2×2 max pooling of maps maps of side×side.
func maxPool(b *graph.Builder, x *G.Node, maps, side int) *G.Node {
	return b.Must(ops.MaxPool2d(x, ops.Pool{In: [3]int{maps, side, side}, Kernel: [2]int{2, 2}}))
}

// convFeatures declares the convolutional stack of the encoder on x
// (n×S²) and returns its output (n×32·(S/4)², the maps flattened).
func convFeatures(b *graph.Builder, x *G.Node) *G.Node {
	s := convSide(b)
	h := maxPool(b, convLayer(b, "conv1", x, 1, convMaps1, s, "relu"), convMaps1, s)
	return maxPool(b, convLayer(b, "conv2", h, convMaps1, convMaps2, s/2, "relu"), convMaps2, s/2)
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
	q := convSide(b) / 4
	d := b.Act("relu", b.Dense("decfc", h, convMaps2*q*q).Pre)
	img := deconvLayer(b, "deconv2", d, convMaps2, convMaps1, q, "relu")
	return deconvLayer(b, "deconv1", img, convMaps1, 1, 2*q, "linear")
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

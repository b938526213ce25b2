package classify

import (
	"fmt"
	"io"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/pkg/errors"
)

// EncoderLayerName is the parameter prefix of encoder layer i (0-based) in
// the zoo's autoencoders: "enc" for the first layer, then "enc2", "enc3", ….
func EncoderLayerName(i int) string {
	if i == 0 {
		return "enc"
	}
	return "enc" + itoa(i+1)
}

// EncoderLayers returns the hidden layers of the encoder of the trained
// autoencoder c whose parameters are in store, from the input up, and
// their activation: the layers h_l = act(h_{l−1}·W_l + b_l) named
// EncoderLayerName(0), (1), … For the VAE these are its ReLU layers below
// μ. Pass them as Config.Init (with Config.Hidden the layers' sizes and
// Config.Activation act) to fine-tune the pretrained encoder. The top-K
// model is refused: its code is not a dense layer.
func EncoderLayers(c models.Config, store *graph.Store) (layers []Layer, act string, err error) {
	switch c.Model {
	case "topk":
		return nil, "", errors.New("classify: the top-K encoder keeps the k largest units of each example: it is not a dense layer to fine-tune")
	case "vae":
		act = "relu"
	case "lineardae":
		act = "linear"
	default:
		act = c.Activation
	}
	for i := 0; ; i++ {
		name := EncoderLayerName(i)
		w, b := store.Get(name+".W"), store.Get(name+".b")
		if w == nil || b == nil {
			break
		}
		sh := w.Shape()
		if len(sh) != 2 || b.Shape().TotalSize() != sh[1] {
			return nil, "", errors.Errorf("classify: encoder layer %s has weights %v and biases %v", name, sh, b.Shape())
		}
		if i > 0 && sh[0] != layers[i-1].Out {
			return nil, "", errors.Errorf("classify: encoder layer %s takes %d inputs, the layer below has %d units", name, sh[0], layers[i-1].Out)
		}
		layers = append(layers, Layer{W: store.Floats(name + ".W"), B: store.Floats(name + ".b"), In: sh[0], Out: sh[1]})
	}
	if len(layers) == 0 {
		return nil, "", errors.Errorf("classify: the %s model has no encoder layer %s in its parameters", c.Model, EncoderLayerName(0))
	}
	return layers, act, nil
}

// EncoderFromRun loads the model saved in a run folder (see package ckpt)
// and returns its encoder layers and their activation, as EncoderLayers.
func EncoderFromRun(dir string) (layers []Layer, act string, err error) {
	saved, store, err := ckpt.Load(dir)
	if err != nil {
		return nil, "", errors.Wrap(err, "classify: loading the pretrained encoder")
	}
	layers, act, err = EncoderLayers(saved.Model, store)
	return layers, act, errors.Wrapf(err, "classify: %s", dir)
}

// Pretrained returns c with the hidden layers and activation of the given
// encoder layers, initialized from them (Config.Init), followed by extra
// hidden layers of the given sizes initialized at random.
func Pretrained(c Config, layers []Layer, act string, extra ...int) Config {
	c.Hidden = nil
	for _, l := range layers {
		c.Hidden = append(c.Hidden, l.Out)
	}
	c.Hidden = append(c.Hidden, extra...)
	c.Activation = act
	c.Init = layers
	return c
}

func writeLog(w io.Writer, l EpochLog) {
	fmt.Fprintf(w, "epoch %3d  train loss %.4f  validation error %.4f  (%.1fs)\n", l.Epoch, l.TrainLoss, l.ValError, l.Seconds)
}

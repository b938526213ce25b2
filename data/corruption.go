package data

import (
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
)

// Corruption kinds accepted by Corruption.Kind.
const (
	CorruptNone       = "none"       // no corruption: Apply copies
	CorruptGaussian   = "gaussian"   // additive Gaussian noise with standard deviation Level
	CorruptMasking    = "masking"    // each pixel is set to 0 with probability Level
	CorruptSaltPepper = "saltpepper" // each pixel is set to 0 or 1 with probability Level
)

// Corruption is an input-noise process for denoising autoencoders.
//
// The zero value (empty Kind) means no corruption, like Kind "none".
type Corruption struct {
	// Kind is one of "none", "gaussian", "masking" and "saltpepper".
	Kind string
	// Level is the standard deviation of the noise for "gaussian" and the
	// per-pixel corruption probability for "masking" and "saltpepper".
	Level float64
}

// Validate reports whether c is a usable corruption: Kind must be known,
// Level must be finite and not negative, and for "masking" and
// "saltpepper" it must be below 1.
func (c Corruption) Validate() error {
	if math.IsNaN(c.Level) || math.IsInf(c.Level, 0) {
		return errors.Errorf("corruption %q: level %v is not a finite number", c.Kind, c.Level)
	}
	if c.Level < 0 {
		return errors.Errorf("corruption %q: level %v is negative", c.Kind, c.Level)
	}
	switch c.Kind {
	case "", CorruptNone, CorruptGaussian:
		return nil
	case CorruptMasking, CorruptSaltPepper:
		if c.Level >= 1 {
			return errors.Errorf("corruption %q: level %v must be in [0,1)", c.Kind, c.Level)
		}
		return nil
	}
	return errors.Errorf("unknown corruption kind %q: want one of %q, %q, %q, %q",
		c.Kind, CorruptNone, CorruptGaussian, CorruptMasking, CorruptSaltPepper)
}

// Apply writes a corrupted copy of src into dst, which may be src. Only the
// first min(len(src), len(dst)) elements are written.
//
//   - "none": dst is a copy of src.
//   - "gaussian": dst[i] = src[i] + Level·N(0,1), without clipping.
//   - "masking": with probability Level dst[i] = 0, else src[i].
//   - "saltpepper": with probability Level dst[i] is 0 or 1, each equally
//     likely, else src[i].
//
// A Corruption that fails Validate copies src unchanged. A nil rng uses
// the global source of math/rand/v2.
func (c Corruption) Apply(rng *rand.Rand, src, dst []float32) {
	n := min(len(src), len(dst))
	src, dst = src[:n], dst[:n]
	if c.Validate() != nil || c.Level == 0 {
		copy(dst, src)
		return
	}
	switch c.Kind {
	case CorruptGaussian:
		for i, v := range src {
			dst[i] = v + float32(c.Level*normal(rng))
		}
	case CorruptMasking:
		p := float32(c.Level)
		for i, v := range src {
			if uniform(rng) < p {
				dst[i] = 0
			} else {
				dst[i] = v
			}
		}
	case CorruptSaltPepper:
		half, p := float32(c.Level/2), float32(c.Level)
		for i, v := range src {
			switch u := uniform(rng); {
			case u < half:
				dst[i] = 0
			case u < p:
				dst[i] = 1
			default:
				dst[i] = v
			}
		}
	default:
		copy(dst, src)
	}
}

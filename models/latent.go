package models

import (
	"flag"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"github.com/spf13/pflag"
)

// MaxStochasticLayers is the most stochastic layers --latent accepts.
const MaxStochasticLayers = 2

// LatentSizes returns the sizes of the VAE's stochastic layers from the
// input: [Latent] for one layer, [Latent, Latent2] (z1, z2) for two.
func (c Config) LatentSizes() []int {
	if c.Latent2 > 0 {
		return []int{c.Latent, c.Latent2}
	}
	return []int{c.Latent}
}

// TopLatent returns the size of the top stochastic layer, the one drawn
// from the prior N(0, I) when sampling: Latent2 when set, else Latent.
func (c Config) TopLatent() int {
	if c.Latent2 > 0 {
		return c.Latent2
	}
	return c.Latent
}

// ParseLatent parses a --latent value: one size (20), or two sizes, of z1
// then z2, separated by a comma or a hyphen (100,50 or 100-50, the hyphen
// form being one value in a `zoo sweep` axis). The sizes' signs are left to
// Validate.
func ParseLatent(s string) (latent, latent2 int, err error) {
	t := strings.TrimSpace(s)
	parts := strings.Split(t, ",")
	if len(parts) == 1 && strings.Contains(strings.TrimPrefix(t, "-"), "-") {
		parts = strings.Split(t, "-")
	}
	if len(parts) > MaxStochasticLayers {
		return 0, 0, errors.Errorf("%d stochastic layers, at most %d (z1,z2 such as 100,50)", len(parts), MaxStochasticLayers)
	}
	var v [MaxStochasticLayers]int
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return 0, 0, errors.Errorf("%q is not a size: want one or two sizes, such as 20 or 100,50", strings.TrimSpace(p))
		}
		if len(parts) == 2 && n <= 0 {
			return 0, 0, errors.Errorf("%d is not a positive size", n)
		}
		v[i] = n
	}
	return v[0], v[1], nil
}

// checkLatent checks the sizes of the stochastic layers.
func checkLatent(c Config) error {
	if c.Latent <= 0 || c.Latent2 < 0 {
		return errors.Errorf("invalid --latent %s: sizes must be positive", latentString(c))
	}
	return nil
}

func latentString(c Config) string {
	if c.Latent2 != 0 {
		return strconv.Itoa(c.Latent) + "," + strconv.Itoa(c.Latent2)
	}
	return strconv.Itoa(c.Latent)
}

// latentFlag is the --latent flag's value: it sets Latent and Latent2.
// It satisfies flag.Getter and pflag.Value.
type latentFlag struct{ c *Config }

func (f *latentFlag) String() string {
	if f == nil || f.c == nil {
		return "0"
	}
	return latentString(*f.c)
}

func (f *latentFlag) Set(s string) error {
	l1, l2, err := ParseLatent(s)
	if err != nil {
		return err
	}
	f.c.Latent, f.c.Latent2 = l1, l2
	return nil
}

// Type names the value in pflag's help: one or two sizes.
func (f *latentFlag) Type() string { return "sizes" }

// Get returns the size as an int for one stochastic layer (as the flag was
// before it took two), else the sizes as "z1,z2".
func (f *latentFlag) Get() any {
	if f.c.Latent2 == 0 {
		return f.c.Latent
	}
	return latentString(*f.c)
}

// bindVar registers v on the standard library's or pflag's flag set.
func bindVar(fs FlagSet, v *latentFlag, name, usage string) {
	switch fs := fs.(type) {
	case interface {
		Var(flag.Value, string, string)
	}:
		fs.Var(v, name, usage)
	case interface {
		Var(pflag.Value, string, string)
	}:
		fs.Var(v, name, usage)
	}
}

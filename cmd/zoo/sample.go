package main

import (
	"context"
	"fmt"
	"image"
	"io"
	"math/rand/v2"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/viz"
	"github.com/aezoo/aezoo/zoo"
	"github.com/pkg/errors"
)

func cmdSample(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sample", "DIR [--n 64] [--out samples.png] [--interpolate FILE] [--manifold FILE]",
		"Draw images from the prior of a trained generative model (vae) in DIR.", stderr)
	n := fs.Int("n", 64, "number of samples")
	out := fs.String("out", "samples.png", "PNG grid of the samples")
	seed := fs.Uint64("seed", 1, "random seed")
	interp := fs.String("interpolate", "", "also write an interpolation between pairs of test digits to this PNG")
	manifold := fs.String("manifold", "", "also write the decoded 2-D latent manifold to this PNG (latent size 2)")
	grid := fs.Int("grid", 20, "manifold grid size")
	df := dataFlags(fs) // the test images of --interpolate
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one run folder, got %d arguments", len(pos))
	}
	src, err := df.source()
	if err != nil {
		return err
	}
	if *n <= 0 {
		return usagef("invalid --n %d: must be positive", *n)
	}
	if *grid < 2 {
		return usagef("invalid --grid %d: must be ≥ 2", *grid)
	}
	run, err := zoo.OpenRun(pos[0])
	if err != nil {
		return err
	}
	g, err := run.Generator()
	if err != nil {
		return err
	}
	rows, cols, channels, ok := data.GuessShape(run.In)
	if !ok {
		return errors.Errorf("cannot draw images of %d values as square grey or RGB images", run.In)
	}
	drawGrid := func(imgs [][]float64, perRow, scale int) image.Image {
		if channels == 3 {
			return viz.GridRGB(imgs, rows, cols, perRow, scale)
		}
		return viz.Grid(imgs, rows, cols, perRow, scale)
	}
	_, x, err := g.Sample(rand.New(rand.NewPCG(*seed, 0x5a)), *n)
	if err != nil {
		return err
	}
	if err := viz.SavePNG(*out, drawGrid(x, 8, 2)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d samples from N(0, I) → %s\n", *n, *out)
	if *interp != "" {
		test, err := run.TestSetSource(src)
		if err != nil {
			return err
		}
		const pairs = 8
		lines, err := g.Interpolations(run.Eval, test, pairs, 10)
		if err != nil {
			return err
		}
		if err := viz.SavePNG(*interp, drawGrid(lines, 10, 2)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "interpolations between %d pairs of test images → %s\n", len(lines)/10, *interp)
	}
	if *manifold != "" {
		m, err := g.Manifold(*grid)
		if err != nil {
			return err
		}
		if err := viz.SavePNG(*manifold, drawGrid(m, *grid, 1)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d×%d latent manifold → %s\n", *grid, *grid, *manifold)
	}
	return nil
}

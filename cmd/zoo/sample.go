package main

import (
	"bufio"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/viz"
	"github.com/aezoo/aezoo/zoo"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

func newSampleCmd(a *app) *cobra.Command {
	var (
		n, grid               int
		seed                  uint64
		out, interp, manifold string
		df                    dataFlags
	)
	cmd := &cobra.Command{
		Use:   "sample DIR [--n 64] [--out FILE] [--interpolate FILE] [--manifold FILE]",
		Short: "draw images from a trained VAE's prior (also interpolations, manifold)",
		Long: "Draw images from the prior of a trained generative model (vae) in the run folder DIR.\n" +
			"A VAE with two stochastic layers (--latent z1,z2) is sampled ancestrally: z2 ~ N(0, I), z1 ~ p(z1|z2), x the mean of p(x|z1);\n" +
			"its manifold is over z2 (--latent N,2), decoded through the mean of p(z1|z2).\n" +
			"Images are PNG or JPEG, after the file's extension (.png, .jpg, .jpeg).",
		Example:           "  zoo sample runs/vae --n 100\n  zoo sample runs/vae2 --manifold runs/vae2/manifold.png",
		Args:              a.positional(1, 1, "run folder (want exactly one run folder)"),
		ValidArgsFunction: dirsOnly,
		RunE: func(_ *cobra.Command, args []string) error {
			dir := args[0]
			if n <= 0 {
				return usagef("invalid --n %d: must be positive", n)
			}
			if grid < 2 {
				return usagef("invalid --grid %d: must be ≥ 2", grid)
			}
			if out == "" {
				out = filepath.Join(dir, "samples.png")
			}
			for _, fp := range [][2]string{{"out", out}, {"interpolate", interp}, {"manifold", manifold}} {
				if flag, path := fp[0], fp[1]; path != "" {
					if _, err := imageFormat(path); err != nil {
						return usagef("--%s %s: %v", flag, path, err)
					}
				}
			}
			run, err := zoo.OpenRun(dir)
			if err != nil {
				return err
			}
			spec, err := models.SpecOf(run.Config)
			if err != nil {
				return err
			}
			if spec.Decoder == nil {
				return errors.Errorf("model %s is not generative: it cannot decode samples from a prior", run.Config.Model)
			}
			if manifold != "" && run.Config.TopLatent() != 2 {
				return usagef("--manifold needs a 2-D latent space (with two stochastic layers: z2); the model in %s has %d (train it with --latent 2, or --latent N,2)", dir, run.Config.TopLatent())
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
			g, err := run.Generator()
			if err != nil {
				return err
			}
			// Compute every picture before writing any.
			_, x, err := g.Sample(rand.New(rand.NewPCG(seed, 0x5a)), n)
			if err != nil {
				return err
			}
			type picture struct {
				path, what string
				img        image.Image
			}
			pics := []picture{{out, fmt.Sprintf("%d samples from N(0, I)", n), drawGrid(x, 8, 2)}}
			if interp != "" {
				src, err := df.source()
				if err != nil {
					return err
				}
				test, err := run.TestSetSource(src)
				if err != nil {
					return err
				}
				const pairs = 8
				lines, err := g.Interpolations(run.Eval, test, pairs, 10)
				if err != nil {
					return err
				}
				pics = append(pics, picture{interp, fmt.Sprintf("interpolations between %d pairs of test images", len(lines)/10), drawGrid(lines, 10, 2)})
			}
			if manifold != "" {
				m, err := g.Manifold(grid)
				if err != nil {
					return err
				}
				pics = append(pics, picture{manifold, fmt.Sprintf("%d×%d latent manifold", grid, grid), drawGrid(m, grid, 1)})
			}
			for _, p := range pics {
				if err := saveImage(p.path, p.img); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s → %s\n", p.what, p.path)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.IntVar(&n, "n", 64, "number of samples")
	f.StringVar(&out, "out", "", "image of the samples, .png or .jpg (default DIR/samples.png)")
	f.Uint64Var(&seed, "seed", 1, "random seed")
	f.StringVar(&interp, "interpolate", "", "also write an interpolation between pairs of test digits to this image")
	f.StringVar(&manifold, "manifold", "", "also write the decoded 2-D latent manifold to this image (latent size 2)")
	f.IntVar(&grid, "grid", 20, "manifold grid size")
	addDataFlags(cmd, &df)
	return cmd
}

// imageFormat returns "png" or "jpeg" after path's extension.
func imageFormat(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		return "png", nil
	case ".jpg", ".jpeg":
		return "jpeg", nil
	}
	return "", errors.Errorf("unknown image extension %q (want .png, .jpg or .jpeg)", filepath.Ext(path))
}

// saveImage writes img to path as PNG or JPEG, after the extension.
func saveImage(path string, img image.Image) error {
	format, err := imageFormat(path)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return errors.Wrap(err, "saving image")
	}
	w := bufio.NewWriter(f)
	if format == "jpeg" {
		err = jpeg.Encode(w, img, &jpeg.Options{Quality: 95})
	} else {
		err = png.Encode(w, img)
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return errors.Wrapf(err, "writing %s", path)
}

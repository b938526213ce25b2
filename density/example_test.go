package density_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/aezoo/aezoo/density"
)

// Ex-post density estimation: fit a two-component mixture to 2-d "codes",
// draw new codes from it, and score them against held-out codes with the
// Fréchet distance (as FID does in a classifier's feature space).
func Example() {
	rng := rand.New(rand.NewPCG(1, 2))
	draw := func(n int) []float64 {
		x := make([]float64, 0, 2*n)
		for i := 0; i < n; i++ {
			cx := 0.0
			if rng.Float64() < 0.3 {
				cx = 5
			}
			x = append(x, cx+0.5*rng.NormFloat64(), 0.5*rng.NormFloat64())
		}
		return x
	}
	train, held := draw(5000), draw(5000)

	gmm, err := density.FitGMM(train, 2, density.GMMOptions{K: 2}, rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	gauss, err := density.FitGaussian(train, 2, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	flat := func(rows [][]float64) []float64 {
		var x []float64
		for _, r := range rows {
			x = append(x, r...)
		}
		return x
	}
	fdGMM, _ := density.Frechet(flat(gmm.Sample(rng, 5000)), held, 2)
	fdGauss, _ := density.Frechet(flat(gauss.Sample(rng, 5000)), held, 2)
	fmt.Printf("GMM weights ≈ %.1f, %.1f\n", min(gmm.Weights[0], gmm.Weights[1]), max(gmm.Weights[0], gmm.Weights[1]))
	fmt.Println("both samples close in the first two moments:", fdGMM < 0.05, fdGauss < 0.05)
	fmt.Println("the GMM explains held-out codes better:",
		meanLogProb(gmm.LogProb, held) > meanLogProb(gauss.LogProb, held))
	// Output:
	// GMM weights ≈ 0.3, 0.7
	// both samples close in the first two moments: true true
	// the GMM explains held-out codes better: true
}

func meanLogProb(lp func([]float64) float64, x []float64) float64 {
	s := 0.0
	for i := 0; i < len(x); i += 2 {
		s += lp(x[i : i+2])
	}
	return s / float64(len(x)/2)
}

// The Fréchet distance between two Gaussians with commuting covariances is
// |μ1−μ2|² + Σ(√a−√b)².
func ExampleFrechetDistance() {
	a, _ := density.MomentsOf([]float64{-1, 0, 1, 0, -1, 0, 1, 0}, 1) // mean 0, variance 4/7
	b := a
	b.Mean = []float64{3}
	fd, _ := density.FrechetDistance(a, b)
	fmt.Printf("%.3f\n", fd)
	// Output:
	// 9.000
}

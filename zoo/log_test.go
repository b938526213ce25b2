package zoo

import (
	"fmt"
	"github.com/aezoo/aezoo/graph"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aezoo/aezoo/train"
)

func TestEpochLine(t *testing.T) {
	for _, tc := range []struct {
		name        string
		log         train.EpochLog
		want, avoid []string
	}{
		{"plain (no penalty: the loss once)", train.EpochLog{Epoch: 12, TrainLoss: 98.25, TestLoss: 97.5, TestRecon: 97.5, TestBCE: 97.5,
			TestTerms: map[graph.Term]float64{graph.ReconTerm: 97.5}, SamplesPerS: 12345},
			[]string{"epoch 12: train 98.2500, test 97.5000", "12k samples/s"}, []string{"recon", "penalty", "BCE", "KL"}},
		{"sparse", train.EpochLog{Epoch: 3, TrainLoss: 120, TestLoss: 110, TestRecon: 100, TestPenalty: 10, TestBCE: 100,
			TestTerms: map[graph.Term]float64{graph.ReconTerm: 100, graph.PenaltyTerm: 10}, SamplesPerS: 900},
			[]string{"(recon 100.0000 + penalty 10.0000)", "900 samples/s"}, []string{"BCE", "KL"}},
		{"vae β=1", train.EpochLog{Epoch: 100, TrainLoss: 1234.5678, TestLoss: 1234.5678, TestRecon: 1200.1234, TestBCE: 1200.1234,
			TestTerms: map[graph.Term]float64{graph.ReconTerm: 1200.1234, graph.KLTerm: 34.4444, graph.PenaltyTerm: 34.4444}, SamplesPerS: 123456},
			[]string{"(recon 1200.1234 + KL 34.4444)"}, []string{"penalty", "BCE"}},
		{"vae β=4", train.EpochLog{Epoch: 100, TrainLoss: 1234.5678, TestLoss: 1337.9999, TestRecon: 1200.1234, TestBCE: 1200.1234,
			TestTerms: map[graph.Term]float64{graph.ReconTerm: 1200.1234, graph.KLTerm: 34.4691, graph.PenaltyTerm: 137.8765}, SamplesPerS: 1234567},
			[]string{"β·KL 137.8765"}, []string{"penalty"}},
		{"iwae (the loss is the bound)", train.EpochLog{Epoch: 100, TrainLoss: 190.5, TestLoss: 187.25, TestRecon: 270.5, TestBCE: 268.25,
			TestTerms: map[graph.Term]float64{graph.ReconTerm: 270.5, graph.KLTerm: 12, graph.IWTerm: 187.25}, SamplesPerS: 1234},
			[]string{"test 187.2500 (−ELBO 282.50: recon 270.50 + KL 12.00)"}, []string{"β·KL", "penalty"}},
		{"denoising mse (BCE differs)", train.EpochLog{Epoch: 1000, TrainLoss: 12345.6789, TestLoss: 12345.6789, TestRecon: 12345.6789, TestBCE: 9999.99,
			TestTerms: map[graph.Term]float64{graph.ReconTerm: 12345.6789}, SamplesPerS: 99999},
			[]string{"BCE 9999.99"}, nil},
		{"contractive mse, extreme values", train.EpochLog{Epoch: 1000, TrainLoss: 12345.6789, TestLoss: 24691.3578, TestRecon: 12345.6789, TestBCE: 99999.99,
			TestTerms: map[graph.Term]float64{graph.ReconTerm: 12345.6789, graph.PenaltyTerm: 12345.6789}, SamplesPerS: 99999},
			[]string{"penalty 12345.6789", "BCE 99999.99"}, nil},
		{"not evaluated", train.EpochLog{Epoch: 1, TrainLoss: 98, SamplesPerS: 5000},
			[]string{"epoch 1: train 98.0000, 5.0k samples/s (not evaluated)"}, []string{"test"}},
	} {
		line := EpochLine(tc.log)
		if n := utf8.RuneCountInString(line); n > 100 {
			t.Errorf("%s: line of %d characters: %s", tc.name, n, line)
		}
		for _, w := range tc.want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: line lacks %q: %s", tc.name, w, line)
			}
		}
		for _, a := range tc.avoid {
			if strings.Contains(line, a) {
				t.Errorf("%s: line has %q: %s", tc.name, a, line)
			}
		}
		for _, width := range []int{40, 50, 80} {
			short := EpochLineWidth(tc.log, width)
			if n := utf8.RuneCountInString(short); n >= width && short != epochLineParts(tc.log)[0] {
				t.Errorf("%s: line for %d columns has %d: %s", tc.name, width, n, short)
			}
			if !strings.HasPrefix(line, short) {
				t.Errorf("%s: shortened line %q is not a prefix of %q", tc.name, short, line)
			}
		}
	}
}

func ExampleEpochLine() {
	vae := train.EpochLog{Epoch: 3, TrainLoss: 107.4431, TestLoss: 106.0179, TestRecon: 98.2377, TestBCE: 98.2377,
		TestTerms: map[graph.Term]float64{graph.ReconTerm: 98.2377, graph.KLTerm: 7.7802, graph.PenaltyTerm: 7.7802}, SamplesPerS: 9412}
	plain := train.EpochLog{Epoch: 3, TrainLoss: 80.1, TestLoss: 79.5, TestRecon: 79.5, TestBCE: 79.5,
		TestTerms: map[graph.Term]float64{graph.ReconTerm: 79.5}, SamplesPerS: 21000}
	skipped := train.EpochLog{Epoch: 1, TrainLoss: 150.2, SamplesPerS: 9000}
	fmt.Println(EpochLine(vae))
	fmt.Println(EpochLine(plain))
	fmt.Println(EpochLine(skipped))
	// Output:
	// epoch 3: train 107.4431, test 106.0179 (recon 98.2377 + KL 7.7802), 9.4k samples/s
	// epoch 3: train 80.1000, test 79.5000, 21k samples/s
	// epoch 1: train 150.2000, 9.0k samples/s (not evaluated)
}

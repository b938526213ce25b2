package zoo

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
)

func TestTableString(t *testing.T) {
	cases := []struct {
		name string
		t    Table
		want string
	}{
		{"header, numbers right, text left", Table{Header: []string{"model", "BCE", "active"}, Rows: [][]string{
			{"sparse", "61.8", "19.2%"}, {"contractive", "80.52", "81.5%"}}},
			"model          BCE  active\n" +
				"sparse        61.8   19.2%\n" +
				"contractive  80.52   81.5%\n"},
		{"no header, indent, empty cells, no trailing spaces", Table{Indent: "  ", Rows: [][]string{
			{"β·KL", "3.0000", "per image"}, {"code units", "32"}}},
			"  β·KL        3.0000  per image\n" +
				"  code units      32\n"},
		{"a column with text is left-aligned", Table{Rows: [][]string{{"a", "1"}, {"bb", "x"}}},
			"a   1\n" +
				"bb  x\n"},
		{"— does not make a column text", Table{Rows: [][]string{{"a", "1.5"}, {"bb", "—"}}},
			"a   1.5\n" +
				"bb    —\n"},
		{"empty", Table{}, ""},
	}
	for _, tc := range cases {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

func TestTableMarkdown(t *testing.T) {
	tb := Table{Header: []string{"run", "loss"}, Rows: [][]string{{"a|b", "1.5"}, {"c"}}}
	want := "| run | loss |\n|---|---:|\n| a\\|b | 1.5 |\n| c |  |\n"
	if got := tb.Markdown(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestMetricsTable(t *testing.T) {
	m := eval.Metrics{N: 10, Loss: 110, Terms: map[graph.Term]float64{graph.ReconTerm: 100, graph.KLTerm: 5},
		BCEPerImage: 100, MSEPerPixel: 0.01, CodeUnits: 20, DeadUnits: 2, MeanActivation: 0.5, ActiveFraction: 0.25}
	tb := MetricsTable(m)
	want := [][]string{
		{"test loss", "110.0000", "per image"},
		{"recon", "100.0000", "per image"},
		{"KL", "5.0000", "nats per image"},
		{"β·KL", "10.0000", "per image"},
		{"BCE", "100.00", "nats per image"},
		{"MSE", "0.010000", "per pixel"},
		{"ELBO", "-105.00", "nats per image"},
		{"code units", "20", ""},
		{"dead units", "2", ""},
		{"mean activation", "0.5000", "mean |h|"},
		{"active fraction", "0.2500", "of units with h > 0.1"},
	}
	if len(tb.Rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(tb.Rows), len(want), tb)
	}
	for i, r := range want {
		for j := range r {
			if tb.Rows[i][j] != r[j] {
				t.Errorf("row %d: %q, want %q", i, tb.Rows[i], r)
				break
			}
		}
	}
}

func TestSummaryTable(t *testing.T) {
	a := Summary{Model: "sparse", Epochs: 3, Seconds: 1.25, Test: eval.Metrics{Loss: 66.9, Terms: map[graph.Term]float64{graph.ReconTerm: 61.8},
		BCEPerImage: 61.8, MSEPerPixel: 0.0123, CodeUnits: 1000, DeadUnits: 289, MeanActivation: 0.1713, ActiveFraction: 0.1924}}
	b := Summary{Model: "vae", Epochs: 3, Test: eval.Metrics{Loss: 121.7, Terms: map[graph.Term]float64{graph.ReconTerm: 101.1, graph.KLTerm: 20.6},
		BCEPerImage: 101.1, MSEPerPixel: 0.03}}
	a.derive()
	b.derive()
	tb := SummaryTable([]string{"L1"}, a, b)
	want := "run  epochs  seconds  test loss  recon  penalty  BCE/image  MSE/pixel    KL    ELBO  mean |h|  active  dead\n" +
		"L1        3      1.2       66.9   61.8      5.1       61.8     0.0123                  0.1713   19.2%   289\n" +
		"vae       3      0.0      121.7  101.1     20.6      101.1       0.03  20.6  -121.7\n"
	if got := tb.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestDenoisingTable checks the table's shape, that each model column is
// the model's own eval.DenoisingTable and that the no-model column is the
// error of the corruption itself: σ² for Gaussian noise, ν·mean(x²) for
// masking noise (within sampling error).
func TestDenoisingTable(t *testing.T) {
	var runs []*Run
	for _, name := range []string{"plain", "denoising"} {
		c, _ := models.Defaults(name)
		c.Hidden = 16
		o := train.DefaultOptions()
		o.Epochs, o.Batch, o.TrainLimit, o.TestLimit = 1, 100, 200, 100
		dir := t.TempDir()
		if _, err := Train(context.Background(), c, o, TrainOptions{Out: dir, Data: data.Testdata(), NoCheckpoints: true}); err != nil {
			t.Fatal(err)
		}
		r, err := OpenRun(dir)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	test, err := runs[0].TestSet(data.Testdata())
	if err != nil {
		t.Fatal(err)
	}
	tb, err := DenoisingTable(test, 3, []string{"AE"}, runs...)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"corruption", "input (no model)", "AE", "denoising"}; strings.Join(tb.Header, ",") != strings.Join(want, ",") {
		t.Errorf("header %q, want %q", tb.Header, want)
	}
	var x2 float64
	for _, v := range test.X {
		x2 += float64(v) * float64(v) / float64(len(test.X))
	}
	qs := eval.StandardCorruptions()
	if len(tb.Rows) != len(qs) {
		t.Fatalf("%d rows, want %d", len(tb.Rows), len(qs))
	}
	for i, r := range runs {
		own, err := r.Eval.DenoisingTable(test, 3)
		if err != nil {
			t.Fatal(err)
		}
		for k := range qs {
			if got, want := tb.Rows[k][2+i], strconv.FormatFloat(own[k].MSE, 'f', 4, 64); got != want {
				t.Errorf("run %d, %v: %s, want %s", i, qs[k], got, want)
			}
		}
	}
	for k, q := range qs {
		got, err := strconv.ParseFloat(tb.Rows[k][1], 64)
		if err != nil {
			t.Fatal(err)
		}
		want := q.Level * q.Level
		if q.Kind == data.CorruptMasking {
			want = q.Level * x2
		}
		if math.Abs(got-want) > 0.1*want {
			t.Errorf("%v: corrupted input MSE %g, want ≈ %g", q, got, want)
		}
	}
	if _, err := DenoisingTable(test, 3, nil); err == nil {
		t.Error("no runs: no error")
	}
}

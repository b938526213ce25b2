package experiments

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/data"
)

// TestConvRows runs the denoising and vae experiments with their conv rows
// (declared runs, checked against what the bodies train) on a few images
// of the quick subset (16 and 5 quick epochs of one step each) and checks
// the rows: a conv AE and a conv DAE per corruption level after the MLPs,
// each with the clean MSE and an MSE per level, recorded as rows and
// numbers; the conv VAE's −ELBO = BCE + KL, and no IW-NLL; the MLP rows
// are those of a run without the conv rows.
func TestConvRows(t *testing.T) {
	newEnv := func(conv bool) *Env {
		env, err := NewEnv(context.Background(), Options{Quick: true, Out: t.TempDir(), Log: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		if env.convRows {
			t.Fatal("a quick run trains the conv rows")
		}
		env.convRows = conv
		if env.TrainSet, env.TestSet, err = data.LoadSubset(50, 20); err != nil {
			t.Fatal(err)
		}
		return env
	}
	mlp, env := newEnv(false), newEnv(true)

	// The plan: the conv runs are declared after each experiment's MLPs',
	// with the MLPs' epochs and options.
	plan, err := env.Plan([]Experiment{denoisingExperiment, vaeExperiment})
	if err != nil {
		t.Fatal(err)
	}
	mlpPlan, err := mlp.Plan([]Experiment{denoisingExperiment, vaeExperiment})
	if err != nil {
		t.Fatal(err)
	}
	mlpKeys := map[string]bool{}
	for _, p := range mlpPlan {
		mlpKeys[p.Key] = true
	}
	var convLabels []string
	for _, p := range plan {
		if mlpKeys[p.Key] {
			continue
		}
		convLabels = append(convLabels, p.Label)
		if p.Config.Arch != "conv" || p.Options != env.Options(10, map[string]int{"denoising": 16, "vae": 5}[p.Experiments[0]]) {
			t.Errorf("planned %s: arch %q, options %+v", p.Label, p.Config.Arch, p.Options)
		}
	}
	want := []string{"conv AE"}
	for _, q := range denoisingLevels {
		want = append(want, "conv DAE ("+levelName(q)+")")
	}
	want = append(want, "conv VAE (z=20)")
	if len(plan) != len(mlpPlan)+len(want) || strings.Join(convLabels, "|") != strings.Join(want, "|") {
		t.Fatalf("conv runs in the plan %q, want %q beside the %d MLP runs", convLabels, want, len(mlpPlan))
	}

	for _, e := range []Experiment{denoisingExperiment, vaeExperiment} {
		r, err := env.run(e) // fails if the body and the declared runs disagree
		if err != nil {
			t.Fatal(err)
		}
		m, err := mlp.run(e)
		if err != nil {
			t.Fatal(err)
		}
		rows, mrows := r.Tables[0].Rows, m.Tables[0].Rows
		if strings.Join(flatten(rows[:len(mrows)]), "|") != strings.Join(flatten(mrows), "|") {
			t.Errorf("%s: the MLP rows change with the conv rows:\n%v\n%v", e.Name, rows[:len(mrows)], mrows)
		}
		for id, v := range m.Numbers {
			if r.Numbers[id] != v {
				t.Errorf("%s: number %s = %v with the conv rows, %v without", e.Name, id, r.Numbers[id], v)
			}
		}
		if !strings.Contains(r.Intro, "--arch conv") || !strings.Contains(r.Intro, "transposed conv 4×4 stride 2") || strings.Contains(m.Intro, "--arch conv") {
			t.Errorf("%s: intro %q does not describe the conv rows (without them: %q)", e.Name, r.Intro, m.Intro)
		}
		if r.Settings == m.Settings || !r.Settings.ConvRows {
			t.Errorf("%s: settings %+v with the conv rows, %+v without", e.Name, r.Settings, m.Settings)
		}
		conv := rows[len(mrows):]
		switch e.Name {
		case "denoising":
			if len(conv) != 1+len(denoisingLevels) || conv[0][0] != "conv AE" || conv[1][0] != "conv DAE (gaussian σ=0.1)" {
				t.Fatalf("conv rows %v", conv)
			}
			for _, row := range conv {
				if len(row) != 2+len(denoisingLevels) {
					t.Errorf("row %v: %d cells", row, len(row))
				}
				if v := r.Rows[row[0]]["mse"]; !(v > 0 && v < 1) || row[1] != f4(v) {
					t.Errorf("%s: clean MSE %v, cell %s", row[0], v, row[1])
				}
			}
			for j, q := range denoisingLevels {
				for id, row := range map[string][]string{"denoising.conv_ae_mse.": conv[0], "denoising.conv_dae_mse.": conv[1+j]} {
					v, ok := r.Numbers[id+metricKey(q)]
					if !ok || !(v > 0 && v < 1) || row[2+j] != f4(v) || r.Rows[row[0]][metricKey(q)] != v {
						t.Errorf("%s%s = %v (measured %v), row %v", id, metricKey(q), v, ok, row)
					}
				}
			}
		case "vae":
			if len(conv) != 1 {
				t.Fatalf("conv rows %v", conv)
			}
			row := conv[0]
			vals, _ := r.Values["conv VAE (z=20)"].(map[string]float64)
			if len(row) != 6 || row[0] != "conv VAE (z=20)" || row[5] != "—" || vals == nil ||
				math.Abs(vals["test_loss"]-(vals["bce"]+vals["kl"])) > 1e-3*vals["test_loss"] ||
				vals["elbo"] != -(vals["bce"]+vals["kl"]) || r.Numbers["vae.conv_z20_test_loss"] != vals["test_loss"] ||
				row[1] != fmt.Sprintf("%.2f", vals["test_loss"]) {
				t.Errorf("conv VAE row %v, values %v", row, vals)
			}
		}
	}
}

// TestConvRowsFull: a full run declares the conv runs at the MLPs' epochs
// (what `zoo reproduce denoising vae --dry-run` lists), a quick one does not.
func TestConvRowsFull(t *testing.T) {
	for _, quick := range []bool{true, false} {
		plan, err := Plan(context.Background(), []string{"denoising", "vae"}, Options{Quick: quick, Out: t.TempDir(), IWSamples: DefaultIWSamples})
		if err != nil {
			t.Fatal(err)
		}
		epochs := map[string]int{}
		for _, p := range plan {
			if p.Config.Arch == "conv" {
				epochs[p.Label] = p.Options.Epochs
			}
		}
		if quick {
			if len(epochs) != 0 {
				t.Errorf("a quick plan has conv runs: %v", epochs)
			}
			continue
		}
		if len(plan) != 3+1+len(denoisingLevels)+1+len(denoisingLevels)+1 || len(epochs) != 1+len(denoisingLevels)+1 ||
			epochs["conv AE"] != 10 || epochs["conv DAE (masking ν=0.5)"] != 10 || epochs["conv VAE (z=20)"] != 10 {
			t.Errorf("full plan: %d runs, conv epochs %v", len(plan), epochs)
		}
	}
}

func flatten(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join(r, ","))
	}
	return out
}

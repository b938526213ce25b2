package experiments

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aezoo/aezoo/models"
)

// TestPlanOfAll: the quick plan of `all` lists every declared run once,
// with every experiment that declares it; the runs that several
// experiments share are there once, under the first declaring label.
func TestPlanOfAll(t *testing.T) {
	env, err := NewEnv(context.Background(), Options{Quick: true, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := env.Plan(Catalogue())
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string][]string{} // key → experiments declaring it
	for _, e := range Catalogue() {
		if e.Runs == nil {
			t.Errorf("experiment %s declares no runs", e.Name)
			continue
		}
		specs, err := e.Runs(env)
		if err != nil {
			t.Fatal(err)
		}
		if len(specs) == 0 {
			t.Errorf("experiment %s declares no runs", e.Name)
		}
		for _, s := range specs {
			k := s.Key()
			if ex := declared[k]; len(ex) == 0 || ex[len(ex)-1] != e.Name {
				declared[k] = append(declared[k], e.Name)
			}
		}
	}
	seen := map[string]bool{}
	for _, p := range plan {
		if seen[p.Key] {
			t.Errorf("run %s (%s) twice in the plan", p.Key, p.Label)
		}
		seen[p.Key] = true
		if !reflect.DeepEqual(p.Experiments, declared[p.Key]) {
			t.Errorf("run %s: experiments %v, want %v", p.Label, p.Experiments, declared[p.Key])
		}
		if want := filepath.Join(env.Out, "runs", sanitize(p.Label)+"-"+p.Key); p.Dir != want {
			t.Errorf("run %s in %s, want %s", p.Label, p.Dir, want)
		}
	}
	if len(plan) != len(declared) {
		t.Errorf("%d runs in the plan, %d declared", len(plan), len(declared))
	}
	// The runs the experiments share, each once.
	for _, c := range []struct {
		label string
		exps  []string
	}{
		{"AE", []string{"denoising", "contractive"}},
		{"DAE (gaussian σ=0.3)", []string{"denoising", "contractive"}},
		{"VAE (z=20)", []string{"vae", "generation"}},
		{"SAE-3 layer 1", []string{"pretraining"}}, // the one-layer AE's too in quick runs (same epochs)
	} {
		n := 0
		for _, p := range plan {
			if p.Label == c.label {
				n++
				if !reflect.DeepEqual(p.Experiments, c.exps) {
					t.Errorf("%s: experiments %v, want %v", c.label, p.Experiments, c.exps)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s %d times in the plan, want once", c.label, n)
		}
	}
	for _, p := range plan {
		if p.Label == "AE layer 1" {
			t.Errorf("the one-layer AE's first stage is planned apart from SAE-3's, which has its settings in quick runs")
		}
	}
}

// TestPlanDrift: an experiment whose body trains a run it does not
// declare, or declares a run it does not train, fails naming the run; one
// whose body and declaration agree runs.
func TestPlanDrift(t *testing.T) {
	c, _ := models.Defaults("plain")
	c.Hidden = 8
	spec := func(env *Env, hidden int) RunSpec {
		cc := c
		cc.Hidden = hidden
		return env.Spec("tiny", cc, env.Options(1, 1))
	}
	for _, tc := range []struct {
		name            string
		declare, trains int // hidden units; 0: none
		want            string
	}{
		{"agree", 8, 8, ""},
		{"undeclared", 8, 9, "trains tiny (plain, key "},
		{"untrained", 8, 0, "declares runs it does not train: tiny ("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, err := NewEnv(context.Background(), Options{Quick: true, Out: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			e := Experiment{Name: "x", Title: "X",
				Runs: func(env *Env) ([]RunSpec, error) { return []RunSpec{spec(env, tc.declare)}, nil },
				Run: func(env *Env) (*Result, error) {
					if tc.trains > 0 {
						if _, err := env.TrainSpec(spec(env, tc.trains)); err != nil {
							return nil, err
						}
					}
					return newResult("x", "X", ""), nil
				}}
			_, err = env.run(e)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join(env.Out, "x", "results.json")); err != nil {
					t.Error(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestTrainPlanned: a run task trains the planned run of its key into its
// folder, which the experiment then reuses; an unknown key is an error
// naming the plan's size.
func TestTrainPlanned(t *testing.T) {
	out := t.TempDir()
	o := Options{Quick: true, Out: out, IWSamples: DefaultIWSamples, Task: true}
	plan, err := Plan(context.Background(), []string{"vae"}, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 3 {
		t.Fatalf("vae plans %d runs, want 3", len(plan))
	}
	p := plan[2] // the 2-D VAE
	if p.Finished() {
		t.Fatal("finished before training")
	}
	run, err := TrainPlanned(context.Background(), []string{"vae"}, o, p.Key)
	if err != nil {
		t.Fatal(err)
	}
	if run.Dir != p.Dir || run.Label != "VAE (z=2)" || !p.Finished() {
		t.Errorf("trained %s in %s (finished: %v), want VAE (z=2) in %s", run.Label, run.Dir, p.Finished(), p.Dir)
	}
	_, err = TrainPlanned(context.Background(), []string{"vae"}, o, "00000000")
	if err == nil || !strings.Contains(err.Error(), `no run "00000000" in the plan of vae (3 runs`) {
		t.Errorf("unknown key: %v", err)
	}
}

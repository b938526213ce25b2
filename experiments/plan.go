package experiments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
	"github.com/aezoo/aezoo/zoo"
	"github.com/pkg/errors"
)

// RunSpec is one training run of an experiment: a model configuration,
// its training options and its data. An experiment declares its
// independent runs as RunSpecs (Experiment.Runs) and its body trains them
// from the same specs (Env.TrainSpec), so that a parallel reproduction can
// train every declared run as its own task before the experiments run.
type RunSpec struct {
	Label   string // row label in tables; names the run folder
	Config  models.Config
	Options train.Options
	// Where names the data: the environment's (Env.Data) or a set derived
	// from it ("synthetic:…", "…, first 500 training images").
	Where       string
	Train, Test *data.Dataset
}

// Key identifies the run: two specs with the same configuration, options,
// data name and training-set size are the same run, trained once. It is
// the suffix of the run's folder (runs/LABEL-KEY).
func (s RunSpec) Key() string {
	b, _ := json.Marshal(struct {
		C models.Config
		O train.Options
		W string
		N int
	}{s.Config, s.Options, s.Where, s.Train.N})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:4])
}

// Spec returns the spec of a run on the environment's data.
func (env *Env) Spec(label string, c models.Config, o train.Options) RunSpec {
	return RunSpec{Label: label, Config: c, Options: o, Where: env.Data, Train: env.TrainSet, Test: env.TestSet}
}

// SpecOn returns the spec of a run on other data; where names it.
func SpecOn(label string, c models.Config, o train.Options, trainSet, testSet *data.Dataset, where string) RunSpec {
	return RunSpec{Label: label, Config: c, Options: o, Where: where, Train: trainSet, Test: testSet}
}

// PlannedRun is one run of a reproduction's plan: a declared run, once
// however many experiments declare it.
type PlannedRun struct {
	Key string
	RunSpec
	// Experiments are the experiments that declare it, in report order.
	Experiments []string
	// Dir is its run folder.
	Dir string
}

// Plan returns the independent runs that the experiments declare, each
// once (by Key), in the order the experiments declare them; a run
// declared with several labels takes the first. They are what the first
// phase of a parallel reproduction trains, one task each.
func (env *Env) Plan(exps []Experiment) ([]PlannedRun, error) {
	var plan []PlannedRun
	at := map[string]int{}
	for _, e := range exps {
		specs, err := env.declared(e)
		if err != nil {
			return nil, err
		}
		for _, s := range specs {
			k := s.Key()
			if i, ok := at[k]; ok {
				if ex := plan[i].Experiments; ex[len(ex)-1] != e.Name {
					plan[i].Experiments = append(plan[i].Experiments, e.Name)
				}
				continue
			}
			at[k] = len(plan)
			plan = append(plan, PlannedRun{Key: k, RunSpec: s, Experiments: []string{e.Name}, Dir: env.runDir(s.Label, k)})
		}
	}
	return plan, nil
}

// declared returns the runs e declares (none when e.Runs is nil).
func (env *Env) declared(e Experiment) ([]RunSpec, error) {
	if e.Runs == nil {
		return nil, nil
	}
	specs, err := e.Runs(env)
	if err != nil {
		return nil, errors.Wrapf(err, "experiment %s: its runs", e.Name)
	}
	return specs, nil
}

// Plan loads the data of o and returns the plan of the named experiments
// ("all" for every one): see Env.Plan.
func Plan(ctx context.Context, names []string, o Options) ([]PlannedRun, error) {
	_, plan, err := planEnv(ctx, names, o)
	return plan, err
}

// planEnv validates o, resolves the named experiments, loads the data and
// returns the environment with the experiments' plan.
func planEnv(ctx context.Context, names []string, o Options) (*Env, []PlannedRun, error) {
	if err := o.Validate(); err != nil {
		return nil, nil, err
	}
	exps, err := Resolve(names)
	if err != nil {
		return nil, nil, err
	}
	env, err := NewEnv(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	plan, err := env.Plan(exps)
	if err != nil {
		return nil, nil, err
	}
	return env, plan, nil
}

// TrainPlanned trains the run of the named experiments' plan whose key is
// key, as one task of a parallel reproduction (`zoo reproduce NAMES --task
// --run KEY`): a finished run is reused, one that another task is training
// is waited for, one left unfinished by an interruption is trained again
// from the start (training is seeded: the same numbers either way).
func TrainPlanned(ctx context.Context, names []string, o Options, key string) (*Run, error) {
	if o.Overwrite {
		return nil, errors.New("a task of a parallel reproduction does not overwrite: its launcher claims the folder")
	}
	env, plan, err := planEnv(ctx, names, o)
	if err != nil {
		return nil, err
	}
	for _, p := range plan {
		if p.Key == key {
			return env.TrainSpec(p.RunSpec)
		}
	}
	return nil, errors.Errorf("no run %q in the plan of %s (%d runs; `zoo reproduce %s --dry-run` lists them)",
		key, strings.Join(names, " "), len(plan), strings.Join(names, " "))
}

// runDir returns the folder of the run with the given label and key: the
// folder of that key already under Out/runs if there is one (the run
// trained under another label, by another task or experiment), else
// Out/runs/LABEL-KEY.
func (env *Env) runDir(label, key string) string {
	own := filepath.Join(env.Out, "runs", fmt.Sprintf("%s-%s", sanitize(label), key))
	if _, err := os.Stat(own); err == nil {
		return own
	}
	m, _ := filepath.Glob(filepath.Join(env.Out, "runs", "*-"+key))
	sort.Strings(m)
	for _, d := range m {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	return own
}

// check is what an experiment being run declared and what it trained:
// every run it trains from its environment's data must be declared (an
// undeclared one is a plan that drifted from the body), and every
// declared run must be trained.
type check struct {
	name     string
	declared map[string]string // key → label
	used     map[string]bool
}

// begin starts checking the runs of e.
func (env *Env) begin(e Experiment) error {
	specs, err := env.declared(e)
	if err != nil {
		return err
	}
	c := &check{name: e.Name, declared: map[string]string{}, used: map[string]bool{}}
	for _, s := range specs {
		c.declared[s.Key()] = s.Label
	}
	env.check = c
	return nil
}

// end stops checking and reports a declared run that was not trained.
func (env *Env) end() error {
	c := env.check
	env.check = nil
	if c == nil {
		return nil
	}
	var unused []string
	for k, l := range c.declared {
		if !c.used[k] {
			unused = append(unused, fmt.Sprintf("%s (%s)", l, k))
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		return errors.Errorf("experiment %s declares runs it does not train: %s (its Runs and its body disagree)", c.name, strings.Join(unused, ", "))
	}
	return nil
}

// mark records that the running experiment trains s; dependent runs (on
// the codes of another run, say) are not declared.
func (env *Env) mark(s RunSpec, key string, dependent bool) error {
	c := env.check
	if c == nil {
		return nil
	}
	if dependent {
		if _, ok := c.declared[key]; ok {
			c.used[key] = true
		}
		return nil
	}
	if _, ok := c.declared[key]; !ok {
		return errors.Errorf("experiment %s trains %s (%s, key %s), which its Runs do not declare (its Runs and its body disagree)",
			c.name, s.Label, s.Config.Model, key)
	}
	c.used[key] = true
	return nil
}

// Finished says whether the run is trained: its folder holds the finished
// run of its settings.
func (p PlannedRun) Finished() bool {
	return zoo.FinishedRun(p.Dir, p.Config, p.Options, p.Where) != nil
}

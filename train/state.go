package train

import (
	"encoding/json"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// State captures everything needed to continue this run exactly: counters,
// the unfinished epoch's order and loss sum, the running mean of the step
// log (LogEvery), the generator state and the Adam moments (the parameters
// themselves are in t.Store).
func (t *Trainer) State() (ckpt.State, ckpt.Moments, error) {
	rng, err := t.PCG.MarshalBinary()
	if err != nil {
		return ckpt.State{}, ckpt.Moments{}, errors.Wrap(err, "saving the generator state")
	}
	opt, err := json.Marshal(t.Opt)
	if err != nil {
		return ckpt.State{}, ckpt.Moments{}, err
	}
	st := ckpt.State{
		Model: t.Config, Train: opt, Dtype: t.Dtype.String(), In: t.Train.D,
		Epoch: t.Epoch, Step: t.Step, EpochStep: t.epochStep, LossSum: t.lossSum, EpochSeconds: t.epochSecs,
		RNG: rng, AdamT: t.Adam.T, LogEvery: t.LogEvery, LogSum: t.logSum, LogSteps: t.logN,
	}
	if t.epochStep > 0 {
		st.Perm = append([]int(nil), t.idx...)
	}
	mom := ckpt.Moments{M: map[string]*tensor.Dense{}, V: map[string]*tensor.Dense{}}
	adams := t.adams()
	for k, prog := range t.programs() {
		for i, p := range prog.Params() {
			m, v := adams[k].Moments(i)
			if m == nil {
				continue
			}
			shape := p.Shape().Clone()
			mom.M[p.Name()] = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(m))
			mom.V[p.Name()] = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
		}
	}
	return st, mom, nil
}

// Restore continues from a checkpoint. The trainer must have been created by
// New with the checkpoint's model, options and parameter store.
func (t *Trainer) Restore(st ckpt.State, mom ckpt.Moments) error {
	if st.Model != t.Config {
		return errors.Errorf("checkpoint is of model %s with config %+v, not %+v", st.Model.Model, st.Model, t.Config)
	}
	if st.In != t.Train.D {
		return errors.Errorf("checkpoint model takes %d pixels per image, the data has %d", st.In, t.Train.D)
	}
	steps := t.StepsPerEpoch()
	if st.EpochStep >= steps && steps > 0 {
		return errors.Errorf("checkpoint is at step %d of an epoch of %d steps", st.EpochStep, steps)
	}
	if st.EpochStep > 0 {
		if len(st.Perm) != len(t.idx) {
			return errors.Errorf("checkpoint's example order has %d entries, the training set %d", len(st.Perm), len(t.idx))
		}
		seen := make([]bool, len(st.Perm))
		for _, i := range st.Perm {
			if i < 0 || i >= len(seen) || seen[i] {
				return errors.New("checkpoint's example order is not a permutation")
			}
			seen[i] = true
		}
		copy(t.idx, st.Perm)
	}
	if err := t.PCG.UnmarshalBinary(st.RNG); err != nil {
		return errors.Wrap(err, "checkpoint's generator state")
	}
	adams := t.adams()
	for k, prog := range t.programs() {
		if st.AdamT > 0 {
			n := len(prog.Params())
			ms, vs := make([]any, n), make([]any, n)
			for i, p := range prog.Params() {
				m, v := mom.M[p.Name()], mom.V[p.Name()]
				if m == nil || v == nil {
					return errors.Errorf("checkpoint lacks the Adam state of %s", p.Name())
				}
				if m.Dtype() != t.Dtype || v.Dtype() != t.Dtype {
					return errors.Errorf("checkpoint's Adam state of %s has dtype %v", p.Name(), m.Dtype())
				}
				ms[i], vs[i] = m.Data(), v.Data()
			}
			if err := adams[k].SetMoments(n, ms, vs); err != nil {
				return err
			}
		}
		// Every player steps once per minibatch: one step count for all.
		adams[k].T = st.AdamT
	}
	if st.LogSteps < 0 || st.LogEvery < 0 {
		return errors.Errorf("checkpoint's --log-every window has %d steps", st.LogSteps)
	}
	t.Epoch, t.Step, t.epochStep, t.lossSum, t.epochSecs = st.Epoch, st.Step, st.EpochStep, st.LossSum, st.EpochSeconds
	t.logSum, t.logN = st.LogSum, st.LogSteps
	return nil
}

package sweep

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/aezoo/aezoo/ckpt"
	"github.com/aezoo/aezoo/viz"
	"github.com/aezoo/aezoo/zoo"
	"github.com/pkg/errors"
)

// The final test metrics every run reports, in report order; the model's
// figures (sparsity, Jacobian norm, ELBO terms) follow them.
var baseMetrics = []string{"test_loss", "test_recon", "test_penalty", "test_bce_per_image", "test_mse_per_pixel"}

// metricLabels are the report's column names.
var metricLabels = map[string]string{
	"test_loss": "test loss", "test_recon": "recon", "test_penalty": "penalty",
	"test_bce_per_image": "BCE/image", "test_mse_per_pixel": "MSE/pixel",
}

// Row is one grid point of the report: the swept settings other than the
// seed, and mean ± std of each metric over the seeds that finished.
type Row struct {
	Params  []Param            `json:"params"`            // the grid point (no seed)
	Tasks   []string           `json:"tasks"`             // its tasks' run folder names
	Seeds   []string           `json:"seeds,omitempty"`   // the seeds that finished (when seed is swept)
	N       int                `json:"n"`                 // finished tasks
	Missing []string           `json:"missing,omitempty"` // tasks not finished
	Mean    map[string]float64 `json:"mean"`
	Std     map[string]float64 `json:"std"` // sample standard deviation (n−1); 0 for n = 1
}

// Results is the aggregate of a sweep, written as DIR/results.json.
type Results struct {
	Model   string         `json:"model"`
	Axes    []Axis         `json:"axes"`
	Metrics []string       `json:"metrics"`
	AllZero []string       `json:"all_zero,omitempty"` // metrics 0 in every finished task, left out of rows and plots
	Tasks   int            `json:"tasks"`
	States  map[State]int  `json:"states"`
	Rows    []Row          `json:"rows"`
	Plots   []string       `json:"plots,omitempty"` // PNG files in DIR
	Values  map[string]any `json:"base"`            // the settings not swept
}

// MeanStd returns the mean and the sample standard deviation (n−1
// denominator; 0 when n < 2) of xs.
func MeanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

func metricsOf(s zoo.Summary) map[string]float64 {
	m := map[string]float64{
		"test_loss": s.TestLoss, "test_recon": s.TestRecon, "test_penalty": s.TestPenalty,
		"test_bce_per_image": s.TestBCE, "test_mse_per_pixel": s.TestMSE,
	}
	for k, v := range s.Figures {
		m[k] = v
	}
	return m
}

// Aggregate reads the finished tasks of the sweep in dir and returns one
// row per grid point (the swept settings other than the seed) with mean ±
// std of every final test metric over its finished seeds. Unfinished tasks
// are listed as missing; nothing is written.
func Aggregate(dir string) (Results, error) {
	s, err := Load(dir)
	if err != nil {
		return Results{}, err
	}
	st, err := Status(dir)
	if err != nil {
		return Results{}, err
	}
	r := Results{Model: s.Model, Axes: s.Axes, Tasks: s.Len(), States: Counts(st), Values: baseValues(&s)}
	rowOf := map[string]int{}
	samples := map[int]map[string][]float64{}
	figures := map[string]bool{}
	for _, t := range s.Tasks {
		var grid []Param
		seed := ""
		for _, p := range t.Params {
			if p.Key == SeedKey {
				seed = p.Value
			} else {
				grid = append(grid, p)
			}
		}
		key := TaskName(0, grid)
		i, ok := rowOf[key]
		if !ok {
			i = len(r.Rows)
			rowOf[key] = i
			r.Rows = append(r.Rows, Row{Params: grid, Mean: map[string]float64{}, Std: map[string]float64{}})
			samples[i] = map[string][]float64{}
		}
		row := &r.Rows[i]
		row.Tasks = append(row.Tasks, t.Name)
		sum, done := finished(RunDir(dir, t))
		if !done {
			row.Missing = append(row.Missing, t.Name)
			continue
		}
		row.N++
		if seed != "" {
			row.Seeds = append(row.Seeds, seed)
		}
		for k, v := range metricsOf(sum) {
			samples[i][k] = append(samples[i][k], v)
			if _, base := metricLabels[k]; !base {
				figures[k] = true
			}
		}
	}
	var figs []string
	for k := range figures {
		figs = append(figs, k)
	}
	sort.Strings(figs)
	for _, k := range append(append([]string(nil), baseMetrics...), figs...) {
		// A metric that is 0 in every finished task (the penalty of a
		// model without one, no dead units) is listed, not tabulated.
		zero, any := true, false
		for i := range r.Rows {
			for _, x := range samples[i][k] {
				any = true
				zero = zero && x == 0
			}
		}
		if any && zero {
			r.AllZero = append(r.AllZero, k)
			continue
		}
		r.Metrics = append(r.Metrics, k)
	}
	for i := range r.Rows {
		for _, k := range r.Metrics {
			if xs := samples[i][k]; len(xs) > 0 {
				r.Rows[i].Mean[k], r.Rows[i].Std[k] = MeanStd(xs)
			}
		}
	}
	return r, nil
}

// baseValues lists the settings that are not swept.
func baseValues(s *Spec) map[string]any {
	c, o, _ := s.Settings(Task{})
	m := map[string]any{}
	keys, _ := Keys(s.Model)
	for _, k := range keys {
		if s.swept(k) {
			continue
		}
		m[k] = settingValue(k, c, o)
	}
	return m
}

// Report aggregates the sweep in dir (Aggregate) and writes
// DIR/results.json, DIR/report.md and, for each metric and each swept
// numeric key with two or more values, DIR/plot-<metric>-vs-<key>.png: the
// metric's mean against the key, one line per combination of the other
// swept keys, with error bars of one standard deviation over seeds.
func Report(dir string) (Results, error) {
	r, err := Aggregate(dir)
	if err != nil {
		return r, err
	}
	plots, err := writePlots(dir, r)
	if err != nil {
		return r, err
	}
	r.Plots = plots
	if err := ckpt.WriteJSON(filepath.Join(dir, ResultsFile), r); err != nil {
		return r, err
	}
	md := Markdown(r)
	if err := os.WriteFile(filepath.Join(dir, ReportFile), []byte(md), 0o644); err != nil {
		return r, errors.Wrap(err, "writing the report")
	}
	return r, nil
}

// Markdown renders results as the sweep's report.
func Markdown(r Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Sweep: %s %s\n\n", r.Model, describeAxes(r.Axes))
	var states []string
	for _, st := range []State{Done, Running, Interrupted, Failed, Pending} {
		if n := r.States[st]; n > 0 {
			states = append(states, fmt.Sprintf("%d %s", n, st))
		}
	}
	fmt.Fprintf(&b, "%d tasks: %s.\n\n", r.Tasks, strings.Join(states, ", "))
	var base []string
	for k, v := range r.Values {
		if v == "" {
			continue
		}
		base = append(base, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(base)
	fmt.Fprintf(&b, "Fixed settings: %s.\n\n", strings.Join(base, " "))
	seeds := false
	for _, a := range r.Axes {
		seeds = seeds || a.Key == SeedKey
	}
	if seeds {
		fmt.Fprintf(&b, "Final test metrics, mean ± sample standard deviation over the finished seeds (n).\n\n")
	} else {
		fmt.Fprintf(&b, "Final test metrics (one seed per grid point).\n\n")
	}
	var cols []string
	if len(r.Rows) > 0 {
		for _, p := range r.Rows[0].Params {
			cols = append(cols, p.Key)
		}
	}
	cols = append(cols, "n")
	for _, m := range r.Metrics {
		if l, ok := metricLabels[m]; ok {
			cols = append(cols, l)
		} else {
			cols = append(cols, m)
		}
	}
	fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
	for _, row := range r.Rows {
		var cells []string
		for _, p := range row.Params {
			cells = append(cells, p.Value)
		}
		cells = append(cells, strconv.Itoa(row.N))
		for _, m := range r.Metrics {
			mean, ok := row.Mean[m]
			switch {
			case !ok:
				cells = append(cells, "—")
			case row.N < 2:
				cells = append(cells, fmtNum(mean))
			default:
				cells = append(cells, fmtNum(mean)+" ± "+fmtStd(row.Std[m]))
			}
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}
	if len(r.AllZero) > 0 {
		fmt.Fprintf(&b, "\n0 in every task: %s.\n", strings.Join(r.AllZero, ", "))
	}
	var missing []string
	for _, row := range r.Rows {
		missing = append(missing, row.Missing...)
	}
	if len(missing) > 0 {
		fmt.Fprintf(&b, "\nNot finished (%d): %s.\n", len(missing), strings.Join(missing, ", "))
	}
	if len(r.Plots) > 0 {
		fmt.Fprintf(&b, "\n## Plots\n\n")
		for _, p := range r.Plots {
			fmt.Fprintf(&b, "![%s](%s)\n", strings.TrimSuffix(p, ".png"), p)
		}
	}
	return b.String()
}

// fmtNum prints 4 significant digits.
func fmtNum(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// fmtStd prints 2 significant digits.
func fmtStd(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

// writePlots draws each metric against each swept numeric key.
func writePlots(dir string, r Results) ([]string, error) {
	if len(r.Rows) == 0 {
		return nil, nil
	}
	var written []string
	keys := r.Rows[0].Params
	for ki, kp := range keys {
		xs := map[string]float64{}
		numeric := true
		for _, row := range r.Rows {
			v, err := strconv.ParseFloat(row.Params[ki].Value, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				numeric = false
				break
			}
			xs[row.Params[ki].Value] = v
		}
		if !numeric || len(xs) < 2 {
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range xs {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		logX := lo > 0 && hi/lo >= 100
		for _, m := range r.Metrics {
			// One series per combination of the other keys.
			var order []string
			series := map[string]*viz.ErrSeries{}
			for _, row := range r.Rows {
				mean, ok := row.Mean[m]
				if !ok {
					continue
				}
				var other []string
				for j, p := range row.Params {
					if j != ki {
						other = append(other, p.Key+"="+p.Value)
					}
				}
				name := strings.Join(other, ", ")
				s := series[name]
				if s == nil {
					s = &viz.ErrSeries{Name: name}
					series[name] = s
					order = append(order, name)
				}
				s.X = append(s.X, xs[row.Params[ki].Value])
				s.Y = append(s.Y, mean)
				s.Err = append(s.Err, row.Std[m])
			}
			if len(order) == 0 {
				continue
			}
			var ss []viz.ErrSeries
			for _, name := range order {
				s := series[name]
				sortByX(s)
				ss = append(ss, *s)
			}
			label := m
			if l, ok := metricLabels[m]; ok {
				label = l
			}
			img, err := viz.ErrorBars(viz.Axes{Title: fmt.Sprintf("%s: %s against %s (mean ± std over seeds)", r.Model, label, kp.Key),
				XLabel: kp.Key, YLabel: label, LogX: logX}, ss)
			if err != nil {
				return written, errors.Wrapf(err, "plotting %s against %s", m, kp.Key)
			}
			name := fmt.Sprintf("plot-%s-vs-%s.png", m, kp.Key)
			if err := viz.SavePNG(filepath.Join(dir, name), img); err != nil {
				return written, err
			}
			written = append(written, name)
		}
	}
	return written, nil
}

func sortByX(s *viz.ErrSeries) {
	idx := make([]int, len(s.X))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s.X[idx[a]] < s.X[idx[b]] })
	x, y, e := make([]float64, len(idx)), make([]float64, len(idx)), make([]float64, len(idx))
	for i, j := range idx {
		x[i], y[i], e[i] = s.X[j], s.Y[j], s.Err[j]
	}
	s.X, s.Y, s.Err = x, y, e
}

package zoo

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aezoo/aezoo/data"
	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/pkg/errors"
)

// Table is a small table of text cells, printed with aligned columns by
// String (what `zoo eval` prints, and how the notebooks show summaries) or
// as Markdown. A column whose body cells are all numbers (or empty, or
// "—" for not applicable) is right-aligned, any other column left-aligned.
type Table struct {
	Header []string   // column names; nil: no header line
	Rows   [][]string // the cells, row by row; short rows are padded with empty cells
	Indent string     // written before every line of String
}

// Add appends a row of cells.
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// columns is the number of columns: the longest of the header and the rows.
func (t *Table) columns() int {
	n := len(t.Header)
	for _, r := range t.Rows {
		n = max(n, len(r))
	}
	return n
}

func cell(r []string, j int) string {
	if j < len(r) {
		return r[j]
	}
	return ""
}

// isNumber reports whether s reads as a number (a trailing % allowed).
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	return err == nil
}

// rightAligned reports which columns hold only numbers.
func (t *Table) rightAligned() []bool {
	right := make([]bool, t.columns())
	for j := range right {
		seen := false
		right[j] = true
		for _, r := range t.Rows {
			if c := cell(r, j); c != "" && c != "—" {
				seen = true
				right[j] = right[j] && isNumber(c)
			}
		}
		right[j] = right[j] && seen
	}
	return right
}

// String returns the table as text: one line per row (after a header line
// when there is a header), columns two spaces apart, each as wide as its
// widest cell in characters, without trailing spaces.
func (t *Table) String() string {
	n := t.columns()
	width := make([]int, n)
	all := t.Rows
	if t.Header != nil {
		all = append([][]string{t.Header}, t.Rows...)
	}
	for _, r := range all {
		for j := range n {
			width[j] = max(width[j], utf8.RuneCountInString(cell(r, j)))
		}
	}
	right := t.rightAligned()
	var b strings.Builder
	for _, r := range all {
		var line strings.Builder
		for j := range n {
			c := cell(r, j)
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(c))
			if j > 0 {
				line.WriteString("  ")
			}
			if right[j] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(t.Indent + strings.TrimRight(line.String(), " ") + "\n")
	}
	return b.String()
}

// Markdown returns the table as a Markdown (GitHub) table; numeric columns
// are right-aligned. A table without a header gets an empty one.
func (t *Table) Markdown() string {
	n := t.columns()
	if n == 0 {
		return ""
	}
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	row := func(r []string) string {
		cells := make([]string, n)
		for j := range cells {
			cells[j] = esc(cell(r, j))
		}
		return "| " + strings.Join(cells, " | ") + " |\n"
	}
	var b strings.Builder
	b.WriteString(row(t.Header))
	for j, r := range t.rightAligned() {
		if j == 0 {
			b.WriteString("|")
		}
		if r {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		b.WriteString(row(r))
	}
	return b.String()
}

// MetricsTable returns test metrics as rows of name, value and unit, in a
// fixed order, leaving out what the model lacks: the objective and its
// terms, BCE and MSE, the ELBO of a model with a KL term, code statistics
// and the analytic Jacobian norm. It is what `zoo eval` prints.
func MetricsTable(m eval.Metrics) *Table {
	t := &Table{}
	f4 := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	t.Add("test loss", f4(m.Loss), "per image")
	t.Add("recon", f4(m.Terms[graph.ReconTerm]), "per image")
	penalty := m.Loss - m.Terms[graph.ReconTerm]
	kl, hasKL := m.Terms[graph.KLTerm]
	_, hasPenalty := m.Terms[graph.PenaltyTerm]
	_, hasIW := m.Terms[graph.IWTerm]
	switch {
	case hasIW && hasKL: // the loss is the IWAE bound; recon and KL are monitored
		t.Add("KL", f4(kl), "nats per image")
		t.Add("−ELBO", f4(m.Terms[graph.ReconTerm]+kl), "nats per image")
	case hasKL && f4(kl) == f4(penalty):
		t.Add("KL", f4(kl), "nats per image")
	case hasKL:
		t.Add("KL", f4(kl), "nats per image")
		t.Add("β·KL", f4(penalty), "per image")
	case hasPenalty:
		t.Add("penalty", f4(penalty), "per image")
	}
	// Other terms a model may declare, by name.
	var other []string
	for k := range m.Terms {
		switch k {
		case graph.ReconTerm, graph.KLTerm, graph.PenaltyTerm, graph.LossTerm:
		default:
			other = append(other, string(k))
		}
	}
	sort.Strings(other)
	for _, k := range other {
		t.Add(k, f4(m.Terms[graph.Term(k)]), "per image")
	}
	t.Add("BCE", fmt.Sprintf("%.2f", m.BCEPerImage), "nats per image")
	t.Add("MSE", fmt.Sprintf("%.6f", m.MSEPerPixel), "per pixel")
	if hasKL {
		t.Add("ELBO", fmt.Sprintf("%.2f", -(m.Terms[graph.ReconTerm]+kl)), "nats per image")
	}
	if m.CodeUnits > 0 {
		t.Add("code units", strconv.Itoa(m.CodeUnits), "")
		t.Add("dead units", strconv.Itoa(m.DeadUnits), "")
		t.Add("mean activation", f4(m.MeanActivation), "mean |h|")
		t.Add("active fraction", f4(m.ActiveFraction), "of units with h > 0.1")
	}
	if m.MeanJacobianFrob > 0 {
		t.Add("Jacobian norm", f4(m.MeanJacobianFrob), "mean ‖∂h/∂x‖_F")
	}
	return t
}

// summaryFigures are the columns SummaryTable gives the model-specific
// figures (see Figures), in this order.
var summaryFigures = []struct{ key, column string }{
	{"test_kl", "KL"},
	{"test_elbo", "ELBO"},
	{"mean_activation", "mean |h|"},
	{"active_fraction", "active"},
	{"dead_units", "dead"},
	{"mean_jacobian_frob", "‖J‖_F"},
}

// SummaryTable returns one row per summary, named by names (the model
// names where names is short): epochs, wall seconds, the test loss with
// its reconstruction and penalty terms, BCE (nats per image) and MSE (per
// pixel), then those model figures (see Figures) that any summary has;
// a summary without a figure leaves its cell empty. Numbers carry four
// significant digits.
func SummaryTable(names []string, sums ...Summary) *Table {
	g4 := func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
	t := &Table{Header: []string{"run", "epochs", "seconds", "test loss", "recon", "penalty", "BCE/image", "MSE/pixel"}}
	var figs []string
	for _, f := range summaryFigures {
		for _, s := range sums {
			if _, ok := s.Figures[f.key]; ok {
				figs = append(figs, f.key)
				t.Header = append(t.Header, f.column)
				break
			}
		}
	}
	for i, s := range sums {
		name := s.Model
		if i < len(names) {
			name = names[i]
		}
		row := []string{name, strconv.Itoa(s.Epochs), fmt.Sprintf("%.1f", s.Seconds), g4(s.TestLoss), g4(s.TestRecon),
			g4(s.TestPenalty), g4(s.TestBCE), g4(s.TestMSE)}
		for _, k := range figs {
			v, ok := s.Figures[k]
			switch {
			case !ok:
				row = append(row, "")
			case k == "dead_units":
				row = append(row, strconv.Itoa(int(v)))
			case k == "active_fraction":
				row = append(row, fmt.Sprintf("%.1f%%", 100*v))
			default:
				row = append(row, g4(v))
			}
		}
		t.Add(row...)
	}
	return t
}

// DenoisingTable measures how well each run reconstructs the examples of
// ds from corrupted copies (eval.Evaluator.DenoisingTable: mean squared
// error per pixel against the clean images, under each of
// eval.StandardCorruptions, with the corruption drawn from seed): one row
// per corruption, one column per run, named by names (the model names
// where names is short), after a column with the error of the corrupted
// input itself (no model), the control every model should beat.
func DenoisingTable(ds *data.Dataset, seed uint64, names []string, runs ...*Run) (*Table, error) {
	if len(runs) == 0 {
		return nil, errors.New("denoising table: no runs")
	}
	t := &Table{Header: []string{"corruption", "input (no model)"}}
	cols := make([][]eval.DenoisingResult, len(runs))
	for i, r := range runs {
		name := r.Config.Model
		if i < len(names) {
			name = names[i]
		}
		t.Header = append(t.Header, name)
		var err error
		if cols[i], err = r.Eval.DenoisingTable(ds, seed); err != nil {
			return nil, errors.Wrapf(err, "denoising table of %s", name)
		}
	}
	for k, q := range eval.StandardCorruptions() {
		clean, noisy, _, err := runs[0].Eval.DenoisingExamples(ds, q, seed, 0)
		if err != nil {
			return nil, errors.Wrap(err, "denoising table")
		}
		var s float64
		for i := range clean {
			for j := range clean[i] {
				d := noisy[i][j] - clean[i][j]
				s += d * d
			}
		}
		row := []string{fmt.Sprintf("%s %g", q.Kind, q.Level), fmt.Sprintf("%.4f", s/float64(ds.N*ds.D))}
		for i := range runs {
			row = append(row, fmt.Sprintf("%.4f", cols[i][k].MSE))
		}
		t.Add(row...)
	}
	return t, nil
}

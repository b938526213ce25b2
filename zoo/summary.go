package zoo

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/graph"
	"github.com/aezoo/aezoo/internal/blas"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
)

// SummarySchema is the version of summary.json that this package writes.
// Version 1 (before it had a number) repeated the test metrics three
// times and held every model's settings; ReadSummary reads both.
const SummarySchema = 2

// Summary is a finished run, as summary.json holds it (see MarshalJSON for
// the file's schema). The Test* fields and Figures are convenient copies
// of Test for Go code and are not written separately.
type Summary struct {
	Model   string        // registered model name
	Config  models.Config // the model's hyperparameters
	Train   train.Options // the training settings
	Data    string        // where the data came from
	Shape   []int         // the data's image shape: rows, columns, channels
	Epochs  int           // epochs trained
	Steps   int           // optimizer steps taken (0: unknown)
	Seconds float64       // wall time of the whole run in seconds (0: unknown)
	Test    eval.Metrics  // final metrics on the test set

	Zoo     BuildInfo // the zoo that wrote it
	Host    Host      // the machine it ran on
	Written time.Time // when it was written (UTC)

	TestLoss    float64                // Test.Loss: the whole objective per image
	TestRecon   float64                // Test.Terms[graph.ReconTerm]
	TestPenalty float64                // TestLoss − TestRecon
	TestBCE     float64                // Test.BCEPerImage
	TestMSE     float64                // Test.MSEPerPixel
	TestTerms   map[graph.Term]float64 // Test.Terms
	// Figures are the model-specific figures of Test (see Figures).
	Figures map[string]float64
}

// BuildInfo identifies a build of the zoo (see Build).
type BuildInfo struct {
	Module   string `json:"module"`
	Version  string `json:"version"`            // module version, "(devel)" for a local build without VCS data
	Revision string `json:"revision,omitempty"` // VCS revision the binary was built from
	Time     string `json:"vcs_time,omitempty"` // commit time of Revision
	Modified bool   `json:"modified,omitempty"` // built from a tree with uncommitted changes
	Go       string `json:"go"`                 // Go version
	GEMM     string `json:"gemm"`               // matrix-product kernel: openblas, vek-avx2, vek-go
}

// Build returns the build information of the running binary, from
// runtime/debug.ReadBuildInfo, and the GEMM kernel in use.
func Build() BuildInfo {
	b := BuildInfo{Module: "github.com/aezoo/aezoo", Version: "(unknown)", Go: runtime.Version(), GEMM: blas.Name()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	mod := bi.Main
	if mod.Path != b.Module { // a binary of another module that uses the zoo
		for _, d := range bi.Deps {
			if d.Path == b.Module {
				mod = *d
			}
		}
	}
	if mod.Version != "" {
		b.Version = mod.Version
	}
	if bi.GoVersion != "" {
		b.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String formats the build information on one line.
func (b BuildInfo) String() string {
	s := "zoo " + b.Version
	if b.Revision != "" {
		r := b.Revision
		if len(r) > 12 {
			r = r[:12]
		}
		s += " (" + r
		if b.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + ", " + b.Go + ", " + runtime.GOOS + "/" + runtime.GOARCH + ", GEMM " + b.GEMM
}

// Host describes the machine a run used. The zoo computes on CPUs only.
type Host struct {
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	Cores   int    `json:"cores"`   // logical CPUs (runtime.NumCPU)
	Threads int    `json:"threads"` // threads used: GOMAXPROCS and the BLAS thread count (--threads)
}

// ThisHost describes the running machine.
func ThisHost() Host {
	return Host{OS: runtime.GOOS, Arch: runtime.GOARCH, Cores: runtime.NumCPU(), Threads: graph.Threads()}
}

// Figures extracts the model-specific figures from test metrics.
func Figures(m eval.Metrics) map[string]float64 {
	f := map[string]float64{}
	if m.CodeUnits > 0 {
		f["mean_activation"] = m.MeanActivation
		f["active_fraction"] = m.ActiveFraction
		f["dead_units"] = float64(m.DeadUnits)
	}
	if m.MeanJacobianFrob > 0 {
		f["mean_jacobian_frob"] = m.MeanJacobianFrob
	}
	if kl, ok := m.Terms[graph.KLTerm]; ok {
		f["test_kl"] = kl
		f["test_recon_bce"] = m.Terms[graph.ReconTerm]
		f["test_elbo"] = -(m.Terms[graph.ReconTerm] + kl)
	}
	return f
}

// summarize sets the test metrics of s and their copies, and stamps it
// with the build, host and time.
func summarize(s *Summary, m eval.Metrics) {
	s.Test = m
	s.derive()
	s.Zoo, s.Host, s.Written = Build(), ThisHost(), time.Now().UTC().Truncate(time.Second)
}

func (s *Summary) derive() {
	m := s.Test
	s.TestLoss, s.TestRecon, s.TestPenalty = m.Loss, m.Terms[graph.ReconTerm], m.Loss-m.Terms[graph.ReconTerm]
	s.TestBCE, s.TestMSE, s.TestTerms = m.BCEPerImage, m.MSEPerPixel, m.Terms
	s.Figures = Figures(m)
}

// summaryFile is summary.json. Each value appears once; units are in the
// names (…_per_image, …_per_pixel, seconds) and in the units map.
type summaryFile struct {
	Schema  int             `json:"schema"`
	Model   string          `json:"model"`
	Config  json.RawMessage `json:"config"` // "model" and the model's own hyperparameters only
	Train   train.Options   `json:"train"`
	Data    string          `json:"data"`
	Shape   []int           `json:"image_shape,omitempty"`
	Epochs  int             `json:"epochs"`
	Steps   int             `json:"steps,omitempty"`
	Seconds float64         `json:"seconds,omitempty"`

	TestImages       int                    `json:"test_images"`
	TestLoss         float64                `json:"test_loss"`
	TestTerms        map[graph.Term]float64 `json:"test_terms"`
	TestBCE          float64                `json:"test_bce_per_image"`
	TestMSE          float64                `json:"test_mse_per_pixel"`
	TestCode         *codeStats             `json:"test_code,omitempty"`
	TestJacobianFrob float64                `json:"test_mean_jacobian_frob,omitempty"`

	Zoo     *BuildInfo        `json:"zoo,omitempty"`
	Host    *Host             `json:"host,omitempty"`
	Written string            `json:"written,omitempty"`
	Units   map[string]string `json:"units,omitempty"`

	// Schema 1 only: the test metrics as an object.
	Test *eval.Metrics `json:"test,omitempty"`
}

// codeStats are the code statistics of a model with a "code" output.
type codeStats struct {
	Units          int     `json:"units"`
	DeadUnits      int     `json:"dead_units"`
	MeanActivation float64 `json:"mean_activation"`
	ActiveFraction float64 `json:"active_fraction"`
}

// SummaryUnits are the units of summary.json's numbers.
var SummaryUnits = map[string]string{
	"seconds":                 "s, wall time of the whole run (training, evaluation, saving)",
	"test_loss":               "the model's objective per test image: nats (loss bce) or summed squared error (loss mse), plus the penalty",
	"test_terms":              "each term of the objective per test image, in the units of test_loss",
	"test_bce_per_image":      "nats per image: Bernoulli negative log-likelihood of the clean test image",
	"test_mse_per_pixel":      "squared error per pixel, pixel intensities in [0,1]",
	"test_code":               "code units; mean_activation is mean |h|; active_fraction is the mean fraction of units with h > 0.1",
	"test_mean_jacobian_frob": "mean Frobenius norm of the encoder Jacobian ∂h/∂x per image",
	"train.lr":                "Adam step size",
	"written":                 "UTC, RFC 3339",
}

// MarshalJSON writes summary.json's schema (documented in the README):
// schema, model, config (the model's own hyperparameters), train, data,
// epochs, steps, seconds, test_images, test_loss, test_terms,
// test_bce_per_image, test_mse_per_pixel, test_code, test_mean_jacobian_frob,
// zoo, host, written and units.
func (s Summary) MarshalJSON() ([]byte, error) {
	cfg, err := ownConfig(s.Config)
	if err != nil {
		return nil, err
	}
	m := s.Test
	f := summaryFile{
		Schema: SummarySchema, Model: s.Model, Config: cfg, Train: s.Train, Data: s.Data, Shape: s.Shape,
		Epochs: s.Epochs, Steps: s.Steps, Seconds: s.Seconds,
		TestImages: m.N, TestLoss: m.Loss, TestTerms: m.Terms, TestBCE: m.BCEPerImage, TestMSE: m.MSEPerPixel,
		TestJacobianFrob: m.MeanJacobianFrob, Units: SummaryUnits,
	}
	if m.CodeUnits > 0 {
		f.TestCode = &codeStats{Units: m.CodeUnits, DeadUnits: m.DeadUnits, MeanActivation: m.MeanActivation, ActiveFraction: m.ActiveFraction}
	}
	if s.Zoo != (BuildInfo{}) {
		f.Zoo = &s.Zoo
	}
	if s.Host != (Host{}) {
		f.Host = &s.Host
	}
	if !s.Written.IsZero() {
		f.Written = s.Written.UTC().Format(time.RFC3339)
	}
	return json.Marshal(f)
}

// UnmarshalJSON reads summary.json, of this schema or of schema 1.
func (s *Summary) UnmarshalJSON(b []byte) error {
	var f summaryFile
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	c, _ := models.Defaults(f.Model) // zero for a model this binary lacks
	c.Model = f.Model
	if len(f.Config) > 0 {
		if err := json.Unmarshal(f.Config, &c); err != nil {
			return err
		}
	}
	*s = Summary{Model: f.Model, Config: c, Train: f.Train, Data: f.Data, Shape: f.Shape, Epochs: f.Epochs, Steps: f.Steps, Seconds: f.Seconds}
	if f.Test != nil { // schema 1
		s.Test = *f.Test
	} else {
		s.Test = eval.Metrics{N: f.TestImages, Loss: f.TestLoss, Terms: f.TestTerms, BCEPerImage: f.TestBCE, MSEPerPixel: f.TestMSE,
			MeanJacobianFrob: f.TestJacobianFrob}
		if c := f.TestCode; c != nil {
			s.Test.CodeUnits, s.Test.DeadUnits, s.Test.MeanActivation, s.Test.ActiveFraction = c.Units, c.DeadUnits, c.MeanActivation, c.ActiveFraction
		}
	}
	if f.Zoo != nil {
		s.Zoo = *f.Zoo
	}
	if f.Host != nil {
		s.Host = *f.Host
	}
	if f.Written != "" {
		s.Written, _ = time.Parse(time.RFC3339, f.Written)
	}
	s.derive()
	return nil
}

// ownConfig is c as JSON with "model" and only the hyperparameters the
// model reads (all of c when the model is not registered).
func ownConfig(c models.Config) (json.RawMessage, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	spec, err := models.SpecOf(c)
	if err != nil {
		return b, nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	own := map[string]json.RawMessage{"model": all["model"]}
	for _, k := range []string{"package", "extras"} { // an extended model's registration and hyperparameters
		if v, ok := all[k]; ok {
			own[k] = v
		}
	}
	for _, h := range spec.Hypers {
		k := strings.ReplaceAll(h, "-", "_") // flag name → Config's JSON name
		if v, ok := all[k]; ok {
			own[k] = v
		}
	}
	return json.Marshal(own)
}

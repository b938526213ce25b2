package zoo

import (
	"encoding/json"
	"github.com/aezoo/aezoo/graph"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aezoo/aezoo/eval"
	"github.com/aezoo/aezoo/models"
	"github.com/aezoo/aezoo/train"
)

func TestSummaryRoundTrip(t *testing.T) {
	c, _ := models.Defaults("sparse")
	c.Hidden, c.Lambda = 64, 0.5
	s := Summary{Model: "sparse", Config: c, Train: train.DefaultOptions(), Data: "testdata", Epochs: 2, Steps: 30, Seconds: 1.5}
	summarize(&s, eval.Metrics{N: 100, Loss: 110, Terms: map[graph.Term]float64{graph.ReconTerm: 100, graph.PenaltyTerm: 10}, BCEPerImage: 100, MSEPerPixel: 0.02,
		MeanActivation: 0.1, ActiveFraction: 0.2, DeadUnits: 3, CodeUnits: 64})
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`"figures"`, `"test":`, `"test_recon"`, `"latent"`, `"k"`, `"noise"`} {
		if strings.Contains(string(b), bad) {
			t.Errorf("summary.json has %s: %s", bad, b)
		}
	}
	// Each number once: the test loss appears a single time.
	if n := strings.Count(string(b), "110"); n != 1 {
		t.Errorf("the test loss appears %d times: %s", n, b)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Written.IsZero() || r.Written.Location() != time.UTC || r.Host.Cores == 0 || r.Zoo.Go == "" {
		t.Errorf("build, host or time lost: %+v %+v %v", r.Zoo, r.Host, r.Written)
	}
	r.Written, s.Written = time.Time{}, time.Time{}
	if !reflect.DeepEqual(r, s) {
		t.Errorf("read back\n%+v\nwant\n%+v", r, s)
	}
}

// TestReadSummarySchema1 reads a summary.json as the zoo wrote it before
// schema 2.
func TestReadSummarySchema1(t *testing.T) {
	old := `{"model":"plain","config":{"model":"plain","hidden":32,"activation":"sigmoid","loss":"bce","lambda":0,"k":0,"latent":0},
"train":{"epochs":2,"batch":100,"lr":0.001,"seed":1,"dtype":"float32","binarize":"none","train_limit":0,"test_limit":300,"eval_batch":500},
"data":"x","epochs":2,"steps":40,"seconds":3.5,"test_loss":98.5,"test_recon":98.5,"test_penalty":0,"test_bce_per_image":98.5,
"test_mse_per_pixel":0.03,"test_terms":{"recon":98.5},"figures":{},"test":{"n":300,"loss":98.5,"terms":{"recon":98.5},"bce_per_image":98.5,"mse_per_pixel":0.03,"dead_units":0}}`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Model != "plain" || s.Config.Hidden != 32 || s.TestLoss != 98.5 || s.TestMSE != 0.03 || s.Test.N != 300 || s.Steps != 40 || s.Train.TestLimit != 300 {
		t.Errorf("schema 1 read as %+v", s)
	}
}

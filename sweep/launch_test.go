package sweep

import (
	"strings"
	"testing"
)

func TestSbatchScript(t *testing.T) {
	s := newSpec(t, "sparse", "lambda=0.01,0.1", "seed=1,2,3")
	s.Threads = 2
	script, err := Sbatch("/shared/sw", s, SlurmOptions{Exe: "/opt/zoo bin/zoo", MaxParallel: 4, CPUsPerTask: 4, Time: "00:30:00", Partition: "gpu", Mem: "4G"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"#!/bin/bash\n",
		"#SBATCH --array=0-5%4\n",
		"#SBATCH --cpus-per-task=4\n",
		"#SBATCH --time=00:30:00\n",
		"#SBATCH --partition=gpu\n",
		"#SBATCH --mem=4G\n",
		"#SBATCH --output=/shared/sw/logs/%a.out\n",
		"export GOMAXPROCS=2\n", // the sweep's threads, whatever --cpus-per-task
		`exec '/opt/zoo bin/zoo' sweep task '/shared/sw' --index "$SLURM_ARRAY_TASK_ID"` + "\n",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	// No limits given: no such lines, and no %M.
	script, err = Sbatch("/shared/sw", s, SlurmOptions{Exe: "/zoo"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(script, "#SBATCH --array=0-5\n") || !strings.Contains(script, "#SBATCH --cpus-per-task=2\n") || strings.Contains(script, "--time") || strings.Contains(script, "--partition") || strings.Contains(script, "--mem") {
		t.Errorf("script with defaults:\n%s", script)
	}
	for _, bad := range []SlurmOptions{{Exe: "zoo"}, {Exe: "/zoo", Time: "1 day"}, {Exe: "/zoo", Partition: "a;$(rm)"}, {Exe: "/zoo", MaxParallel: -1}} {
		if _, err := Sbatch("/shared/sw", s, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := Sbatch("relative/sw", s, SlurmOptions{Exe: "/zoo"}); err == nil {
		t.Error("a relative sweep folder accepted")
	}
}

func TestK8sManifest(t *testing.T) {
	s := newSpec(t, "plain", "hidden=8,16,32")
	m, err := K8sManifest("/data/sw", s, K8sOptions{Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"kind: Job\n", "completionMode: Indexed\n", "completions: 3\n", "parallelism: 2\n",
		`--index \"$JOB_COMPLETION_INDEX\"`, `value: "/data/sw"`, `mountPath: "/data/sw"`,
		`claimName: "zoo-sweeps"`, `image: "aezoo:latest"`, "name: GOMAXPROCS\n              value: \"1\"", `cpu: "1"`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("manifest lacks %q:\n%s", want, m)
		}
	}
	if _, err := K8sManifest("/data/sw", s, K8sOptions{Name: "Bad_Name"}); err == nil {
		t.Error("a bad Job name accepted")
	}
}

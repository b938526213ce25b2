package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pkg/errors"
)

// K8sOptions describe the Kubernetes Indexed Job of a sweep.
type K8sOptions struct {
	// Name is the Job's name (a DNS label; "": "zoo-sweep").
	Name string
	// Image holds the zoo binary as /usr/local/bin/zoo ("": "aezoo:latest").
	Image string
	// Claim is the PersistentVolumeClaim holding the sweep folder
	// ("": "zoo-sweeps"); it is mounted at MountPath.
	Claim string
	// MountPath is where the claim is mounted in the pods, and the sweep
	// folder is the same path there ("": the sweep folder's absolute path).
	MountPath string
	// Parallelism is the number of pods at once (0: all tasks).
	Parallelism int
	// CPU and Memory are each pod's requests and limits ("": the spec's
	// Threads, "2Gi"). GOMAXPROCS is the spec's Threads.
	CPU, Memory string
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// K8sManifest returns a Kubernetes Indexed Job (completionMode: Indexed)
// running the sweep: pod i runs `zoo sweep task DIR --index
// $JOB_COMPLETION_INDEX` with DIR on a shared volume. Each index is
// retried on failure (backoffLimitPerIndex), and, as under Slurm, a retried
// task resumes from its checkpoint.
func K8sManifest(dir string, s Spec, o K8sOptions) (string, error) {
	if o.Name == "" {
		o.Name = "zoo-sweep"
	}
	if !dnsLabel.MatchString(o.Name) {
		return "", errors.Errorf("bad Job name %q: want a DNS label (lower-case letters, digits, '-')", o.Name)
	}
	if o.Image == "" {
		o.Image = "aezoo:latest"
	}
	if o.Claim == "" {
		o.Claim = "zoo-sweeps"
	}
	if o.MountPath == "" {
		o.MountPath = dir
	}
	if !filepath.IsAbs(o.MountPath) {
		return "", errors.Errorf("the mount path %s must be absolute", o.MountPath)
	}
	threads := max(1, s.Threads)
	if o.CPU == "" {
		o.CPU = fmt.Sprint(threads)
	}
	if o.Memory == "" {
		o.Memory = "2Gi"
	}
	n := s.Len()
	par := o.Parallelism
	if par <= 0 || par > n {
		par = n
	}
	for _, v := range []string{o.Image, o.Claim, o.MountPath, o.CPU, o.Memory} {
		if strings.ContainsAny(v, "\"\n\\") {
			return "", errors.Errorf("bad manifest value %q", v)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# zoo sweep %s %s: %d tasks, as a Kubernetes Indexed Job.\n", s.Model, describeAxes(s.Axes), n)
	fmt.Fprintf(&b, "# Apply with: kubectl apply -f %s   (the sweep folder must be on the volume %q)\n", K8sFile, o.Claim)
	fmt.Fprintf(&b, `apiVersion: batch/v1
kind: Job
metadata:
  name: %s
spec:
  completionMode: Indexed
  completions: %d
  parallelism: %d
  backoffLimitPerIndex: 3
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: task
          image: "%s"
          command: ["/bin/sh", "-c"]
          args: ["exec zoo sweep task \"$SWEEP_DIR\" --index \"$JOB_COMPLETION_INDEX\""]
          env:
            - name: SWEEP_DIR
              value: "%s"
            - name: GOMAXPROCS
              value: "%d"
          resources:
            requests: {cpu: "%s", memory: "%s"}
            limits: {cpu: "%s", memory: "%s"}
          volumeMounts:
            - name: sweeps
              mountPath: "%s"
      volumes:
        - name: sweeps
          persistentVolumeClaim:
            claimName: "%s"
`, o.Name, n, par, o.Image, o.MountPath, threads, o.CPU, o.Memory, o.CPU, o.Memory, o.MountPath, o.Claim)
	return b.String(), nil
}

// WriteK8s writes the sweep's Indexed Job manifest to dir/sweep-job.yaml
// and returns its path. Nothing is submitted.
func WriteK8s(dir string, o K8sOptions) (string, error) {
	dir, s, err := loadAbs(dir)
	if err != nil {
		return "", err
	}
	m, err := K8sManifest(dir, s, o)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, K8sFile)
	return path, errors.Wrap(os.WriteFile(path, []byte(m), 0o644), "writing the manifest")
}

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/aezoo/aezoo/data"
)

// dataFlagValues are the data flags shared by train and eval.
type dataFlagValues struct {
	dir, dataset, labels, size *string
}

// dataFlags binds --data, --dataset, --labels and --size on fs.
func dataFlags(fs *flag.FlagSet) dataFlagValues {
	var names []string
	for _, n := range data.Names() {
		names = append(names, string(n))
	}
	return dataFlagValues{
		dir: fs.String("data", "", "the data: a folder of MNIST-style IDX files, a .npy or .npz (x_train, y_train, x_test, y_test) file,\n"+
			"or a folder of PNG/JPEG images with one sub-folder per class (default: MNIST from $AEZOO_DATA, then the GoMNIST Go module)"),
		dataset: fs.String("dataset", "", "a named data set: "+strings.Join(names, ", ")+" (see `zoo datasets`)"),
		labels:  fs.String("labels", "", "labels (.npy, length N) for a .npy --data file"),
		size:    fs.String("size", "", "resize the images of an image folder to HxW (such as 28x28)"),
	}
}

// source returns the data source the flags name; bad values are usage errors.
func (v dataFlagValues) source() (data.Source, error) {
	src := data.Source{Path: *v.dir, Labels: *v.labels}
	if *v.dataset != "" {
		n, err := data.ParseName(*v.dataset)
		if err != nil {
			return src, usagef("--dataset: %v", err)
		}
		if *v.dir != "" {
			return src, usagef("give --dataset or --data, not both")
		}
		src.Dataset = n
	}
	if *v.size != "" {
		r, c, err := data.ParseSize(*v.size)
		if err != nil {
			return src, usagef("--size: %v", err)
		}
		src.Rows, src.Cols = r, c
	}
	return src, nil
}

// datasetInfo is one data set in `zoo datasets --json`.
type datasetInfo struct {
	Name  string `json:"name"`
	Found bool   `json:"found"`
	Where string `json:"where"`
}

func cmdDatasets(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("datasets", "[--json]", "List the named data sets (--dataset) and where each was found, or why not.\n"+
		"Folders searched for NAME/: $"+data.EnvDatasets+", /usr/share/datasets (Debian's dataset-* packages),\n"+
		"$XDG_DATA_HOME/aezoo/datasets (~/.local/share/aezoo/datasets); MNIST also as --data's default.", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	var infos []datasetInfo
	for _, n := range data.Names() {
		f, err := data.Find(n, data.LookupOptions{})
		if err != nil {
			infos = append(infos, datasetInfo{Name: string(n), Where: err.Error()})
			continue
		}
		infos = append(infos, datasetInfo{Name: string(n), Found: true, Where: f.String()})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(infos)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, i := range infos {
		state := "missing"
		if i.Found {
			state = "found"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", i.Name, state, i.Where)
	}
	return tw.Flush()
}

// idxDir resolves --dataset for commands that read a folder of IDX files
// (reproduce, bench): it returns the folder of the named data set, or dir
// when name is empty. The embedded subset has no folder.
func idxDir(name, dir string) (string, error) {
	if name == "" {
		return dir, nil
	}
	n, err := data.ParseName(name)
	if err != nil {
		return "", usagef("--dataset: %v", err)
	}
	if dir != "" {
		return "", usagef("give --dataset or --data, not both")
	}
	if n == data.MNISTSubset {
		return "", usagef("--dataset %s is not available here (reproduce: use --quick)", n)
	}
	f, err := data.Find(n, data.LookupOptions{Download: true})
	if err != nil {
		return "", err
	}
	return f.Dir, nil
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/aezoo/aezoo/data"
	"github.com/spf13/cobra"
)

// dataFlags are the data flags of train, eval and sample: --data,
// --dataset, --labels and --size.
type dataFlags struct {
	dir, dataset, labels, size string
}

// addDataFlags registers the data flags on cmd in the "Data flags" section.
func addDataFlags(cmd *cobra.Command, d *dataFlags) {
	addDataFlag(cmd, &d.dir)
	addDatasetFlag(cmd, &d.dataset)
	f := cmd.Flags()
	f.StringVar(&d.labels, "labels", "", "labels (.npy, length N) for a .npy --data file")
	f.StringVar(&d.size, "size", "", "resize the images of an image folder to HxW (such as 28x28)")
	setGroup(f, groupData, "labels", "size")
}

// addDatasetFlag registers --dataset in the "Data flags" section.
func addDatasetFlag(cmd *cobra.Command, name *string) {
	var names []string
	for _, n := range data.Names() {
		names = append(names, string(n))
	}
	cmd.Flags().StringVar(name, "dataset", "", "a named data set: "+strings.Join(names, ", ")+" (see `zoo datasets`)")
	_ = cmd.RegisterFlagCompletionFunc("dataset", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
	setGroup(cmd.Flags(), groupData, "dataset")
}

// source returns the data source the flags name; bad values are usage errors.
func (v dataFlags) source() (data.Source, error) {
	src := data.Source{Path: v.dir, Labels: v.labels}
	if err := checkPath("data", v.dir); err != nil {
		return src, err
	}
	if err := checkPath("labels", v.labels); err != nil {
		return src, err
	}
	if v.dataset != "" {
		n, err := data.ParseName(v.dataset)
		if err != nil {
			return src, usagef("--dataset: %v", err)
		}
		if v.dir != "" {
			return src, usagef("give --dataset or --data, not both")
		}
		src.Dataset = n
	}
	if v.size != "" {
		r, c, err := data.ParseSize(v.size)
		if err != nil {
			return src, usagef("--size: %v", err)
		}
		src.Rows, src.Cols = r, c
	}
	return src, nil
}

// checkPath makes a path given to --flag that does not exist a usage
// error (exit 2): a mistyped path, before anything is written.
func checkPath(flag, path string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return usagef("--%s %s: no such file or folder", flag, path)
	}
	return nil
}

// datasetInfo is one data set in `zoo datasets --json`.
type datasetInfo struct {
	Name  string `json:"name"`
	Found bool   `json:"found"`
	Where string `json:"where"`
}

func newDatasetsCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "datasets [--json]",
		Short: "list the named data sets (--dataset) and where they were found",
		Long: "List the named data sets (--dataset) and where each was found, or why not.\n" +
			"Folders searched for NAME/: $" + data.EnvDatasets + ", /usr/share/datasets (Debian's dataset-* packages),\n" +
			"$XDG_DATA_HOME/aezoo/datasets (~/.local/share/aezoo/datasets); MNIST also as --data's default.",
		Args: a.positional(0, 0, ""),
		RunE: func(*cobra.Command, []string) error { return listDatasets(a.stdout, asJSON) },
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func listDatasets(stdout io.Writer, asJSON bool) error {
	var infos []datasetInfo
	for _, n := range data.Names() {
		f, err := data.Find(n, data.LookupOptions{})
		if err != nil {
			infos = append(infos, datasetInfo{Name: string(n), Where: err.Error()})
			continue
		}
		infos = append(infos, datasetInfo{Name: string(n), Found: true, Where: f.String()})
	}
	if asJSON {
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
	if err := checkPath("data", dir); err != nil {
		return "", err
	}
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

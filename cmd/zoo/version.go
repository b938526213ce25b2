package main

import (
	"encoding/json"
	"fmt"

	"github.com/aezoo/aezoo/zoo"
	"github.com/spf13/cobra"
)

// versionInfo is `zoo version --json`.
type versionInfo struct {
	zoo.BuildInfo
	Host zoo.Host `json:"host"`
}

func newVersionCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version [--json]",
		Short: "print the zoo's version, VCS revision, Go version and GEMM kernel",
		Long: "Print the zoo's module version, the VCS revision it was built from, the Go version, the\n" +
			"GEMM kernel in use and the machine's cores (the same as every summary.json records).",
		Args: a.positional(0, 0, ""),
		RunE: func(*cobra.Command, []string) error {
			v := versionInfo{zoo.Build(), zoo.ThisHost()}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			_, err := fmt.Fprintf(a.stdout, "%s\n%d cores, %d threads (CPU only)\n", v.BuildInfo, v.Host.Cores, v.Host.Threads)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

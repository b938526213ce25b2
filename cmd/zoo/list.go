package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/aezoo/aezoo/models"
	"github.com/spf13/cobra"
)

// modelInfo is one model in `zoo list --json`.
type modelInfo struct {
	Name     string         `json:"name"`
	Doc      string         `json:"doc"`
	Defaults map[string]any `json:"hyperparameters"`
}

func newListCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "list the models and their hyperparameters with defaults",
		Long:  "List the models and their hyperparameters with defaults.",
		Args:  a.positional(0, 0, ""),
		RunE: func(*cobra.Command, []string) error {
			var infos []modelInfo
			for _, name := range models.Names() {
				s, _ := models.Lookup(name)
				info := modelInfo{Name: name, Doc: s.Doc, Defaults: map[string]any{}}
				for _, h := range s.Hypers {
					hy, _ := s.Hyper(h)
					info.Defaults[h] = hy.Value(s.Defaults)
				}
				infos = append(infos, info)
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(infos)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			for _, name := range models.Names() {
				s, _ := models.Lookup(name)
				fmt.Fprintf(tw, "%s\t%s\n", name, s.Doc)
				var hs []string
				for _, h := range s.Hypers {
					hy, _ := s.Hyper(h)
					hs = append(hs, fmt.Sprintf("--%s=%v", h, hy.Value(s.Defaults)))
				}
				fmt.Fprintf(tw, "\t%s\n", strings.Join(hs, " "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

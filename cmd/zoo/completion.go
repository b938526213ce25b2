package main

import (
	"github.com/spf13/cobra"
)

func newCompletionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "print a shell completion script",
		Long: "Print the completion script of a shell. It completes commands, flags, flag values,\n" +
			"model names (zoo train <TAB>), experiment names and run folders. For example:\n\n" +
			"  source <(zoo completion bash)        # bash, this shell\n" +
			"  zoo completion zsh > \"${fpath[1]}/_zoo\" # zsh\n" +
			"  zoo completion fish > ~/.config/fish/completions/zoo.fish",
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one shell: bash, zsh, fish or powershell")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(a.stdout, true)
			case "zsh":
				return root.GenZshCompletion(a.stdout)
			case "fish":
				return root.GenFishCompletion(a.stdout, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(a.stdout)
			}
			return usagef("unknown shell %q (want bash, zsh, fish or powershell)", args[0])
		},
	}
}

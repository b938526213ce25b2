package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
)

// cliReference is the usage of every command, as `zoo help COMMAND`
// prints it (without the descriptions), for the README.
func cliReference() string {
	root := newRootCmd(&app{stdout: io.Discard, stderr: io.Discard})
	var b strings.Builder
	b.WriteString("```\n")
	for _, path := range [][]string{nil, {"list"}, {"train"}, {"eval"}, {"finetune"}, {"sample"}, {"bench"}, {"reproduce"}, {"version"}, {"completion"}} {
		c, _, err := root.Find(path)
		if err != nil {
			panic(err)
		}
		if len(path) > 0 {
			b.WriteString("\n")
		}
		c.InitDefaultHelpFlag()
		b.WriteString("$ zoo help " + strings.Join(path, " ") + "\n")
		b.WriteString(c.UsageString())
	}
	// The models' own flags, with their defaults.
	var list strings.Builder
	if code := run(context.Background(), []string{"list"}, &list, io.Discard); code != 0 {
		panic("zoo list failed")
	}
	b.WriteString("\n$ zoo list    # each model's flags (zoo help train MODEL)\n" + list.String())
	b.WriteString("```\n")
	return strings.ReplaceAll(b.String(), "$ zoo help \n", "$ zoo help\n")
}

// TestREADMEReference fails when the README's copy of the flags is stale;
// AEZOO_UPDATE_README=1 go test ./cmd/zoo -run TestREADMEReference rewrites it.
func TestREADMEReference(t *testing.T) {
	const begin, end = "<!-- cli-reference:begin -->\n", "<!-- cli-reference:end -->"
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q … %q markers", begin, end)
	}
	want := cliReference()
	if got := s[i+len(begin) : j]; got != want {
		if os.Getenv("AEZOO_UPDATE_README") == "1" {
			if err := os.WriteFile("../../README.md", []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's flag reference is stale; run AEZOO_UPDATE_README=1 go test ./cmd/zoo -run TestREADMEReference")
	}
}

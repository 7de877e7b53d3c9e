// Package templates embeds the text/template files that `mosaic submit`
// renders into scheduler submit descriptions, so the binary needs no files
// beside it. A user's own template (`--template FILE`) replaces an embedded
// one and receives the same data; docs/cluster.md lists its fields.
package templates

import (
	"embed"
	"fmt"
	"os"
	"strings"
	"text/template"
)

// Names of the embedded templates.
const (
	// Slurm renders one sbatch script per job array.
	Slurm = "slurm.sbatch.tmpl"
	// Condor renders one HTCondor submit description for the whole study.
	Condor = "condor.sub.tmpl"
)

//go:embed *.tmpl
var files embed.FS

// Text returns the text of the named embedded template.
func Text(name string) (string, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("read embedded template %s: %w", name, err)
	}
	return string(b), nil
}

// Load parses the embedded template name, or the file at override when
// override is not empty. Templates may call the functions of Funcs.
func Load(name, override string) (*template.Template, error) {
	text, err := Text(name)
	if err != nil {
		return nil, err
	}
	source := "embedded " + name
	if override != "" {
		b, err := os.ReadFile(override)
		if err != nil {
			return nil, fmt.Errorf("read template %s: %w", override, err)
		}
		text, source = string(b), override
	}
	t, err := template.New(name).Funcs(Funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", source, err)
	}
	return t, nil
}

// Funcs are the functions templates may call besides the text/template
// built-ins:
//
//	shquote  quotes a string for a POSIX shell: 'it'\''s'
//	condorq  quotes a string for an HTCondor submit value: "a ""b"""
//	join     joins a []string with a separator: {{join .Files ", "}}
var Funcs = template.FuncMap{
	"shquote": ShellQuote,
	"condorq": CondorQuote,
	"join":    strings.Join,
}

// ShellQuote quotes s so that a POSIX shell reads it as one word. Strings
// made only of safe characters are returned as they are.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// CondorQuote quotes s as a double-quoted HTCondor string, doubling the
// double quotes inside it.
func CondorQuote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

package mosaiccli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestHelpOneDefaultPerFlag checks that no flag's help line shows a default
// twice, once written in its usage and once added by urfave/cli from its
// value. A default that the value cannot show belongs in DefaultText.
func TestHelpOneDefaultPerFlag(t *testing.T) {
	var walk func(path string, commands []*cli.Command)
	walk = func(path string, commands []*cli.Command) {
		for _, cmd := range commands {
			name := strings.TrimSpace(path + " " + cmd.Name)
			for _, flag := range cmd.Flags {
				line := fmt.Sprint(flag)
				if n := strings.Count(line, "default"); n > 1 {
					t.Errorf("mosaic %s: help line shows %d defaults: %s", name, n, line)
				}
			}
			walk(name, cmd.Subcommands)
		}
	}
	walk("", App().Commands)
}

func TestHelpRunDefaults(t *testing.T) {
	out, err := runApp(t, "run", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"runs in parallel (default: [MONITOR] nb_processus)\n",
		"reject configs that expand to more pipelines than this (default: 100000)\n",
		"store it as timeout (default: no limit)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("mosaic run --help lacks %q:\n%s", want, out)
		}
	}
}

func TestUnknownCommandNamesIt(t *testing.T) {
	out, _ := runApp(t, "foo")
	if !strings.Contains(out, `unknown command "foo"`) || !strings.Contains(out, "--help") {
		t.Errorf("unknown command output:\n%s", out)
	}
}

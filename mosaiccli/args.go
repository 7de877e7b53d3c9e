package mosaiccli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed rewrites args so that flags given after positional arguments
// (`mosaic run study.ini --db study.db`) reach the command: urfave/cli v2
// stops parsing flags at the first positional argument. It walks the
// command path, then moves every flag (with its value, for flags that take
// one) in front of the positional arguments. A "--" ends the rewriting.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	commands := app.Commands
	var cmd *cli.Command
	i := 1
	// Keep global flags and the command path as they are.
	for ; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if cmd != nil {
				break
			}
			out = append(out, a)
			continue
		}
		next := findCommand(commands, a)
		if next == nil {
			break
		}
		out = append(out, a)
		cmd = next
		commands = next.Subcommands
	}
	// A command that parses its own flags gets them as given.
	if cmd == nil || cmd.SkipFlagParsing {
		return args
	}

	var flags, positional []string
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		if takesValue(cmd, a) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	out = append(out, flags...)
	return append(out, positional...)
}

func findCommand(commands []*cli.Command, name string) *cli.Command {
	for _, c := range commands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// takesValue reports whether the flag token needs the next argument as its
// value: any known non-boolean flag written without "=".
func takesValue(cmd *cli.Command, token string) bool {
	if strings.Contains(token, "=") {
		return false
	}
	name := strings.TrimLeft(token, "-")
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			_, isBool := f.(*cli.BoolFlag)
			return !isBool
		}
	}
	return false
}

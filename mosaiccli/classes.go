package mosaiccli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/mosaic-go/mosaic/stage"
)

func classesCommand() *cli.Command {
	return &cli.Command{
		Name:   "classes",
		Usage:  "list the stage classes this build knows, with their parameters",
		Action: classesAction,
	}
}

func classesAction(c *cli.Context) error {
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	for _, name := range stage.Classes() {
		comp, err := stage.Lookup(name)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", comp.Name, comp.Kind, comp.Doc)
		for _, p := range comp.Params {
			def := "required"
			if !p.Required {
				def = "default " + formatDefault(p.Default)
			}
			choices := ""
			if len(p.Choices) > 0 {
				choices = " (" + strings.Join(p.Choices, " | ") + ")"
			}
			fmt.Fprintf(w, "  %s\t%s, %s\t%s%s\n", p.Name, p.Type, def, p.Doc, choices)
		}
	}
	return w.Flush()
}

func formatDefault(v any) string {
	if v == nil {
		return "chosen at run time"
	}
	return stage.ToString(v)
}

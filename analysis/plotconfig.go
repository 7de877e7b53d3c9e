package analysis

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/ini.v1"
)

// PlotType is the kind of figure a meta-plot section draws.
type PlotType string

// Meta-plot types.
const (
	// LinePlot joins the mean at each abscissa value with a line.
	LinePlot PlotType = "line"
	// PointPlot marks the mean at each abscissa value.
	PointPlot PlotType = "point"
	// ViolinPlot draws the kernel density of the ordinate at each abscissa
	// value.
	ViolinPlot PlotType = "violin"
)

// ErrorBarsStyle is the mark of one standard deviation in a line plot.
type ErrorBarsStyle string

// Error bar styles.
const (
	Bars   ErrorBarsStyle = "bars"
	Filled ErrorBarsStyle = "filled"
)

// MetaConfig is a parsed plot INI file.
type MetaConfig struct {
	// Path is the file the configuration was read from.
	Path string
	// FileTitle is `file_title` of [global]; empty when unset.
	FileTitle string
	// Plots are the [plot_N] sections in increasing N.
	Plots []MetaPlot
}

// MetaPlot is one [plot_N] section: one figure.
type MetaPlot struct {
	Section string
	// Title is the `title` key; empty means "ordinate vs abscissa".
	Title    string
	Abscissa string
	Ordinate string
	Type     PlotType
	// ErrorBars is Bars or, for line plots only, Filled.
	ErrorBars ErrorBarsStyle
	// IncludeKeys[i] must take one of IncludeValues[i] for a run to count.
	IncludeKeys   []string
	IncludeValues [][]string
	// Excludes are parameter names left out of the group labels.
	Excludes []string
	// LogX and LogY set logarithmic axes; non-positive values are then
	// left out.
	LogX, LogY bool
}

// plotKeys are the keys a [plot_N] section may set.
var plotKeys = []string{"title", "abscissae", "ordinates", "plot_type", "errorbars_style",
	"include_keys", "include_values", "excludes", "log_x", "log_y"}

// LoadMetaConfig reads and checks a plot INI file.
func LoadMetaConfig(path string) (*MetaConfig, error) {
	file, err := ini.LoadSources(ini.LoadOptions{}, path)
	if err != nil {
		return nil, fmt.Errorf("read plot file %s: %w", path, err)
	}

	cfg := &MetaConfig{Path: path}
	numbers := map[string]int{}
	for _, sec := range file.Sections() {
		name := sec.Name()
		switch {
		case name == ini.DefaultSection:
			if len(sec.Keys()) > 0 {
				return nil, fmt.Errorf("%s: keys %s are outside any section, expected them in [global] or [plot_N]", path, strings.Join(sec.KeyStrings(), ", "))
			}
		case name == "global":
			if err := checkKeys(path, sec, []string{"file_title"}); err != nil {
				return nil, err
			}
			cfg.FileTitle = sec.Key("file_title").String()
		case strings.HasPrefix(name, "plot_"):
			n, err := strconv.Atoi(strings.TrimPrefix(name, "plot_"))
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s: [%s]: invalid section name, expected plot_ followed by a number such as [plot_1]", path, name)
			}
			plot, err := parseMetaPlot(path, sec)
			if err != nil {
				return nil, err
			}
			numbers[name] = n
			cfg.Plots = append(cfg.Plots, plot)
		default:
			return nil, fmt.Errorf("%s: [%s]: unknown section, expected [global] or [plot_N]", path, name)
		}
	}

	if len(cfg.Plots) == 0 {
		return nil, fmt.Errorf("%s: no [plot_N] section, expected at least one", path)
	}
	sort.SliceStable(cfg.Plots, func(i, j int) bool {
		return numbers[cfg.Plots[i].Section] < numbers[cfg.Plots[j].Section]
	})
	return cfg, nil
}

// parseMetaPlot reads one [plot_N] section.
func parseMetaPlot(path string, sec *ini.Section) (MetaPlot, error) {
	where := fmt.Sprintf("%s: [%s]", path, sec.Name())
	if err := checkKeys(path, sec, plotKeys); err != nil {
		return MetaPlot{}, err
	}

	p := MetaPlot{Section: sec.Name(), Title: sec.Key("title").String()}
	var err error
	if p.Abscissa, err = singleName(where, sec, "abscissae"); err != nil {
		return MetaPlot{}, err
	}
	if p.Ordinate, err = singleName(where, sec, "ordinates"); err != nil {
		return MetaPlot{}, err
	}

	p.Type = PlotType(strings.TrimSpace(sec.Key("plot_type").MustString(string(LinePlot))))
	if p.Type != LinePlot && p.Type != PointPlot && p.Type != ViolinPlot {
		return MetaPlot{}, fmt.Errorf("%s: plot_type = %q: invalid, expected line, point or violin", where, p.Type)
	}
	p.ErrorBars = ErrorBarsStyle(strings.TrimSpace(sec.Key("errorbars_style").MustString(string(Bars))))
	if p.ErrorBars != Bars && p.ErrorBars != Filled {
		return MetaPlot{}, fmt.Errorf("%s: errorbars_style = %q: invalid, expected bars or filled", where, p.ErrorBars)
	}
	if p.ErrorBars == Filled && p.Type != LinePlot {
		return MetaPlot{}, fmt.Errorf("%s: errorbars_style = filled: a band needs plot_type = line, not %s; remove the key or set it to bars", where, p.Type)
	}
	for _, key := range []string{"log_x", "log_y"} {
		if !sec.HasKey(key) {
			continue
		}
		v, err := sec.Key(key).Bool()
		if err != nil {
			return MetaPlot{}, fmt.Errorf("%s: %s = %q: invalid, expected true or false", where, key, sec.Key(key).String())
		}
		if key == "log_x" {
			p.LogX = v
		} else {
			p.LogY = v
		}
	}

	p.Excludes = splitList(sec.Key("excludes").String())
	if err := parseIncludes(where, sec, &p); err != nil {
		return MetaPlot{}, err
	}
	return p, nil
}

// parseIncludes reads include_keys and include_values, which pair up: one
// bracketed list or one bare value per key.
func parseIncludes(where string, sec *ini.Section, p *MetaPlot) error {
	p.IncludeKeys = splitList(sec.Key("include_keys").String())
	raw := sec.Key("include_values").String()
	items, err := splitTopLevel(raw)
	if err != nil {
		return fmt.Errorf("%s: include_values = %q: %w", where, raw, err)
	}
	if len(items) != len(p.IncludeKeys) {
		return fmt.Errorf("%s: include_values = %q: %d values for %d include_keys, expected one bracketed list or bare value per key",
			where, raw, len(items), len(p.IncludeKeys))
	}
	for i, item := range items {
		var values []string
		if strings.HasPrefix(item, "[") {
			values = splitList(strings.TrimSuffix(strings.TrimPrefix(item, "["), "]"))
		} else {
			values = []string{unquote(item)}
		}
		if len(values) == 0 {
			return fmt.Errorf("%s: include_values = %q: empty list for key %s, expected at least one value", where, raw, p.IncludeKeys[i])
		}
		p.IncludeValues = append(p.IncludeValues, values)
	}
	return nil
}

// checkKeys rejects keys a section does not take, which are usually typos.
func checkKeys(path string, sec *ini.Section, allowed []string) error {
	for _, k := range sec.KeyStrings() {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return fmt.Errorf("%s: [%s]: unknown key %s, expected one of %s", path, sec.Name(), k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// singleName reads a required key that names one indicator or parameter.
func singleName(where string, sec *ini.Section, key string) (string, error) {
	names := splitList(sec.Key(key).String())
	switch len(names) {
	case 0:
		return "", fmt.Errorf("%s: %s: missing, expected an indicator or parameter name such as test_loss or nb_params", where, key)
	case 1:
		return names[0], nil
	default:
		return "", fmt.Errorf("%s: %s = %q: %d names, expected one", where, key, sec.Key(key).String(), len(names))
	}
}

// splitList splits a comma-separated list, trimming spaces and quotes and
// dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = unquote(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	}
	return s
}

// splitTopLevel splits at commas outside brackets: "[a], [1, 2], 3" gives
// "[a]", "[1, 2]" and "3".
func splitTopLevel(s string) ([]string, error) {
	var items []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '[':
			depth++
			if depth > 1 {
				return nil, fmt.Errorf("nested brackets at offset %d, expected lists of bare values", i)
			}
		case ']':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unmatched \"]\" at offset %d", i)
			}
		case ',':
			if depth == 0 {
				items = append(items, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unclosed \"[\"")
	}
	if last := strings.TrimSpace(s[start:]); last != "" || len(items) > 0 {
		items = append(items, last)
	}
	for _, item := range items {
		if item == "" {
			return nil, fmt.Errorf("empty value between commas")
		}
	}
	return items, nil
}

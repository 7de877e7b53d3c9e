package pipeline

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mosaic-go/mosaic/config"
	"github.com/mosaic-go/mosaic/stage"
)

// Option changes how Expand works.
type Option func(*options)

type options struct {
	maxPipelines int
}

// WithMaxPipelines sets the largest number of pipelines Expand builds; a
// larger grid is rejected before anything is built. n ≤ 0 means
// config.DefaultMaxPipelines.
func WithMaxPipelines(n int) Option {
	return func(o *options) { o.maxPipelines = n }
}

// Expand builds every pipeline of the config: the cartesian product over the
// scheme slots (data_scheme, then pipeline_scheme) of the slot's
// alternatives, then of lr, epochs and loss_function. A slot's alternatives
// are, for each section of its type in file order, every combination of the
// section's parameter values. The first slot varies slowest and
// loss_function fastest. Pipelines with the same content, which overlapping
// sections can produce, appear once, at their first position.
func Expand(cfg *config.Config, opts ...Option) ([]Pipeline, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := cfg.CheckCount(o.maxPipelines); err != nil {
		return nil, err
	}

	slots := cfg.Slots()
	dims := make([][]Stage, len(slots))
	for i, t := range slots {
		dims[i] = slotStages(cfg, t, i < len(cfg.Process.DataScheme))
	}
	processes := processCombinations(cfg.Process)

	total, _ := cfg.Count()
	out := make([]Pipeline, 0, total)
	seen := make(map[string]bool, total)
	idx := make([]int, len(dims))
	for {
		for _, proc := range processes {
			p := assemble(cfg, dims, idx, proc)
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
		if !advance(idx, dims) {
			return out, nil
		}
	}
}

// advance moves the odometer idx to the next combination, last slot
// fastest, and returns false after the last one or when a slot is empty.
func advance(idx []int, dims [][]Stage) bool {
	for i := len(idx) - 1; i >= 0; i-- {
		idx[i]++
		if idx[i] < len(dims[i]) {
			return true
		}
		idx[i] = 0
	}
	return false
}

// assemble builds the pipeline for one combination of slot alternatives.
func assemble(cfg *config.Config, dims [][]Stage, idx []int, proc Process) Pipeline {
	p := Pipeline{
		SchemaVersion: SpecVersion,
		Process:       proc,
		BaseDir:       cfg.Dir,
		RunFilesPath:  cfg.Process.RunFilesPath,
		ConfigPath:    cfg.Path,
	}
	labels := make([]string, 0, len(dims)+3)
	for i, alts := range dims {
		s := alts[idx[i]]
		s.Params = maps.Clone(s.Params)
		if i < len(cfg.Process.DataScheme) {
			p.Data = append(p.Data, s)
		} else {
			p.Model = append(p.Model, s)
		}
		labels = append(labels, s.Label)
	}
	labels = append(labels, sweptLabels(cfg.Process, proc)...)
	p.Label = strings.Join(labels, " | ")
	p.ID = ComputeID(p)
	return p
}

// processCombinations returns every combination of lr, epochs and
// loss_function, lr slowest.
func processCombinations(pr config.Process) []Process {
	var out []Process
	for _, lr := range pr.LR {
		for _, epochs := range pr.Epochs {
			for _, loss := range pr.LossFunction {
				out = append(out, Process{LR: lr, Epochs: epochs, LossFunction: loss, Seed: pr.Seed})
			}
		}
	}
	return out
}

// sweptLabels labels the [PROCESS] values that have several alternatives,
// such as "lr=0.01".
func sweptLabels(pr config.Process, proc Process) []string {
	var out []string
	if len(pr.LR) > 1 {
		out = append(out, "lr="+stage.ToString(proc.LR))
	}
	if len(pr.Epochs) > 1 {
		out = append(out, "epochs="+stage.ToString(proc.Epochs))
	}
	if len(pr.LossFunction) > 1 {
		out = append(out, "loss_function="+proc.LossFunction)
	}
	return out
}

// slotStages returns the alternatives of one scheme slot: for each section
// of the type, in file order, every combination of its parameter values,
// first parameter slowest.
func slotStages(cfg *config.Config, slotType string, data bool) []Stage {
	kind := stage.KindModel
	if data {
		kind = stage.KindData
	}
	var out []Stage
	varying := varyingParams(cfg, slotType)
	for i := range cfg.Sections {
		sec := &cfg.Sections[i]
		if sec.Type != slotType {
			continue
		}
		idx := make([]int, len(sec.Params))
		for {
			out = append(out, buildStage(sec, idx, kind, varying[sec.Class]))
			if !advanceParams(idx, sec.Params) {
				break
			}
		}
	}
	return out
}

// advanceParams moves idx to the next combination of parameter values.
func advanceParams(idx []int, params []config.Param) bool {
	for i := len(idx) - 1; i >= 0; i-- {
		idx[i]++
		if idx[i] < len(params[i].Values) {
			return true
		}
		idx[i] = 0
	}
	return false
}

// varyingParams returns, per class of the slot, the parameters that take
// more than one value among the slot's sections of that class: a value list
// in one section, or sections that set them differently (leaving a
// parameter out counts as one more value). Two stages of the same class in
// a slot differ in at least one of these, so labels built from them tell
// pipelines apart while leaving out what every pipeline shares.
func varyingParams(cfg *config.Config, slotType string) map[string]map[string]bool {
	values := map[string]map[string]map[string]bool{} // class → param → values
	sections := map[string]int{}                      // class → sections
	for _, sec := range cfg.Sections {
		if sec.Type != slotType {
			continue
		}
		sections[sec.Class]++
		if values[sec.Class] == nil {
			values[sec.Class] = map[string]map[string]bool{}
		}
		for _, p := range sec.Params {
			if values[sec.Class][p.Name] == nil {
				values[sec.Class][p.Name] = map[string]bool{}
			}
			for _, v := range p.Values {
				values[sec.Class][p.Name][stage.ToString(v)] = true
			}
		}
	}
	out := map[string]map[string]bool{}
	for _, sec := range cfg.Sections {
		if sec.Type != slotType {
			continue
		}
		if out[sec.Class] == nil {
			out[sec.Class] = map[string]bool{}
		}
		set := map[string]bool{}
		for _, p := range sec.Params {
			set[p.Name] = true
		}
		for name, vals := range values[sec.Class] {
			if len(vals) > 1 {
				out[sec.Class][name] = true
			}
		}
		// A parameter this section leaves out, that another section of the
		// class sets, varies too.
		if sections[sec.Class] > 1 {
			for name := range values[sec.Class] {
				if !set[name] {
					out[sec.Class][name] = true
				}
			}
		}
	}
	return out
}

// buildStage makes the stage for one combination of a section's values,
// with the class's defaults filled in for the parameters it does not set.
// Its label shows the values of the parameters in labelled, in the
// section's order.
func buildStage(sec *config.Section, idx []int, kind stage.Kind, labelled map[string]bool) Stage {
	params := stage.Params{}
	for _, d := range sec.Component.Params {
		if d.Default != nil {
			params[d.Name] = canonicalDefault(d)
		}
	}
	values := make([]string, 0, len(sec.Params))
	for i, p := range sec.Params {
		v := p.Values[idx[i]]
		params[p.Name] = v
		if labelled[p.Name] && !slices.Contains(sec.Component.LabelParams, p.Name) {
			values = append(values, labelValue(v))
		}
	}
	return Stage{
		Type:    sec.Type,
		Section: sec.Name,
		Class:   sec.Class,
		Kind:    kind,
		Key:     fillKey(sec, params),
		Params:  params,
		Label:   stageLabel(sec, params, values),
	}
}

// stageLabel returns the label of a stage: the class's own label with the
// varying values it does not show appended inside its brackets, or
// class(values), or the bare class name when nothing varies.
func stageLabel(sec *config.Section, params stage.Params, values []string) string {
	extra := strings.Join(values, ",")
	if sec.Component.Label == nil {
		if extra == "" {
			return sec.Class
		}
		return sec.Class + "(" + extra + ")"
	}
	label := sec.Component.Label(params)
	switch {
	case extra == "":
		return label
	case strings.HasSuffix(label, ")"):
		return strings.TrimSuffix(label, ")") + "," + extra + ")"
	default:
		return label + "(" + extra + ")"
	}
}

// canonicalDefault converts a default to the parameter's Go type, so that a
// default written as 3 for a float parameter hashes like a configured 3.0.
func canonicalDefault(d stage.Param) any {
	var (
		v   any
		err error
	)
	switch d.Type {
	case stage.Int:
		v, err = stage.ToInt(d.Default)
	case stage.Float:
		v, err = stage.ToFloat(d.Default)
	case stage.Bool:
		v, err = stage.ToBool(d.Default)
	default:
		v = stage.ToString(d.Default)
	}
	if err != nil {
		// NOTE: a component whose default does not match its declared type
		// keeps the default as declared.
		return d.Default
	}
	return v
}

// fillKey fills the section's key template: {class}, {type}, {section} and
// {param} for any parameter of the class. An unset parameter without a
// default fills in as an empty string.
func fillKey(sec *config.Section, params stage.Params) string {
	if sec.KeyTemplate == "" {
		return ""
	}
	return placeholder.ReplaceAllStringFunc(sec.KeyTemplate, func(m string) string {
		name := m[1 : len(m)-1]
		switch name {
		case "class":
			return sec.Class
		case "type":
			return sec.Type
		case "section":
			return sec.Name
		}
		if v, ok := params[name]; ok {
			return stage.ToString(v)
		}
		return ""
	})
}

// labelValue writes a parameter value for a label, in double quotes when it
// contains a comma, a space or a bracket, so that a list such as "16, 32"
// reads as one value.
func labelValue(v any) string {
	text := stage.ToString(v)
	if strings.ContainsAny(text, ", ()") {
		return strconv.Quote(text)
	}
	return text
}

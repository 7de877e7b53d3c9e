package analysis

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"
)

// ErrNoRuns is returned when no run matches a plot's filter.
var ErrNoRuns = errors.New("no run matches")

// labelToken is one part of a rebuilt pipeline label: a stage's class, or
// one of its parameter values when name is set.
type labelToken struct {
	stage int
	class string
	name  string
	value string
}

// sample is one run's abscissa and ordinate.
type sample struct {
	x value
	y float64
}

// metaGroup is the runs whose labels are equal once the excluded names and
// the abscissa are left out: one curve of a meta-plot.
type metaGroup struct {
	tokens  []labelToken
	samples []sample
	// legend is the varying part of the label, set by nameGroups.
	legend string
}

// selection is the grouped runs of one [plot_N] section.
type selection struct {
	groups []*metaGroup
	// matched is the number of runs that pass the include filter.
	matched int
	// skipped counts matched runs left out because the ordinate is NULL or
	// not finite, or the abscissa is missing.
	skippedY, skippedX int
}

// selectRuns filters the study's runs, reads each run's abscissa and
// ordinate and groups the runs by their rebuilt label.
func (s *study) selectRuns(plot MetaPlot) (*selection, error) {
	xVar, err := s.resolve(plot.Abscissa)
	if err != nil {
		return nil, fmt.Errorf("[%s] abscissae: %w", plot.Section, err)
	}
	yVar, err := s.resolve(plot.Ordinate)
	if err != nil {
		return nil, fmt.Errorf("[%s] ordinates: %w", plot.Section, err)
	}
	filters := make([]variable, len(plot.IncludeKeys))
	for i, key := range plot.IncludeKeys {
		if filters[i], err = s.resolve(key); err != nil {
			return nil, fmt.Errorf("[%s] include_keys: %w", plot.Section, err)
		}
	}

	sel := &selection{}
	byKey := map[string]*metaGroup{}
	var keys []string
	for _, r := range s.runs {
		if !includes(r, filters, plot.IncludeValues) {
			continue
		}
		sel.matched++

		y, ok := yVar.valueOf(r)
		if ok && !y.isNum {
			return nil, fmt.Errorf("[%s] ordinates: %s of run %s is %q, expected a number", plot.Section, plot.Ordinate, r.id, y.text)
		}
		if !ok || !y.finite() {
			sel.skippedY++
			continue
		}
		x, ok := xVar.valueOf(r)
		if !ok {
			sel.skippedX++
			continue
		}

		tokens := labelTokens(r, append([]string{plot.Abscissa}, plot.Excludes...))
		key := tokensKey(tokens)
		g, ok := byKey[key]
		if !ok {
			g = &metaGroup{tokens: tokens}
			byKey[key] = g
			keys = append(keys, key)
		}
		g.samples = append(g.samples, sample{x: x, y: y.num})
	}

	if sel.matched == 0 {
		return nil, fmt.Errorf("[%s]: %w include_keys %v = %v among %d runs", plot.Section, ErrNoRuns, plot.IncludeKeys, plot.IncludeValues, len(s.runs))
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("[%s]: %d runs match but none has both %s and %s: %w", plot.Section, sel.matched, plot.Ordinate, plot.Abscissa, ErrNoRuns)
	}
	for _, k := range keys {
		sel.groups = append(sel.groups, byKey[k])
	}
	sort.SliceStable(sel.groups, func(i, j int) bool {
		return lessTokens(sel.groups[i].tokens, sel.groups[j].tokens)
	})
	nameGroups(sel.groups)
	return sel, nil
}

// includes reports whether the run takes one of the allowed values for
// every filter variable.
func includes(r *storedRun, filters []variable, allowed [][]string) bool {
	for i, f := range filters {
		v, ok := f.valueOf(r)
		if !ok || !v.matches(allowed[i]) {
			return false
		}
	}
	return true
}

// labelTokens rebuilds a run's pipeline label from its configured
// parameters, stage by stage, leaving out the names in drop (plain or
// qualified as stage_type.name).
func labelTokens(r *storedRun, drop []string) []labelToken {
	dropped := func(p storedParam) bool {
		for _, d := range drop {
			if d == p.name || d == p.stageType+"."+p.name {
				return true
			}
		}
		return false
	}

	var tokens []labelToken
	lastStage := math.MinInt
	for _, p := range r.params {
		if p.kind != "param" {
			continue
		}
		if p.class == "" {
			// The training hyperparameters of [PROCESS] have no class.
			p.class = p.stageType
		}
		if p.stage != lastStage {
			tokens = append(tokens, labelToken{stage: p.stage, class: p.class})
			lastStage = p.stage
		}
		if !dropped(p) {
			tokens = append(tokens, labelToken{stage: p.stage, class: p.class, name: p.name, value: p.text})
		}
	}
	return tokens
}

func tokensKey(tokens []labelToken) string {
	var b strings.Builder
	for _, t := range tokens {
		fmt.Fprintf(&b, "%d\x00%s\x00%s\x00%s\x01", t.stage, t.class, t.name, t.value)
	}
	return b.String()
}

// lessTokens orders labels token by token, comparing numbers as numbers so
// width 8 comes before width 16.
func lessTokens(a, b []labelToken) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		ta, tb := a[i], b[i]
		if ta.class != tb.class {
			return ta.class < tb.class
		}
		if ta.name != tb.name {
			return ta.name < tb.name
		}
		if ta.value != tb.value {
			return lessNatural(ta.value, tb.value)
		}
	}
	return len(a) < len(b)
}

func lessNatural(a, b string) bool {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA == nil && errB == nil && x != y {
		return x < y
	}
	return a < b
}

// nameGroups sets each group's legend to the part of its label that varies
// across the groups: the stage classes that differ, each with the
// parameters that differ. A single group is named by its chain of classes.
func nameGroups(groups []*metaGroup) {
	type slot struct {
		stage int
		name  string
	}
	values := map[slot]map[string]bool{}
	for _, g := range groups {
		present := map[slot]string{}
		for _, t := range g.tokens {
			present[slot{t.stage, t.name}] = t.value
			if t.name == "" {
				present[slot{t.stage, t.name}] = t.class
			}
		}
		for k, v := range present {
			if values[k] == nil {
				values[k] = map[string]bool{}
			}
			values[k][v] = true
		}
	}
	// A slot varies when its values differ or some group lacks it.
	varies := func(k slot) bool {
		count := 0
		for _, g := range groups {
			for _, t := range g.tokens {
				if t.stage == k.stage && t.name == k.name {
					count++
					break
				}
			}
		}
		return len(values[k]) > 1 || count < len(groups)
	}

	for _, g := range groups {
		g.legend = legendOf(g.tokens, func(t labelToken) bool { return varies(slot{t.stage, t.name}) })
		if g.legend == "" {
			g.legend = classChain(g.tokens)
		}
	}
}

// legendOf writes the stages that have a varying token as class(name=value, …).
func legendOf(tokens []labelToken, varies func(labelToken) bool) string {
	var parts []string
	for i := 0; i < len(tokens); {
		j := i + 1
		for j < len(tokens) && tokens[j].stage == tokens[i].stage {
			j++
		}
		classVaries := varies(tokens[i])
		var params []string
		for _, t := range tokens[i+1 : j] {
			if varies(t) {
				params = append(params, t.name+"="+t.value)
			}
		}
		switch {
		case len(params) > 0:
			parts = append(parts, tokens[i].class+"("+strings.Join(params, ", ")+")")
		case classVaries:
			parts = append(parts, tokens[i].class)
		}
		i = j
	}
	return strings.Join(parts, " ")
}

func classChain(tokens []labelToken) string {
	var classes []string
	for _, t := range tokens {
		if t.name == "" {
			classes = append(classes, t.class)
		}
	}
	return strings.Join(classes, " → ")
}

// stats are the mean and sample standard deviation of the ordinates at
// one abscissa value.
type stats struct {
	x     value
	mean  float64
	stdev float64
	n     int
	ys    []float64
}

// aggregate returns the group's statistics at each abscissa value, in
// increasing abscissa order. The standard deviation divides by n−1 and is
// 0 for a single run.
func (g *metaGroup) aggregate() []stats {
	byX := map[string]*stats{}
	var order []*stats
	for _, s := range g.samples {
		key := s.x.text
		if s.x.isNum {
			key = strconv.FormatFloat(s.x.num, 'g', -1, 64)
		}
		st, ok := byX[key]
		if !ok {
			st = &stats{x: s.x}
			byX[key] = st
			order = append(order, st)
		}
		st.ys = append(st.ys, s.y)
	}

	out := make([]stats, len(order))
	for i, st := range order {
		st.n = len(st.ys)
		if st.n == 1 {
			st.mean = st.ys[0]
		} else {
			st.mean, st.stdev = stat.MeanStdDev(st.ys, nil)
		}
		out[i] = *st
	}
	sort.Slice(out, func(i, j int) bool { return lessValue(out[i].x, out[j].x) })
	return out
}

func lessValue(a, b value) bool {
	if a.isNum && b.isNum {
		return a.num < b.num
	}
	return lessNatural(a.text, b.text)
}

package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/ini.v1"

	"github.com/mosaic-go/mosaic/stage"
)

// Keys of a stage section that are not class parameters.
const (
	keyType        = "type"
	keyClass       = "class"
	keyPathToClass = "path_to_class"
	keyTemplate    = "key"
)

// placeholderPattern matches a {name} placeholder of a key template.
var placeholderPattern = regexp.MustCompile(`\{([^{}]*)\}`)

// parseSection reads one stage section. It returns false when the section
// is too broken to take part in the scheme checks.
func (p *parser) parseSection(sec *ini.Section) (Section, bool) {
	name := sec.Name()
	s := Section{Name: name, Line: p.lines.section(name)}

	// Split the reserved keys from the class parameters.
	var params []*ini.Key
	for _, k := range sec.Keys() {
		v := strings.TrimSpace(k.Value())
		switch k.Name() {
		case keyType:
			s.Type = v
		case keyClass:
			s.Class = v
		case keyTemplate:
			s.KeyTemplate = unquote(v)
		case keyPathToClass:
			p.checkPathToClass(name, v)
		default:
			params = append(params, k)
		}
	}

	if s.Type == "" {
		p.fail(name, "", errors.New("missing key type: it names the scheme slot the section fills"))
	}
	if s.Class == "" {
		p.fail(name, "", fmt.Errorf("missing key class: registered classes are %s", strings.Join(stage.Classes(), ", ")))
		return s, s.Type != ""
	}

	c, err := stage.Lookup(s.Class)
	if err != nil {
		p.fail(name, keyClass, err)
		return s, s.Type != ""
	}
	s.Component = c
	s.Params = p.parseParams(name, c, params)
	p.checkTemplate(name, c, s.KeyTemplate)
	return s, s.Type != ""
}

// checkPathToClass rejects a Python file, which the Go build cannot load.
func (p *parser) checkPathToClass(section, value string) {
	if strings.HasSuffix(strings.ToLower(unquote(value)), ".py") {
		p.fail(section, keyPathToClass, fmt.Errorf("invalid value %q: mosaic cannot load Python classes. "+
			"In Go a class is a registered component: write a Go package whose init function calls stage.Register, "+
			"then build mosaic with a blank import of that package (docs/components.md and examples/custom show how), and remove path_to_class", value))
	}
}

// parseParams converts the section's parameters and checks them against the
// class: unknown names, missing required parameters, types and choices.
func (p *parser) parseParams(section string, c *stage.Component, keys []*ini.Key) []Param {
	var out []Param
	set := map[string]bool{}
	for _, k := range keys {
		desc, ok := c.Param(k.Name())
		if !ok {
			p.fail(section, k.Name(), fmt.Errorf("unknown parameter: class %s takes %s", c.Name, paramNames(c)))
			continue
		}
		set[k.Name()] = true
		values, err := parseTyped(strings.TrimSpace(k.Value()), desc)
		if err != nil {
			p.fail(section, k.Name(), err)
			continue
		}
		out = append(out, Param{Name: k.Name(), Values: values, Line: p.lines.key(section, k.Name())})
	}
	for _, desc := range c.Params {
		if desc.Required && !set[desc.Name] {
			p.fail(section, "", fmt.Errorf("missing parameter %s, which class %s requires (%s)", desc.Name, c.Name, desc.Doc))
		}
	}
	return out
}

// checkTemplate checks that every {placeholder} of a key template names the
// class, the type, the section or a parameter of the class.
func (p *parser) checkTemplate(section string, c *stage.Component, template string) {
	for _, m := range placeholderPattern.FindAllStringSubmatch(template, -1) {
		name := m[1]
		if name == keyClass || name == keyType || name == "section" {
			continue
		}
		if _, ok := c.Param(name); !ok {
			p.fail(section, keyTemplate, fmt.Errorf("invalid value %q: placeholder {%s} is neither class, type, section nor a parameter of class %s (%s)",
				template, name, c.Name, paramNames(c)))
		}
	}
}

// checkSchemes checks that every scheme type has a section, that every
// section fills a slot, and that data and model classes sit in the right
// scheme.
func (p *parser) checkSchemes(process string) {
	pr := p.cfg.Process
	for _, slot := range []struct {
		key   string
		types []string
		kind  stage.Kind
	}{{"data_scheme", pr.DataScheme, stage.KindData}, {"pipeline_scheme", pr.PipelineScheme, stage.KindModel}} {
		for _, t := range slot.types {
			found := false
			for _, s := range p.cfg.Sections {
				if s.Type != t {
					continue
				}
				found = true
				if s.Component != nil && s.Component.Kind != slot.kind {
					p.fail(s.Name, keyClass, fmt.Errorf("class %s is a %s component, but type %s is in %s, which takes %s components",
						s.Class, s.Component.Kind, t, slot.key, slot.kind))
				}
			}
			if !found {
				p.fail(process, slot.key, fmt.Errorf("type %s has no section: add a section with type = %s", t, t))
			}
		}
	}
	for _, s := range p.cfg.Sections {
		if s.Type != "" && !slices.Contains(pr.DataScheme, s.Type) && !slices.Contains(pr.PipelineScheme, s.Type) {
			p.fail(s.Name, keyType, fmt.Errorf("invalid value %q: the type is in neither data_scheme (%s) nor pipeline_scheme (%s)",
				s.Type, strings.Join(pr.DataScheme, ", "), strings.Join(pr.PipelineScheme, ", ")))
		}
	}
}

// paramNames lists the parameters a class takes, for error messages.
func paramNames(c *stage.Component) string {
	if len(c.Params) == 0 {
		return "no parameters"
	}
	names := make([]string, len(c.Params))
	for i, d := range c.Params {
		names[i] = d.Name
	}
	return strings.Join(names, ", ")
}

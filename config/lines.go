package config

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// lineIndex maps sections and keys to their 1-based lines, because
// gopkg.in/ini.v1 does not record where it read them. Keys before the first
// header belong to the section named "".
type lineIndex struct {
	sections map[string]int
	keys     map[string]map[string]int
}

// scanError is a duplicate section or key found by scanLines.
type scanError struct {
	line    int
	section string
	err     error
}

// section returns the line of a section header, or 0 when unknown.
func (x lineIndex) section(name string) int { return x.sections[name] }

// key returns the line of a key, or 0 when unknown.
func (x lineIndex) key(section, key string) int { return x.keys[section][key] }

// scanLines records the line of every section header and key, and rejects a
// repeated section or a repeated key within a section, which
// gopkg.in/ini.v1 would otherwise merge or overwrite without a word. An
// indented line following a key is a continuation of its value, as
// AllowPythonMultilineValues reads it.
func scanLines(data []byte) (lineIndex, *scanError) {
	x := lineIndex{sections: map[string]int{}, keys: map[string]map[string]int{"": {}}}
	current, afterKey := "", false
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			// Blank lines and comments do not end a multi-line value.
		case line[0] == '[':
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return x, &scanError{line: n, err: fmt.Errorf("section header %q has no closing bracket", line)}
			}
			current, afterKey = line[1:end], false
			if prev, dup := x.sections[current]; dup {
				return x, &scanError{line: n, section: current, err: fmt.Errorf("section repeated: it first appears on line %d", prev)}
			}
			x.sections[current] = n
			x.keys[current] = map[string]int{}
		case afterKey && (raw[0] == ' ' || raw[0] == '\t'):
			// Continuation of the previous key's value.
		default:
			name := line
			if i := strings.IndexAny(line, "=:"); i >= 0 {
				name = strings.TrimSpace(line[:i])
			}
			if prev, dup := x.keys[current][name]; dup {
				return x, &scanError{line: n, section: current, err: fmt.Errorf("key %s repeated: it first appears on line %d", name, prev)}
			}
			x.keys[current][name] = n
			afterKey = true
		}
	}
	return x, nil
}

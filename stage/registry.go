package stage

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

var (
	registryMu sync.RWMutex
	registry   = map[string]*Component{}
)

// Register makes a component available under c.Name. It panics if c is nil,
// has no name or no constructor, or if the name is already taken, so that
// mistakes surface when the program starts.
func Register(c *Component) {
	if c == nil || c.Name == "" || c.New == nil {
		panic("stage: Register needs a component with a name and a constructor")
	}
	if c.Kind != KindData && c.Kind != KindModel {
		panic(fmt.Sprintf("stage: component %q has kind %q, want %q or %q", c.Name, c.Kind, KindData, KindModel))
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[c.Name]; dup {
		panic("stage: Register called twice for class " + c.Name)
	}
	registry[c.Name] = c
}

// Lookup returns the component registered under name. The error for an
// unknown name wraps ErrUnknownClass and lists the known classes.
func Lookup(name string) (*Component, error) {
	registryMu.RLock()
	c, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q: known classes are %s", ErrUnknownClass, name, strings.Join(Classes(), ", "))
	}
	return c, nil
}

// Classes returns the registered class names, sorted.
func Classes() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Package config reads a MOSAIC study config, an INI file. Its [PROCESS]
// section sets training and the schemes, and its [MONITOR] section sets how
// runs execute. Every other section configures one stage class with lists
// and ranges of parameter values. The pipeline package expands a Config
// into the grid of pipelines.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/ini.v1"

	"github.com/mosaic-go/mosaic/stage"
)

// Config is a parsed and validated study config.
type Config struct {
	// Path is the config path as given to Load, or the name given to Parse.
	Path string
	// Dir is the absolute folder of the config file. Relative paths in the
	// config resolve against it. Parse uses the working directory.
	Dir     string
	Process Process
	Monitor Monitor
	// Sections are the stage sections in file order.
	Sections []Section
}

// Process is the [PROCESS] section. LR, Epochs and LossFunction hold every
// alternative of a swept value, in config order, duplicates removed.
type Process struct {
	LR     []float64
	Epochs []int
	// LossFunction holds loss names as PyTorch spells them, such as MSELoss
	// or CrossEntropyLoss. The config package does not check that the engine
	// implements them, so the caller must.
	LossFunction []string
	// DataScheme and PipelineScheme are stage types in order: the data
	// stages, then the model stages.
	DataScheme     []string
	PipelineScheme []string
	// RunFilesPath is the absolute folder for per-run files; the config
	// gives it relative to Dir.
	RunFilesPath string
	// Seed is the study seed; 0 when the config sets none.
	Seed uint64
}

// Monitor is the [MONITOR] section.
type Monitor struct {
	// Processes is nb_processus, the number of runs executed at once;
	// default 1.
	Processes int
	// Multiplicity is the number of replicas of each pipeline, each with its
	// own seed; default 1.
	Multiplicity int
	// NeedGPU is need_gpu; default false.
	NeedGPU bool
	// GPUs is gpu_available: device names such as "cuda:0", in config order.
	// A bare integer N in the config is stored as "cuda:N". Empty when unset.
	GPUs []string
	// CacheDatabasePath is the absolute path of cache_database_path; empty
	// when unset.
	CacheDatabasePath string
	// CacheSize is cache_size in bytes, with K, M, G and T as powers of
	// 1024; 0 when unset.
	CacheSize int64
	// CPUsPerRun is cpus_per_run, the cores a batch job requests for one
	// run; 0 when unset (the scheduler's default, one core).
	CPUsPerRun int
	// MemoryPerRun is memory_per_run in bytes, the memory a batch job
	// requests for one run; 0 when unset (the scheduler's default).
	MemoryPerRun int64
	// TimeLimit is time_limit, the wall time a batch job requests for one
	// run; 0 when unset (the scheduler's default).
	TimeLimit time.Duration
}

// Section is one stage section: a class and the alternatives of its
// parameters.
type Section struct {
	// Name is the section name without brackets, case kept.
	Name string
	// Type is the scheme slot the section can fill.
	Type  string
	Class string
	// Component is the registered class.
	Component *stage.Component
	// KeyTemplate is the `key` value, such as "mlp_{width}"; empty when unset.
	KeyTemplate string
	// Params are the parameters the section sets, in file order, each with
	// its alternatives converted to the parameter's type. Parameters left to
	// their default are absent.
	Params []Param
	// Line is the 1-based line of the section header.
	Line int
}

// Param is one parameter a section sets.
type Param struct {
	Name string
	// Values are the alternatives, of the Go type matching the parameter's
	// stage.ParamType: int, float64, bool or string.
	Values []any
	// Line is the 1-based line of the key.
	Line int
}

// Section names matched without regard to case.
const (
	processSection = "PROCESS"
	monitorSection = "MONITOR"
)

// loadOptions make gopkg.in/ini.v1 return values untouched, so that the
// value grammar reads quotes, braces, '#' and ';' as written. They also keep
// the case of section and key names.
var loadOptions = ini.LoadOptions{
	IgnoreInlineComment:        true,
	PreserveSurroundedQuote:    true,
	IgnoreContinuation:         true,
	AllowPythonMultilineValues: true,
	// A section may not be repeated: gopkg.in/ini.v1 would merge the copies.
	AllowNonUniqueSections: false,
}

// Load reads and validates the config file at path. Relative paths in the
// config resolve against the file's folder.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := parse(path, data)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("resolve folder of config %s: %w", path, err)
	}
	cfg.setDir(abs)
	return cfg, nil
}

// Parse reads and validates a config held in memory. The name appears in
// error messages. Relative paths resolve against the working directory.
func Parse(name string, data []byte) (*Config, error) {
	cfg, err := parse(name, data)
	if err != nil {
		return nil, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("resolve working directory for config %s: %w", name, err)
	}
	cfg.setDir(wd)
	return cfg, nil
}

// parse validates a config and returns it with Dir unset and relative
// paths kept as written.
func parse(name string, data []byte) (*Config, error) {
	lines, serr := scanLines(data)
	if serr != nil {
		return nil, &Error{File: name, Line: serr.line, Section: serr.section, Err: serr.err}
	}
	file, err := ini.LoadSources(loadOptions, data)
	if err != nil {
		return nil, &Error{File: name, Err: fmt.Errorf("invalid INI syntax: %w", err)}
	}
	p := &parser{name: name, lines: lines, cfg: &Config{Path: name}}
	p.parse(file)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return p.cfg, nil
}

// parser collects the errors of one Parse call.
type parser struct {
	name  string
	lines lineIndex
	cfg   *Config
	errs  []error
}

// fail records an error at section/key; key may be empty.
func (p *parser) fail(section, key string, err error) {
	line := p.lines.section(section)
	if key != "" {
		line = p.lines.key(section, key)
	}
	p.errs = append(p.errs, &Error{File: p.name, Line: line, Section: section, Key: key, Err: err})
}

// parse validates every section, then the schemes against the sections.
func (p *parser) parse(file *ini.File) {
	var process, monitor *ini.Section
	for _, sec := range file.Sections() {
		name := sec.Name()
		switch {
		case name == ini.DefaultSection:
			if len(sec.Keys()) > 0 {
				p.fail("", "", fmt.Errorf("keys before the first section header or in [DEFAULT] are not supported: move %s into a section", strings.Join(sec.KeyStrings(), ", ")))
			}
		case strings.EqualFold(name, processSection):
			process = p.unique(process, sec)
		case strings.EqualFold(name, monitorSection):
			monitor = p.unique(monitor, sec)
		default:
			if s, ok := p.parseSection(sec); ok {
				p.cfg.Sections = append(p.cfg.Sections, s)
			}
		}
	}
	if process == nil {
		p.fail("", "", fmt.Errorf("missing section [%s]: it sets lr, epochs, loss_function, data_scheme, pipeline_scheme and run_files_path", processSection))
	} else {
		p.parseProcess(process)
	}
	p.parseMonitor(monitor)
	if process != nil {
		p.checkSchemes(process.Name())
	}
}

// unique reports a second [PROCESS] or [MONITOR] spelled with another case.
func (p *parser) unique(prev, sec *ini.Section) *ini.Section {
	if prev != nil {
		p.fail(sec.Name(), "", fmt.Errorf("duplicate of section [%s]: section names PROCESS and MONITOR ignore case", prev.Name()))
		return prev
	}
	return sec
}

// setDir records the config folder and makes the relative paths absolute.
func (c *Config) setDir(dir string) {
	c.Dir = dir
	if c.Process.RunFilesPath != "" && !filepath.IsAbs(c.Process.RunFilesPath) {
		c.Process.RunFilesPath = filepath.Join(dir, c.Process.RunFilesPath)
	}
	if c.Monitor.CacheDatabasePath != "" && !filepath.IsAbs(c.Monitor.CacheDatabasePath) {
		c.Monitor.CacheDatabasePath = filepath.Join(dir, c.Monitor.CacheDatabasePath)
	}
}

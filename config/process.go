package config

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/ini.v1"

	"github.com/mosaic-go/mosaic/stage"
)

// Keys of [PROCESS] and [MONITOR], in the order the docs list them.
var (
	processKeys = []string{"lr", "epochs", "loss_function", "data_scheme", "pipeline_scheme", "run_files_path", "seed"}
	monitorKeys = []string{"nb_processus", "multiplicity", "need_gpu", "gpu_available", "cache_database_path", "cache_size",
		"cpus_per_run", "memory_per_run", "time_limit"}
)

var (
	devicePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(:[0-9]+)?$`)
	sizePattern   = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?)\s*([KMGTkmgt]?)[Bb]?$`)
)

// parseProcess reads [PROCESS] into p.cfg.Process.
func (p *parser) parseProcess(sec *ini.Section) {
	name := sec.Name()
	keys := p.keyMap(sec, processKeys)
	out := &p.cfg.Process

	lr := p.swept(name, keys, "lr", stage.Param{Name: "lr", Type: stage.Float})
	for _, v := range lr {
		f := v.(float64)
		if !(f > 0) || math.IsInf(f, 0) {
			p.fail(name, "lr", fmt.Errorf("invalid value %v: the learning rate must be a positive number", f))
		}
		out.LR = append(out.LR, f)
	}
	for _, v := range p.swept(name, keys, "epochs", stage.Param{Name: "epochs", Type: stage.Int}) {
		if v.(int) < 1 {
			p.fail(name, "epochs", fmt.Errorf("invalid value %d: epochs must be at least 1", v))
		}
		out.Epochs = append(out.Epochs, v.(int))
	}
	for _, v := range p.swept(name, keys, "loss_function", stage.Param{Name: "loss_function", Type: stage.String}) {
		out.LossFunction = append(out.LossFunction, v.(string))
	}

	out.DataScheme = p.scheme(name, keys, "data_scheme")
	out.PipelineScheme = p.scheme(name, keys, "pipeline_scheme")
	if raw, ok := p.required(name, keys, "run_files_path"); ok {
		out.RunFilesPath = unquote(raw)
	}
	if raw, ok := keys["seed"]; ok {
		seed, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			p.fail(name, "seed", fmt.Errorf("invalid value %q: expected an integer from 0 to %d", raw, uint64(math.MaxUint64)))
		}
		out.Seed = seed
	}
}

// swept reads a [PROCESS] key that may list several alternatives.
func (p *parser) swept(section string, keys map[string]string, key string, param stage.Param) []any {
	raw, ok := p.required(section, keys, key)
	if !ok {
		return nil
	}
	values, err := parseTyped(raw, param)
	if err != nil {
		p.fail(section, key, err)
		return nil
	}
	return values
}

// scheme reads a comma-separated list of stage types.
func (p *parser) scheme(section string, keys map[string]string, key string) []string {
	raw, ok := p.required(section, keys, key)
	if !ok {
		return nil
	}
	var types []string
	for _, t := range strings.Split(raw, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			p.fail(section, key, fmt.Errorf("invalid value %q: empty stage type (check for a doubled or trailing comma)", raw))
			return nil
		}
		types = append(types, t)
	}
	return types
}

// parseMonitor reads [MONITOR], which may be absent, into p.cfg.Monitor.
func (p *parser) parseMonitor(sec *ini.Section) {
	out := &p.cfg.Monitor
	out.Processes, out.Multiplicity = 1, 1
	if sec == nil {
		return
	}
	name := sec.Name()
	keys := p.keyMap(sec, monitorKeys)
	out.Processes = p.positive(name, keys, "nb_processus")
	out.Multiplicity = p.positive(name, keys, "multiplicity")
	if raw, ok := keys["need_gpu"]; ok {
		b, err := stage.ToBool(raw)
		if err != nil {
			p.fail(name, "need_gpu", fmt.Errorf("invalid value %q: expected True or False", raw))
		}
		out.NeedGPU = b
	}
	if raw, ok := keys["gpu_available"]; ok {
		gpus, err := parseDevices(raw)
		if err != nil {
			p.fail(name, "gpu_available", err)
		}
		out.GPUs = gpus
	}
	if raw, ok := keys["cache_database_path"]; ok {
		out.CacheDatabasePath = unquote(raw)
	}
	if raw, ok := keys["cache_size"]; ok {
		size, err := parseSize(raw)
		if err != nil {
			p.fail(name, "cache_size", err)
		}
		out.CacheSize = size
	}
	if _, ok := keys["cpus_per_run"]; ok {
		out.CPUsPerRun = p.positive(name, keys, "cpus_per_run")
	}
	if raw, ok := keys["memory_per_run"]; ok {
		size, err := parseSize(raw)
		if err != nil {
			p.fail(name, "memory_per_run", err)
		}
		out.MemoryPerRun = size
	}
	if raw, ok := keys["time_limit"]; ok {
		d, err := parseTimeLimit(raw)
		if err != nil {
			p.fail(name, "time_limit", err)
		}
		out.TimeLimit = d
	}
}

// parseTimeLimit reads a wall time limit: a whole number of minutes such as
// 90, or a Go duration such as 1h30m. It must be at least one minute.
func parseTimeLimit(raw string) (time.Duration, error) {
	text := strings.TrimSpace(raw)
	d, err := time.ParseDuration(text)
	if n, errInt := strconv.Atoi(text); errInt == nil {
		d, err = time.Duration(n)*time.Minute, nil
	}
	if err != nil || d < time.Minute {
		return 0, fmt.Errorf("invalid value %q: expected minutes such as 90 or a duration such as 1h30m, at least one minute", raw)
	}
	return d, nil
}

// positive reads an optional integer of at least 1, default 1.
func (p *parser) positive(section string, keys map[string]string, key string) int {
	raw, ok := keys[key]
	if !ok {
		return 1
	}
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || n < 1 {
		p.fail(section, key, fmt.Errorf("invalid value %q: expected an integer of at least 1", raw))
		return 1
	}
	return n
}

// parseDevices reads a comma-separated device list such as "cuda:0, cuda:1".
// A bare integer N stands for "cuda:N".
func parseDevices(raw string) ([]string, error) {
	var out []string
	for _, d := range strings.Split(raw, ",") {
		d = strings.TrimSpace(d)
		if n, err := strconv.Atoi(d); err == nil && n >= 0 {
			d = "cuda:" + strconv.Itoa(n)
		}
		if !devicePattern.MatchString(d) {
			return nil, fmt.Errorf("invalid value %q: device %q is not a device name such as cuda:0 or a device number such as 0", raw, d)
		}
		if slices.Contains(out, d) {
			return nil, fmt.Errorf("invalid value %q: device %s is listed twice", raw, d)
		}
		out = append(out, d)
	}
	return out, nil
}

// parseSize reads a byte size such as 500M or 2G; K, M, G and T are powers
// of 1024, and a trailing B is allowed.
func parseSize(raw string) (int64, error) {
	m := sizePattern.FindStringSubmatch(strings.TrimSpace(raw))
	if m == nil {
		return 0, fmt.Errorf("invalid value %q: expected a size such as 500M or 2G (K, M, G, T are powers of 1024)", raw)
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	shift := strings.Index("KMGT", strings.ToUpper(m[3])) + 1
	if m[3] == "" {
		shift = 0
	}
	size := f * math.Pow(1024, float64(shift))
	if size >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid value %q: size exceeds %d bytes", raw, int64(math.MaxInt64))
	}
	return int64(size), nil
}

// keyMap returns the section's keys and values, and reports keys outside
// known. It reads keys of this section only, never of ini.v1's parent
// sections.
func (p *parser) keyMap(sec *ini.Section, known []string) map[string]string {
	out := map[string]string{}
	for _, k := range sec.Keys() {
		if !slices.Contains(known, k.Name()) {
			p.fail(sec.Name(), k.Name(), fmt.Errorf("unknown key: [%s] takes %s", sec.Name(), strings.Join(known, ", ")))
			continue
		}
		out[k.Name()] = strings.TrimSpace(k.Value())
	}
	return out
}

// required returns a key's value, recording an error when it is missing or
// empty.
func (p *parser) required(section string, keys map[string]string, key string) (string, bool) {
	raw, ok := keys[key]
	if !ok || raw == "" {
		p.fail(section, "", fmt.Errorf("missing key %s", key))
		return "", false
	}
	return raw, true
}

// unquote removes one pair of surrounding double quotes from a path.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

package config

import (
	"errors"
	"strings"
	"testing"
)

// edit returns the valid config with old replaced by new, failing the test
// when old is absent so that a case cannot silently test the valid config.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	text := strings.Replace(validConfig, " ; not a comment", "", 1)
	if !strings.Contains(text, old) {
		t.Fatalf("valid config lacks %q", old)
	}
	return strings.Replace(text, old, new, 1)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, old, new string
		// want is the whole location prefix and part of the message.
		want string
	}{
		{"scheme type without section", "normalization\n", "normalization, augment\n",
			"study.ini:6: [PROCESS] data_scheme: type augment has no section: add a section with type = augment"},
		{"empty range", "width = {2-4},8", "width = {5-2}",
			`study.ini:34: [funnel] width: invalid value "{5-2}": invalid value syntax: empty range 5-2`},
		{"unclosed brace", "width = {2-4},8", "width = {2-4,8",
			`[funnel] width: invalid value "{2-4,8": invalid value syntax: unclosed brace`},
		{"unknown class", "class = test_mlp", "class = test_mpl",
			`study.ini:33: [funnel] class: unknown class "test_mpl": known classes are `},
		{"missing type", "type = mlp\n", "",
			"study.ini:31: [funnel] missing key type"},
		{"missing class", "class = test_mlp\n", "",
			"study.ini:31: [funnel] missing key class: registered classes are "},
		{"unknown parameter", "dropout = 0", "dropuot = 0",
			"study.ini:35: [funnel] dropuot: unknown parameter: class test_mlp takes width, length, dropout, activation"},
		{"not a number", "dropout = 0", "dropout = 0, low",
			`[funnel] dropout: invalid value "0, low": expected a number, got "low"`},
		{"int given float", "width = {2-4},8", "width = 2.5",
			`[funnel] width: invalid value "2.5": expected an integer, got 2.5`},
		{"bare range for int", "width = {2-4},8", "width = 2-4",
			`expected an integer, got "2-4": write {2-4} for an inclusive range`},
		{"bool given int", "train_prop = 1, 0.5", "shuffle = 1",
			`[iris] shuffle: invalid value "1": expected True or False, got 1`},
		{"missing required parameter", "path = \"data/iris,v2.csv\"\n", "",
			"study.ini:19: [iris] missing parameter path, which class test_data requires (file to read)"},
		{"outside choices", "style = standard, minmax", "style = standard, zscore",
			`[norm] style: invalid value "standard, zscore": "zscore" is not one of the allowed values standard, minmax`},
		{"python class", "class = test_mlp\n", "class = test_mlp\npath_to_class = models/mlp.py\n",
			"[funnel] path_to_class: invalid value \"models/mlp.py\": mosaic cannot load Python classes. In Go a class is a registered component"},
		{"repeated key", "dropout = 0", "dropout = 0\ndropout = 1",
			"study.ini:36: [funnel] key dropout repeated: it first appears on line 35"},
		{"repeated section", "[norm]", "[funnel]\n[norm]",
			"[funnel] section repeated: it first appears on line"},
		{"negative lr", "lr = 1e-2, 0.001", "lr = 1e-2, -1",
			"study.ini:3: [PROCESS] lr: invalid value -1: the learning rate must be a positive number"},
		{"zero epochs", "epochs = {10-12}", "epochs = 0",
			"[PROCESS] epochs: invalid value 0: epochs must be at least 1"},
		{"missing process key", "run_files_path = runs\n", "",
			"study.ini:2: [PROCESS] missing key run_files_path"},
		{"unknown process key", "seed = 42", "seed = 42\noptimizer = adam",
			"study.ini:10: [PROCESS] optimizer: unknown key: [PROCESS] takes lr, epochs, loss_function"},
		{"negative seed", "seed = 42", "seed = -1",
			`[PROCESS] seed: invalid value "-1": expected an integer from 0 to 18446744073709551615`},
		{"type outside schemes", "type = mlp", "type = mpl",
			`[funnel] type: invalid value "mpl": the type is in neither data_scheme (dataset, normalization) nor pipeline_scheme (mlp)`},
		{"model class in data scheme", "class = test_norm", "class = test_mlp",
			"[norm] class: class test_mlp is a model component, but type normalization is in data_scheme, which takes data components"},
		{"key placeholder", "key = {class}_{rows}", "key = {class}_{width}",
			`[iris] key: invalid value "{class}_{width}": placeholder {width} is neither class, type, section nor a parameter of class test_data`},
		{"zero processes", "nb_processus = 4", "nb_processus = 0",
			`study.ini:12: [monitor] nb_processus: invalid value "0": expected an integer of at least 1`},
		{"bad need_gpu", "need_gpu = True", "need_gpu = maybe",
			`[monitor] need_gpu: invalid value "maybe": expected True or False`},
		{"duplicate device", "gpu_available = cuda:0, 1", "gpu_available = cuda:0, 0",
			`[monitor] gpu_available: invalid value "cuda:0, 0": device cuda:0 is listed twice`},
		{"bad device", "gpu_available = cuda:0, 1", "gpu_available = cuda:0, gpu 1",
			`device "gpu 1" is not a device name such as cuda:0`},
		{"bad size", "cache_size = 500M", "cache_size = 500X",
			`[monitor] cache_size: invalid value "500X": expected a size such as 500M or 2G`},
		{"zero cpus per run", "cache_size = 500M", "cache_size = 500M\ncpus_per_run = 0",
			`[monitor] cpus_per_run: invalid value "0": expected an integer of at least 1`},
		{"bad memory per run", "cache_size = 500M", "cache_size = 500M\nmemory_per_run = lots",
			`[monitor] memory_per_run: invalid value "lots": expected a size such as 500M or 2G`},
		{"bad time limit", "cache_size = 500M", "cache_size = 500M\ntime_limit = 30s",
			`[monitor] time_limit: invalid value "30s": expected minutes such as 90 or a duration such as 1h30m, at least one minute`},
		{"monitor twice", "[monitor]", "[MONITOR]\n[monitor]",
			"[monitor] duplicate of section [MONITOR]"},
		{"keys before a section", "# a study\n", "lr = 1\n",
			"study.ini: keys before the first section header or in [DEFAULT] are not supported: move lr into a section"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("study.ini", []byte(edit(t, tt.old, tt.new)))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tt.want)
			}
			var cerr *Error
			if !errors.As(err, &cerr) || cerr.File != "study.ini" {
				t.Errorf("error %v is not a *config.Error naming study.ini", err)
			}
		})
	}
}

func TestParseCollectsErrors(t *testing.T) {
	text := edit(t, "width = {2-4},8", "width = {5-2}\nlength = x")
	text = strings.Replace(text, "lr = 1e-2, 0.001", "lr = 0", 1)
	_, err := Parse("study.ini", []byte(text))
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %v is not a joined error", err)
	}
	if n := len(joined.Unwrap()); n != 3 {
		t.Errorf("got %d errors, want 3 (lr, width, length):\n%v", n, err)
	}
}

func TestParseMissingProcess(t *testing.T) {
	_, err := Parse("study.ini", []byte("[funnel]\ntype = mlp\nclass = test_mlp\n"))
	if err == nil || !strings.Contains(err.Error(), "study.ini: missing section [PROCESS]") {
		t.Errorf("error = %v, want missing section [PROCESS]", err)
	}
}

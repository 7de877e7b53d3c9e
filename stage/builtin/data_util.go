package builtin

import (
	"context"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/mosaic-go/mosaic/stage"
)

// deriveSeed mixes the run seed with a stage name, so that two stages of one
// run draw independent random streams from the same run seed.
func deriveSeed(runSeed uint64, name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return splitmix64(runSeed ^ h.Sum64())
}

// splitmix64 is the SplitMix64 output function, which spreads nearby inputs
// over the whole 64-bit range.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// newRand returns a PCG generator for seed.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, splitmix64(seed)))
}

// optionalParam returns the named parameter and whether it is set. A key
// whose value is nil counts as unset, because a parameter whose default is
// chosen at run time may reach the stage either way.
func optionalParam(p stage.Params, name string) (any, bool) {
	v, ok := p[name]
	if !ok || v == nil {
		return nil, false
	}
	return v, true
}

// gather copies the rows idx of a row-major table with width values per row.
func gather(src []float32, width int, idx []int) []float32 {
	out := make([]float32, 0, len(idx)*width)
	for _, i := range idx {
		out = append(out, src[i*width:(i+1)*width]...)
	}
	return out
}

// table is a CSV file read into memory: the feature columns as float32 and
// the target column as text, decoded later once the task is known.
type table struct {
	path   string
	header []string
	// target is the 0-based index of the target column in header.
	target int
	// features holds rows × (len(header)-1) values, row-major, in file order
	// without the target column.
	features []float32
	// targets holds the trimmed target cell of each row.
	targets []string
	// lines holds the file line of each row, for error messages.
	lines []int
	rows  int
}

// cellPos names the target cell of row i as file:line: column.
func (t *table) cellPos(i int) string {
	return fmt.Sprintf("%s:%d: column %d (%q)", t.path, t.lines[i], t.target+1, t.header[t.target])
}

// readTable reads a CSV file with a header row. Every cell but the target's
// must be a finite number; rows must have as many fields as the header.
func readTable(ctx context.Context, path, target string) (*table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open csv file: %w", err)
	}
	defer f.Close()

	r := csv.NewReader(f)
	r.FieldsPerRecord = -1 // ragged rows get a message naming the header width
	header, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: file is empty, but a header row is expected", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read csv file: %w", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	if len(header) < 2 {
		return nil, fmt.Errorf("%s:1: header has only one column, but at least one feature column and a target column are expected", path)
	}
	t := &table{path: path, header: header}
	if t.target, err = targetColumn(header, target); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}

	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read csv file: %w", err)
		}
		if err := t.addRow(r, rec); err != nil {
			return nil, err
		}
		if t.rows%4096 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("read %s: %w", path, ctx.Err())
		}
	}
	if t.rows == 0 {
		return nil, fmt.Errorf("%s: file has a header but no data rows", path)
	}
	return t, nil
}

// addRow parses one record, the one r has just read.
func (t *table) addRow(r *csv.Reader, rec []string) error {
	line, _ := r.FieldPos(0)
	if len(rec) != len(t.header) {
		return fmt.Errorf("%s:%d: row has %d fields, but the header has %d", t.path, line, len(rec), len(t.header))
	}
	for j, cell := range rec {
		cell = strings.TrimSpace(cell)
		if j == t.target {
			t.targets = append(t.targets, cell)
			continue
		}
		v, err := strconv.ParseFloat(cell, 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s:%d: column %d (%q): %q is not a finite number", t.path, line, j+1, t.header[j], cell)
		}
		t.features = append(t.features, float32(v))
	}
	t.lines = append(t.lines, line)
	t.rows++
	return nil
}

// targetColumn resolves the target parameter against the header: a header
// name first, then a 0-based index, negative indices counting from the end.
// Empty selects the last column.
func targetColumn(header []string, target string) (int, error) {
	if target == "" {
		return len(header) - 1, nil
	}
	for i, name := range header {
		if name == target {
			return i, nil
		}
	}
	i, err := strconv.Atoi(target)
	if err != nil {
		return 0, fmt.Errorf("target column %q not found: the columns are %s", target, strings.Join(header, ", "))
	}
	if i < 0 {
		i += len(header)
	}
	if i < 0 || i >= len(header) {
		return 0, fmt.Errorf("target column index %s is out of range: the file has %d columns", target, len(header))
	}
	return i, nil
}

// splitRows shuffles the row indices and splits them in the proportion
// trainProp. For classification each class is split on its own, and a class
// of at least two rows keeps one row on each side. Both sides are shuffled
// so the classes are interleaved.
func splitRows(lab *labels, rows int, trainProp float64, rng *rand.Rand) (train, test []int) {
	var groups [][]int
	if lab.task == stage.Classification {
		groups = make([][]int, lab.classes)
		for i, y := range lab.y {
			groups[int(y)] = append(groups[int(y)], i)
		}
	} else {
		all := make([]int, rows)
		for i := range all {
			all[i] = i
		}
		groups = [][]int{all}
	}

	for _, g := range groups {
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		k := int(math.Round(trainProp * float64(len(g))))
		if len(g) >= 2 {
			k = min(max(k, 1), len(g)-1)
		}
		train = append(train, g[:k]...)
		test = append(test, g[k:]...)
	}
	rng.Shuffle(len(train), func(i, j int) { train[i], train[j] = train[j], train[i] })
	rng.Shuffle(len(test), func(i, j int) { test[i], test[j] = test[j], test[i] })
	return train, test
}

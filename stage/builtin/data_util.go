package builtin

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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
// A file without double quotes, the usual table of numbers, is split by
// hand in one pass over its bytes. A file with quotes goes through
// encoding/csv, which handles quoted fields. Both give the same table and
// the same errors.
func readTable(ctx context.Context, path, target string) (*table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open csv file: %w", err)
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return nil, fmt.Errorf("read csv file: %w", err)
	}
	if bytes.IndexByte(data, '"') >= 0 {
		return readQuotedTable(ctx, path, data, target)
	}

	lines := lineScanner{data: data}
	header, _ := lines.next()
	if header == nil {
		return nil, fmt.Errorf("%s: file is empty, but a header row is expected", path)
	}
	t, err := newTable(path, strings.Split(string(header), ","), target)
	if err != nil {
		return nil, err
	}

	// The file has at most one row per line after the header.
	rows := bytes.Count(lines.data, []byte{'\n'}) + 1
	t.features = make([]float32, 0, rows*(len(t.header)-1))
	for {
		rec, line := lines.next()
		if rec == nil {
			break
		}
		if err := t.addLine(rec, line); err != nil {
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

// readAll reads the rest of f in one buffer sized from the file's size.
func readAll(f *os.File) ([]byte, error) {
	size := 0
	if info, err := f.Stat(); err == nil && info.Size() < math.MaxInt32 {
		size = int(info.Size())
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(f)
	return buf.Bytes(), err
}

// newTable starts a table from the header cells and resolves the target.
func newTable(path string, header []string, target string) (*table, error) {
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	if len(header) < 2 {
		return nil, fmt.Errorf("%s:1: header has only one column, but at least one feature column and a target column are expected", path)
	}
	t := &table{path: path, header: header}
	var err error
	if t.target, err = targetColumn(header, target); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// readQuotedTable parses data, a CSV file that contains double quotes, with
// encoding/csv.
func readQuotedTable(ctx context.Context, path string, data []byte, target string) (*table, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // ragged rows get a message naming the header width
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: file is empty, but a header row is expected", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read csv file: %w", err)
	}
	t, err := newTable(path, slices.Clone(header), target)
	if err != nil {
		return nil, err
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

// addLine parses one line of a file without quotes, which is line number
// line of the file. It checks and reports as addRow does.
func (t *table) addLine(rec []byte, line int) error {
	if fields := bytes.Count(rec, []byte{','}) + 1; fields != len(t.header) {
		return fmt.Errorf("%s:%d: row has %d fields, but the header has %d", t.path, line, fields, len(t.header))
	}
	for j := range t.header {
		end := bytes.IndexByte(rec, ',')
		if end < 0 {
			end = len(rec)
		}
		cell := trimSpace(rec[:end])
		rec = rec[min(end+1, len(rec)):]
		if j == t.target {
			t.targets = append(t.targets, string(cell))
			continue
		}
		v, ok := parseFloat32(cell)
		if !ok {
			return fmt.Errorf("%s:%d: column %d (%q): %q is not a finite number", t.path, line, j+1, t.header[j], cell)
		}
		t.features = append(t.features, v)
	}
	t.lines = append(t.lines, line)
	t.rows++
	return nil
}

// trimSpace is bytes.TrimSpace with a shortcut for the usual cell, which
// starts and ends with a printable ASCII character.
func trimSpace(cell []byte) []byte {
	if n := len(cell); n > 0 && cell[0] > ' ' && cell[0] < utf8.RuneSelf && cell[n-1] > ' ' && cell[n-1] < utf8.RuneSelf {
		return cell
	}
	return bytes.TrimSpace(cell)
}

// lineScanner splits a CSV file without quotes into its lines, as
// encoding/csv splits it: a line ends at \n, a \r before that \n or at the
// end of the file is dropped, and empty lines are skipped.
type lineScanner struct {
	data []byte
	// line is the number of the last line returned, counting from 1 and
	// including the empty lines skipped.
	line int
}

// next returns the next non-empty line and its number, or nil at the end
// of the file.
func (s *lineScanner) next() ([]byte, int) {
	for len(s.data) > 0 {
		end := bytes.IndexByte(s.data, '\n')
		rec := s.data
		if end >= 0 {
			rec, s.data = s.data[:end], s.data[end+1:]
		} else {
			s.data = nil
		}
		s.line++
		rec = bytes.TrimSuffix(rec, []byte{'\r'})
		if len(rec) > 0 {
			return rec, s.line
		}
	}
	return nil, s.line
}

// pow10f32 holds the powers of ten that float32 represents exactly.
var pow10f32 = [...]float32{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10}

// parseFloat32 parses a cell as strconv.ParseFloat(cell, 32) does and
// reports whether it is a finite number. A plain decimal of at most 24
// bits of digits and 10 decimals, the usual cell of a table of numbers, is
// converted with one exactly rounded float32 division, which gives the
// same bits as strconv (Clinger's fast path). Anything else goes to strconv.
func parseFloat32(cell []byte) (float32, bool) {
	digits := cell
	negative := false
	if len(digits) > 0 && (digits[0] == '-' || digits[0] == '+') {
		negative = digits[0] == '-'
		digits = digits[1:]
	}
	var mantissa uint64
	decimals, count := 0, 0
	point := false
	for _, ch := range digits {
		switch {
		case ch >= '0' && ch <= '9' && count < 18:
			mantissa = mantissa*10 + uint64(ch-'0')
			count++
			if point {
				decimals++
			}
		case ch == '.' && !point:
			point = true
		default:
			return parseFloat32Slow(cell)
		}
	}
	if count == 0 || mantissa > 1<<24 || decimals >= len(pow10f32) {
		return parseFloat32Slow(cell)
	}
	v := float32(mantissa) / pow10f32[decimals]
	if negative {
		v = -v
	}
	return v, true
}

// parseFloat32Slow is parseFloat32 through strconv, for every other form:
// exponents, long mantissas, hexadecimal, infinities and NaN.
func parseFloat32Slow(cell []byte) (float32, bool) {
	v, err := strconv.ParseFloat(string(cell), 32)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return float32(v), true
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

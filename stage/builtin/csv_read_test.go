package builtin

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// writeGeneratedCSV writes a table of rows × (features + 1) numbers printed
// with 6 decimals, as bench/bench.py writes the data of its case (b), and
// returns its path.
func writeGeneratedCSV(t testing.TB, rows, features int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(42, 1))
	var b strings.Builder
	for j := 0; j < features; j++ {
		fmt.Fprintf(&b, "x%d,", j)
	}
	b.WriteString("y\n")
	for i := 0; i < rows; i++ {
		for j := 0; j <= features; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%.6f", 4*rng.Float64()-2)
		}
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "generated.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// BenchmarkReadTable reads a generated CSV file of 10,000 rows of 65
// numbers, the size of the start-up case of bench/run.sh (6.2 MB).
func BenchmarkReadTable(b *testing.B) {
	path := writeGeneratedCSV(b, 10000, 64)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := readTable(context.Background(), path, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseFloat32MatchesStrconv(t *testing.T) {
	cells := []string{
		"0", "-0", "+0", "1", "-1", "+2.5", ".5", "-.5", "5.", "007", "1.000000",
		"0.1", "-1.999999", "16777216", "16777217", "167772.17", "1.6777215",
		"0.0000000001", "0.00000000001", "3.4028235e38", "1e-45", "1e5", "1E5",
		"123456789012345678901234567890", "0x1p-2", "12345678.9", "9999999999",
		"1.17549435e-38", "0.30000001192092896",
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		decimals := rng.IntN(11)
		cells = append(cells, strconv.FormatFloat(rng.NormFloat64()*math.Pow(10, float64(rng.IntN(7)-3)), 'f', decimals, 64))
	}
	for _, cell := range cells {
		want, err := strconv.ParseFloat(cell, 32)
		got, ok := parseFloat32([]byte(cell))
		if !ok || err != nil {
			t.Errorf("parseFloat32(%q) = %g, %v; strconv gives %g, %v", cell, got, ok, want, err)
			continue
		}
		if math.Float32bits(got) != math.Float32bits(float32(want)) {
			t.Errorf("parseFloat32(%q) = %g (bits %#x), want %g (bits %#x)", cell, got, math.Float32bits(got), want, math.Float32bits(float32(want)))
		}
	}
}

func TestParseFloat32RejectsWhatStrconvRejects(t *testing.T) {
	for _, cell := range []string{"", "-", "+", ".", "1.2.3", "1,5", "x", "1e", "--1", "NaN", "nan", "Inf", "-inf", "1e39", "0x"} {
		if v, ok := parseFloat32([]byte(cell)); ok {
			t.Errorf("parseFloat32(%q) = %g, accepted: want it rejected as not a finite number", cell, v)
		}
	}
}

// readBothWays reads the CSV file at path with the byte scanner of
// readTable and with encoding/csv, and returns both tables and errors.
func readBothWays(t *testing.T, path, target string) (fast, quoted *table, fastErr, quotedErr error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), `"`) {
		t.Fatalf("%s holds quotes, so readTable would not take its byte scanner", path)
	}
	fast, fastErr = readTable(context.Background(), path, target)
	quoted, quotedErr = readQuotedTable(context.Background(), path, data, target)
	return fast, quoted, fastErr, quotedErr
}

func TestReadTableScannerMatchesEncodingCSV(t *testing.T) {
	content := "\r\n a , b ,c,label\r\n" +
		"1, 2.5 ,-0,cat\r\n" +
		"\n" +
		"+3,.5,5.,dog\n" +
		"1e3,-1.5E-2,123456789.123,cat \n" +
		"0x1p-2,  7 ,0.000000000001,\tdog\r\n" +
		"\r\n" +
		"4,5,6,cat"
	dir := writeCSV(t, "mixed.csv", content)
	for _, target := range []string{"", "label", "3", "-1"} {
		fast, quoted, fastErr, quotedErr := readBothWays(t, filepath.Join(dir, "mixed.csv"), target)
		if fastErr != nil || quotedErr != nil {
			t.Fatalf("target %q: errors %v and %v", target, fastErr, quotedErr)
		}
		if !slices.Equal(fast.header, quoted.header) || fast.target != quoted.target || fast.rows != quoted.rows {
			t.Errorf("target %q: header %q, target %d, %d rows; encoding/csv gives %q, %d, %d rows",
				target, fast.header, fast.target, fast.rows, quoted.header, quoted.target, quoted.rows)
		}
		if !slices.Equal(fast.targets, quoted.targets) {
			t.Errorf("target %q: targets %q, encoding/csv gives %q", target, fast.targets, quoted.targets)
		}
		if !slices.Equal(fast.lines, quoted.lines) {
			t.Errorf("target %q: lines %v, encoding/csv gives %v", target, fast.lines, quoted.lines)
		}
		if !slices.EqualFunc(fast.features, quoted.features, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
			t.Errorf("target %q: features %v, encoding/csv gives %v", target, fast.features, quoted.features)
		}
	}
	fast, _, _, _ := readBothWays(t, filepath.Join(dir, "mixed.csv"), "")
	if want := []int{3, 5, 6, 7, 9}; !slices.Equal(fast.lines, want) {
		t.Errorf("lines = %v, want %v: empty lines count in the numbering", fast.lines, want)
	}
}

func TestReadTableScannerErrorsMatchEncodingCSV(t *testing.T) {
	for name, content := range map[string]string{
		"ragged after empty lines": "a,b,y\n\n\n1,2,0\n3,0\n",
		"bad cell":                 "a,b,y\r\n1,2,0\r\n3, 1.5x ,1\r\n",
		"infinite cell":            "a,b,y\n1,1e39,0\n",
		"only empty lines":         "\n\r\n\n",
		"header only":              "a,b,y\r\n\r\n",
		"one column":               "y\n1\n",
		"white space line":         "a,y\n1,0\n \n",
	} {
		dir := writeCSV(t, "d.csv", content)
		_, _, fastErr, quotedErr := readBothWays(t, filepath.Join(dir, "d.csv"), "")
		if fastErr == nil || quotedErr == nil || fastErr.Error() != quotedErr.Error() {
			t.Errorf("%s: error %v, encoding/csv gives %v", name, fastErr, quotedErr)
		}
	}
}

func TestReadTableQuotedFields(t *testing.T) {
	dir := writeCSV(t, "q.csv", "\"a\",b,y\n1,\"2.5\",\"big, red\"\n3,4,\"two\nlines\"\n")
	tbl, err := readTable(context.Background(), filepath.Join(dir, "q.csv"), "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tbl.header, []string{"a", "b", "y"}) {
		t.Errorf("header = %q, want [a b y]", tbl.header)
	}
	if !slices.Equal(tbl.features, []float32{1, 2.5, 3, 4}) {
		t.Errorf("features = %v, want [1 2.5 3 4]", tbl.features)
	}
	if !slices.Equal(tbl.targets, []string{"big, red", "two\nlines"}) {
		t.Errorf("targets = %q, want the quoted cells", tbl.targets)
	}
	if !slices.Equal(tbl.lines, []int{2, 3}) {
		t.Errorf("lines = %v, want [2 3]", tbl.lines)
	}
}

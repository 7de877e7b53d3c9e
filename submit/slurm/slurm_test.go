package slurm

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/submit"
	"github.com/mosaic-go/mosaic/submit/layout"
	"github.com/mosaic-go/mosaic/submit/submittest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fakeScontrol returns a Runner that prints a `scontrol show config` with the
// given MaxArraySize, or reports scontrol missing when size is 0.
func fakeScontrol(size int) submit.Runner {
	return func(_ context.Context, name string, args ...string) ([]byte, error) {
		if size == 0 {
			return nil, fmt.Errorf("run %s: %w on PATH", name, submit.ErrCommandNotFound)
		}
		if name != "scontrol" || strings.Join(args, " ") != "show config" {
			return nil, fmt.Errorf("unexpected command %s %v", name, args)
		}
		return []byte(fmt.Sprintf("Configuration data as of 2024-01-01T00:00:00\nMaxArraySize            = %d\nMaxJobCount             = 10000\n", size)), nil
	}
}

func testBatch(runs int) *submit.Batch {
	specs := make([]pipeline.Spec, runs)
	for i := range specs {
		specs[i] = pipeline.Spec{RunID: fmt.Sprintf("run%03d", i)}
	}
	return &submit.Batch{
		Paths:      layout.Paths{Dir: "/data/study"},
		Submission: 2,
		ListFile:   "/data/study/lists/runs-2.txt",
		Specs:      specs,
		JobBinary:  "/opt/mosaic/bin/mosaic-job",
		Resources:  submit.Resources{CPUs: 2, MemMB: 4096, TimeMinutes: 90, GPUs: 1},
		MaxRunning: 50,
	}
}

func TestRenderGolden(t *testing.T) {
	b := &Backend{Run: fakeScontrol(1001), Partition: "gpu"}
	descs, err := b.Render(context.Background(), testBatch(3))
	if err != nil {
		t.Fatal(err)
	}
	if len(descs) != 1 {
		t.Fatalf("got %d scripts, want 1", len(descs))
	}
	submittest.CheckGolden(t, "array.sbatch", descs[0].Text, *update)
}

func TestRenderMinimalGolden(t *testing.T) {
	batch := testBatch(1)
	batch.Resources = submit.Resources{}
	batch.MaxRunning = 0
	descs, err := (&Backend{Run: fakeScontrol(0)}).Render(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	submittest.CheckGolden(t, "minimal.sbatch", descs[0].Text, *update)
}

func TestRenderChunksByMaxArraySize(t *testing.T) {
	cases := []struct {
		name        string
		cluster     int // 0: scontrol missing
		flag        int
		runs        int
		wantOffsets []int
	}{
		{"cluster size", 4, 0, 10, []int{0, 4, 8}},
		{"exact multiple", 5, 0, 10, []int{0, 5}},
		{"flag caps cluster", 1001, 3, 7, []int{0, 3, 6}},
		{"flag without scontrol", 0, 2, 3, []int{0, 2}},
		{"default without scontrol", 0, 0, 1002, []int{0, 1001}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &Backend{Run: fakeScontrol(tc.cluster), MaxArraySize: tc.flag}
			descs, err := b.Render(context.Background(), testBatch(tc.runs))
			if err != nil {
				t.Fatal(err)
			}
			covered := 0
			var offsets []int
			for i, d := range descs {
				offsets = append(offsets, d.Offset)
				if d.Offset != covered {
					t.Errorf("script %d starts at %d, want %d", i, d.Offset, covered)
				}
				covered += d.Count
				wantArray := fmt.Sprintf("#SBATCH --array=0-%d%%50\n", d.Count-1)
				if !bytes.Contains(d.Text, []byte(wantArray)) {
					t.Errorf("script %d lacks %q", i, wantArray)
				}
				wantExec := fmt.Sprintf("--offset %d ", d.Offset)
				if !bytes.Contains(d.Text, []byte(wantExec)) {
					t.Errorf("script %d lacks %q", i, wantExec)
				}
				if want := fmt.Sprintf("slurm-2-%d.sbatch", i); d.Name != want {
					t.Errorf("script %d named %s, want %s", i, d.Name, want)
				}
			}
			if covered != tc.runs {
				t.Errorf("scripts cover %d runs, want %d", covered, tc.runs)
			}
			if fmt.Sprint(offsets) != fmt.Sprint(tc.wantOffsets) {
				t.Errorf("offsets %v, want %v", offsets, tc.wantOffsets)
			}
		})
	}
}

func TestRenderScontrolFailureFallsBack(t *testing.T) {
	failing := func(context.Context, string, ...string) ([]byte, error) {
		return nil, &submit.CommandError{Command: []string{"scontrol", "show", "config"}, Output: "slurm_load_ctl_conf error: Unable to contact slurm controller", Err: errors.New("exit status 1")}
	}
	descs, err := (&Backend{Run: failing, MaxArraySize: 3}).Render(context.Background(), testBatch(5))
	if err != nil {
		t.Fatalf("an unreachable controller must not stop rendering: %v", err)
	}
	if len(descs) != 2 {
		t.Fatalf("5 runs with --max-array-size 3 rendered %d arrays, want 2", len(descs))
	}
	if descs[0].Count != 3 || descs[1].Offset != 3 || descs[1].Count != 2 {
		t.Errorf("arrays cover (offset %d, %d runs) and (offset %d, %d runs), want (0, 3) and (3, 2)",
			descs[0].Offset, descs[0].Count, descs[1].Offset, descs[1].Count)
	}
}

func TestRenderUserTemplate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "my.sbatch")
	os.WriteFile(path, []byte("#!/bin/sh\n#SBATCH --array={{.Array}}\n#SBATCH --qos=long\nexec {{.JobBinary}} --offset {{.Offset}}\n"), 0o644)
	batch := testBatch(2)
	batch.TemplateFile = path
	descs, err := (&Backend{Run: fakeScontrol(0)}).Render(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	want := "#!/bin/sh\n#SBATCH --array=0-1%50\n#SBATCH --qos=long\nexec /opt/mosaic/bin/mosaic-job --offset 0\n"
	if string(descs[0].Text) != want {
		t.Errorf("got\n%s\nwant\n%s", descs[0].Text, want)
	}

	os.WriteFile(path, []byte("{{.NoSuchField}}"), 0o644)
	_, err = (&Backend{Run: fakeScontrol(0)}).Render(context.Background(), batch)
	if err == nil || !strings.Contains(err.Error(), "NoSuchField") {
		t.Errorf("a template naming an unknown field gave error %v", err)
	}
}

func TestParseJobID(t *testing.T) {
	cases := map[string]string{
		"4242\n":             "4242",
		"4243;cluster\n":     "4243",
		"warning: x\n4244\n": "4244",
	}
	for out, want := range cases {
		got, err := (&Backend{}).ParseJobID([]byte(out))
		if err != nil || got != want {
			t.Errorf("ParseJobID(%q) = %q, %v; want %q", out, got, err, want)
		}
	}
	if _, err := (&Backend{}).ParseJobID([]byte("sbatch: error: Batch job submission failed\n")); err == nil {
		t.Error("ParseJobID accepted an error message")
	}
}

func TestParseMaxArraySize(t *testing.T) {
	if n, ok := ParseMaxArraySize([]byte("MaxArraySize            = 5\n")); !ok || n != 5 {
		t.Errorf("got %d, %v; want 5, true", n, ok)
	}
	if _, ok := ParseMaxArraySize([]byte("MaxJobCount = 10\n")); ok {
		t.Error("found a MaxArraySize in output without one")
	}
}

func TestRenderPostGolden(t *testing.T) {
	for name, tokenFile := range map[string]string{"post.sbatch": "/home/me/.mosaic/token", "post-env.sbatch": ""} {
		b := testBatch(2)
		b.PostURL, b.TokenFile = "http://submit-host:8470", tokenFile
		descs, err := (&Backend{Run: fakeScontrol(1001)}).Render(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		submittest.CheckGolden(t, name, descs[0].Text, *update)
	}
}

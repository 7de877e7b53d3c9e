package condor

import (
	"context"
	"flag"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/stage"
	"github.com/mosaic-go/mosaic/submit"
	"github.com/mosaic-go/mosaic/submit/layout"
	"github.com/mosaic-go/mosaic/submit/submittest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func csvSpec(runID, baseDir, path string) pipeline.Spec {
	return pipeline.Spec{
		RunID: runID,
		Pipeline: pipeline.Pipeline{
			BaseDir: baseDir,
			Data: []pipeline.Stage{
				{Type: "dataset", Class: "csv", Params: stage.Params{"path": path, "train_prop": 0.7}},
				{Type: "scaling", Class: "normalize", Params: stage.Params{"style": "standardisation"}},
			},
		},
	}
}

func testBatch() *submit.Batch {
	return &submit.Batch{
		Paths:      layout.Paths{Dir: "/data/study"},
		Submission: 1,
		ListFile:   "/data/study/lists/runs-1.txt",
		Specs: []pipeline.Spec{
			csvSpec("r1", "/data/configs", "data/iris.csv"),
			csvSpec("r2", "/data/configs", "data/iris.csv"),
			csvSpec("r3", "/data/configs", "/shared/wine.csv"),
		},
		JobBinary: "/opt/mosaic/bin/mosaic-job",
		Resources: submit.Resources{CPUs: 2, MemMB: 2048, GPUs: 1, TimeMinutes: 30},
		MaxIdle:   200,
	}
}

func TestRenderGolden(t *testing.T) {
	descs, err := (&Backend{}).Render(context.Background(), testBatch())
	if err != nil {
		t.Fatal(err)
	}
	if len(descs) != 1 || descs[0].Count != 3 || descs[0].Name != "condor-1.sub" {
		t.Fatalf("got %+v, want one description condor-1.sub of 3 runs", descs)
	}
	submittest.CheckGolden(t, "study.sub", descs[0].Text, *update)
}

func TestRenderMinimalGolden(t *testing.T) {
	b := testBatch()
	b.Specs = b.Specs[:1]
	b.Resources, b.MaxIdle, b.MaxRetries = submit.Resources{}, 0, 7
	descs, err := (&Backend{}).Render(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	submittest.CheckGolden(t, "minimal.sub", descs[0].Text, *update)
}

func TestDataFilesResolvesAndDeduplicates(t *testing.T) {
	files, err := DataFiles(testBatch().Specs)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/data/configs/data/iris.csv", "/shared/wine.csv"}
	if strings.Join(files, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", files, want)
	}
}

func TestDataFilesNameCollision(t *testing.T) {
	specs := []pipeline.Spec{csvSpec("r1", "/a", "iris.csv"), csvSpec("r2", "/b", "iris.csv")}
	_, err := DataFiles(specs)
	if err == nil || !strings.Contains(err.Error(), "same name iris.csv") {
		t.Errorf("two files named iris.csv gave error %v", err)
	}
}

func TestParseJobID(t *testing.T) {
	out := "Submitting job(s)...\n3 job(s) submitted to cluster 4711.\n"
	got, err := (&Backend{}).ParseJobID([]byte(out))
	if err != nil || got != "4711" {
		t.Errorf("got %q, %v; want 4711", got, err)
	}
	if _, err := (&Backend{}).ParseJobID([]byte("ERROR: Parse error in submit file\n")); err == nil {
		t.Error("ParseJobID accepted an error message")
	}
}

func TestRenderPostGolden(t *testing.T) {
	b := testBatch()
	b.PostURL, b.TokenFile = "https://submit-host:8470", "/home/me/.mosaic/token"
	descs, err := (&Backend{}).Render(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	submittest.CheckGolden(t, "post.sub", descs[0].Text, *update)
}

func TestRenderPostChecks(t *testing.T) {
	cases := map[string]struct {
		url, token, want string
	}{
		"no token file":   {"http://submit-host:8470", "", "needs --token-file"},
		"quote in URL":    {`http://submit-host:8470/a"b`, "/home/me/token", "quote or space"},
		"space in path":   {"http://submit-host:8470", "/home/me/my token", "comma, space or quote"},
		"data file name":  {"http://submit-host:8470", "/home/me/iris.csv", "same name iris.csv"},
		"json token name": {"http://submit-host:8470", "/home/me/token.json", "rename it"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := testBatch()
			b.PostURL, b.TokenFile = tc.url, tc.token
			_, err := (&Backend{}).Render(context.Background(), b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

package mosaiccli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/submit"
)

func TestSubmitReportCollectUsesDB(t *testing.T) {
	report := &submit.Report{Runs: 24, Submitted: 24, Jobs: []submit.Job{{JobID: "4242", Count: 24}}}
	cases := []struct {
		db, env, want string
	}{
		{db: "cl.db", want: "when the jobs end: mosaic collect /tmp/study/cl/results --db cl.db\n"},
		{want: "when the jobs end: mosaic collect /tmp/study/cl/results --db mosaic.db\n"},
		{env: "env.db", want: "when the jobs end: mosaic collect /tmp/study/cl/results --db env.db\n"},
	}
	for _, c := range cases {
		t.Setenv("MOSAIC_DB", c.env)
		var out bytes.Buffer
		printSubmitReport(&out, submit.Options{Out: "/tmp/study/cl/", DB: c.db, Now: true}, report)
		if !strings.HasSuffix(out.String(), c.want) {
			t.Errorf("--db %q, MOSAIC_DB %q: output ends %q, want %q", c.db, c.env, out.String(), c.want)
		}
	}
}

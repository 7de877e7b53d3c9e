package submit_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/submit"
	"github.com/mosaic-go/mosaic/submit/condor"
	"github.com/mosaic-go/mosaic/submit/slurm"
	"github.com/mosaic-go/mosaic/submit/submittest"
)

const postToken = "c3VibWl0LXRlc3QtdG9rZW4tdmFsdWU="

func TestSubmitPassesPostURL(t *testing.T) {
	dir := t.TempDir()
	config := submittest.WriteStudy(t, dir, submittest.Study{Epochs: 2, Widths: []int{4}})
	bin := filepath.Join(dir, "mosaic-job")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	tokenFile := filepath.Join(dir, "receiver-token")
	os.WriteFile(tokenFile, []byte(postToken+"\n"), 0o600)

	for name, backend := range map[string]submit.Backend{"slurm": &slurm.Backend{Run: (&fakeSlurm{}).run}, "condor": &condor.Backend{}} {
		t.Run(name, func(t *testing.T) {
			report, err := submit.Submit(context.Background(), submit.Options{
				Config: config, Out: filepath.Join(dir, "study-"+name), Backend: backend, JobBinary: bin,
				PostURL: "http://submit-host:8470", TokenFile: tokenFile, DryRun: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			text := string(report.Descriptions[0].Text)
			if !strings.Contains(text, "--post-url http://submit-host:8470") {
				t.Errorf("the description does not pass --post-url:\n%s", text)
			}
			if !strings.Contains(text, tokenFile) {
				t.Errorf("the description does not name the token file %s:\n%s", tokenFile, text)
			}
			if strings.Contains(text, postToken) {
				t.Error("the description contains the token itself")
			}
		})
	}
}

func TestSubmitChecksDelivery(t *testing.T) {
	dir := t.TempDir()
	config := submittest.WriteStudy(t, dir, submittest.Study{Epochs: 2, Widths: []int{4}})
	bin := filepath.Join(dir, "mosaic-job")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	short := filepath.Join(dir, "short-token")
	os.WriteFile(short, []byte("abc\n"), 0o600)

	cases := map[string]struct {
		url, token, want string
	}{
		"token without url": {"", short, "without --post-url"},
		"bad url":           {"submit-host:8470", "", "--post-url"},
		"short token":       {"http://submit-host:8470", short, "at least 16"},
		"missing token":     {"http://submit-host:8470", filepath.Join(dir, "none"), "read token file"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := submit.Submit(context.Background(), submit.Options{
				Config: config, Out: filepath.Join(dir, "study"), Backend: &slurm.Backend{Run: (&fakeSlurm{}).run},
				JobBinary: bin, PostURL: tc.url, TokenFile: tc.token, DryRun: true,
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

package submit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/submit/layout"
)

// UncollectedRuns returns the runs whose result file is in the study's
// results folder but whose result the database does not store yet, given
// the database's run statuses (nil when there is no database). A run is
// uncollected when the database does not hold it, holds it as running, or
// holds it as failed or timeout while its file records another status, as
// after a resubmitted run ends. A file that cannot be decoded counts as
// uncollected, so that `mosaic collect` reports why it rejects it. A
// missing results folder gives no runs.
func UncollectedRuns(p layout.Paths, stored map[string]result.Status) (map[string]bool, error) {
	entries, err := os.ReadDir(p.Results())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list result files in %s: %w", p.Results(), err)
	}

	uncollected := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		// Hidden files are the temporary files of jobs still writing.
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		id := strings.TrimSuffix(name, ".json")
		switch st, ok := stored[id]; {
		case !ok || st == result.StatusRunning:
			uncollected[id] = true
		case st == result.StatusFailed || st == result.StatusTimeout:
			if fileStatus(p.Result(id)) != st {
				uncollected[id] = true
			}
		}
	}
	return uncollected, nil
}

// fileStatus returns the status recorded in the result file at path, or ""
// when the file cannot be read or decoded.
func fileStatus(path string) result.Status {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var doc struct {
		Status result.Status `json:"status"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return ""
	}
	return doc.Status
}

package devserver

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/server/common/dynamicconfig"
)

// TestVisibilityPath: a new data dir keeps visibility records in a file of
// their own; one made before that keeps them in temporal.db, where they are.
func TestVisibilityPath(t *testing.T) {
	for _, tc := range []struct {
		name   string
		exists []string
		want   string
	}{
		{"new data dir", nil, VisibilityDBFile},
		{"first start cut off after the visibility file", []string{VisibilityDBFile}, VisibilityDBFile},
		{"both files", []string{DBFile, VisibilityDBFile}, VisibilityDBFile},
		{"data dir of an earlier version", []string{DBFile}, DBFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.exists {
				if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := visibilityPath(filepath.Join(dir, DBFile), filepath.Join(dir, VisibilityDBFile))
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, tc.want); got != want {
				t.Errorf("visibilityPath = %s, want %s", got, want)
			}
		})
	}
}

// TestSearchAttributeReadThrough: the services read search attributes from
// the database until stopReadThrough, then through their caches; every
// other setting is dynamicConfig's.
func TestSearchAttributeReadThrough(t *testing.T) {
	dc := newServerDynamicConfig()
	if got := dc.GetValue(readThroughKey); len(got) != 1 || got[0].Value != true {
		t.Fatalf("at start the read-through is %v, want on", got)
	}
	partitions := dynamicconfig.MatchingNumTaskqueueReadPartitions.Key()
	if got := dc.GetValue(partitions); len(got) != 1 || got[0].Value != 1 {
		t.Errorf("%s = %v, want dynamicConfig's 1", partitions, got)
	}
	timer := dc.stopReadThrough(time.Hour)
	if got := dc.GetValue(readThroughKey); len(got) != 1 {
		t.Errorf("read-through off before its time: %v", got)
	}
	timer.Stop()
	if timer := dc.stopReadThrough(0); timer != nil {
		t.Errorf("stopReadThrough(0) returned a timer")
	}
	if got := dc.GetValue(readThroughKey); got != nil {
		t.Errorf("after stopReadThrough(0) the read-through is %v, want Temporal's default (cached)", got)
	}
}

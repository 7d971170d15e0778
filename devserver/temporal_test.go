package devserver

import (
	"os"
	"path/filepath"
	"testing"
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

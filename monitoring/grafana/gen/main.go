// Command gen writes ticketd's Grafana dashboards (JSON) and their panel
// list (PANELS.md) from the definitions in monitoring/grafana:
//
//	go run ./monitoring/grafana/gen -out monitoring/grafana/dashboards
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ticketd/ticketd/monitoring/grafana"
)

func main() {
	out := flag.String("out", "monitoring/grafana/dashboards", "directory to write the dashboards to")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	specs := grafana.Specs()
	for _, s := range specs {
		b, err := grafana.Render(s)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, s.File), b, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "PANELS.md"), []byte(grafana.PanelsMarkdown(specs)), 0o644)
}

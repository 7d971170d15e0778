package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestAlertsHaveRunbooks checks what promtool does not: every alert has a
// severity the paging setup knows, a summary and description, and a
// runbook_url whose anchor is a section of monitoring/RUNBOOK.md that says
// what it means, what to check and how to mitigate; and every runbook
// section belongs to an alert.
func TestAlertsHaveRunbooks(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "monitoring", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatal(err)
	}
	rb, err := os.ReadFile(filepath.Join(root, "monitoring", "RUNBOOK.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{} // anchor -> body
	var cur string
	for _, line := range strings.Split(string(rb), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			cur = anchor(h)
			sections[cur] = ""
			continue
		}
		if cur != "" {
			sections[cur] += line + "\n"
		}
	}
	const prefix = "https://github.com/ticketd/ticketd/blob/main/monitoring/RUNBOOK.md#"
	alerts := 0
	used := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
			}
			for _, k := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[k]) == "" {
					t.Errorf("%s: no %s", r.Alert, k)
				}
			}
			a, ok := strings.CutPrefix(r.Annotations["runbook_url"], prefix)
			if !ok {
				t.Errorf("%s: runbook_url %q does not point into monitoring/RUNBOOK.md", r.Alert, r.Annotations["runbook_url"])
				continue
			}
			body, ok := sections[a]
			if !ok {
				t.Errorf("%s: RUNBOOK.md has no section #%s", r.Alert, a)
				continue
			}
			used[a] = true
			for _, part := range []string{"**Means.**", "**Check.**", "**Mitigate.**"} {
				if !strings.Contains(body, part) {
					t.Errorf("RUNBOOK.md #%s lacks %s", a, part)
				}
			}
		}
	}
	if alerts < 12 {
		t.Errorf("only %d alerts in alerts.yml", alerts)
	}
	for a := range sections {
		if !used[a] {
			t.Errorf("RUNBOOK.md section #%s belongs to no alert", a)
		}
	}
}

// anchor is GitHub's heading anchor: lower case, spaces to dashes,
// punctuation dropped.
func anchor(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	h = regexp.MustCompile(`[^a-z0-9 _-]`).ReplaceAllString(h, "")
	return strings.ReplaceAll(h, " ", "-")
}

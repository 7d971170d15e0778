package deploy

import (
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	tconfig "go.temporal.io/server/common/config"
	"gopkg.in/yaml.v3"
)

// root is the repository root, where docker-compose.yml and .env live.
const root = ".."

// loadProject loads docker-compose.yml as `docker compose` would, with .env
// and nothing from this process's environment, validating it against the
// compose specification's schema.
func loadProject(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithName("ticketd"),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	return s
}

func env(s types.ServiceConfig, key string) string {
	if v, ok := s.Environment[key]; ok && v != nil {
		return *v
	}
	return ""
}

func TestComposeServices(t *testing.T) {
	p := loadProject(t)
	want := []string{"api", "grafana", "migrate", "postgres", "prometheus", "temporal",
		"temporal-namespace", "temporal-schema", "temporal-ui", "worker"}
	got := p.ServiceNames()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("services %v, want %v", got, want)
	}
}

// Every variable the compose file uses has a default in .env, so a fresh
// clone runs with `docker compose up` alone.
func TestComposeVariablesHaveDefaults(t *testing.T) {
	compose, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dotenv, err := os.ReadFile(filepath.Join(root, ".env"))
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	for _, line := range strings.Split(string(dotenv), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
			if strings.TrimSpace(v) == "" {
				t.Errorf(".env: %s has no value", k)
			}
			defined[k] = true
		}
	}
	// ${VAR} is the compose file's; $${VAR} and $$VAR are the container's.
	ref := regexp.MustCompile(`(^|[^$])\$\{([A-Z0-9_]+)`)
	used := map[string]bool{}
	for _, m := range ref.FindAllStringSubmatch(string(compose), -1) {
		used[m[2]] = true
		if !defined[m[2]] {
			t.Errorf("docker-compose.yml uses ${%s}, which .env does not define", m[2])
		}
	}
	if len(used) < 10 {
		t.Fatalf("found only %d variables in docker-compose.yml; is the pattern right?", len(used))
	}
}

var pinned = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]*:([A-Za-z0-9._-]+)$`)

func TestComposeImagesPinned(t *testing.T) {
	p := loadProject(t)
	for _, s := range p.Services {
		m := pinned.FindStringSubmatch(s.Image)
		if m == nil {
			t.Errorf("%s: image %q has no tag", s.Name, s.Image)
			continue
		}
		tag := m[1]
		if tag == "latest" || !strings.ContainsAny(tag, "0123456789") {
			t.Errorf("%s: image %q is not pinned to a version", s.Name, s.Image)
		}
	}
	for name, re := range map[string]string{
		"postgres":           `^postgres:16\.\d+$`, // PostgreSQL 16, minor pinned
		"temporal":           `^temporalio/server:\d+\.\d+\.\d+$`,
		"temporal-schema":    `^temporalio/admin-tools:\d+\.\d+\.\d+`,
		"temporal-namespace": `^temporalio/admin-tools:\d+\.\d+\.\d+`,
		"temporal-ui":        `^temporalio/ui:\d+\.\d+\.\d+$`,
		"prometheus":         `^prom/prometheus:v\d+\.\d+\.\d+$`,
		"grafana":            `^grafana/grafana:1[2-9]\.\d+\.\d+$`, // the dashboards need Grafana >= 12.2
	} {
		if img := service(t, p, name).Image; !regexp.MustCompile(re).MatchString(img) {
			t.Errorf("%s: image %q does not match %s", name, img, re)
		}
	}
	if img := service(t, p, "temporal").Image; strings.Contains(img, "auto-setup") {
		t.Errorf("temporal uses the deprecated auto-setup image %q", img)
	}
	// api, worker and migrate are one image built from the Dockerfile.
	api := service(t, p, "api")
	for _, n := range []string{"worker", "migrate"} {
		s := service(t, p, n)
		if s.Image != api.Image || s.Build == nil {
			t.Errorf("%s: image %q (built: %v), want %q built from the Dockerfile", n, s.Image, s.Build != nil, api.Image)
		}
	}
}

func TestComposeDependencies(t *testing.T) {
	p := loadProject(t)
	want := map[string]map[string]string{
		"temporal-schema":    {"postgres": types.ServiceConditionHealthy},
		"temporal":           {"temporal-schema": types.ServiceConditionCompletedSuccessfully},
		"temporal-namespace": {"temporal": types.ServiceConditionHealthy},
		"temporal-ui":        {"temporal": types.ServiceConditionHealthy},
		"migrate":            {"postgres": types.ServiceConditionHealthy},
		"api": {"migrate": types.ServiceConditionCompletedSuccessfully,
			"temporal-namespace": types.ServiceConditionCompletedSuccessfully},
		"worker": {"migrate": types.ServiceConditionCompletedSuccessfully,
			"temporal-namespace": types.ServiceConditionCompletedSuccessfully},
		"grafana": {"prometheus": types.ServiceConditionHealthy},
	}
	for _, s := range p.Services {
		got := map[string]string{}
		for dep, d := range s.DependsOn {
			got[dep] = d.Condition
		}
		w := want[s.Name]
		if w == nil {
			w = map[string]string{}
		}
		for dep, cond := range w {
			if got[dep] != cond {
				t.Errorf("%s depends on %s with condition %q, want %q", s.Name, dep, got[dep], cond)
			}
		}
		for dep, cond := range got {
			if _, ok := w[dep]; !ok {
				t.Errorf("%s: unexpected dependency on %s (%s)", s.Name, dep, cond)
			}
			target := service(t, p, dep)
			switch cond {
			case types.ServiceConditionHealthy:
				if target.HealthCheck == nil || target.HealthCheck.Disable || len(target.HealthCheck.Test) == 0 {
					t.Errorf("%s waits for %s to be healthy, but %s has no healthcheck", s.Name, dep, dep)
				}
			case types.ServiceConditionCompletedSuccessfully:
				if target.Restart != "no" {
					t.Errorf("%s waits for the job %s to complete, but its restart policy is %q", s.Name, dep, target.Restart)
				}
			}
		}
	}
}

func TestComposeHealthchecks(t *testing.T) {
	p := loadProject(t)
	for _, n := range []string{"postgres", "temporal", "prometheus", "grafana"} {
		hc := service(t, p, n).HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) < 2 || hc.Interval == nil || hc.Retries == nil {
			t.Errorf("%s: want a healthcheck with a test, an interval and retries, got %+v", n, hc)
			continue
		}
		if kind := hc.Test[0]; kind != "CMD" && kind != "CMD-SHELL" {
			t.Errorf("%s: healthcheck test starts with %q", n, kind)
		}
	}
	if got := strings.Join(service(t, p, "postgres").HealthCheck.Test, " "); !strings.Contains(got, "pg_isready") {
		t.Errorf("postgres healthcheck %q does not use pg_isready", got)
	}
}

func TestComposePorts(t *testing.T) {
	p := loadProject(t)
	published := map[string]string{}
	for _, s := range p.Services {
		if s.ContainerName != "" {
			t.Errorf("%s: container_name %q stops it from scaling and clashes between stacks", s.Name, s.ContainerName)
		}
		for _, port := range s.Ports {
			if port.Published == "" {
				continue
			}
			if _, err := strconv.Atoi(port.Published); err != nil {
				t.Errorf("%s: published port %q is not a number", s.Name, port.Published)
			}
			key := port.HostIP + ":" + port.Published
			if other, dup := published[key]; dup {
				t.Errorf("%s and %s both publish %s", s.Name, other, key)
			}
			published[key] = s.Name
		}
	}
	// The worker scales with --scale: no host port.
	if ports := service(t, p, "worker").Ports; len(ports) != 0 {
		t.Errorf("worker publishes %v; replicas would clash", ports)
	}
	for name, target := range map[string]uint32{"api": 8080, "temporal-ui": 8080, "grafana": 3000, "prometheus": 9090, "temporal": 7233} {
		s := service(t, p, name)
		if !slices.ContainsFunc(s.Ports, func(pc types.ServicePortConfig) bool { return pc.Target == target && pc.Published != "" }) {
			t.Errorf("%s: container port %d is not published (%v)", name, target, s.Ports)
		}
	}
	// Everything but the API stays on loopback.
	for _, s := range p.Services {
		for _, port := range s.Ports {
			if s.Name != "api" && port.HostIP != "127.0.0.1" {
				t.Errorf("%s: publishes %s on %q, want loopback", s.Name, port.Published, port.HostIP)
			}
		}
	}
	// The ports the processes listen on are the ones published and scraped.
	if got := env(service(t, p, "api"), "HTTP_ADDR"); got != "0.0.0.0:8080" {
		t.Errorf("api HTTP_ADDR %q, want 0.0.0.0:8080", got)
	}
	if got := env(service(t, p, "worker"), "METRICS_ADDR"); got != "0.0.0.0:9091" {
		t.Errorf("worker METRICS_ADDR %q, want 0.0.0.0:9091", got)
	}
}

// ticketd's processes reach the database and Temporal by service name.
func TestComposeTicketdEnvironment(t *testing.T) {
	p := loadProject(t)
	pg := service(t, p, "postgres")
	for _, n := range []string{"migrate", "api", "worker"} {
		s := service(t, p, n)
		u, err := url.Parse(env(s, "DATABASE_URL"))
		if err != nil {
			t.Fatalf("%s DATABASE_URL: %v", n, err)
		}
		pw, _ := u.User.Password()
		if u.Scheme != "postgres" || u.Hostname() != "postgres" || u.Port() != "5432" ||
			u.User.Username() != env(pg, "POSTGRES_USER") || pw != env(pg, "POSTGRES_PASSWORD") ||
			strings.TrimPrefix(u.Path, "/") != env(pg, "POSTGRES_DB") {
			t.Errorf("%s: DATABASE_URL %s does not match the postgres service", n, u.Redacted())
		}
		host, port, err := net.SplitHostPort(env(s, "TEMPORAL_ADDRESS"))
		if err != nil || host != "temporal" || port != "7233" {
			t.Errorf("%s: TEMPORAL_ADDRESS %q, want temporal:7233", n, env(s, "TEMPORAL_ADDRESS"))
		}
		if len(env(s, "TICKETD_JWT_SECRET")) < 32 {
			t.Errorf("%s: TICKETD_JWT_SECRET shorter than 32 characters", n)
		}
		if env(s, "TEMPORAL_NAMESPACE") != env(service(t, p, "temporal-namespace"), "TEMPORAL_NAMESPACE") {
			t.Errorf("%s: namespace differs from the one the namespace job creates", n)
		}
	}
	for n, cmd := range map[string][]string{"migrate": {"migrate", "up"}, "api": {"serve"}, "worker": {"worker"}} {
		if got := service(t, p, n).Command; !slices.Equal(got, cmd) {
			t.Errorf("%s: command %v, want %v", n, got, cmd)
		}
	}
}

// The Temporal server's environment, rendered by the server's own embedded
// configuration template, points at the databases the schema job creates
// and serves metrics where Prometheus scrapes them.
func TestComposeTemporalServerConfig(t *testing.T) {
	p := loadProject(t)
	srv := service(t, p, "temporal")
	for k, v := range srv.Environment {
		if v != nil {
			t.Setenv(k, *v)
		}
	}
	cfg, err := tconfig.Load(tconfig.WithEmbedded())
	if err != nil {
		t.Fatalf("render the server configuration: %v", err)
	}
	job := service(t, p, "temporal-schema")
	for store, db := range map[string]string{
		cfg.Persistence.DefaultStore:    env(job, "TEMPORAL_DB"),
		cfg.Persistence.VisibilityStore: env(job, "TEMPORAL_VISIBILITY_DB"),
	} {
		ds, ok := cfg.Persistence.DataStores[store]
		if !ok || ds.SQL == nil {
			t.Fatalf("store %q is not SQL: %+v", store, cfg.Persistence.DataStores)
		}
		if ds.SQL.PluginName != env(job, "SQL_PLUGIN") || ds.SQL.ConnectAddr != env(job, "SQL_HOST")+":"+env(job, "SQL_PORT") ||
			ds.SQL.DatabaseName != db || ds.SQL.User != env(job, "SQL_USER") {
			t.Errorf("store %s: plugin %s at %s db %s user %s; the schema job prepares %s at %s:%s db %s user %s",
				store, ds.SQL.PluginName, ds.SQL.ConnectAddr, ds.SQL.DatabaseName, ds.SQL.User,
				env(job, "SQL_PLUGIN"), env(job, "SQL_HOST"), env(job, "SQL_PORT"), db, env(job, "SQL_USER"))
		}
	}
	if cfg.Global.Metrics == nil || cfg.Global.Metrics.Prometheus == nil {
		t.Fatal("server metrics are off (PROMETHEUS_ENDPOINT)")
	}
	_, port, _ := net.SplitHostPort(cfg.Global.Metrics.Prometheus.ListenAddress)
	if scraped := scrapeTargets(t)["temporal"]; !slices.Contains(scraped, "temporal:"+port) {
		t.Errorf("server metrics on port %s; Prometheus scrapes %v", port, scraped)
	}
	if got := cfg.DynamicConfigClient.Filepath; !slices.ContainsFunc(srv.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Target == got && strings.HasSuffix(v.Source, filepath.Join("deploy", "temporal", "dynamicconfig.yaml"))
	}) {
		t.Errorf("dynamic config %s is not mounted from deploy/temporal/dynamicconfig.yaml", got)
	}
	var dc map[string][]map[string]any
	b, err := os.ReadFile("temporal/dynamicconfig.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &dc); err != nil || len(dc) == 0 {
		t.Fatalf("temporal/dynamicconfig.yaml: %v (%d keys)", err, len(dc))
	}
	if v := dc["frontend.enableUpdateWorkflowExecution"]; len(v) != 1 || v[0]["value"] != true {
		t.Errorf("Workflow Updates (ticketd's write path) are not enabled: %v", v)
	}
}

// promConfig is the part of prometheus.yml the stack depends on.
type promConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
		DNSSDConfigs []struct {
			Names []string `yaml:"names"`
			Type  string   `yaml:"type"`
			Port  int      `yaml:"port"`
		} `yaml:"dns_sd_configs"`
	} `yaml:"scrape_configs"`
}

func readPromConfig(t *testing.T) promConfig {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "monitoring", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c promConfig
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// scrapeTargets is host:port per job, DNS service discovery included.
func scrapeTargets(t *testing.T) map[string][]string {
	out := map[string][]string{}
	for _, sc := range readPromConfig(t).ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			out[sc.JobName] = append(out[sc.JobName], st.Targets...)
		}
		for _, d := range sc.DNSSDConfigs {
			for _, n := range d.Names {
				out[sc.JobName] = append(out[sc.JobName], n+":"+strconv.Itoa(d.Port))
			}
		}
	}
	return out
}

// Prometheus scrapes the compose services by name, on the ports they serve
// metrics on, under the job names the alert rules use.
func TestPrometheusTargetsMatchServices(t *testing.T) {
	p := loadProject(t)
	want := map[string]string{
		"ticketd-api":    "api:8080",
		"ticketd-worker": "worker:9091",
		"temporal":       "temporal:9090",
	}
	got := scrapeTargets(t)
	if len(got) != len(want) {
		t.Errorf("scrape jobs %v, want %v", got, want)
	}
	for job, target := range want {
		if !slices.Equal(got[job], []string{target}) {
			t.Errorf("job %s scrapes %v, want [%s]", job, got[job], target)
		}
	}
	for job, targets := range got {
		for _, tg := range targets {
			host, _, err := net.SplitHostPort(tg)
			if err != nil {
				t.Errorf("job %s: target %q: %v", job, tg, err)
				continue
			}
			if _, err := p.GetService(host); err != nil {
				t.Errorf("job %s scrapes %s, which is not a compose service", job, tg)
			}
		}
	}
	// The workers scale: discover every replica, don't pin one address.
	for _, sc := range readPromConfig(t).ScrapeConfigs {
		if sc.JobName == "ticketd-worker" && (len(sc.DNSSDConfigs) != 1 || sc.DNSSDConfigs[0].Type != "A") {
			t.Errorf("ticketd-worker: want one A-record dns_sd_config so every replica is scraped")
		}
	}
	// Rule files sit next to prometheus.yml, in the directory compose mounts.
	prom := service(t, p, "prometheus")
	if !slices.ContainsFunc(prom.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Target == "/etc/prometheus" && strings.HasSuffix(v.Source, filepath.Join("monitoring", "prometheus"))
	}) {
		t.Errorf("prometheus does not mount monitoring/prometheus at /etc/prometheus: %+v", prom.Volumes)
	}
	for _, rf := range readPromConfig(t).RuleFiles {
		if _, err := os.Stat(filepath.Join(root, "monitoring", "prometheus", rf)); err != nil {
			t.Errorf("rule file %s: %v", rf, err)
		}
	}
}

// Grafana gets the provisioning directory and the generated dashboards where
// the file provider looks for them.
func TestComposeGrafanaMounts(t *testing.T) {
	p := loadProject(t)
	g := service(t, p, "grafana")
	var prov struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	b, err := os.ReadFile(filepath.Join(root, "monitoring", "grafana", "provisioning", "dashboards", "ticketd.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &prov); err != nil || len(prov.Providers) != 1 {
		t.Fatalf("dashboard provider: %v %+v", err, prov)
	}
	mounts := map[string]string{}
	for _, v := range g.Volumes {
		mounts[v.Target] = v.Source
	}
	for target, src := range map[string]string{
		"/etc/grafana/provisioning":    filepath.Join("monitoring", "grafana", "provisioning"),
		prov.Providers[0].Options.Path: filepath.Join("monitoring", "grafana", "dashboards"),
	} {
		if !strings.HasSuffix(mounts[target], src) {
			t.Errorf("grafana: %s is mounted from %q, want %s", target, mounts[target], src)
		}
	}
	home := env(g, "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
	rel, err := filepath.Rel(prov.Providers[0].Options.Path, home)
	if err != nil || strings.HasPrefix(rel, "..") {
		t.Fatalf("home dashboard %s is outside the provider path", home)
	}
	if _, err := os.Stat(filepath.Join(root, "monitoring", "grafana", "dashboards", rel)); err != nil {
		t.Errorf("home dashboard: %v", err)
	}
}

// The image is built static, without the dev server, and runs as non-root.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "-tags nodev", "./cmd/ticketd", `ENTRYPOINT ["/ticketd"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, found FROM %v", froms)
	}
	if final := froms[len(froms)-1][1]; final != "scratch" && !strings.HasPrefix(final, "gcr.io/distroless/static") {
		t.Errorf("final stage %s is not scratch or distroless static", final)
	}
	for _, f := range froms[:len(froms)-1] {
		if !pinned.MatchString(f[1]) || strings.HasSuffix(f[1], ":latest") {
			t.Errorf("build stage image %s is not pinned", f[1])
		}
	}
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(users) == 0 {
		t.Fatal("Dockerfile sets no USER")
	}
	if u := users[len(users)-1][1]; u == "root" || u == "0" || strings.HasPrefix(u, "0:") {
		t.Errorf("runs as %s", u)
	}
}

// -tags nodev leaves the embedded Temporal server and its Web UI out of the
// binary, and `ticketd dev` then says so.
func TestNodevBuildLeavesDevServerOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list and go run")
	}
	out, err := exec.Command("go", "list", "-tags", "nodev", "-deps", "../cmd/ticketd").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "go.temporal.io/sdk/client") {
		t.Fatalf("go list -deps output looks wrong: %d packages", len(deps))
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "go.temporal.io/server/") || strings.HasPrefix(d, "github.com/temporalio/ui-server/") ||
			d == "github.com/ticketd/ticketd/devserver" {
			t.Errorf("the nodev build still links %s", d)
		}
	}
	full, err := exec.Command("go", "list", "-deps", "../cmd/ticketd").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, full)
	}
	if !slices.Contains(strings.Fields(string(full)), "github.com/ticketd/ticketd/devserver") {
		t.Error("the default build does not link the dev server")
	}

	bin := filepath.Join(t.TempDir(), "ticketd")
	if out, err := exec.Command("go", "build", "-tags", "nodev", "-o", bin, "../cmd/ticketd").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags nodev: %v\n%s", err, out)
	}
	if fi, err := os.Stat(bin); err == nil {
		t.Logf("nodev binary: %.1f MB", float64(fi.Size())/1e6)
	}
	out, err = exec.Command(bin, "dev").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "built with -tags nodev") {
		t.Errorf("ticketd dev in a nodev build: err %v, output %q; want a failure naming the nodev tag", err, out)
	}
	if out, err := exec.Command(bin, "help").CombinedOutput(); err != nil || !strings.Contains(string(out), "ticketd serve") {
		t.Errorf("ticketd help in a nodev build: %v %q", err, out)
	}
}

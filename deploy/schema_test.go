package deploy

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/blang/semver/v4"
	"github.com/mattn/go-shellwords"
	dbschemas "go.temporal.io/server/schema"
	"go.temporal.io/server/tools/sql"
	"gorm.io/gorm"

	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
)

// sqlToolEnv makes the test binary act as temporal-sql-tool: the schema
// job's commands run in a child process, as in the container, with their
// own exit status (the tool exits the process on failure).
const sqlToolEnv = "TICKETD_TEST_RUN_TEMPORAL_SQL_TOOL"

func TestMain(m *testing.M) {
	if os.Getenv(sqlToolEnv) == "1" {
		if err := sql.RunTool(os.Args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestTemporalSchemaJob runs the temporal-schema service's script, line by
// line with its exact arguments, through Temporal's SQL tool
// (go.temporal.io/server/tools/sql, the code of temporal-sql-tool) against
// the local PostgreSQL, into two fresh databases, twice (the job runs on
// every `docker compose up`). Both stores end at the newest schema version
// the server embeds, with their tables.
func TestTemporalSchemaJob(t *testing.T) {
	p := loadProject(t)
	job := service(t, p, "temporal-schema")
	if !slices.Equal(job.Entrypoint, []string{"/bin/sh", "-euc"}) || len(job.Command) != 1 {
		t.Fatalf("temporal-schema: want entrypoint [/bin/sh -euc] and a one-string script, got %q %q", job.Entrypoint, job.Command)
	}
	var lines []string
	for _, l := range strings.Split(job.Command[0], "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}

	base, err := url.Parse(testenv.BaseDSN())
	if err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	dbs := map[string]string{
		"TEMPORAL_DB":            "ticketd_tschema_" + hex.EncodeToString(suffix),
		"TEMPORAL_VISIBILITY_DB": "ticketd_tschema_" + hex.EncodeToString(suffix) + "_vis",
	}
	admin, err := models.Open(base.String(), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, testenv.HowToGetPostgres)
	}
	t.Cleanup(func() {
		for _, db := range dbs {
			if err := admin.Exec("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)").Error; err != nil {
				t.Errorf("drop %s: %v", db, err)
			}
		}
		if s, err := admin.DB(); err == nil {
			_ = s.Close()
		}
	})

	// The job's environment, with the database server and names of this
	// test in place of the stack's.
	jobEnv := map[string]string{}
	for k, v := range job.Environment {
		if v != nil {
			jobEnv[k] = *v
		}
	}
	if jobEnv["SQL_PLUGIN"] != "postgres12" {
		t.Fatalf("SQL_PLUGIN %q, want postgres12", jobEnv["SQL_PLUGIN"])
	}
	pw, _ := base.User.Password()
	port := base.Port()
	if port == "" {
		port = "5432"
	}
	for k, v := range map[string]string{"SQL_HOST": base.Hostname(), "SQL_PORT": port,
		"SQL_USER": base.User.Username(), "SQL_PASSWORD": pw} {
		jobEnv[k] = v
	}
	for k, v := range dbs {
		jobEnv[k] = v
	}

	var steps []string
	for run := 1; run <= 2; run++ {
		for _, line := range lines {
			args, err := shellwords.Parse(os.Expand(line, func(k string) string { return jobEnv[k] }))
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			if len(args) < 2 || args[0] != "temporal-sql-tool" {
				t.Fatalf("job line %q does not run temporal-sql-tool", line)
			}
			if run == 1 {
				steps = append(steps, args[len(args)-1])
			}
			cmd := exec.Command(os.Args[0], args[1:]...)
			cmd.Env = append(os.Environ(), sqlToolEnv+"=1")
			for k, v := range jobEnv {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("run %d: temporal-sql-tool %s: %v\n%s", run, strings.Join(args[1:], " "), err, out)
			}
		}
	}
	// create, setup and update for each store
	for _, verb := range []string{"create", "0.0", "postgresql/v12/temporal", "postgresql/v12/visibility"} {
		if !slices.Contains(steps, verb) {
			t.Errorf("the job never runs a step ending in %q: %v", verb, steps)
		}
	}

	for key, schema := range map[string]string{"TEMPORAL_DB": "postgresql/v12/temporal", "TEMPORAL_VISIBILITY_DB": "postgresql/v12/visibility"} {
		name := dbs[key]
		u := *base
		u.Path = "/" + name
		db, err := models.Open(u.String(), nil)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		checkSchema(t, db, name, schema)
		if s, err := db.DB(); err == nil {
			_ = s.Close()
		}
	}
}

// checkSchema finds the version tables at the newest embedded version, the
// history of every update, and the store's main table.
func checkSchema(t *testing.T, db *gorm.DB, name, schema string) {
	t.Helper()
	want := newestVersion(t, schema)
	var cur string
	if err := db.Raw("SELECT curr_version FROM schema_version WHERE version_partition = 0 AND db_name = ?", name).Scan(&cur).Error; err != nil {
		t.Fatalf("%s: schema_version: %v", name, err)
	}
	if cur != want {
		t.Errorf("%s: schema version %q, want the newest embedded %q", name, cur, want)
	}
	var updates int64
	if err := db.Raw("SELECT count(*) FROM schema_update_history").Scan(&updates).Error; err != nil || updates < 2 {
		t.Errorf("%s: schema_update_history has %d rows (%v), want the initial version and the updates", name, updates, err)
	}
	table := "executions"
	if strings.HasSuffix(schema, "visibility") {
		table = "executions_visibility"
	}
	var n int64
	if err := db.Raw("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = ?", table).Scan(&n).Error; err != nil || n != 1 {
		t.Errorf("%s: table %s missing (%v)", name, table, err)
	}
	t.Logf("%s (%s): version %s, %d schema updates recorded", name, schema, cur, updates)
}

func newestVersion(t *testing.T, schema string) string {
	t.Helper()
	entries, err := fs.ReadDir(dbschemas.Assets(), path.Join(schema, "versioned"))
	if err != nil {
		t.Fatal(err)
	}
	var newest semver.Version
	var name string
	for _, e := range entries {
		v, err := semver.ParseTolerant(strings.TrimPrefix(e.Name(), "v"))
		if err != nil {
			continue
		}
		if name == "" || v.GT(newest) {
			newest, name = v, strings.TrimPrefix(e.Name(), "v")
		}
	}
	if name == "" {
		t.Fatalf("no versions embedded under %s", schema)
	}
	return name
}

package devserver

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const (
	clusterName         = "active"
	storeName           = "sqlite-default"
	visibilityStoreName = "sqlite-visibility"
)

// servicePorts are the gRPC ports of the four Temporal services and the
// frontend's HTTP API, all on ip.
type servicePorts struct {
	ip                                  string
	frontend, history, matching, worker int
	frontendHTTP                        int
}

func (p servicePorts) addr(port int) string {
	return net.JoinHostPort(p.ip, strconv.Itoa(port))
}

// sqliteConfig is a SQLite store of the embedded server: Temporal's state,
// or its visibility records (see visibilityPath).
func sqliteConfig(dbPath string) *config.SQL {
	return &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: dbPath,
		// rwc: open read-write, create the file if missing. WAL with
		// synchronous=NORMAL makes a commit one append instead of two
		// fsyncs of a rollback journal: writes through the embedded server
		// get several times faster, and a crash of the process loses
		// nothing committed (only an OS crash or power loss could).
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "1", "busy_timeout": "10000"},
	}
}

// visibilityPath is the SQLite file for visibility records: their own file
// (vis), or db for a data dir made before they had one, whose records are
// there. A file of its own has its own connection: the history service
// writes a visibility record after every change of search attributes (each
// ticket status change), and the SQLite plugin parses that wide REPLACE
// statement anew each time; on the shared connection every workflow task
// waited behind it.
//
// A new data dir gets vis before db, so that a first start cut off between
// the two still finds a new layout on the next start.
func visibilityPath(db, vis string) (string, error) {
	for _, f := range []string{vis, db} {
		_, err := os.Stat(f)
		switch {
		case err == nil && f == vis:
			return vis, nil
		case err == nil:
			return db, nil // an earlier layout: one file
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("check database file: %w", err)
		}
	}
	return vis, nil
}

// ensureSchema creates Temporal's tables on the first start and leaves an
// existing database alone on later ones. A marker file that exists only while
// the schema is being written lets a start after an interrupted first start
// (crash, Ctrl-C) begin again instead of running on a half-built database.
//
// SetupSchema opens the database through the SQLite plugin's process-wide
// connection pool with the same settings the server uses, so the server
// later reuses that very connection.
func ensureSchema(sqlCfg *config.SQL, dbPath string) error {
	marker := dbPath + ".setup"
	_, err := os.Stat(dbPath)
	switch {
	case err == nil:
		if _, err := os.Stat(marker); errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return fmt.Errorf("check schema setup marker: %w", err)
		}
		for _, f := range []string{dbPath, dbPath + "-journal", dbPath + "-wal", dbPath + "-shm"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove half-built database: %w", err)
			}
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("check database file: %w", err)
	}

	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		return fmt.Errorf("write schema setup marker: %w", err)
	}
	if err := sqliteschema.SetupSchema(sqlCfg); err != nil {
		return fmt.Errorf("create temporal schema in %s: %w", dbPath, err)
	}
	if err := os.Remove(marker); err != nil {
		return fmt.Errorf("remove schema setup marker: %w", err)
	}
	return nil
}

// serverConfig is the static configuration of a single-node cluster with all
// services in this process, bound to loopback.
func serverConfig(ports servicePorts, sqlCfg, visCfg *config.SQL) *config.Config {
	frontend := ports.addr(ports.frontend)
	service := func(port int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: port, BindOnIP: ports.ip}}
	}

	frontendService := service(ports.frontend)
	// The HTTP API (and with it Nexus) is on in the Temporal CLI's dev
	// server too; without it the frontend warns on every start.
	frontendService.RPC.HTTPPort = ports.frontendHTTP

	var c config.Config
	c.Global.Membership.BroadcastAddress = ports.ip
	c.Persistence = config.Persistence{
		DefaultStore:     storeName,
		VisibilityStore:  storeName,
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{storeName: {SQL: sqlCfg}},
	}
	if visCfg.DatabaseName != sqlCfg.DatabaseName {
		c.Persistence.VisibilityStore = visibilityStoreName
		c.Persistence.DataStores[visibilityStoreName] = config.DataStore{SQL: visCfg}
	}
	c.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontend,
				HTTPAddress:            ports.addr(ports.frontendHTTP),
				// ClusterID is left empty: the first start generates one and
				// stores it in the database, later starts read it back.
			},
		},
	}
	c.DCRedirectionPolicy.Policy = "noop"
	c.Services = map[string]config.Service{
		string(primitives.FrontendService): frontendService,
		string(primitives.HistoryService):  service(ports.history),
		string(primitives.MatchingService): service(ports.matching),
		string(primitives.WorkerService):   service(ports.worker),
	}
	c.Archival.History.State = "disabled"
	c.Archival.Visibility.State = "disabled"
	c.NamespaceDefaults.Archival.History.State = "disabled"
	c.NamespaceDefaults.Archival.Visibility.State = "disabled"
	// The system workers (scheduler, batcher, …) reach the frontend here.
	c.PublicClient.HostPort = frontend
	return &c
}

// dynamicConfig holds the settings that differ from Temporal's defaults for a
// quick local loop; they mirror what the Temporal CLI dev server sets.
func dynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		// Set to Temporal's default, which cachesCaughtUp depends on.
		dynamicconfig.NamespaceCacheRefreshInterval.Key(): namespaceRefresh,
		// Nexus endpoints registered a moment ago are usable at once instead
		// of after the cache refresh (ticketd registers none).
		dynamicconfig.ForceNexusEndpointRefreshOnRead.Key(): true,
		// Reading past caches (that, and search attributes until they are in
		// every cache) means more reads; raise the persistence rate limits in
		// the same ratio as the defaults so nothing throttles.
		dynamicconfig.FrontendPersistenceMaxQPS.Key(): 10000,
		dynamicconfig.HistoryPersistenceMaxQPS.Key():  45000,
		// The Web UI issues many list/count calls; the default (10/s) makes it stall.
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// One task-queue partition: on one node, four partitions only split
		// the pollers, so a task can wait in one partition while every
		// poller waits on the others.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
		// A laptop does not need 128k cached workflow executions.
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): 512,
		// The history service's task queues start 512 workers each (and 640
		// for replication, which one cluster never uses): 2,000 idle
		// goroutines and 15 MB of stacks. Every task ends on the one SQLite
		// connection, so 16 workers keep it as busy as 512.
		dynamicconfig.TimerProcessorSchedulerWorkerCount.Key():                  16,
		dynamicconfig.TransferProcessorSchedulerWorkerCount.Key():               16,
		dynamicconfig.VisibilityProcessorSchedulerWorkerCount.Key():             16,
		dynamicconfig.ReplicationProcessorSchedulerWorkerCount.Key():            1,
		dynamicconfig.ReplicationLowPriorityProcessorSchedulerWorkerCount.Key(): 1,
		// The history service keeps every task its queues ran until the
		// next checkpoint (30 s by default): on one shard, every task of the
		// last 30 s. A checkpoint every 5 s keeps a sixth of them (RSS after
		// the benchmark: 265 MB instead of 284-288 MB).
		dynamicconfig.TransferProcessorUpdateAckInterval.Key():   5 * time.Second,
		dynamicconfig.TimerProcessorUpdateAckInterval.Key():      5 * time.Second,
		dynamicconfig.VisibilityProcessorUpdateAckInterval.Key(): 5 * time.Second,
		// Workflow Updates (ticketd writes every change through one) and
		// Update-with-Start. Both are on by default in this server version;
		// they are set so that a changed default cannot silently break the dev
		// server. ExecuteMultiOperation, which carries Update-with-Start, has
		// no switch any more in this version.
		dynamicconfig.FrontendEnableUpdateWorkflowExecution.Key():              true,
		dynamicconfig.FrontendEnableUpdateWorkflowExecutionAsyncAccepted.Key(): true,
	}
}

// newTemporal builds (without starting) a Temporal server running all four
// services in this process. Static membership replaces ringpop: with every
// service in one process there is nothing to discover, and no gossip ports.
func newTemporal(ports servicePorts, sqlCfg, visCfg *config.SQL, dc *serverDynamicConfig, logger log.Logger) (temporal.Server, error) {
	host := func(port int) static.Hosts { return static.SingleLocalHost(ports.addr(port)) }
	noopClaimMapper := authorization.NewNoopClaimMapper()
	srv, err := temporal.NewServer(
		temporal.WithConfig(serverConfig(ports, sqlCfg, visCfg)),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: host(ports.frontend),
			primitives.HistoryService:  host(ports.history),
			primitives.MatchingService: host(ports.matching),
			primitives.WorkerService:   host(ports.worker),
		}),
		temporal.WithLogger(logger),
		temporal.WithDynamicConfigClient(dc),
		// No authentication: the server listens on loopback only.
		temporal.WithAuthorizer(authorization.NewNoopAuthorizer()),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return noopClaimMapper }),
	)
	if err != nil {
		return nil, fmt.Errorf("create temporal server: %w", err)
	}
	return srv, nil
}

// serverDynamicConfig is dynamicConfig with one setting that changes once
// the server is up: whether the services read search attributes through
// their caches.
//
// The Temporal CLI's dev server reads them from the database on every use
// (ForceSearchAttributesCacheRefreshOnRead), so that an attribute registered
// a moment ago is usable at once. That costs two database reads, each under
// a process-wide lock, every time a service validates or indexes search
// attributes: ticketd sets them on every change, so every change paid four
// (validating the workflow task's upsert, and the visibility record). Here
// the services read through only until the attributes registered at start
// are in every service's cache: the namespace registries (which hold the
// attribute aliases of SQL visibility) reload every namespace every
// NamespaceCacheRefreshInterval, so the read-through stops cachesCaughtUp
// after a registration, and at once when nothing was registered.
type serverDynamicConfig struct {
	static      dynamicconfig.StaticClient
	readThrough atomic.Bool
}

func newServerDynamicConfig() *serverDynamicConfig {
	c := &serverDynamicConfig{static: dynamicConfig()}
	c.readThrough.Store(true)
	return c
}

var readThroughKey = dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key()

// GetValue implements dynamicconfig.Client; the server calls it on every
// read of a setting, so it only looks at memory.
func (c *serverDynamicConfig) GetValue(key dynamicconfig.Key) []dynamicconfig.ConstrainedValue {
	if key == readThroughKey {
		if c.readThrough.Load() {
			return readThroughOn
		}
		return nil // Temporal's default: cached
	}
	return c.static.GetValue(key)
}

var readThroughOn = []dynamicconfig.ConstrainedValue{{Value: true}}

const (
	// namespaceRefresh is how often every service reloads all namespaces.
	namespaceRefresh = 2 * time.Second
	// cachesCaughtUp is how long after registering search attributes every
	// service's namespace registry has reloaded them: three refresh
	// intervals (one would do on a quiet machine).
	cachesCaughtUp = 3 * namespaceRefresh
)

// stopReadThrough switches the read-through off after d, or at once when d
// is 0. The timer it returns (nil for at once) is stopped with the server.
func (c *serverDynamicConfig) stopReadThrough(d time.Duration) *time.Timer {
	if d <= 0 {
		c.readThrough.Store(false)
		return nil
	}
	return time.AfterFunc(d, func() { c.readThrough.Store(false) })
}

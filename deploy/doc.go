// Package deploy holds the tests of ticketd's deployment files, which live
// at the top of the repository: docker-compose.yml, .env, the Dockerfile,
// deploy/temporal/dynamicconfig.yaml and their links to
// monitoring/prometheus/prometheus.yml and monitoring/grafana/.
//
// There is no Docker engine where the tests run, so they prove what can be
// proven without one: the compose file loads and validates with the
// reference loader (compose-go), every image is pinned, dependencies,
// healthchecks and ports are as the stack needs, Prometheus scrapes the
// services that exist on the ports they listen on, the Temporal server's
// environment renders into a configuration that points at the databases the
// schema job creates, and the schema job's exact commands run through
// Temporal's own SQL tool against a real PostgreSQL.
//
// It has no non-test code.
package deploy

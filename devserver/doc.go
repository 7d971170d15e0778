// Package devserver runs a complete, zero-install Temporal stack inside the
// current process: the Temporal server (frontend, history, matching and worker
// services) persisting to an SQLite file, and the Temporal Web UI.
//
// It exists only for `ticketd dev`, so that a developer can run ticketd with
// nothing installed and keep tickets and their workflows across restarts.
// Only the dev path of cmd/ticketd may import it: it pulls the whole Temporal
// server into the binary, and production (`ticketd serve`, `ticketd worker`)
// talks to a real Temporal cluster instead.
//
// Everything listens on loopback only. The frontend and UI addresses are
// chosen by the caller; the internal services get free ports, so several
// servers (for example in parallel tests) can run on one machine.
//
// The package imports nothing of ours.
package devserver

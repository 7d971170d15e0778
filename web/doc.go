// Package web serves ticketd's web UI: a React + TypeScript app (web/src)
// built by Vite into web/dist/app and embedded in the binary with go:embed.
//
// The built output is not committed. A clean checkout embeds only
// dist/placeholder.html, which tells how to build the UI (`make build`), so the
// Go code always builds and vets. The app talks only to the public API under
// /api/v1; Mount puts the API and the UI behind one handler.
//
// It imports nothing of ours.
package web

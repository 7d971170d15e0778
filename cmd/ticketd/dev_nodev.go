//go:build nodev

package main

import (
	"context"
	"errors"
	"io"
)

// errNoDev is what `ticketd dev` answers in a production build: the
// embedded Temporal server and its Web UI are left out by the nodev tag.
var errNoDev = errors.New("this ticketd was built with -tags nodev (the production image): " +
	"the dev command and its embedded Temporal server are not included; " +
	"run `ticketd serve` and `ticketd worker` against a Temporal cluster, or build without the tag")

func runDev(context.Context, []string, func(string) string, io.Writer, io.Writer) error {
	return errNoDev
}

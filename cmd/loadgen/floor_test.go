package main

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
)

func TestAlternateTakesEnoughSamplesForAP99(t *testing.T) {
	for _, tc := range []struct {
		clients, rounds, batch int
		want                   int // requests on each side
	}{
		{1, 6, 10, 204},  // 6 rounds of 34: a p99 over more than its maximum
		{16, 6, 10, 960}, // 6 rounds of 160, already past the minimum
		{1, 1, 500, 500}, // a batch past the minimum stays as asked
		{4, 50, 1, 200},  // 50 rounds of 4
		{2, 3, 10, 201},  // rounds of 67, rounded up
	} {
		var na, nb atomic.Int64
		a := func(context.Context, int, int) outcome { na.Add(1); return outcome{status: http.StatusOK} }
		b := func(context.Context, int, int) outcome { nb.Add(1); return outcome{status: http.StatusOK} }
		cfg := config{floorRounds: tc.rounds, floorBatch: tc.batch}
		p := alternate(context.Background(), cfg, newProgressBar(io.Discard, 2*tc.rounds), "x", tc.clients, a, b)
		if na.Load() != int64(tc.want) || nb.Load() != int64(tc.want) {
			t.Errorf("%d clients, %d rounds of %d: %d and %d requests, want %d each",
				tc.clients, tc.rounds, tc.batch, na.Load(), nb.Load(), tc.want)
		}
		if p.Ticketd.OK != tc.want || p.Floor.OK != tc.want {
			t.Errorf("%d clients: %d and %d successes recorded, want %d", tc.clients, p.Ticketd.OK, p.Floor.OK, tc.want)
		}
	}
}

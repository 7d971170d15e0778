package main

import (
	"strings"
	"testing"
)

func TestTemporalCompression(t *testing.T) {
	cases := []struct {
		env                 string
		embedded, connected string // the compression each client gets
	}{
		{"", "none", "gzip"},
		{"gzip", "gzip", "gzip"},
		{"none", "none", "none"},
	}
	for _, tc := range cases {
		cfg, err := loadConfig(func(k string) string {
			if k == "TEMPORAL_GRPC_COMPRESSION" {
				return tc.env
			}
			return ""
		})
		if err != nil {
			t.Fatalf("TEMPORAL_GRPC_COMPRESSION=%q: %v", tc.env, err)
		}
		if got := cfg.temporalCompression(true); got != tc.embedded {
			t.Errorf("TEMPORAL_GRPC_COMPRESSION=%q, embedded server: %q, want %q", tc.env, got, tc.embedded)
		}
		if got := cfg.temporalCompression(false); got != tc.connected {
			t.Errorf("TEMPORAL_GRPC_COMPRESSION=%q, a cluster: %q, want %q", tc.env, got, tc.connected)
		}
	}
	_, err := loadConfig(func(k string) string {
		if k == "TEMPORAL_GRPC_COMPRESSION" {
			return "zstd"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "TEMPORAL_GRPC_COMPRESSION") {
		t.Fatalf("zstd: error %v, want one naming TEMPORAL_GRPC_COMPRESSION", err)
	}
}

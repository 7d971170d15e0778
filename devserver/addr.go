package devserver

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
)

// loopbackAddr parses host:port and insists on a loopback IP: the dev server
// has no authentication, so it must never be reachable from the network.
// "localhost" means 127.0.0.1 because Temporal binds IPs, not names.
func loopbackAddr(addr string) (ip string, port int, err error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("parse address %q: %w", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	parsed := net.ParseIP(host)
	if parsed == nil || !parsed.IsLoopback() {
		return "", 0, fmt.Errorf("address %q: host must be a loopback IP such as 127.0.0.1", addr)
	}
	port, err = strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("address %q: invalid port", addr)
	}
	return parsed.String(), port, nil
}

// portPicker hands out TCP ports on loopback IPs, never the same one twice.
type portPicker struct {
	taken map[string]bool // "ip:port"
}

func newPortPicker() *portPicker {
	return &portPicker{taken: make(map[string]bool)}
}

// pick returns port if it is free on ip, or a free port chosen by the kernel
// when port is 0.
func (p *portPicker) pick(ip string, port int) (int, error) {
	if port != 0 {
		addr := net.JoinHostPort(ip, strconv.Itoa(port))
		if p.taken[addr] {
			return 0, fmt.Errorf("address %s is configured twice", addr)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return 0, fmt.Errorf("address %s is not available: %w", addr, err)
		}
		if err := l.Close(); err != nil {
			return 0, fmt.Errorf("release %s: %w", addr, err)
		}
		p.taken[addr] = true
		return port, nil
	}
	for range 10 {
		port, err := freePort(ip)
		if err != nil {
			return 0, err
		}
		addr := net.JoinHostPort(ip, strconv.Itoa(port))
		if !p.taken[addr] {
			p.taken[addr] = true
			return port, nil
		}
	}
	return 0, errors.New("no free port found")
}

// freePort asks the kernel for an unused port on ip. The port is only
// reserved until the listener closes, so another process could grab it before
// the server binds it. On Linux the kernel picks ephemeral ports at random and
// may hand the same one out again at once; to prevent that, freePort leaves
// the port in TIME_WAIT by accepting one connection and closing it from the
// listening side first. The kernel does not give a port in TIME_WAIT to other
// bind(port 0) calls for about a minute, while a listener that sets
// SO_REUSEADDR (as Go's net.Listen does) can still bind it explicitly.
// macOS and Windows allocate ephemeral ports sequentially and need no trick.
func freePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", ip, err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return port, nil
	}

	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return 0, fmt.Errorf("reserve port %d: %w", port, err)
	}
	defer client.Close()
	server, err := l.Accept()
	if err != nil {
		return 0, fmt.Errorf("reserve port %d: %w", port, err)
	}
	// The side that closes first enters TIME_WAIT; it must be the one bound to port.
	if err := server.Close(); err != nil {
		return 0, fmt.Errorf("reserve port %d: %w", port, err)
	}
	return port, nil
}

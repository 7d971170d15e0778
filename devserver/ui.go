package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// errUIExited reports a UI server that stopped before it became ready.
var errUIExited = errors.New("web ui server exited")

// webUI is the Temporal Web UI serving its embedded assets.
type webUI struct {
	server *uiserver.Server
	url    string
	done   chan struct{} // closed when server.Start returns
}

// startUI runs the Web UI on ip:port in the background, talking to the
// frontend without TLS or authentication, and waits until it answers.
//
// uiserver.Server.Start blocks, and exits the process if it cannot listen;
// the port was checked just before (see portPicker), which leaves a window
// only for a process that grabs the port in the meantime.
func startUI(ctx context.Context, ip string, port int, frontend, namespace string) (*webUI, error) {
	host := ip
	if strings.Contains(ip, ":") {
		host = "[" + ip + "]" // the UI server formats "host:port" itself
	}
	server := uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host:                host,
		Port:                port,
		TemporalGRPCAddress: frontend,
		EnableUI:            true,
		DefaultNamespace:    namespace,
		// Plain HTTP: a Secure CSRF cookie would never come back.
		CORS:     uiconfig.CORS{CookieInsecure: true},
		HideLogs: true,
	}))
	ui := &webUI{
		server: server,
		url:    "http://" + net.JoinHostPort(ip, strconv.Itoa(port)),
		done:   make(chan struct{}),
	}
	go func() {
		defer close(ui.done)
		_ = server.Start() // returns nil once stopped; listen errors never come back
	}()

	if err := ui.waitReady(ctx); err != nil {
		ui.stop()
		return nil, fmt.Errorf("start web ui on %s: %w", ui.url, err)
	}
	return ui, nil
}

// waitReady polls the UI's health endpoint until it answers 200.
func (ui *webUI) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: attemptTimeout}
	return poll(ctx, func(ctx context.Context) error {
		select {
		case <-ui.done:
			return errUIExited
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ui.url+"/healthz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("%w: %w", errNotReady, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%w: health check returned %s", errNotReady, resp.Status)
		}
		return nil
	})
}

// stop closes the UI's listener and connections and waits for Start to return.
func (ui *webUI) stop() {
	ui.server.Stop()
	<-ui.done
}

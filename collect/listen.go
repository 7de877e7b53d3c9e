package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// DefaultShutdownTimeout bounds how long Serve waits for requests in
// flight after its context is done.
const DefaultShutdownTimeout = time.Minute

// ServeOptions configure Serve.
type ServeOptions struct {
	// TLSCert and TLSKey are PEM files of the certificate and its key.
	// Both set: Serve speaks HTTPS. Both empty: plain HTTP, for a trusted
	// network or behind a TLS reverse proxy.
	TLSCert, TLSKey string
	// ShutdownTimeout bounds the wait for requests in flight once ctx is
	// done; 0 means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Serve handles requests on ln with s until ctx is done. It then stops
// accepting connections, waits for the requests in flight to finish (at
// most ShutdownTimeout), and closes s after its writer has saved every
// queued result. It returns nil after such a clean shutdown.
func Serve(ctx context.Context, ln net.Listener, s *Server, opts ServeOptions) error {
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		ln.Close()
		return errors.New("serve results: give both --tls-cert and --tls-key, or neither")
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	srv := &http.Server{
		Handler:           s,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		ReadHeaderTimeout: 30 * time.Second,
		// A result of DefaultMaxBody over a slow link still arrives in
		// time, and a client that stalls does not hold its connection
		// for ever.
		ReadTimeout:  10 * time.Minute,
		WriteTimeout: 10 * time.Minute,
		IdleTimeout:  2 * time.Minute,
	}

	served := make(chan error, 1)
	go func() {
		if opts.TLSCert != "" {
			served <- srv.ServeTLS(ln, opts.TLSCert, opts.TLSKey)
			return
		}
		served <- srv.Serve(ln)
	}()

	select {
	case err := <-served:
		// The listener failed, or the TLS files could not be loaded.
		s.Close()
		return fmt.Errorf("serve results on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), opts.ShutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	<-served
	s.Close()
	if shutdownErr != nil {
		return fmt.Errorf("shut down result receiver on %s: %w", ln.Addr(), shutdownErr)
	}
	return nil
}

package mosaiccli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/mosaic-go/mosaic/collect"
	"github.com/mosaic-go/mosaic/deliver"
	"github.com/mosaic-go/mosaic/store"
)

func collectCommand() *cli.Command {
	return &cli.Command{
		Name:      "collect",
		Usage:     "merge result files of cluster jobs into the study database, or receive them over HTTP with --listen; safe to repeat",
		ArgsUsage: "RESULTS_DIR... | --listen ADDR --token-file FILE [RESULTS_DIR...]",
		Flags: []cli.Flag{
			dbFlag,
			&cli.IntFlag{Name: "workers", Usage: "files decoded at once", DefaultText: "the number of CPUs"},
			&cli.StringFlag{Name: "listen", Usage: "receive results posted by `mosaic-job --post-url` on this address, such as 127.0.0.1:8470, until SIGTERM or SIGINT"},
			&cli.StringFlag{Name: "token-file", Usage: "with --listen: file holding the bearer token jobs must send",
				DefaultText: "the " + deliver.TokenEnv + " environment variable"},
			&cli.StringFlag{Name: "tls-cert", Usage: "with --listen: PEM certificate file; serve HTTPS (needs --tls-key)"},
			&cli.StringFlag{Name: "tls-key", Usage: "with --listen: PEM private key file of --tls-cert"},
			&cli.Int64Flag{Name: "max-body", Value: collect.DefaultMaxBody, Usage: "with --listen: largest result accepted, in bytes; larger ones get HTTP 413"},
		},
		Action: collectAction,
	}
}

func collectAction(c *cli.Context) error {
	if c.String("listen") != "" {
		return listenAction(c)
	}
	if c.NArg() == 0 {
		return cli.Exit("usage: mosaic collect RESULTS_DIR... --db study.db, or mosaic collect --listen ADDR --token-file FILE --db study.db", 2)
	}
	return collectDirs(c)
}

// collectDirs merges the result files under the folders given as arguments.
func collectDirs(c *cli.Context) error {
	report, err := collect.Collect(c.Context, collect.Options{
		Dirs:    c.Args().Slice(),
		DB:      c.String("db"),
		Workers: c.Int("workers"),
	})
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "%d result files: %d new, %d unchanged, %d conflicting, %d rejected; %d files of running jobs skipped\n",
		report.Files, report.Inserted, report.Unchanged, report.Conflicts, len(report.Rejected), report.Temporary)
	for _, r := range report.Rejected {
		fmt.Fprintf(c.App.ErrWriter, "rejected %s: %s\n", r.Path, r.Reason)
	}
	if report.Conflicts > 0 {
		fmt.Fprintln(c.App.ErrWriter, "conflicting results differ from runs already stored as done; the stored ones were kept")
	}
	if len(report.MissingDirs) > 0 {
		// A folder argument that does not exist is most likely a typo, so it
		// fails the command once the other folders are collected.
		return cli.Exit(fmt.Sprintf("folder not found: %s; the results of the other folders are stored, so check the path and run collect again",
			strings.Join(report.MissingDirs, ", ")), 1)
	}
	return nil
}

// listenAction runs the HTTP receiver until SIGTERM or SIGINT, after
// collecting the folders given as arguments, if any.
func listenAction(c *cli.Context) error {
	token, err := deliver.LoadToken(c.String("token-file"), os.Getenv)
	if err != nil {
		return cli.Exit(fmt.Sprintf("mosaic collect --listen: %v", err), 2)
	}
	if (c.String("tls-cert") == "") != (c.String("tls-key") == "") {
		return cli.Exit("mosaic collect --listen: give both --tls-cert and --tls-key, or neither", 2)
	}
	if c.Int64("max-body") <= 0 {
		return cli.Exit(fmt.Sprintf("mosaic collect --listen: invalid --max-body %d: expected a positive number of bytes", c.Int64("max-body")), 2)
	}
	if c.NArg() > 0 {
		if err := collectDirs(c); err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM, os.Interrupt)
	defer stop()
	db, err := store.Open(ctx, c.String("db"))
	if err != nil {
		return err
	}
	defer db.Close()
	logger := slog.New(slog.NewTextHandler(c.App.ErrWriter, nil))
	return serveResults(ctx, c, db, token, logger)
}

// serveResults listens on --listen and serves the receiver until ctx is
// done.
func serveResults(ctx context.Context, c *cli.Context, db *store.Store, token string, logger *slog.Logger) error {
	srv, err := collect.NewServer(db, collect.ServerOptions{Token: token, MaxBody: c.Int64("max-body"), Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		srv.Close()
		return fmt.Errorf("listen on %s: %w", c.String("listen"), err)
	}
	scheme := "http"
	if c.String("tls-cert") != "" {
		scheme = "https"
	}
	logger.Info("receiving results", "addr", ln.Addr().String(), "scheme", scheme, "db", db.Path(), "max_body", c.Int64("max-body"))
	err = collect.Serve(ctx, ln, srv, collect.ServeOptions{TLSCert: c.String("tls-cert"), TLSKey: c.String("tls-key")})
	if err != nil {
		return err
	}
	logger.Info("receiver stopped after finishing the requests in flight")
	return nil
}

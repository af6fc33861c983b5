// Command devdb runs FerretDB for development and tests, on PostgreSQL or SQLite.
//
// It embeds the ferretdb package instead of using the upstream binary, whose
// `go install` build panics at start without a generated version file. The embedded
// package starts no telemetry reporter and no debug listener.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:27017", "loopback TCP address to listen on")
	backend := flag.String("backend", "postgresql", "storage: postgresql or sqlite")
	pgURL := flag.String("postgresql-url", "", "PostgreSQL connection string (postgresql backend)")
	dir := flag.String("dir", "var/devdb", "directory for the SQLite files (sqlite backend)")
	flag.Parse()

	if err := checkLoopback(*addr); err != nil {
		log.Fatal(err)
	}

	config := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *addr},
		Handler:  *backend,
		// Only warnings: per-connection info lines would drown the test output.
		Logger: slog.New(quietDuplicates{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})}),
	}

	switch *backend {
	case "postgresql":
		if *pgURL == "" {
			log.Fatal("-postgresql-url is required with -backend postgresql")
		}
		config.PostgreSQLURL = *pgURL
	case "sqlite":
		abs, err := filepath.Abs(*dir)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.MkdirAll(abs, 0o700); err != nil {
			log.Fatal(err)
		}
		config.SQLiteURL = "file:" + abs + "/"
	default:
		log.Fatalf("-backend must be postgresql or sqlite, not %q", *backend)
	}

	f, err := ferretdb.New(config)
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := f.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

// checkLoopback refuses addresses other machines could reach: the dev database has no
// authentication.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen %s: only a loopback IP address is allowed", addr)
	}
	return nil
}

// quietDuplicates drops the error PostgreSQL's driver logs for each unique-index
// violation, with the document it failed to insert. The app claims numbers and states by
// inserting and expects such collisions (the client gets a duplicate key error), so they
// would fill the log with documents.
type quietDuplicates struct{ slog.Handler }

func (h quietDuplicates) Handle(ctx context.Context, r slog.Record) error {
	duplicate := false
	r.Attrs(func(a slog.Attr) bool {
		duplicate = a.Key == "err" && strings.Contains(a.Value.String(), "(SQLSTATE 23505)")
		return !duplicate
	})
	if duplicate {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietDuplicates) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietDuplicates{h.Handler.WithAttrs(attrs)}
}

func (h quietDuplicates) WithGroup(name string) slog.Handler {
	return quietDuplicates{h.Handler.WithGroup(name)}
}

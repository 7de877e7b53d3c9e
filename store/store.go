// Package store keeps a study's pipelines, runs, indicators, parameters and
// curves in one SQLite file. The store is the only writer of that file: the
// local run manager or collect opens it with Open, and analysis opens it with
// OpenReadOnly. The tables and the `results` view are described in
// docs/database.md.
package store

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	// Registers the pure-Go "sqlite" driver.
	_ "modernc.org/sqlite"
)

// SchemaVersion is the version of the database schema written by this build.
// It is stored in the meta table under schemaVersionKey.
const SchemaVersion = 1

const schemaVersionKey = "schema_version"

// busyTimeout is how long a statement waits for a lock held by another
// connection before it fails with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

//go:embed schema.sql
var schemaSQL string

var (
	// ErrNewerSchema is returned by Open and OpenReadOnly for a database
	// written by a newer build, whose schema this build cannot read safely.
	ErrNewerSchema = errors.New("database schema is newer than this build supports")
	// ErrReadOnly is returned by the write methods of a store opened with
	// OpenReadOnly.
	ErrReadOnly = errors.New("store is open read-only")
	// ErrRunNotFound is returned when a run id is not in the database.
	ErrRunNotFound = errors.New("run not found")
	// ErrLocked is returned by Open when another process has the database
	// open for writing.
	ErrLocked = errors.New("study database is locked")
)

// Store is an open study database. Its methods are safe for concurrent use.
type Store struct {
	db       *sql.DB
	path     string
	readOnly bool
	// lock is the writer lock of a store opened for writing; nil for a
	// read-only store.
	lock *writerLock
}

// Open opens the study database at path for writing, creating the file and
// its schema when missing. The connection uses WAL journaling, so readers do
// not block the writer, with synchronous=NORMAL, foreign keys on and a busy
// timeout of 10 s. Open returns an error wrapping ErrNewerSchema for a
// database of a newer schema version.
func Open(ctx context.Context, path string) (*Store, error) {
	// One writer per database: a second `mosaic run` or `mosaic collect` on
	// the same file would train or store the same runs twice.
	lock, err := lockWriter(path)
	if err != nil {
		return nil, err
	}
	params := url.Values{}
	params.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	params.Add("_pragma", "synchronous(NORMAL)")
	params.Add("_pragma", "foreign_keys(1)")
	// IMMEDIATE transactions take the write lock at BEGIN, so a write
	// transaction waits under busy_timeout instead of failing on upgrade.
	params.Set("_txlock", "immediate")

	db, err := sql.Open("sqlite", dataSourceName(path, params))
	if err != nil {
		lock.unlock()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// One connection serialises the writes of this process, so they never
	// contend with each other for the SQLite write lock.
	db.SetMaxOpenConns(1)

	if err := initSchema(ctx, db); err != nil {
		db.Close()
		lock.unlock()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return &Store{db: db, path: path, lock: lock}, nil
}

// OpenReadOnly opens an existing study database for queries. It never
// creates the file: a missing path is an error naming it. It returns an
// error wrapping ErrNewerSchema for a database of a newer schema version.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open database %s read-only: %w", path, err)
	}

	// NOTE: a reader of a WAL database needs its -shm file. Opening one in a
	// read-only folder with no writer attached has not been tested.
	params := url.Values{}
	params.Set("mode", "ro")
	params.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	params.Add("_pragma", "query_only(1)")

	db, err := sql.Open("sqlite", dataSourceName(path, params))
	if err != nil {
		return nil, fmt.Errorf("open database %s read-only: %w", path, err)
	}

	version, err := readSchemaVersion(ctx, db)
	if err == nil && version == 0 {
		err = errors.New("no schema version in table meta, so it is not a MOSAIC study database")
	}
	if err == nil {
		err = checkSchemaVersion(version)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s read-only: %w", path, err)
	}
	return &Store{db: db, path: path, readOnly: true}, nil
}

// DB returns the underlying database handle for read-only queries, for
// example on the `results` view. Writes must go through the Store methods.
func (s *Store) DB() *sql.DB { return s.db }

// Path returns the path the store was opened with.
func (s *Store) Path() string { return s.path }

// Close closes the database. With WAL, the last connection to close
// checkpoints the write-ahead log into the database file.
func (s *Store) Close() error {
	defer s.lock.unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close database %s: %w", s.path, err)
	}
	return nil
}

// checkWritable returns ErrReadOnly for a store opened with OpenReadOnly.
func (s *Store) checkWritable() error {
	if s.readOnly {
		return ErrReadOnly
	}
	return nil
}

// dataSourceName returns the SQLite URI for path with the given query
// parameters. SQLite decodes %HH escapes in a URI path, so the characters
// that would end the path or start an escape are escaped.
func dataSourceName(path string, params url.Values) string {
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped + "?" + params.Encode()
}

// initSchema creates the tables of a new database and records its schema
// version, after checking that an existing database is not newer.
func initSchema(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin schema transaction: %w", err)
	}
	defer tx.Rollback()

	version, err := readSchemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	if err := checkSchemaVersion(version); err != nil {
		return err
	}
	if version == 0 {
		// A file with tables but no schema version belongs to another
		// program, most likely named by a mistyped --db, so no table is
		// added to it. Names starting with sqlite_ are SQLite's own tables.
		var tables int
		err := tx.QueryRowContext(ctx,
			`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&tables)
		if err != nil {
			return fmt.Errorf("list tables: %w", err)
		}
		if tables > 0 {
			return errors.New("not a MOSAIC study database, because it has tables but no schema version in table meta, so give the path of a study database or of a new file")
		}
	}

	if _, err := tx.ExecContext(ctx, schemaSQL); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if version == 0 {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES (?, ?)`,
			schemaVersionKey, strconv.Itoa(SchemaVersion))
		if err != nil {
			return fmt.Errorf("record schema version: %w", err)
		}
	}

	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit schema: %w", err)
	}
	// WAL only once the file is known to be a study database: the journal
	// mode is stored in the file, so a foreign file is left as it was.
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return fmt.Errorf("switch to WAL journaling: %w", err)
	}
	return nil
}

// querier is the query method shared by *sql.DB and *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readSchemaVersion returns the schema version stored in meta, and 0 for a
// database without a meta table or without a version in it.
func readSchemaVersion(ctx context.Context, q querier) (int, error) {
	var tables int
	err := q.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).Scan(&tables)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if tables == 0 {
		return 0, nil
	}

	var text string
	err = q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, schemaVersionKey).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}

	version, err := strconv.Atoi(text)
	if err != nil || version < 1 {
		return 0, fmt.Errorf("invalid schema version %q in table meta, expected a positive integer", text)
	}
	return version, nil
}

// checkSchemaVersion rejects a database written by a newer build.
func checkSchemaVersion(version int) error {
	if version > SchemaVersion {
		return fmt.Errorf("schema version %d, but this build reads version %d at most, so upgrade mosaic: %w",
			version, SchemaVersion, ErrNewerSchema)
	}
	return nil
}

package collect

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/store"
)

// Routes of the receiver.
const (
	// ResultsPath accepts POST of one result document.
	ResultsPath = "/v1/results"
	// HealthPath responds to GET with 200 while the database can be reached.
	HealthPath = "/v1/health"
)

// DefaultMaxBody is the largest result document the receiver accepts, in
// bytes. The curves of a run of 100,000 epochs take about 10 MiB of JSON.
const DefaultMaxBody = 32 << 20

// DefaultMaxBatch is the largest number of queued results the receiver
// writes in one transaction.
const DefaultMaxBatch = 64

// ServerOptions configure a Server.
type ServerOptions struct {
	// Token is the bearer token every POST must carry; it must not be
	// empty.
	Token string
	// MaxBody is the largest body accepted, in bytes; larger ones get 413.
	// 0 means DefaultMaxBody.
	MaxBody int64
	// MaxBatch is the largest number of results written per transaction;
	// 0 means DefaultMaxBatch.
	MaxBatch int
	// Logger receives one line per request; nil discards them.
	Logger *slog.Logger
}

// Server is the HTTP receiver of `mosaic collect --listen`: an
// http.Handler that validates posted result documents as Decode does and
// stores them with store.SaveResults. It is the single writer of its
// database. One goroutine writes, and results posted while it writes are
// saved together in the next transaction.
//
// Responses to POST /v1/results: 201 for a new result, 200 for a result
// identical to the stored one, 409 for a different result of a run stored
// as done (the stored one is kept), 400 for an invalid document, 401 for a
// missing or wrong token, 413 for a body over MaxBody, 500 for a database
// error, and 503 after Close. Every response is a JSON object: {"run_id",
// "outcome"} on success, with "error" added otherwise; run_id and outcome
// are left out when not known.
type Server struct {
	db       *store.Store
	opts     ServerOptions
	tokenSum [sha256.Size]byte
	log      *slog.Logger

	// mu guards closed. Handlers hold it for reading while they queue a
	// result, so Close cannot close the queue under them.
	mu     sync.RWMutex
	closed bool
	queue  chan *pending
	done   chan struct{}
}

// pending is a result waiting for the writer, and where its outcome goes.
type pending struct {
	res   *result.Result
	reply chan saved
}

type saved struct {
	outcome store.Outcome
	err     error
}

// NewServer returns a receiver that stores into db, and starts its writer.
// Call Close after the HTTP server has shut down.
func NewServer(db *store.Store, opts ServerOptions) (*Server, error) {
	if opts.Token == "" {
		return nil, errors.New("start result receiver: no token given")
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		db:       db,
		opts:     opts,
		tokenSum: sha256.Sum256([]byte(opts.Token)),
		log:      log,
		queue:    make(chan *pending, opts.MaxBatch),
		done:     make(chan struct{}),
	}
	go s.write()
	return s, nil
}

// Close stops the writer after it has saved every queued result. Requests
// that arrive later get 503. Close does not close the database.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	<-s.done
	return nil
}

// write saves queued results until the queue is closed, taking every
// result already waiting into the same transaction.
func (s *Server) write() {
	defer close(s.done)
	for p := range s.queue {
		batch := []*pending{p}
	gather:
		for len(batch) < s.opts.MaxBatch {
			select {
			case q, ok := <-s.queue:
				if !ok {
					break gather
				}
				batch = append(batch, q)
			default:
				break gather
			}
		}
		s.save(batch)
	}
}

// save stores batch in one transaction. When that fails, it saves each
// result alone, so one failing result does not fail the others.
func (s *Server) save(batch []*pending) {
	// The writes finish even when clients have gone: the next attempt of a
	// client then finds its result stored, unchanged.
	ctx := context.Background()
	results := make([]*result.Result, len(batch))
	for i, p := range batch {
		results[i] = p.res
	}
	summary, err := s.db.SaveResults(ctx, results)
	if err == nil {
		for i, p := range batch {
			p.reply <- saved{outcome: summary.Outcomes[i]}
		}
		return
	}
	if len(batch) == 1 {
		batch[0].reply <- saved{err: err}
		return
	}
	for _, p := range batch {
		summary, err := s.db.SaveResults(ctx, []*result.Result{p.res})
		if err != nil {
			p.reply <- saved{err: err}
			continue
		}
		p.reply <- saved{outcome: summary.Outcomes[0]}
	}
}

// errClosed is the reason given for requests that arrive after Close.
var errClosed = errors.New("the receiver is shutting down; retry later")

// submit queues r for the writer and waits for its outcome.
func (s *Server) submit(ctx context.Context, r *result.Result) (store.Outcome, error) {
	p := &pending{res: r, reply: make(chan saved, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return 0, errClosed
	}
	select {
	case s.queue <- p:
	case <-ctx.Done():
		s.mu.RUnlock()
		return 0, ctx.Err()
	}
	s.mu.RUnlock()

	// Once queued, the result is saved whatever the client does, so wait
	// for the writer.
	got := <-p.reply
	return got.outcome, got.err
}

// answer is the response to one request, with the fields its log line records.
type answer struct {
	status  int
	runID   string
	outcome string
	err     error
	// body, when set, replaces the JSON object built from the fields above.
	body map[string]string
}

// ServeHTTP routes POST /v1/results and GET /v1/health, and logs each
// request with its status, run id and outcome. The token is never logged.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var a answer
	switch r.URL.Path {
	case ResultsPath:
		a = s.handleResult(w, r)
	case HealthPath:
		a = s.handleHealth(w, r)
	default:
		a = answer{status: http.StatusNotFound, err: fmt.Errorf("no route %s; results go to POST %s", r.URL.Path, ResultsPath)}
	}
	writeAnswer(w, a)

	level := slog.LevelInfo
	switch {
	case r.URL.Path == HealthPath && a.status == http.StatusOK:
		// Load balancers poll health often; keep those lines out of the
		// default log.
		level = slog.LevelDebug
	case a.status >= 500:
		level = slog.LevelError
	case a.status >= 400:
		level = slog.LevelWarn
	}
	attrs := []any{
		"method", r.Method, "path", r.URL.Path, "remote_addr", r.RemoteAddr,
		"status", a.status, "duration_ms", time.Since(start).Milliseconds(),
	}
	if a.runID != "" {
		attrs = append(attrs, "run_id", a.runID)
	}
	if a.outcome != "" {
		attrs = append(attrs, "outcome", a.outcome)
	}
	if a.err != nil {
		attrs = append(attrs, "error", a.err.Error())
	}
	s.log.Log(r.Context(), level, "request", attrs...)
}

func writeAnswer(w http.ResponseWriter, a answer) {
	body := a.body
	if body == nil {
		body = map[string]string{}
		if a.runID != "" {
			body["run_id"] = a.runID
		}
		if a.outcome != "" {
			body["outcome"] = a.outcome
		}
		if a.err != nil {
			body["error"] = a.err.Error()
		}
	}
	if a.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	json.NewEncoder(w).Encode(body)
}

// handleResult authenticates, reads, validates and stores one result.
func (s *Server) handleResult(w http.ResponseWriter, r *http.Request) answer {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return answer{status: http.StatusMethodNotAllowed, err: fmt.Errorf("method %s not allowed; use POST", r.Method)}
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mosaic"`)
		return answer{status: http.StatusUnauthorized, err: errors.New("missing or invalid bearer token")}
	}

	data, a, ok := s.readBody(w, r)
	if !ok {
		return a
	}
	res, err := Decode(data)
	if err != nil {
		return answer{status: http.StatusBadRequest, err: err}
	}

	outcome, err := s.submit(r.Context(), res)
	switch {
	case errors.Is(err, errClosed):
		return answer{status: http.StatusServiceUnavailable, runID: res.RunID, err: err}
	case err != nil:
		return answer{status: http.StatusInternalServerError, runID: res.RunID, err: fmt.Errorf("store result: %w", err)}
	}
	a = answer{runID: res.RunID, outcome: outcome.String()}
	switch outcome {
	case store.Inserted:
		a.status = http.StatusCreated
	case store.Unchanged:
		a.status = http.StatusOK
	default:
		a.status = http.StatusConflict
		a.err = fmt.Errorf("run %s is stored as done with a different result, which is kept", res.RunID)
	}
	return a
}

// authorized reports whether r carries the server's bearer token. The
// tokens are compared by their SHA-256 in constant time, so the time taken
// reveals neither the token nor its length.
func (s *Server) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) == 1
}

// readBody reads the request body up to MaxBody. When it fails, ok is
// false and a is the response to send.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (data []byte, a answer, ok bool) {
	tooLarge := answer{status: http.StatusRequestEntityTooLarge,
		err: fmt.Errorf("body larger than the receiver's limit of %d bytes (mosaic collect --max-body)", s.opts.MaxBody)}
	if r.ContentLength > s.opts.MaxBody {
		return nil, tooLarge, false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBody))
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return nil, tooLarge, false
	case err != nil:
		return nil, answer{status: http.StatusBadRequest, err: fmt.Errorf("read body: %w", err)}, false
	}
	return data, answer{}, true
}

// handleHealth responds 200 while the receiver runs and its database
// responds to a ping, and 503 otherwise. It needs no token.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) answer {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return answer{status: http.StatusMethodNotAllowed, err: fmt.Errorf("method %s not allowed; use GET", r.Method)}
	}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return answer{status: http.StatusServiceUnavailable, err: errClosed}
	}
	if err := s.db.DB().PingContext(r.Context()); err != nil {
		return answer{status: http.StatusServiceUnavailable, err: fmt.Errorf("database %s: %w", s.db.Path(), err)}
	}
	return answer{status: http.StatusOK, body: map[string]string{"status": "ok"}}
}

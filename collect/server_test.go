package collect

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/deliver"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/store"
)

const testToken = "c2VjcmV0LXRva2VuLWZvci10ZXN0cw=="

// receiver is a real result receiver on 127.0.0.1 with its SQLite file.
type receiver struct {
	URL    string
	DBPath string
	cancel context.CancelFunc
	served chan error
	db     *store.Store
}

// startReceiver serves a new Server on addr ("127.0.0.1:0" for any port)
// over the database at dbPath.
func startReceiver(t *testing.T, addr, dbPath string, opts ServerOptions, serve ServeOptions) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Token == "" {
		opts.Token = testToken
	}
	srv, err := NewServer(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &receiver{URL: "http://" + ln.Addr().String(), DBPath: dbPath, cancel: cancel, served: make(chan error, 1), db: db}
	if serve.TLSCert != "" {
		r.URL = "https://" + ln.Addr().String()
	}
	go func() { r.served <- Serve(ctx, ln, srv, serve) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop shuts the receiver down and returns Serve's error; later calls
// return nil.
func (r *receiver) stop(t *testing.T) error {
	t.Helper()
	if r.cancel == nil {
		return nil
	}
	r.cancel()
	r.cancel = nil
	var err error
	select {
	case err = <-r.served:
	case <-time.After(time.Minute):
		t.Fatal("receiver did not stop within a minute")
	}
	r.db.Close()
	return err
}

// post sends body to the receiver with token and returns the status and
// the decoded JSON response.
func post(t *testing.T, url, token string, body io.Reader) (int, map[string]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+ResultsPath, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer := map[string]string{}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		t.Fatalf("decode the %s answer: %v", resp.Status, err)
	}
	return resp.StatusCode, answer
}

func marshal(t testing.TB, r *result.Result) []byte {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// newClient returns a deliver client with short waits, for tests.
func newClient(t *testing.T, url string, attempts int, backoff func()) *deliver.Client {
	t.Helper()
	c, err := deliver.New(deliver.Options{
		URL: url, Token: testToken, MaxAttempts: attempts, MaxTime: time.Minute,
		WaitMin: 5 * time.Millisecond, WaitMax: 50 * time.Millisecond,
		Backoff: func(waitMin, waitMax time.Duration, attempt int, resp *http.Response) time.Duration {
			if backoff != nil {
				backoff()
			}
			return deliver.Backoff(waitMin, waitMax, attempt, resp)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestServerConcurrentPosts(t *testing.T) {
	const n, clients = 48, 8
	rcv := startReceiver(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "study.db"), ServerOptions{MaxBatch: 5}, ServeOptions{})
	client := newClient(t, rcv.URL, 3, nil)

	var wg sync.WaitGroup
	errs := make(chan error, n)
	var inserted atomic.Int64
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < n; i += clients {
				receipt, err := client.Post(context.Background(), marshal(t, makeResult(i, 4)))
				if err != nil {
					errs <- err
					continue
				}
				if receipt.StatusCode == http.StatusCreated && receipt.Outcome == "inserted" {
					inserted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := inserted.Load(); got != n {
		t.Errorf("%d posts answered 201 inserted, want %d", got, n)
	}
	if err := rcv.stop(t); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if got := countResults(t, rcv.DBPath); got != n {
		t.Errorf("results view has %d rows, want %d", got, n)
	}
}

func TestServerDuplicateAndConflict(t *testing.T) {
	rcv := startReceiver(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "study.db"), ServerOptions{}, ServeOptions{})
	original := makeResult(7, 3)

	status, answer := post(t, rcv.URL, testToken, bytes.NewReader(marshal(t, original)))
	if status != http.StatusCreated || answer["outcome"] != "inserted" || answer["run_id"] != original.RunID {
		t.Errorf("first post: %d %v, want 201 inserted of %s", status, answer, original.RunID)
	}
	status, answer = post(t, rcv.URL, testToken, bytes.NewReader(marshal(t, original)))
	if status != http.StatusOK || answer["outcome"] != "unchanged" {
		t.Errorf("duplicate post: %d %v, want 200 unchanged", status, answer)
	}

	// The same run trained again elsewhere: other host and times, same
	// curves. Training is deterministic, so this is a duplicate.
	retrained := makeResult(7, 3)
	retrained.Host = "node2"
	retrained.StartedAt = retrained.StartedAt.Add(time.Hour)
	retrained.FinishedAt = retrained.FinishedAt.Add(time.Hour)
	status, answer = post(t, rcv.URL, testToken, bytes.NewReader(marshal(t, retrained)))
	if status != http.StatusOK || answer["outcome"] != "unchanged" {
		t.Errorf("same run trained again: %d %v, want 200 unchanged", status, answer)
	}

	different := makeResult(7, 3)
	different.Curves.TrainLoss[len(different.Curves.TrainLoss)-1] += 0.5
	status, answer = post(t, rcv.URL, testToken, bytes.NewReader(marshal(t, different)))
	if status != http.StatusConflict || answer["outcome"] != "conflict" || !strings.Contains(answer["error"], "different result") {
		t.Errorf("conflicting post: %d %v, want 409 conflict with a reason", status, answer)
	}

	rcv.stop(t)
	db, err := store.OpenReadOnly(context.Background(), rcv.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var host string
	if err := db.DB().QueryRow("SELECT host FROM results WHERE run_id = ?", original.RunID).Scan(&host); err != nil {
		t.Fatal(err)
	}
	if host != "node1" {
		t.Errorf("stored host %q after a conflict, want the first result's node1", host)
	}
}

func TestServerRejectsBadRequests(t *testing.T) {
	rcv := startReceiver(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "study.db"), ServerOptions{MaxBody: 4096}, ServeOptions{})
	valid := marshal(t, makeResult(1, 3))
	large := marshal(t, makeResult(2, 200))
	if len(large) <= 4096 {
		t.Fatalf("the large result has %d bytes, not over the 4096-byte limit", len(large))
	}
	cases := []struct {
		name   string
		token  string
		body   io.Reader
		status int
		reason string
	}{
		{"no token", "", bytes.NewReader(valid), http.StatusUnauthorized, "bearer token"},
		{"wrong token", "d3JvbmctdG9rZW4tZm9yLXRlc3Rz", bytes.NewReader(valid), http.StatusUnauthorized, "bearer token"},
		{"token prefix", testToken[:20], bytes.NewReader(valid), http.StatusUnauthorized, "bearer token"},
		{"truncated JSON", testToken, bytes.NewReader(valid[:len(valid)/2]), http.StatusBadRequest, "invalid JSON"},
		{"foreign JSON", testToken, strings.NewReader(`{"name": "x"}`), http.StatusBadRequest, "schema_version is missing"},
		{"other schema", testToken, strings.NewReader(`{"schema_version": 99}`), http.StatusBadRequest, "schema version 99"},
		{"unknown field", testToken, bytes.NewReader(bytes.Replace(valid, []byte(`{`), []byte(`{"extra":1,`), 1)), http.StatusBadRequest, "unknown field"},
		{"short curve", testToken, bytes.NewReader(bytes.Replace(valid, []byte(`"epochs":3`), []byte(`"epochs":4`), 1)), http.StatusBadRequest, "3 train_loss entries for 4 epochs"},
		{"too large", testToken, bytes.NewReader(large), http.StatusRequestEntityTooLarge, "4096 bytes"},
		// A reader of unknown length is sent chunked, without
		// Content-Length, so the limit is enforced while reading.
		{"too large chunked", testToken, io.MultiReader(bytes.NewReader(large)), http.StatusRequestEntityTooLarge, "4096 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, answer := post(t, rcv.URL, tc.token, tc.body)
			if status != tc.status {
				t.Errorf("status %d, want %d (answer %v)", status, tc.status, answer)
			}
			if !strings.Contains(answer["error"], tc.reason) {
				t.Errorf("error %q, want it to contain %q", answer["error"], tc.reason)
			}
		})
	}

	resp, err := http.Get(rcv.URL + ResultsPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET %s: %s, want 405", ResultsPath, resp.Status)
	}
	rcv.stop(t)
	if n := countResults(t, rcv.DBPath); n != 0 {
		t.Errorf("results view has %d rows after rejected posts, want 0", n)
	}
}

func TestServerHealth(t *testing.T) {
	rcv := startReceiver(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "study.db"), ServerOptions{}, ServeOptions{})
	resp, err := http.Get(rcv.URL + HealthPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":"ok"`) {
		t.Errorf("health: %s %s, want 200 and status ok", resp.Status, body)
	}
	resp, err = http.Get(rcv.URL + "/v2/anything")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: %s, want 404", resp.Status)
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestServerLogsRequests(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	rcv := startReceiver(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "study.db"), ServerOptions{Logger: logger}, ServeOptions{})
	r := makeResult(3, 3)
	post(t, rcv.URL, testToken, bytes.NewReader(marshal(t, r)))
	post(t, rcv.URL, testToken+"x", bytes.NewReader(marshal(t, r)))
	rcv.stop(t)

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), logs.String())
	}
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	if first["run_id"] != r.RunID || first["outcome"] != "inserted" || first["status"] != float64(201) {
		t.Errorf("log of the stored post: %v, want run_id %s, outcome inserted, status 201", first, r.RunID)
	}
	if second["status"] != float64(401) || second["level"] != "WARN" {
		t.Errorf("log of the unauthorised post: %v, want a warning with status 401", second)
	}
	if strings.Contains(logs.String(), testToken) {
		t.Error("the log contains the token")
	}
}

// dumpStudy returns the rows of the results view, the curves, the params
// and the result hashes of the database at path, as text, in a fixed order.
func dumpStudy(t *testing.T, path string) string {
	t.Helper()
	db, err := store.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out strings.Builder
	for _, query := range []string{
		"SELECT * FROM results ORDER BY run_id",
		"SELECT * FROM curves ORDER BY run_id, epoch",
		"SELECT * FROM params ORDER BY run_id, stage, kind, name",
		"SELECT run_id, result_sha256 FROM runs ORDER BY run_id",
	} {
		rows, err := db.DB().Query(query)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		values := make([]any, len(cols))
		for i := range values {
			values[i] = new(sql.NullString)
		}
		fmt.Fprintln(&out, query)
		for rows.Next() {
			if err := rows.Scan(values...); err != nil {
				t.Fatal(err)
			}
			for _, v := range values {
				fmt.Fprintf(&out, "%v|", *v.(*sql.NullString))
			}
			out.WriteString("\n")
		}
		rows.Close()
	}
	return out.String()
}

func TestServerMatchesFileCollect(t *testing.T) {
	var results []*result.Result
	for i := range 20 {
		r := makeResult(i, 6)
		if i%5 == 0 {
			r.Status, r.Error = result.StatusFailed, "out of memory"
		}
		results = append(results, r)
	}

	// Over HTTP.
	rcv := startReceiver(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "http.db"), ServerOptions{}, ServeOptions{})
	client := newClient(t, rcv.URL, 2, nil)
	for _, r := range results {
		if _, err := client.Post(context.Background(), marshal(t, r)); err != nil {
			t.Fatal(err)
		}
	}
	rcv.stop(t)

	// From files.
	dir, fileDB := t.TempDir(), filepath.Join(t.TempDir(), "files.db")
	for _, r := range results {
		writeResult(t, dir, r)
	}
	if _, err := Collect(context.Background(), Options{Dirs: []string{dir}, DB: fileDB}); err != nil {
		t.Fatal(err)
	}

	overHTTP, fromFiles := dumpStudy(t, rcv.DBPath), dumpStudy(t, fileDB)
	if strings.Count(overHTTP, "\n") < 20*6 {
		t.Fatalf("the HTTP database dump is too short to compare:\n%s", overHTTP)
	}
	if overHTTP != fromFiles {
		t.Errorf("databases differ.\nover HTTP:\n%s\nfrom files:\n%s", overHTTP, fromFiles)
	}
}

// TestServeShutdownFinishesInFlight stops the receiver while a request is
// being uploaded, and checks that the request completes and is stored.
func TestServeShutdownFinishesInFlight(t *testing.T) {
	rcv := startReceiver(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "study.db"), ServerOptions{}, ServeOptions{})
	body, bodyWriter := io.Pipe()
	reading := make(chan struct{})
	trace := &httptrace.ClientTrace{Got100Continue: func() { close(reading) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
		http.MethodPost, rcv.URL+ResultsPath, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	// The server sends 100 Continue when the handler starts reading the
	// body, so Got100Continue shows that the request is in flight.
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}

	type response struct {
		status int
		err    error
	}
	done := make(chan response, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			done <- response{err: err}
			return
		}
		resp.Body.Close()
		done <- response{status: resp.StatusCode}
	}()
	select {
	case <-reading:
	case <-time.After(time.Minute):
		t.Fatal("the receiver did not start reading the body within a minute")
	}

	// Stop the receiver, and wait until it no longer accepts connections.
	stopped := make(chan error, 1)
	go func() { stopped <- rcv.stop(t) }()
	addr := strings.TrimPrefix(rcv.URL, "http://")
	for i := 0; ; i++ {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		conn.Close()
		if i == 1000 {
			t.Fatal("the receiver still accepts connections after 1000 tries")
		}
		time.Sleep(5 * time.Millisecond)
	}

	r := makeResult(9, 3)
	if _, err := bodyWriter.Write(marshal(t, r)); err != nil {
		t.Fatal(err)
	}
	bodyWriter.Close()
	got := <-done
	if got.err != nil || got.status != http.StatusCreated {
		t.Errorf("in-flight request: status %d, error %v; want 201", got.status, got.err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if n := countResults(t, rcv.DBPath); n != 1 {
		t.Errorf("results view has %d rows, want the in-flight result", n)
	}
}

// TestServerRestartLosesNothing restarts the receiver on the same address
// while clients post a study; the clients retry until it is back.
func TestServerRestartLosesNothing(t *testing.T) {
	const n, clients = 30, 5
	dbPath := filepath.Join(t.TempDir(), "study.db")
	first := startReceiver(t, "127.0.0.1:0", dbPath, ServerOptions{}, ServeOptions{})
	addr := strings.TrimPrefix(first.URL, "http://")

	var delivered, retries atomic.Int64
	halfway, retrying := make(chan struct{}), make(chan struct{})
	var halfwayOnce, retryingOnce sync.Once
	client := newClient(t, first.URL, 200, func() {
		if retries.Add(1) > 0 && delivered.Load() >= n/3 {
			retryingOnce.Do(func() { close(retrying) })
		}
	})

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < n; i += clients {
				if _, err := client.Post(context.Background(), marshal(t, makeResult(i, 3))); err != nil {
					errs <- err
					continue
				}
				if delivered.Add(1) >= n/3 {
					halfwayOnce.Do(func() { close(halfway) })
				}
			}
		}()
	}

	<-halfway
	if err := first.stop(t); err != nil {
		t.Errorf("first receiver shutdown: %v", err)
	}
	select {
	case <-retrying:
	case <-time.After(time.Minute):
		t.Fatal("no client retried within a minute of the shutdown")
	}
	second := startReceiver(t, addr, dbPath, ServerOptions{}, ServeOptions{})

	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	second.stop(t)
	if got := delivered.Load(); got != n {
		t.Errorf("%d results delivered, want %d", got, n)
	}
	if got := countResults(t, dbPath); got != n {
		t.Errorf("results view has %d rows, want %d", got, n)
	}
}

func TestServeTLSFilesMismatch(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv, err := NewServer(db, ServerOptions{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	err = Serve(context.Background(), ln, srv, ServeOptions{TLSCert: "cert.pem"})
	if err == nil || !strings.Contains(err.Error(), "--tls-key") {
		t.Errorf("a certificate without its key gave error %v", err)
	}
	srv.Close()
}

func TestNewServerNeedsToken(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := NewServer(db, ServerOptions{}); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("a server without a token gave error %v", err)
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key as
// PEM files in dir, and returns their paths and a pool that trusts it.
func writeCert(t *testing.T, dir string) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mosaic test receiver"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, keyPath, pool
}

func TestServeTLS(t *testing.T) {
	certPath, keyPath, pool := writeCert(t, t.TempDir())
	rcv := startReceiver(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "study.db"), ServerOptions{},
		ServeOptions{TLSCert: certPath, TLSKey: keyPath})
	httpClient := &http.Client{
		Timeout:   time.Minute,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	client, err := deliver.New(deliver.Options{URL: rcv.URL, Token: testToken, MaxAttempts: 2, HTTPClient: httpClient})
	if err != nil {
		t.Fatal(err)
	}
	receipt, err := client.Post(context.Background(), marshal(t, makeResult(5, 3)))
	if err != nil {
		t.Fatal(err)
	}
	if receipt.StatusCode != http.StatusCreated {
		t.Errorf("post over HTTPS: status %d, want 201", receipt.StatusCode)
	}

	// A client that does not trust the certificate fails at once: an
	// untrusted certificate is not retried.
	untrusting, err := deliver.New(deliver.Options{URL: rcv.URL, Token: testToken, MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	_, err = untrusting.Post(context.Background(), marshal(t, makeResult(6, 3)))
	if err == nil || !strings.Contains(err.Error(), "after 1 attempt:") {
		t.Errorf("post with an untrusted certificate gave error %v, want a failure after 1 attempt", err)
	}
	rcv.stop(t)
	if n := countResults(t, rcv.DBPath); n != 1 {
		t.Errorf("results view has %d rows, want 1", n)
	}
}

// BenchmarkServerPosts posts 1,000 results of 200 epochs from 16 concurrent
// clients to a receiver on 127.0.0.1 with a new database per iteration,
// and reports results stored per second.
func BenchmarkServerPosts(b *testing.B) {
	const n, clients = 1000, 16
	docs := make([][]byte, n)
	for i := range docs {
		docs[i] = marshal(b, makeResult(i, 200))
	}
	b.ResetTimer()
	for range b.N {
		db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "study.db"))
		if err != nil {
			b.Fatal(err)
		}
		srv, err := NewServer(db, ServerOptions{Token: testToken})
		if err != nil {
			b.Fatal(err)
		}
		ts := httptest.NewServer(srv)
		client, err := deliver.New(deliver.Options{URL: ts.URL, Token: testToken, MaxAttempts: 1})
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		var failed atomic.Int64
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := c; i < n; i += clients {
					if _, err := client.Post(context.Background(), docs[i]); err != nil {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		ts.Close()
		srv.Close()
		db.Close()
		if failed.Load() > 0 {
			b.Fatalf("%d posts failed", failed.Load())
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "results/s")
}

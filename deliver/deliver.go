// Package deliver posts result documents to a `mosaic collect --listen`
// receiver, for cluster nodes that share no file system with the submit
// machine. It retries with github.com/hashicorp/go-retryablehttp:
// exponential backoff with jitter, a bounded number of attempts and a
// bounded total time, retries on connection errors, 408, 429 and 5xx, and
// waits as long as a Retry-After header requests. The bearer token is sent in
// the Authorization header only and never logged.
package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// ResultsPath is the receiver's endpoint for result documents, relative to
// its base URL.
const ResultsPath = "/v1/results"

// Defaults of Options.
const (
	// DefaultMaxAttempts is the number of requests made before giving up.
	DefaultMaxAttempts = 10
	// DefaultMaxTime bounds the whole delivery, waits included.
	DefaultMaxTime = 15 * time.Minute
	// DefaultWaitMin is the wait before the second attempt; each later wait
	// doubles, up to DefaultWaitMax.
	DefaultWaitMin = time.Second
	// DefaultWaitMax caps the exponential wait between attempts.
	DefaultWaitMax = 2 * time.Minute
	// DefaultAttemptTimeout bounds one request, upload of the body included.
	DefaultAttemptTimeout = 2 * time.Minute
)

// Errors that Post wraps, for callers that branch on the reason.
var (
	// ErrConflict means the receiver already stores a different result for the run,
	// stored as done, and kept it (HTTP 409).
	ErrConflict = errors.New("receiver already stores a different result for this run")
	// ErrRejected means the receiver rejected the request, with a 4xx status
	// other than 408, 409 and 429; retrying the same request cannot help.
	ErrRejected = errors.New("receiver rejected the result")
	// ErrGaveUp means no attempt succeeded within the attempts and time
	// allowed: the receiver was unreachable or kept failing.
	ErrGaveUp = errors.New("result not delivered")
)

// Options configure a Client. Zero values take the defaults above.
type Options struct {
	// URL is the receiver's base URL, such as http://submit-host:8470 or
	// https://proxy.example.org/mosaic; results go to URL + ResultsPath.
	URL string
	// Token is the bearer token the receiver expects; see CheckToken.
	Token string
	// MaxAttempts is the number of requests made, the first included.
	MaxAttempts int
	// MaxTime bounds the whole delivery, waits included.
	MaxTime time.Duration
	// WaitMin and WaitMax bound the exponential backoff; see Backoff.
	WaitMin, WaitMax time.Duration
	// AttemptTimeout bounds one request. It is ignored when HTTPClient is
	// set, whose own Timeout applies.
	AttemptTimeout time.Duration
	// Backoff computes the wait before each retry; nil means Backoff.
	Backoff retryablehttp.Backoff
	// HTTPClient sends the requests; nil means a client from
	// go-cleanhttp with AttemptTimeout. HTTPS receivers are verified
	// against the system's roots, which SSL_CERT_FILE can replace.
	HTTPClient *http.Client
	// Logger receives each retry at info level, each failed request at
	// warning level and each request at debug level, with the token
	// redacted. Nil logs nothing.
	Logger *slog.Logger
}

// Client posts result documents to one receiver.
type Client struct {
	opts     Options
	endpoint string
	http     *http.Client
}

// Receipt is the receiver's response to a delivered result.
type Receipt struct {
	// RunID is the run the receiver stored or found.
	RunID string `json:"run_id"`
	// Outcome is "inserted" (HTTP 201) or "unchanged" (HTTP 200, an
	// identical result was already stored).
	Outcome string `json:"outcome"`
	// StatusCode is the HTTP status of the last response.
	StatusCode int `json:"-"`
	// Attempts is the number of requests made.
	Attempts int `json:"-"`
}

// New checks opts and returns a Client.
func New(opts Options) (*Client, error) {
	base, err := ParseURL(opts.URL)
	if err != nil {
		return nil, err
	}
	if err := CheckToken(opts.Token); err != nil {
		return nil, err
	}
	opts = withDefaults(opts)
	client := opts.HTTPClient
	if client == nil {
		client = cleanhttp.DefaultPooledClient()
		client.Timeout = opts.AttemptTimeout
	}
	return &Client{
		opts:     opts,
		endpoint: strings.TrimRight(base.String(), "/") + ResultsPath,
		http:     client,
	}, nil
}

func withDefaults(opts Options) Options {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxTime <= 0 {
		opts.MaxTime = DefaultMaxTime
	}
	if opts.WaitMin <= 0 {
		opts.WaitMin = DefaultWaitMin
	}
	if opts.WaitMax <= 0 {
		opts.WaitMax = DefaultWaitMax
	}
	opts.WaitMax = max(opts.WaitMax, opts.WaitMin)
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = DefaultAttemptTimeout
	}
	if opts.Backoff == nil {
		opts.Backoff = Backoff
	}
	return opts
}

// Endpoint returns the URL results are posted to.
func (c *Client) Endpoint() string { return c.endpoint }

// ParseURL checks a receiver's base URL: http or https, with a host, and
// without user information, query or fragment.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid receiver URL %q: expected http://HOST:PORT or https://HOST[/PATH]: %w", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("invalid receiver URL %q: expected http://HOST:PORT or https://HOST[/PATH]", raw)
	case u.Host == "":
		return nil, fmt.Errorf("invalid receiver URL %q: the host is missing", raw)
	case u.User != nil:
		return nil, fmt.Errorf("invalid receiver URL %q: it must not contain user information; give the token in a file", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("invalid receiver URL %q: expected no query or fragment", raw)
	}
	return u, nil
}

// attemptLog records the last failure of a Post, for its error message.
type attemptLog struct {
	attempts   int
	lastStatus string
	lastErr    error
}

// Post sends one result document and returns the receiver's receipt. It
// retries as CheckRetry decides, within Options.MaxAttempts and
// Options.MaxTime. A 409 gives an error wrapping ErrConflict, another final
// 4xx one wrapping ErrRejected, and running out of attempts or time one
// wrapping ErrGaveUp.
func (c *Client) Post(ctx context.Context, doc []byte) (*Receipt, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.MaxTime)
	defer cancel()

	log := &attemptLog{}
	rc := c.retryClient(log)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, doc)
	if err != nil {
		return nil, fmt.Errorf("post result to %s: %w", c.endpoint, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.opts.Token)
	req.Header.Set("Content-Type", "application/json")

	resp, err := rc.Do(req)
	if err != nil {
		return nil, c.gaveUp(log, err)
	}
	defer resp.Body.Close()
	return c.readReceipt(resp, log)
}

// retryClient returns a go-retryablehttp client for one Post, recording
// its attempts in log.
func (c *Client) retryClient(log *attemptLog) *retryablehttp.Client {
	rc := &retryablehttp.Client{
		HTTPClient:   c.http,
		RetryWaitMin: c.opts.WaitMin,
		RetryWaitMax: c.opts.WaitMax,
		RetryMax:     c.opts.MaxAttempts - 1,
		Backoff:      c.opts.Backoff,
		// Passing the last response through lets readReceipt report the
		// receiver's own message when attempts run out.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(_ retryablehttp.Logger, _ *http.Request, retry int) {
			log.attempts = retry + 1
		},
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			if resp != nil {
				log.lastStatus = resp.Status
			}
			if err != nil {
				log.lastErr = err
			}
			return CheckRetry(ctx, resp, err)
		},
	}
	if c.opts.Logger != nil {
		rc.Logger = NewLogger(c.opts.Logger, c.opts.Token)
	}
	return rc
}

// gaveUp returns the error of a Post that got no response to read.
func (c *Client) gaveUp(log *attemptLog, err error) error {
	last := err
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		switch {
		case log.lastErr != nil && !errors.Is(log.lastErr, err):
			last = fmt.Errorf("%w; last error: %v", err, log.lastErr)
		case log.lastStatus != "":
			last = fmt.Errorf("%w; last response: %s", err, log.lastStatus)
		}
	}
	return fmt.Errorf("post result to %s: %w after %s: %v", c.endpoint, ErrGaveUp, countAttempts(log.attempts), last)
}

// readReceipt maps the final response to a receipt or an error.
func (c *Client) readReceipt(resp *http.Response, log *attemptLog) (*Receipt, error) {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	message := receiverMessage(body)
	switch {
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated:
		r := &Receipt{}
		if err := json.Unmarshal(body, r); err != nil {
			return nil, fmt.Errorf("post result to %s: decode the receiver's %s response: %w", c.endpoint, resp.Status, err)
		}
		r.StatusCode, r.Attempts = resp.StatusCode, log.attempts
		return r, nil
	case resp.StatusCode == http.StatusConflict:
		return nil, fmt.Errorf("post result to %s: %w: %s", c.endpoint, ErrConflict, message)
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && !retryable(resp.StatusCode):
		return nil, fmt.Errorf("post result to %s: %w: %s: %s", c.endpoint, ErrRejected, resp.Status, message)
	}
	return nil, fmt.Errorf("post result to %s: %w after %s: last response %s: %s",
		c.endpoint, ErrGaveUp, countAttempts(log.attempts), resp.Status, message)
}

// countAttempts returns "1 attempt" or "n attempts".
func countAttempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// receiverMessage returns the "error" field of a receiver's JSON response, or
// the start of the body when it is not one.
func receiverMessage(body []byte) string {
	var answer struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &answer) == nil && answer.Error != "" {
		return answer.Error
	}
	text := string(bytes.TrimSpace(body))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	if text == "" {
		return "(no message)"
	}
	return text
}

package deliver

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

var (
	_ retryablehttp.CheckRetry = CheckRetry
	_ retryablehttp.Backoff    = Backoff
)

// CheckRetry is the retry policy of Post. It retries connection errors
// (go-retryablehttp's DefaultRetryPolicy decides which: not an invalid URL
// scheme, too many redirects or an untrusted certificate), and the statuses
// 408, 429 and 5xx other than 501. It does not retry any other status, so
// 400 (invalid result), 401 (wrong token), 409 (conflict) and 413 (too
// large) end the delivery at once. It stops when ctx is done.
func CheckRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	return retryable(resp.StatusCode), nil
}

// retryable reports whether a response of this status may succeed when
// sent again.
func retryable(status int) bool {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return true
	case status == http.StatusNotImplemented:
		return false
	case status >= 500 || status == 0:
		return true
	}
	return false
}

// Backoff is the wait policy of Post. After a 429 or 503 response with a
// Retry-After header (seconds or an HTTP date), it waits as long as the
// header requests, even beyond waitMax, since Options.MaxTime bounds the whole
// delivery. Otherwise it waits waitMin*2^attempt, capped at waitMax, with "equal
// jitter": a uniformly random wait between half that value and that
// value, so that the jobs of one array, failing together, do not retry in
// step. attempt counts from 0.
func Backoff(waitMin, waitMax time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if wait, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return wait
		}
	}
	wait := waitMin
	for i := 0; i < attempt && wait < waitMax; i++ {
		wait *= 2
	}
	wait = min(wait, waitMax)
	half := wait / 2
	return half + rand.N(wait-half+1)
}

// parseRetryAfter reads a Retry-After header value (RFC 9110, section
// 10.2.3): a number of seconds, or an HTTP date, which counts from now.
func parseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
		if seconds < 0 || seconds > int64(24*time.Hour/time.Second) {
			return 0, false
		}
		return time.Duration(seconds) * time.Second, true
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return max(at.Sub(now), 0), true
}

package deliver

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// TokenEnv is the environment variable that holds the bearer token when no
// token file is given.
const TokenEnv = "MOSAIC_TOKEN"

// MinTokenLength is the shortest token accepted, in characters. A token of
// 32 random bytes in base64, such as `head -c 32 /dev/urandom | base64`
// prints, has 44.
const MinTokenLength = 16

// LoadToken returns the token in the file at path when path is set, and
// otherwise the value of the TokenEnv environment variable, read through
// getenv. Tokens are never taken from a command-line value, which other
// users of the node could read in `ps`.
func LoadToken(path string, getenv func(string) string) (string, error) {
	if path != "" {
		return ReadToken(path)
	}
	token := strings.TrimSpace(getenv(TokenEnv))
	if token == "" {
		return "", fmt.Errorf("no token: give --token-file FILE or set %s", TokenEnv)
	}
	if err := CheckToken(token); err != nil {
		return "", fmt.Errorf("token in %s: %w", TokenEnv, err)
	}
	return token, nil
}

// ReadToken returns the token in the file at path, without the whitespace
// and newline around it.
func ReadToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if err := CheckToken(token); err != nil {
		return "", fmt.Errorf("token file %s: %w", path, err)
	}
	return token, nil
}

// CheckToken checks that token can be sent as a bearer token (the
// b64token characters of RFC 6750: letters, digits and -._~+/ with
// trailing =) and has at least MinTokenLength characters. The error never
// contains the token.
func CheckToken(token string) error {
	if token == "" {
		return errors.New("the token is empty")
	}
	if len(token) < MinTokenLength {
		return fmt.Errorf("the token has %d characters, expected at least %d; "+
			"generate one with `head -c 32 /dev/urandom | base64`", len(token), MinTokenLength)
	}
	body := strings.TrimRight(token, "=")
	if body == "" {
		return errors.New("the token is only '=' characters")
	}
	for i, r := range body {
		if !isTokenChar(r) {
			return fmt.Errorf("the token has an invalid character at position %d: "+
				"expected letters, digits and -._~+/ with trailing =", i+1)
		}
	}
	return nil
}

func isTokenChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("-._~+/", r)
}

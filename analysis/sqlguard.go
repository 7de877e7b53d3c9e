package analysis

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrNotReadOnly is returned by Query for a statement that is not a
// SELECT, WITH … SELECT, VALUES, EXPLAIN or a PRAGMA that only reads.
var ErrNotReadOnly = errors.New("statement is not read-only")

// sqlTokens is the outline of a piece of SQL: its bare words in upper case
// (string literals, quoted identifiers and comments left out) and the words
// of each statement between semicolons.
type sqlTokens struct {
	statements [][]string
	// hasParen is set when a statement contains "(" outside literals.
	hasParen []bool
	// hasEquals is set when a statement contains "=" outside literals.
	hasEquals []bool
}

// scanSQL splits SQL into statements and bare words, skipping '…', "…",
// `…` and […] quoting and both comment forms. Empty statements are dropped.
func scanSQL(s string) sqlTokens {
	var out sqlTokens
	var words []string
	var paren, equals bool
	flush := func() {
		if len(words) > 0 {
			out.statements = append(out.statements, words)
			out.hasParen = append(out.hasParen, paren)
			out.hasEquals = append(out.hasEquals, equals)
		}
		words, paren, equals = nil, false, false
	}

	r := []rune(s)
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(r, i, c)
			words = append(words, "") // a literal or identifier is a token
		case c == '[':
			i = skipQuoted(r, i, ']')
			words = append(words, "")
		case c == '-' && i+1 < len(r) && r[i+1] == '-':
			for i < len(r) && r[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(r) && r[i+1] == '*':
			i += 2
			for i < len(r) && !(r[i] == '*' && i+1 < len(r) && r[i+1] == '/') {
				i++
			}
			i++
		case c == ';':
			flush()
		case c == '(':
			paren = true
		case c == '=':
			equals = true
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '_' || r[j] == '$') {
				j++
			}
			words = append(words, strings.ToUpper(string(r[i:j])))
			i = j - 1
		case unicode.IsSpace(c):
		default:
			words = append(words, string(c))
		}
	}
	flush()
	return out
}

// skipQuoted returns the index of the quote that closes the literal opened
// at r[start]; a doubled closing quote is an escaped one.
func skipQuoted(r []rune, start int, closing rune) int {
	for i := start + 1; i < len(r); i++ {
		if r[i] != closing {
			continue
		}
		if closing != ']' && i+1 < len(r) && r[i+1] == closing {
			i++
			continue
		}
		return i
	}
	return len(r)
}

// writeWords are keywords that start a statement that changes the database
// or the connection.
var writeWords = map[string]bool{
	"INSERT": true, "UPDATE": true, "DELETE": true, "REPLACE": true,
	"CREATE": true, "DROP": true, "ALTER": true, "ATTACH": true,
	"DETACH": true, "VACUUM": true, "REINDEX": true, "ANALYZE": true,
}

// argumentPragmas are the pragmas that take an argument in parentheses and
// still only read.
var argumentPragmas = map[string]bool{
	"TABLE_INFO": true, "TABLE_XINFO": true, "INDEX_INFO": true,
	"INDEX_XINFO": true, "INDEX_LIST": true, "FOREIGN_KEY_LIST": true,
	"FOREIGN_KEY_CHECK": true, "INTEGRITY_CHECK": true, "QUICK_CHECK": true,
	"TABLE_LIST": true,
}

// checkReadOnlyStatement rejects anything but a single SELECT, WITH …
// SELECT, VALUES, EXPLAIN or reading PRAGMA. It is a second guard behind the
// read-only connection, so its errors name the rule, not SQLite's.
func checkReadOnlyStatement(query string) error {
	tokens := scanSQL(query)
	switch len(tokens.statements) {
	case 0:
		return fmt.Errorf("check query: empty statement: %w", ErrNotReadOnly)
	case 1:
	default:
		return fmt.Errorf("check query: %d statements, expected one: %w", len(tokens.statements), ErrNotReadOnly)
	}

	words := tokens.statements[0]
	switch words[0] {
	case "SELECT", "EXPLAIN", "VALUES":
		return nil
	case "WITH":
		for _, w := range words {
			if writeWords[w] {
				return fmt.Errorf("check query: WITH statement contains %s, expected a SELECT: %w", w, ErrNotReadOnly)
			}
		}
		return nil
	case "PRAGMA":
		return checkPragma(words, tokens.hasParen[0], tokens.hasEquals[0])
	default:
		if !sqlWriteKeywords[words[0]] {
			// Most likely a typo such as SELEC: the message lists what is
			// accepted, not that the statement writes.
			return fmt.Errorf("check query: statement starts with %s, which is not an SQL statement this command runs: expected SELECT, WITH, VALUES, EXPLAIN or PRAGMA: %w", words[0], ErrNotReadOnly)
		}
		return fmt.Errorf("check query: %s changes the database, and queries are read-only: expected SELECT, WITH, VALUES, EXPLAIN or PRAGMA: %w", words[0], ErrNotReadOnly)
	}
}

// checkPragma accepts "PRAGMA [schema.]name" and, for pragmas that only
// report, "PRAGMA name(argument)".
func checkPragma(words []string, hasParen, hasEquals bool) error {
	if hasEquals {
		return fmt.Errorf("check query: PRAGMA sets a value: %w", ErrNotReadOnly)
	}
	if !hasParen {
		return nil
	}
	name := ""
	for _, w := range words[1:] {
		if w != "" && w != "." {
			name = w
			break
		}
	}
	if len(words) > 3 && words[2] == "." {
		name = words[3]
	}
	if !argumentPragmas[name] {
		return fmt.Errorf("check query: PRAGMA %s with an argument may set a value: %w", strings.ToLower(name), ErrNotReadOnly)
	}
	return nil
}

// checkCondition rejects a WHERE condition that would end the statement it
// is placed in.
func checkCondition(cond string) error {
	if strings.TrimSpace(cond) == "" {
		return nil
	}
	if strings.Contains(stripQuoted(cond), ";") {
		return fmt.Errorf("check condition %q: contains \";\", expected one SQL expression", cond)
	}
	return nil
}

// stripQuoted returns s without its literals and quoted identifiers, for a
// search of its punctuation.
func stripQuoted(s string) string {
	var b strings.Builder
	r := []rune(s)
	for i := 0; i < len(r); i++ {
		switch c := r[i]; {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(r, i, c)
		case c == '[':
			i = skipQuoted(r, i, ']')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// sqlWriteKeywords are the first words of SQLite statements that change a
// database or its connection.
var sqlWriteKeywords = map[string]bool{
	"INSERT": true, "UPDATE": true, "DELETE": true, "REPLACE": true, "UPSERT": true,
	"CREATE": true, "DROP": true, "ALTER": true, "ATTACH": true, "DETACH": true,
	"VACUUM": true, "REINDEX": true, "ANALYZE": true, "BEGIN": true, "COMMIT": true,
	"END": true, "ROLLBACK": true, "SAVEPOINT": true, "RELEASE": true,
}

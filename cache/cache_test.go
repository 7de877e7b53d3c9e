package cache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openCache(t *testing.T, maxBytes int64) *Cache {
	t.Helper()
	c, err := Open(t.TempDir(), maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCachePutGet(t *testing.T) {
	c := openCache(t, 0)
	if _, found, err := c.Get("absent"); found || err != nil {
		t.Fatalf("Get of a missing key = found %v, error %v; want a miss without error", found, err)
	}
	want := []byte("prepared data")
	if err := c.Put("k1", want); err != nil {
		t.Fatal(err)
	}
	got, found, err := c.Get("k1")
	if err != nil || !found {
		t.Fatalf("Get after Put = found %v, error %v", found, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Get = %q, want %q", got, want)
	}

	// Put replaces the value.
	if err := c.Put("k1", []byte("new")); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := c.Get("k1"); string(got) != "new" {
		t.Errorf("Get after a second Put = %q, want %q", got, "new")
	}
}

func TestCacheRejectsInvalidKey(t *testing.T) {
	c := openCache(t, 0)
	for _, key := range []string{"", "../escape", "a/b", "a b"} {
		if err := c.Put(key, []byte("x")); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put(%q) error = %v, want ErrInvalidKey", key, err)
		}
		if _, _, err := c.Get(key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Get(%q) error = %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	value := bytes.Repeat([]byte("v"), 100)
	entrySize := int64(headerSize + len(value))
	c := openCache(t, 3*entrySize)
	for _, key := range []string{"a", "b", "c"} {
		if err := c.Put(key, value); err != nil {
			t.Fatal(err)
		}
	}
	// Age the entries so their order does not depend on the clock's
	// resolution: a is the oldest, then b, then c.
	base := time.Now().Add(-time.Hour)
	for i, key := range []string{"a", "b", "c"} {
		when := base.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(c.path(key), when, when); err != nil {
			t.Fatal(err)
		}
	}

	// Reading a makes b the least recently used.
	if _, found, _ := c.Get("a"); !found {
		t.Fatal("a is missing before any eviction")
	}
	if err := c.Put("d", value); err != nil {
		t.Fatal(err)
	}

	for key, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		_, found, err := c.Get(key)
		if err != nil {
			t.Fatal(err)
		}
		if found != want {
			t.Errorf("after eviction, entry %s present = %v, want %v", key, found, want)
		}
	}
	stats, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Bytes > 3*entrySize {
		t.Errorf("cache holds %d bytes, over its maximum of %d", stats.Bytes, 3*entrySize)
	}
	if stats.Entries != 3 {
		t.Errorf("cache holds %d entries, want 3", stats.Entries)
	}
}

func TestCacheKeepsOversizedNewEntry(t *testing.T) {
	c := openCache(t, 10)
	if err := c.Put("old", []byte("x")); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("y"), 1000)
	if err := c.Put("big", big); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := c.Get("big"); !found {
		t.Error("the entry just stored was evicted")
	}
	if _, found, _ := c.Get("old"); found {
		t.Error("the old entry was kept although the cache is over its size")
	}
}

func TestCacheCorruptEntry(t *testing.T) {
	c := openCache(t, 0)
	if err := c.Put("k", []byte("some prepared data")); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(c.path("k"))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 0xff // Flip the last payload byte.
	if err := os.WriteFile(c.path("k"), raw, 0o644); err != nil {
		t.Fatal(err)
	}

	_, found, err := c.Get("k")
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Get of a corrupt entry error = %v, want ErrCorrupt", err)
	}
	if found {
		t.Error("Get of a corrupt entry reported a hit")
	}
	if _, err := os.Stat(c.path("k")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("corrupt entry file still present: stat error %v", err)
	}

	// The caller rebuilds the entry.
	if err := c.Put("k", []byte("rebuilt")); err != nil {
		t.Fatal(err)
	}
	if got, found, err := c.Get("k"); err != nil || !found || string(got) != "rebuilt" {
		t.Errorf("Get after rebuild = %q, %v, %v", got, found, err)
	}
}

func TestCacheTruncatedEntry(t *testing.T) {
	c := openCache(t, 0)
	if err := os.WriteFile(c.path("k"), []byte("MOSAIC"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get("k"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Get of a truncated entry error = %v, want ErrCorrupt", err)
	}
}

// Concurrent writers and readers of one key never see a torn value: every
// read returns one of the values written, in full.
func TestCacheConcurrentReadersSeeWholeValues(t *testing.T) {
	c := openCache(t, 0)
	values := make(map[string]bool)
	for i := range 4 {
		v := bytes.Repeat([]byte{byte('a' + i)}, 64<<10)
		values[string(v)] = true
	}

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for v := range values {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if err := c.Put("shared", []byte(v)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				got, found, err := c.Get("shared")
				if err != nil {
					errs <- err
					return
				}
				if found && !values[string(got)] {
					errs <- fmt.Errorf("read a torn value of %d bytes", len(got))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(c.Dir(), ".*.tmp"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

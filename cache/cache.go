// Package cache is an on-disk key-value cache bounded in size, shared by the
// processes of a study. The run manager's children keep the prepared data of
// data schemes in it.
//
// Each entry is one file, <key>.entry, whose header holds a magic number, the
// payload length and the payload's SHA-256. Writers write a temporary file
// and rename it over the entry, so a reader sees the old entry or the new one
// in full, never a torn one. A reader that finds a bad checksum removes the
// entry and reports ErrCorrupt, and the caller rebuilds it. Reads set the
// file's modification time, which orders the least-recently-used eviction
// that keeps the folder under its maximum size.
package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// entrySuffix ends the name of every entry file.
const entrySuffix = ".entry"

// magic starts every entry file.
var magic = [8]byte{'M', 'O', 'S', 'A', 'I', 'C', 'C', '1'}

// headerSize is the magic, the payload length (uint64, little-endian) and
// the SHA-256 of the payload.
const headerSize = 8 + 8 + sha256.Size

// validKey matches the keys the cache accepts: they become file names.
var validKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

var (
	// ErrCorrupt is wrapped by Get's error for an entry whose header or
	// checksum is wrong. Get removes such an entry.
	ErrCorrupt = errors.New("corrupt cache entry")
	// ErrInvalidKey is wrapped by the errors for a key that is not 1 to 128
	// letters, digits, '-' or '_'.
	ErrInvalidKey = errors.New("invalid cache key")
)

// Cache is a folder of entries. Its methods are safe for concurrent use by
// goroutines and by processes that open the same folder.
type Cache struct {
	dir string
	// maxBytes bounds the total size of the entry files; 0 means no bound.
	maxBytes int64
}

// Open returns the cache in dir, creating the folder when missing. maxBytes
// is the size the entries may take in all, headers included. Put evicts the
// least recently used entries beyond it, and 0 means no bound.
func Open(dir string, maxBytes int64) (*Cache, error) {
	if dir == "" {
		return nil, fmt.Errorf("open cache: no folder given")
	}
	if maxBytes < 0 {
		return nil, fmt.Errorf("open cache %s: invalid maximum size %d bytes, expected 0 or more", dir, maxBytes)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open cache %s: %w", dir, err)
	}
	return &Cache{dir: dir, maxBytes: maxBytes}, nil
}

// Dir returns the cache folder.
func (c *Cache) Dir() string { return c.dir }

// Get returns the value stored under key. It returns false and a nil error
// when there is no entry. For an entry that fails its checksum, it removes
// the file and returns an error wrapping ErrCorrupt. A hit marks the entry as
// the most recently used.
func (c *Cache) Get(key string) ([]byte, bool, error) {
	if !validKey.MatchString(key) {
		return nil, false, fmt.Errorf("get %q from cache %s: %w", key, c.dir, ErrInvalidKey)
	}
	path := c.path(key)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get %s from cache %s: %w", key, c.dir, err)
	}

	value, err := decodeEntry(raw)
	if err != nil {
		// Another process may have replaced the entry since this read, so
		// only a file that still holds the bad bytes is removed.
		if current, rerr := os.ReadFile(path); rerr == nil && bytes.Equal(current, raw) {
			os.Remove(path)
		}
		return nil, false, fmt.Errorf("get %s from cache %s: %w", key, c.dir, err)
	}

	now := time.Now()
	os.Chtimes(path, now, now) // Best effort: a failure only ages the entry.
	return value, true, nil
}

// Put stores value under key and then evicts the least recently used
// entries until the cache fits its maximum size. The new entry is evicted
// last, and it is kept even when it alone exceeds the maximum.
func (c *Cache) Put(key string, value []byte) error {
	if !validKey.MatchString(key) {
		return fmt.Errorf("put %q in cache %s: %w", key, c.dir, ErrInvalidKey)
	}
	if err := c.writeEntry(key, value); err != nil {
		return fmt.Errorf("put %s in cache %s: %w", key, c.dir, err)
	}
	if err := c.evict(key); err != nil {
		return fmt.Errorf("put %s in cache %s: %w", key, c.dir, err)
	}
	return nil
}

// Stats describes the entries on disk.
type Stats struct {
	Entries int
	// Bytes is the total size of the entry files.
	Bytes int64
	// MaxBytes is the bound given to Open; 0 means none.
	MaxBytes int64
}

// Stats counts the entries and their size.
func (c *Cache) Stats() (Stats, error) {
	entries, err := c.entries()
	if err != nil {
		return Stats{}, err
	}
	s := Stats{Entries: len(entries), MaxBytes: c.maxBytes}
	for _, e := range entries {
		s.Bytes += e.size
	}
	return s, nil
}

func (c *Cache) path(key string) string { return filepath.Join(c.dir, key+entrySuffix) }

// writeEntry writes the entry into a temporary file unique to this writer,
// syncs it and renames it over the entry.
func (c *Cache) writeEntry(key string, value []byte) error {
	sum := sha256.Sum256(value)
	header := make([]byte, 0, headerSize)
	header = append(header, magic[:]...)
	header = binary.LittleEndian.AppendUint64(header, uint64(len(value)))
	header = append(header, sum[:]...)

	tmp, err := os.CreateTemp(c.dir, "."+key+".*.tmp")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	_, err = tmp.Write(header)
	if err == nil {
		_, err = tmp.Write(value)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path(key))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write entry: %w", err)
	}
	return nil
}

// decodeEntry checks an entry file's header and checksum and returns its
// payload.
func decodeEntry(raw []byte) ([]byte, error) {
	if len(raw) < headerSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrCorrupt, len(raw), headerSize)
	}
	if [8]byte(raw[:8]) != magic {
		return nil, fmt.Errorf("%w: starts with %q, expected %q", ErrCorrupt, raw[:8], magic[:])
	}
	length := binary.LittleEndian.Uint64(raw[8:16])
	payload := raw[headerSize:]
	if uint64(len(payload)) != length {
		return nil, fmt.Errorf("%w: payload of %d bytes, the header records %d", ErrCorrupt, len(payload), length)
	}
	if sum := sha256.Sum256(payload); !bytes.Equal(sum[:], raw[16:headerSize]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return payload, nil
}

// entry is one entry file as eviction reads it.
type entry struct {
	key     string
	size    int64
	modTime time.Time
}

// entries lists the entry files, skipping temporary files.
func (c *Cache) entries() ([]entry, error) {
	dirEntries, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, fmt.Errorf("list cache %s: %w", c.dir, err)
	}
	var out []entry
	for _, d := range dirEntries {
		name := d.Name()
		if !strings.HasSuffix(name, entrySuffix) || strings.HasPrefix(name, ".") {
			continue
		}
		info, err := d.Info()
		if err != nil {
			continue // Removed by another process since ReadDir.
		}
		out = append(out, entry{key: strings.TrimSuffix(name, entrySuffix), size: info.Size(), modTime: info.ModTime()})
	}
	return out, nil
}

// evict removes the least recently used entries, never keep, until the
// entries fit maxBytes. Several processes may evict at once: removing an
// entry another process already removed is not an error, and a process
// that is reading an entry keeps its open file.
func (c *Cache) evict(keep string) error {
	if c.maxBytes == 0 {
		return nil
	}
	entries, err := c.entries()
	if err != nil {
		return err
	}
	var total int64
	for _, e := range entries {
		total += e.size
	}
	if total <= c.maxBytes {
		return nil
	}

	sort.Slice(entries, func(i, j int) bool {
		if !entries[i].modTime.Equal(entries[j].modTime) {
			return entries[i].modTime.Before(entries[j].modTime)
		}
		return entries[i].key < entries[j].key
	})
	for _, e := range entries {
		if total <= c.maxBytes {
			break
		}
		if e.key == keep {
			continue
		}
		if err := os.Remove(c.path(e.key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("evict %s: %w", e.key, err)
		}
		total -= e.size
	}
	return nil
}

//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// writerLock is the lock file that makes a store's writer the only one:
// <db>.lock, held with flock(2) for as long as the store is open for
// writing. The kernel releases it when the process ends, however it ends,
// so a crashed writer never leaves a stale lock.
type writerLock struct {
	f *os.File
}

// lockWriter takes the writer lock of the database at path, or returns an
// error wrapping ErrLocked that names the process holding it.
func lockWriter(path string) (*writerLock, error) {
	lockPath := path + ".lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(lockPath)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is being written by %s; wait for it to finish, or use another --db",
				ErrLocked, path, describeHolder(string(holder)))
		}
		return nil, fmt.Errorf("lock %s: %w", lockPath, err)
	}
	// Record who holds the lock, for the message another writer gets.
	host, _ := os.Hostname()
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "pid %d on %s\n", os.Getpid(), host)
	}
	return &writerLock{f: f}, nil
}

// describeHolder turns the lock file's content into words for a message.
func describeHolder(content string) string {
	content = strings.TrimSpace(content)
	if content == "" {
		return "another mosaic process"
	}
	if fields := strings.Fields(content); len(fields) >= 2 {
		if _, err := strconv.Atoi(fields[1]); err == nil {
			return "another mosaic process (" + content + ")"
		}
	}
	return "another mosaic process"
}

// unlock releases the lock. The lock file stays: removing it would let a
// third process lock a new file while a second still waits on the old one.
func (l *writerLock) unlock() {
	if l == nil || l.f == nil {
		return
	}
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}

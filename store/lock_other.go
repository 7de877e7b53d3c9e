//go:build !unix

package store

// writerLock is a no-op where flock(2) is not available.
// NOTE: on such systems nothing stops two writers on one database.
type writerLock struct{}

func lockWriter(string) (*writerLock, error) { return &writerLock{}, nil }

func (*writerLock) unlock() {}

package etl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/uptake-dev/uptake/etl/warehouse"
)

// Lock is the run lock: a file beside the warehouse, locked with flock(2)
// while a run holds it and naming its holder. The kernel releases the lock
// when the process ends, however it ends: a crashed run never leaves a lock
// behind, and the file itself is never removed (removing it would let two
// processes lock two different files).
type Lock struct {
	f *os.File
}

// lockHolder is what the lock file says.
type lockHolder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
	RunID   string    `json:"run_id"`
}

// ErrLocked is returned when another run holds the lock.
var ErrLocked = errors.New("another uptake run is in progress")

// AcquireLock takes the lock at path, or fails at once naming the holder.
func AcquireLock(path, runID string, now time.Time) (*Lock, error) {
	if err := warehouse.PrivateDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := warehouse.PrivateFiles(path); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !held {
		defer f.Close()
		var h lockHolder
		b, _ := io.ReadAll(f)
		if json.Unmarshal(b, &h) != nil {
			return nil, fmt.Errorf("%w (lock file %s)", ErrLocked, path)
		}
		return nil, fmt.Errorf("%w: run %s, pid %d on %s, started %s (lock file %s)",
			ErrLocked, h.RunID, h.PID, h.Host, h.Started.Format(time.RFC3339), path)
	}
	host, _ := os.Hostname()
	me, _ := json.Marshal(lockHolder{PID: os.Getpid(), Host: host, Started: now, RunID: runID})
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(me, 0)
	}
	if err != nil {
		unlock(f)
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Release frees the lock.
func (l *Lock) Release() error {
	l.f.Truncate(0)
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("release lock: %w", err)
	}
	return nil
}

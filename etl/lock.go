package etl

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Lock is the run lock: a file beside the warehouse naming its holder.
type Lock struct {
	path string
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

// AcquireLock takes the lock at path, or fails at once naming the holder. A
// lock left by a process that no longer runs on this host is taken over.
func AcquireLock(path, runID string, now time.Time) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	host, _ := os.Hostname()
	me, _ := json.Marshal(lockHolder{PID: os.Getpid(), Host: host, Started: now, RunID: runID})
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := f.Write(me)
			cerr := f.Close()
			if werr != nil || cerr != nil {
				os.Remove(path)
				return nil, fmt.Errorf("lock %s: %w", path, errors.Join(werr, cerr))
			}
			return &Lock{path: path}, nil
		}
		if !os.IsExist(err) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		var h lockHolder
		b, _ := os.ReadFile(path)
		if json.Unmarshal(b, &h) == nil && h.Host == host && h.PID > 0 && !alive(h.PID) {
			os.Remove(path) // stale: its process is gone
			continue
		}
		return nil, fmt.Errorf("%w: run %s, pid %d on %s, started %s (lock file %s; remove it only if that process is gone)",
			ErrLocked, h.RunID, h.PID, h.Host, h.Started.Format(time.RFC3339), path)
	}
	return nil, fmt.Errorf("%w: could not take %s", ErrLocked, path)
}

// Release frees the lock.
func (l *Lock) Release() error {
	if err := os.Remove(l.path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("release lock: %w", err)
	}
	return nil
}

func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

package etl_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptake-dev/uptake/etl"
)

// The lock file sits in the warehouse's private folder: 0700, itself 0600.
func TestLockIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".uptake")
	path := filepath.Join(dir, "lock")
	lock, err := etl.AcquireLock(path, "r1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s is %o, want %o", p, fi.Mode().Perm(), want)
		}
	}
}

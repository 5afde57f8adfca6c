//go:build !unix

package etl

import (
	"errors"
	"os"
)

// tryLock is not available on this system: runs are not protected from each
// other.
func tryLock(f *os.File) (bool, error) {
	return false, errors.New("the run lock needs flock(2), which this system lacks")
}

func unlock(f *os.File) error { return nil }

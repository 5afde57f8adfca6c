//go:build !linux

package files

import "errors"

// exchange is not available here; swapInto falls back to two renames.
func exchange(a, b string) error { return errors.New("atomic exchange not supported") }

// accessWrite is not checked here: the write itself fails in Prepare.
func accessWrite(string) error { return nil }

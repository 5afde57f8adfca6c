//go:build linux

package files

import "golang.org/x/sys/unix"

// exchange swaps two paths atomically.
func exchange(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}

// accessWrite fails when this process may not create files in dir.
func accessWrite(dir string) error { return unix.Access(dir, unix.W_OK) }

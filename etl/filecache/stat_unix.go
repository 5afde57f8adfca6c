//go:build unix

package filecache

import (
	"io/fs"
	"syscall"
)

// changeStamp is what the file system says of a file beyond its size and
// modification time: its inode and its change time, which no tool sets
// back (cp -p, rsync -t and unzip restore the modification time of a file
// they rewrite, not its change time).
func changeStamp(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return formatStamp(uint64(st.Ino), st.Ctim.Sec, st.Ctim.Nsec)
}

//go:build unix

package main

import "syscall"

// privateByDefault makes every file uptake creates readable by its user
// only (umask 077): the warehouse, its write-ahead log and spill files hold
// users' e-mails and rejected raw lines, and DuckDB creates some of them
// while a run goes on. What is meant to be shared (out/) is opened up
// explicitly by the files destination.
func privateByDefault() { syscall.Umask(0o077) }

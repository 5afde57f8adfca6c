//go:build !unix

package main

// privateByDefault has nothing to do where there is no umask.
func privateByDefault() {}

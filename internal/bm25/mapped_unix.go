//go:build linux || darwin || freebsd

package bm25

import "syscall"

// mapMemory maps n bytes (rounded up to whole pages) of zeroed anonymous
// memory.
func mapMemory(n int) ([]byte, error) {
	return syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

func unmapMemory(b []byte) {
	if err := syscall.Munmap(b); err != nil {
		panic("bm25: munmap: " + err.Error())
	}
}

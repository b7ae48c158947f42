//go:build !(linux || darwin || freebsd)

package bm25

import "errors"

func mapMemory(int) ([]byte, error) { return nil, errors.New("no mmap") }

func unmapMemory([]byte) {}

// Package inputerr is the error type for bad input from outside (configs, topics,
// qrels, corpora, run files, model answers). Retrying cannot fix such an error, so
// activities turn it into a non-retryable Temporal error; its message always names
// the place: file and line, or the config field.
package inputerr

import (
	"errors"
	"fmt"
)

// Error locates a problem in an input. File+Line for files (Line 0 when the whole
// file is at fault, Offset for byte positions), Field for config values.
type Error struct {
	File   string
	Line   int
	Offset int64 // byte offset, when a line number does not apply; -1 when unknown
	Field  string
	Msg    string
}

func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "" && e.Offset >= 0:
		return fmt.Sprintf("%s: byte %d: %s", e.File, e.Offset, e.Msg)
	case e.File != "":
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Field != "":
		return fmt.Sprintf("%s: %s", e.Field, e.Msg)
	default:
		return e.Msg
	}
}

// At reports a problem at file:line (line 0: the file as a whole).
func At(file string, line int, format string, args ...any) error {
	return &Error{File: file, Line: line, Offset: -1, Msg: fmt.Sprintf(format, args...)}
}

// AtOffset reports a problem at a byte offset of a file.
func AtOffset(file string, offset int64, format string, args ...any) error {
	return &Error{File: file, Offset: offset, Msg: fmt.Sprintf(format, args...)}
}

// Field reports a problem with a config field, named by its path (e.g. "first_stages[1].k1").
func Field(path string, format string, args ...any) error {
	return &Error{Field: path, Offset: -1, Msg: fmt.Sprintf(format, args...)}
}

// Is reports whether err is (or wraps) an input error.
func Is(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

package dataset

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// Text encodings accepted in CorpusOptions.Encoding and TopicOptions.Encoding.
const (
	EncodingUTF8   = "utf-8"      // the default; invalid byte sequences are input errors
	EncodingLatin1 = "iso-8859-1" // every byte is the code point of the same value
)

// normalizeEncoding maps an encoding name (case-insensitive; "" = utf-8, aliases
// utf8, latin1, latin-1, iso8859-1, iso_8859-1, l1) to EncodingUTF8 or EncodingLatin1.
func normalizeEncoding(path, enc string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "utf-8", "utf8":
		return EncodingUTF8, nil
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1":
		return EncodingLatin1, nil
	}
	return "", inputerr.At(path, 0, "unknown encoding %q (want utf-8 or iso-8859-1)", enc)
}

// decodeLatin1 converts ISO-8859-1 bytes to a (UTF-8) string.
func decodeLatin1(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/8)
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// CorpusFiles lists the files a corpus path stands for, in a deterministic order:
// the path itself when it is a file, or every regular file below a directory
// (recursively, sorted by their slash-separated path relative to the directory),
// skipping hidden files and directories (names starting with "."), README* files
// and *.md files (case-insensitive). Symbolic links to regular files are listed;
// links to directories are not followed. A directory without such files is an
// error. It is what ReadCorpusWith reads, and what callers hash to key caches.
func CorpusFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, inputerr.At(path, 0, "cannot open: %v", err)
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() {
			return nil, inputerr.At(path, 0, "not a regular file or directory")
		}
		return []string{path}, nil
	}
	type entry struct{ rel, full string }
	var found []entry
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return inputerr.At(p, 0, "cannot read: %v", err)
		}
		if p == path {
			return nil
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "readme") || strings.HasSuffix(lower, ".md") {
			return nil
		}
		mode := d.Type()
		if mode&fs.ModeSymlink != 0 {
			st, err := os.Stat(p)
			if err != nil {
				return inputerr.At(p, 0, "cannot open: %v", err)
			}
			mode = st.Mode()
		}
		if !mode.IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(path, p)
		if err != nil {
			return inputerr.At(p, 0, "%v", err)
		}
		found = append(found, entry{filepath.ToSlash(rel), p})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, inputerr.At(path, 0, "no corpus files in the directory")
	}
	sort.Slice(found, func(i, j int) bool { return found[i].rel < found[j].rel })
	files := make([]string, len(found))
	for i, e := range found {
		files[i] = e.full
	}
	return files, nil
}

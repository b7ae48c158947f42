package artifact

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// thisHost names this machine in temp-file names ('-' kept, other
// separators replaced, so names stay one path component).
var thisHost = func() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == '*' || r == ' ' {
			return '_'
		}
		return r
	}, h)
}()

// tmpPattern names temp files after the writing process (PREFIX HOST-PID-*),
// so CleanTmp can remove a killed writer's leftovers at once — its process
// is gone — without touching a live writer's, even on a shared directory.
func tmpPattern(prefix string) string {
	return fmt.Sprintf("%s%s-%d-*", prefix, thisHost, os.Getpid())
}

// orphaned reports whether name (made by tmpPattern) belongs to a process
// of this host that no longer runs.
func orphaned(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return false
	}
	i := strings.LastIndexByte(rest, '-') // before the random part
	if i < 0 {
		return false
	}
	j := strings.LastIndexByte(rest[:i], '-') // before the pid
	if j < 0 || rest[:j] != thisHost {
		return false
	}
	pid, err := strconv.Atoi(rest[j+1 : i])
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return processGone(pid)
}

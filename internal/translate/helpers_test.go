package translate

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// need skips when a system dependency is missing, unless CI is set (CI
// installs apertium, apertium-eng-spa, apertium-apy, dict-freedict-eng-deu):
// then the test fails.
func need(t testing.TB, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing (CI is set, so this fails instead of skipping): apt-get install -y apertium apertium-eng-spa apertium-apy dict-freedict-eng-deu dict-freedict-deu-eng", what)
	}
	t.Skipf("%s is missing: apt-get install -y apertium apertium-eng-spa apertium-apy dict-freedict-eng-deu (set CI=1 to fail instead of skipping)", what)
}

func haveCmd(name string) bool { _, err := exec.LookPath(name); return err == nil }

func needApertium(t testing.TB) {
	need(t, "apertium with mode spa-eng", haveCmd("apertium") && fileExists("/usr/share/apertium/modes/spa-eng.mode"))
}

// spanishSentences returns n sentences from the committed DDTP sample.
func spanishSentences(t testing.TB, n int) []string {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "data", "ddtp-es", "corpus.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() && len(out) < n {
		var d struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		for _, s := range SplitSentences("es", d.Text) {
			if s != ParagraphBreak && len(out) < n {
				out = append(out, s)
			}
		}
	}
	if len(out) < n {
		t.Fatalf("only %d sentences", len(out))
	}
	return out
}

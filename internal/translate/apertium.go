package translate

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// ApertiumConfig configures the apertium command translator.
type ApertiumConfig struct {
	// Binary is the apertium program (default "apertium", looked up in PATH).
	Binary string `json:"binary,omitempty" yaml:"binary,omitempty"`
	// DataDir is passed as -d (directory holding modes/); default: apertium's own
	// (/usr/share/apertium).
	DataDir string `json:"data_dir,omitempty" yaml:"data_dir,omitempty"`
	// PerBatch starts one apertium process per Translate call instead of keeping
	// a long-running null-flush process per pair.
	PerBatch bool `json:"per_batch,omitempty" yaml:"per_batch,omitempty"`
	// Processes is the number of long-running processes per pair (default 1;
	// each is already a ~10-stage pipeline using several cores).
	Processes int `json:"processes,omitempty" yaml:"processes,omitempty"`
	// KeepUnknownMarks keeps apertium's marks on unknown words (*word, #word,
	// @word). Default false: apertium runs with -u.
	KeepUnknownMarks bool `json:"keep_unknown_marks,omitempty" yaml:"keep_unknown_marks,omitempty"`
}

// Apertium translates with the Debian apertium command.
//
// Protocol: one long-running pipeline per pair (or one per Translate call
// with PerBatch): the mode's pipeline with null flushing on every stage, i.e.
// `bash -c "$(apertium-wblank-mode -z MODEFILE)" - -n ""`, exactly what the
// apertium script runs minus its wrappers. (`apertium -z` itself does not
// work for this: in txt format apertium-destxt drops NUL bytes, and with
// -f none the gawk SETVAR wrapper holds back the last chunk until more input
// arrives.) This package does the deformatter's job itself: it escapes the
// stream's reserved characters (\ [ ] ^ $ / < > { } @), turns line breaks into
// superblanks and appends ".[]" as apertium-destxt does, and undoes it on the
// way back (apertium-retxt). Each text is followed by NUL, a superblank marker
// "[/clirflow:NONCE:i]" and NUL; every stage flushes at NUL, so text i is
// whatever comes back before marker i, and texts are translated independently.
// Measured on 200 DDTP sentences (2 cores): long-running 1,630 sentences/s,
// one process per batch of 200: 215/s.
//
// Unknown words: like `apertium -u`, the generator runs in non-marked mode
// (lt-proc -n instead of -g for the mode's $1), so no *word, #word or @word
// marks appear; the source word is kept as is.
//
// A crashed or hung (context cancelled) process gives a transient error and is
// restarted on the next call.
type Apertium struct {
	cfg ApertiumConfig

	mu      sync.Mutex
	modes   []string // cached `apertium -l`
	version string
	pools   map[string]chan *apProc
	ids     map[string]string
	scripts map[string]string
}

// NewApertium validates cfg. The binary is looked up on first use, so a worker
// without apertium still starts; calls then fail with a PermanentError.
func NewApertium(cfg ApertiumConfig) (*Apertium, error) {
	if cfg.Processes < 0 {
		return nil, inputerr.Field("processes", "must be ≥ 0, got %d", cfg.Processes)
	}
	if cfg.Processes == 0 {
		cfg.Processes = 1
	}
	if cfg.Binary == "" {
		cfg.Binary = "apertium"
	}
	if cfg.DataDir != "" {
		if st, err := os.Stat(cfg.DataDir); err != nil || !st.IsDir() {
			return nil, inputerr.Field("data_dir", "%q is not a directory", cfg.DataDir)
		}
	}
	return &Apertium{cfg: cfg, pools: map[string]chan *apProc{}, ids: map[string]string{}, scripts: map[string]string{}}, nil
}

func (a *Apertium) binary() (string, error) {
	path, err := exec.LookPath(a.cfg.Binary)
	if err != nil {
		return "", &PermanentError{System: "apertium", Msg: "apertium not found (" + a.cfg.Binary + "): apt-get install apertium apertium-eng-spa (or the apertium-XXX-YYY package of your pair)", Err: err}
	}
	return path, nil
}

func (a *Apertium) baseArgs() []string {
	if a.cfg.DataDir != "" {
		return []string{"-d", a.cfg.DataDir}
	}
	return nil
}

// Modes lists the installed modes (`apertium -l`), e.g. "spa-eng".
func (a *Apertium) Modes(ctx context.Context) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.modesLocked(ctx)
}

func (a *Apertium) modesLocked(ctx context.Context) ([]string, error) {
	if a.modes != nil {
		return a.modes, nil
	}
	bin, err := a.binary()
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, bin, append(a.baseArgs(), "-l")...).Output()
	if err != nil {
		return nil, fmt.Errorf("apertium -l: %w", err)
	}
	modes := []string{}
	for _, f := range strings.Fields(string(out)) {
		modes = append(modes, f)
	}
	a.modes = modes
	return modes, nil
}

// modeOf is the apertium mode of a pair: ISO 639-3 codes, "spa-eng".
func modeOf(p Pair) string { return ISO3(p.Src) + "-" + ISO3(p.Tgt) }

// Pairs lists plain SRC-TGT modes (variants such as spa-eng_US are skipped).
func (a *Apertium) Pairs(ctx context.Context) ([]Pair, error) {
	modes, err := a.Modes(ctx)
	if err != nil {
		return nil, err
	}
	return modesToPairs(modes), nil
}

var plainMode = regexp.MustCompile(`^([a-z]{2,3})-([a-z]{2,3})$`)

func modesToPairs(modes []string) []Pair {
	var ps []Pair
	for _, m := range modes {
		if s := plainMode.FindStringSubmatch(m); s != nil {
			ps = append(ps, Pair{ISO1(s[1]), ISO1(s[2])})
		}
	}
	return sortPairs(ps)
}

func (a *Apertium) checkMode(ctx context.Context, p Pair) (string, error) {
	if ISO3(p.Src) == "" || ISO3(p.Tgt) == "" {
		return "", permanent("apertium", "unknown language code in pair %s", p)
	}
	mode := modeOf(p)
	modes, err := a.modesLocked(ctx)
	if err != nil {
		return "", err
	}
	for _, m := range modes {
		if m == mode {
			return mode, nil
		}
	}
	return "", &PermanentError{System: "apertium", Msg: fmt.Sprintf("unknown pair %s: no mode %s; available modes: %s (pairs: %s); install apertium-%s-%s or apertium-%s-%s",
		p, mode, strings.Join(modes, ", "), FormatPairs(modesToPairs(modes)), ISO3(p.Src), ISO3(p.Tgt), ISO3(p.Tgt), ISO3(p.Src))}
}

var dataPkgRE = regexp.MustCompile(`/(apertium-[a-z]{2,3}-[a-z]{2,3})/`)

// ID is "apertium/VERSION/MODE/DATA-PACKAGE=VERSION[/marks]", e.g.
// "apertium/3.8.3/spa-eng/apertium-eng-spa=0.8.1-2".
func (a *Apertium) ID(p Pair) string {
	mode := modeOf(p)
	a.mu.Lock()
	defer a.mu.Unlock()
	if id, ok := a.ids[mode]; ok {
		return id
	}
	if a.version == "" {
		a.version = "unknown"
		if bin, err := a.binary(); err == nil {
			if out, err := exec.Command(bin, "-V").Output(); err == nil {
				a.version = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "Apertium"))
			}
		}
	}
	id := "apertium/" + a.version + "/" + mode
	dir := a.cfg.DataDir
	if dir == "" {
		dir = "/usr/share/apertium"
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modes", mode+".mode")); err == nil {
		if m := dataPkgRE.FindSubmatch(b); m != nil {
			pkg := string(m[1])
			v := "unknown"
			if out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output(); err == nil && len(out) > 0 {
				v = string(out)
			}
			id += "/" + pkg + "=" + v
		}
	}
	if a.cfg.KeepUnknownMarks {
		id += "/marks"
	}
	a.ids[mode] = id
	return id
}

// Translate translates each text independently.
func (a *Apertium) Translate(ctx context.Context, p Pair, texts []string) ([]string, error) {
	if len(texts) == 0 {
		return []string{}, nil
	}
	a.mu.Lock()
	mode, err := a.checkMode(ctx, p)
	var pool chan *apProc
	if err == nil && !a.cfg.PerBatch {
		pool = a.pools[mode]
		if pool == nil {
			pool = make(chan *apProc, a.cfg.Processes)
			for range a.cfg.Processes {
				pool <- nil
			}
			a.pools[mode] = pool
		}
	}
	a.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if a.cfg.PerBatch {
		proc, err := a.start(mode)
		if err != nil {
			return nil, err
		}
		out, err := proc.exchange(ctx, texts, true)
		proc.kill()
		return out, err
	}
	var proc *apProc
	select {
	case proc = <-pool:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if proc == nil {
		if proc, err = a.start(mode); err != nil {
			pool <- nil
			return nil, err
		}
	}
	out, err := proc.exchange(ctx, texts, false)
	if err != nil {
		proc.kill()
		pool <- nil // restart on next use
		return nil, err
	}
	pool <- proc
	return out, nil
}

// Close stops the long-running processes.
func (a *Apertium) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for mode, pool := range a.pools {
		for range cap(pool) {
			if p := <-pool; p != nil {
				p.kill()
			}
		}
		delete(a.pools, mode)
	}
	return nil
}

func (a *Apertium) dataDir() string {
	if a.cfg.DataDir != "" {
		return a.cfg.DataDir
	}
	return "/usr/share/apertium"
}

var firstCmdRE = regexp.MustCompile(`(^|\|)\s*(\S+)`)

// pipelineScript is the mode's pipeline with null flushing (-z) on every stage:
// the output of `apertium-wblank-mode -z MODEFILE` (what the apertium script
// runs), or, without that helper, the .mode file with -z added to each command
// (what apertium-apy does).
func (a *Apertium) pipelineScript(mode string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.scripts[mode]; ok {
		return s, nil
	}
	file := filepath.Join(a.dataDir(), "modes", mode+".mode")
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", &PermanentError{System: "apertium", Msg: "mode file missing", Err: err}
	}
	script := ""
	if out, err := exec.Command("apertium-wblank-mode", "-z", file).Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
		script = string(out)
	} else {
		script = firstCmdRE.ReplaceAllString(strings.TrimSpace(string(raw)), "$1 $2 -z")
	}
	a.scripts[mode] = script
	return script, nil
}

type apProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	nonce  string
	stderr *tailBuffer
	mode   string
}

func (a *Apertium) start(mode string) (*apProc, error) {
	script, err := a.pipelineScript(mode)
	if err != nil {
		return nil, err
	}
	gen := "-n" // lt-proc -n: generation without unknown-word marks (what apertium -u does)
	if a.cfg.KeepUnknownMarks {
		gen = "-g"
	}
	// $1 = generator flag, $2 = tagger flag, as the apertium script passes them.
	cmd := exec.Command("bash", "-c", script, "apertium-"+mode, gen, "")
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	tb := &tailBuffer{max: 4096}
	cmd.Stderr = tb
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("apertium %s: start: %w", mode, err)
	}
	var nb [8]byte
	_, _ = rand.Read(nb[:])
	return &apProc{cmd: cmd, stdin: stdin, out: bufio.NewReaderSize(stdout, 64<<10), nonce: hex.EncodeToString(nb[:]), stderr: tb, mode: mode}, nil
}

func (p *apProc) kill() {
	_ = p.stdin.Close()
	killProcessGroup(p.cmd)
	_ = p.cmd.Wait()
}

func (p *apProc) marker(i int) string { return fmt.Sprintf("[/clirflow:%s:%d]", p.nonce, i) }

// exchange writes the texts (concurrently) and reads the answers. With
// closeIn, stdin is closed after writing (per-batch process).
func (p *apProc) exchange(ctx context.Context, texts []string, closeIn bool) ([]string, error) {
	type result struct {
		out []string
		err error
	}
	done := make(chan result, 1)
	go func() {
		werr := make(chan error, 1)
		go func() {
			w := bufio.NewWriterSize(p.stdin, 64<<10)
			for i, t := range texts {
				w.WriteString(apertiumDeformat(t))
				w.WriteString("\x00")
				w.WriteString(p.marker(i))
				if _, err := w.WriteString("\x00"); err != nil {
					break
				}
			}
			err := w.Flush()
			if closeIn {
				_ = p.stdin.Close()
			}
			werr <- err
		}()
		out := make([]string, len(texts))
		var cur bytes.Buffer
		for i := 0; i < len(texts); {
			chunk, err := p.out.ReadBytes(0)
			if err != nil {
				if werr := <-werr; werr != nil && err == io.EOF {
					err = werr
				}
				done <- result{nil, p.crashed(err)}
				return
			}
			chunk = bytes.TrimRight(chunk, "\x00")
			m := p.marker(i)
			if k := bytes.Index(chunk, []byte(m)); k >= 0 {
				cur.Write(chunk[:k])
				out[i] = apertiumReformat(cur.String())
				cur.Reset()
				i++
				continue
			}
			cur.Write(chunk)
		}
		<-werr
		done <- result{out: out}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-ctx.Done():
		p.kill()
		<-done
		return nil, fmt.Errorf("apertium %s: %w", p.mode, ctx.Err())
	}
}

func (p *apProc) crashed(err error) error {
	msg := strings.TrimSpace(p.stderr.String())
	if msg != "" {
		return fmt.Errorf("apertium %s: process failed (%v): %s", p.mode, err, msg)
	}
	return fmt.Errorf("apertium %s: process failed: %w", p.mode, err)
}

// apertiumDeformat does what apertium-destxt does for plain text: escape the
// stream format's reserved characters, put line breaks/tabs into superblanks,
// append ".[]" (an end-of-text period that apertiumReformat removes again).
func apertiumDeformat(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case strings.ContainsRune(`\[]^$/<>{}@`, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == 0:
			// NUL would end the chunk: drop it
		case r == '\n' || r == '\t' || r == '\r' || r == '\f' || r == '\v':
			j := i
			for j < len(rs) && (rs[j] == ' ' || rs[j] == '\n' || rs[j] == '\t' || rs[j] == '\r' || rs[j] == '\f' || rs[j] == '\v') {
				j++
			}
			b.WriteByte('[')
			b.WriteString(string(rs[i:j]))
			b.WriteByte(']')
			i = j - 1
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(".[]")
	return b.String()
}

// apertiumReformat undoes apertiumDeformat on the output (apertium-retxt).
func apertiumReformat(s string) string {
	s = strings.TrimRight(s, " \x00")
	if strings.HasSuffix(s, ".[]") {
		s = strings.TrimSuffix(s, ".[]")
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '[', ']':
			// superblank delimiters: keep their content, drop the brackets
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

// tailBuffer keeps the last max bytes written (a process's stderr).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

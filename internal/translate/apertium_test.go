package translate

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

var esSentences = []string{
	"La casa es grande.",
	"El perro come en la cocina.",
	"Este paquete contiene la documentación del programa.",
	"¿Dónde está la biblioteca?",
}

func checkEnglish(t *testing.T, out []string) {
	t.Helper()
	if len(out) != len(esSentences) {
		t.Fatalf("got %d outputs for %d inputs: %q", len(out), len(esSentences), out)
	}
	all := strings.ToLower(strings.Join(out, " | "))
	for _, w := range []string{"the", "house", "dog", "eats", "package", "documentation", "library"} {
		if !strings.Contains(all, w) {
			t.Errorf("output lacks %q: %q", w, out)
		}
	}
	if !strings.Contains(strings.ToLower(out[0]), "house") || !strings.Contains(strings.ToLower(out[1]), "dog") {
		t.Errorf("outputs out of order: %q", out)
	}
}

func TestApertiumCommand(t *testing.T) {
	needApertium(t)
	for _, perBatch := range []bool{false, true} {
		t.Run(fmt.Sprintf("perBatch=%v", perBatch), func(t *testing.T) {
			a, err := NewApertium(ApertiumConfig{PerBatch: perBatch})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			p := Pair{"es", "en"}
			for range 2 { // the second call reuses the long-running process
				out, err := a.Translate(context.Background(), p, esSentences)
				if err != nil {
					t.Fatal(err)
				}
				checkEnglish(t, out)
			}
			// unknown words come back without *, # or @ marks; reserved characters survive
			out, err := a.Translate(context.Background(), p, []string{"El xyzzyq usa a/b [x] $HOME <y>", "Línea uno\nlínea dos"})
			if err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(out[0], "*#") || !strings.Contains(out[0], "xyzzyq") || !strings.Contains(out[0], "$HOME") || !strings.Contains(out[0], "[x]") {
				t.Errorf("unknown word / escaping: %q", out[0])
			}
			if !strings.Contains(out[1], "\n") {
				t.Errorf("line break lost: %q", out[1])
			}
			if id := a.ID(p); !strings.HasPrefix(id, "apertium/") || !strings.Contains(id, "spa-eng") {
				t.Errorf("ID = %q", id)
			}
		})
	}
}

func TestApertiumErrors(t *testing.T) {
	needApertium(t)
	a, _ := NewApertium(ApertiumConfig{})
	defer a.Close()
	_, err := a.Translate(context.Background(), Pair{"es", "fi"}, []string{"hola"})
	if !IsPermanent(err) || !strings.Contains(err.Error(), "spa-eng") || !strings.Contains(err.Error(), "es→en") {
		t.Errorf("unknown pair: permanent=%v %v", IsPermanent(err), err)
	}
	ps, err := a.Pairs(context.Background())
	if err != nil || !strings.Contains(FormatPairs(ps), "es→en") || strings.Contains(FormatPairs(ps), "_") {
		t.Errorf("Pairs = %v, %v", ps, err)
	}

	b, _ := NewApertium(ApertiumConfig{Binary: "/nonexistent/apertium"})
	_, err = b.Translate(context.Background(), Pair{"es", "en"}, []string{"hola"})
	if !IsPermanent(err) || !strings.Contains(err.Error(), "apt-get install apertium") {
		t.Errorf("missing binary: permanent=%v %v", IsPermanent(err), err)
	}
	if _, err := NewApertium(ApertiumConfig{Processes: -1}); !IsPermanent(err) || !strings.Contains(err.Error(), "processes") {
		t.Errorf("bad config: %v", err)
	}
}

func TestApertiumCrashRestarts(t *testing.T) {
	needApertium(t)
	a, _ := NewApertium(ApertiumConfig{})
	defer a.Close()
	p := Pair{"es", "en"}
	if _, err := a.Translate(context.Background(), p, esSentences[:1]); err != nil {
		t.Fatal(err)
	}
	proc := <-a.pools["spa-eng"]
	killProcessGroup(proc.cmd) // simulate a crash
	_ = proc.cmd.Wait()
	a.pools["spa-eng"] <- proc
	_, err := a.Translate(context.Background(), p, esSentences[:1])
	if err == nil || IsPermanent(err) {
		t.Fatalf("crash: want a transient error, got %v", err)
	}
	out, err := a.Translate(context.Background(), p, esSentences[:1])
	if err != nil || !strings.Contains(strings.ToLower(out[0]), "house") {
		t.Fatalf("after restart: %q %v", out, err)
	}
	// a cancelled context kills the process and is transient too
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Translate(ctx, p, esSentences); err == nil || IsPermanent(err) {
		t.Fatalf("cancelled: %v", err)
	}
}

// startAPY starts apertium-apy on a free loopback port and waits for /listPairs.
func startAPY(t testing.TB) string {
	needApertium(t)
	need(t, "apertium-apy", haveCmd("apertium-apy"))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("apertium-apy", "-p", fmt.Sprint(port), "/usr/share/apertium/modes")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killProcessGroup(cmd); _ = cmd.Wait() })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/listPairs")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("apertium-apy did not answer /listPairs in 30 s: %s", logs.String())
	return ""
}

func TestAPY(t *testing.T) {
	base := startAPY(t)
	a, err := NewAPY(APYConfig{BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := a.Pairs(context.Background())
	if err != nil || !strings.Contains(FormatPairs(ps), "es→en") {
		t.Fatalf("Pairs = %v %v", ps, err)
	}
	out, err := a.Translate(context.Background(), Pair{"es", "en"}, esSentences)
	if err != nil {
		t.Fatal(err)
	}
	checkEnglish(t, out)
	out, err = a.Translate(context.Background(), Pair{"es", "en"}, []string{"El xyzzyq come."})
	if err != nil || strings.Contains(out[0], "*") || !strings.Contains(out[0], "xyzzyq") {
		t.Errorf("unknown word: %q %v", out, err)
	}
	_, err = a.Translate(context.Background(), Pair{"es", "fi"}, []string{"hola"})
	if !IsPermanent(err) || !strings.Contains(err.Error(), "es→en") {
		t.Errorf("unknown pair: %v", err)
	}
	if _, err := NewAPY(APYConfig{BaseURL: "ftp://x"}); !IsPermanent(err) || !strings.Contains(err.Error(), "base_url") {
		t.Errorf("bad base_url: %v", err)
	}
}

func benchSentences(b *testing.B, tr Translator) {
	sents := spanishSentences(b, 200)
	ctx := context.Background()
	if _, err := tr.Translate(ctx, Pair{"es", "en"}, sents[:2]); err != nil { // warm up
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		out, err := tr.Translate(ctx, Pair{"es", "en"}, sents)
		if err != nil || len(out) != len(sents) {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(sents))/time.Since(start).Seconds(), "sentences/s")
}

// BenchmarkApertiumCommand: 200 DDTP sentences per Translate call.
func BenchmarkApertiumCommand(b *testing.B) {
	needApertium(b)
	for _, c := range []struct {
		name string
		cfg  ApertiumConfig
	}{{"persistent", ApertiumConfig{}}, {"persistent-2procs", ApertiumConfig{Processes: 2}}, {"perBatch", ApertiumConfig{PerBatch: true}}} {
		b.Run(c.name, func(b *testing.B) {
			a, _ := NewApertium(c.cfg)
			defer a.Close()
			benchSentences(b, a)
		})
	}
}

// BenchmarkApertiumCommandBatchSize: the Batcher over the persistent process
// (no cache) with different batch sizes.
func BenchmarkApertiumCommandBatchSize(b *testing.B) {
	needApertium(b)
	for _, bs := range []int{1, 8, 32, 200} {
		for _, conc := range []int{1, 2} {
			b.Run(fmt.Sprintf("batch=%d/conc=%d", bs, conc), func(b *testing.B) {
				a, _ := NewApertium(ApertiumConfig{Processes: conc})
				defer a.Close()
				benchSentences(b, batcherTranslator{&Batcher{T: a, BatchSize: bs, Concurrency: conc}})
			})
		}
	}
}

func BenchmarkApertiumAPY(b *testing.B) {
	base := startAPY(b)
	for _, conc := range []int{1, 4} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			a, _ := NewAPY(APYConfig{BaseURL: base, Concurrency: conc})
			benchSentences(b, a)
		})
	}
}

// batcherTranslator adapts a Batcher to Translator for benchmarks.
type batcherTranslator struct{ b *Batcher }

func (t batcherTranslator) ID(p Pair) string                          { return t.b.T.ID(p) }
func (t batcherTranslator) Pairs(ctx context.Context) ([]Pair, error) { return t.b.T.Pairs(ctx) }
func (t batcherTranslator) Translate(ctx context.Context, p Pair, texts []string) ([]string, error) {
	out, _, err := t.b.Translate(ctx, p, texts)
	return out, err
}

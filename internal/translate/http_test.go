package translate

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeServer answers with status/message for texts containing "BAD400",
// "FAIL500", "SLOW429"; otherwise it "translates" by upper-casing.
func statusFor(text string) (int, string) {
	switch {
	case strings.Contains(text, "BAD400"):
		return 400, "the input is invalid"
	case strings.Contains(text, "FAIL500"):
		return 500, "internal error"
	case strings.Contains(text, "SLOW429"):
		return 429, "rate limited"
	}
	return 200, ""
}

func newOpenAIServer(t *testing.T, gotAuth *string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		*gotAuth = r.Header.Get("Authorization")
		var req struct {
			Model       string
			Temperature float64
			Messages    []struct{ Role, Content string }
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		prompt := req.Messages[0].Content
		w.Header().Set("Content-Type", "application/json")
		if st, msg := statusFor(prompt); st != 200 {
			if st == 429 {
				w.Header().Set("Retry-After", "7")
			}
			w.WriteHeader(st)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "x"}})
			return
		}
		text := prompt[strings.LastIndex(prompt, "\n")+1:]
		json.NewEncoder(w).Encode(map[string]any{
			"id": "x", "object": "chat.completion", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": "<think>hm</think> " + strings.ToUpper(text) + "|" + prompt[:strings.Index(prompt, ".")]}}},
		})
	}))
}

func TestOpenAI(t *testing.T) {
	var auth string
	srv := newOpenAIServer(t, &auth)
	defer srv.Close()
	t.Setenv("TEST_TRANSLATE_KEY", "sk-secret-123")
	o, err := NewOpenAI(OpenAIConfig{BaseURL: srv.URL + "/v1", Model: "m1", APIKeyEnv: "TEST_TRANSLATE_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := o.Translate(context.Background(), Pair{"es", "en"}, []string{"hola", "adiós"})
	if err != nil {
		t.Fatal(err)
	}
	if out[0] != "HOLA|Translate the following Spanish text into English" || !strings.HasPrefix(out[1], "ADIÓS|") {
		t.Errorf("out = %q", out)
	}
	if auth != "Bearer sk-secret-123" {
		t.Errorf("auth header %q", auth)
	}
	if id := o.ID(Pair{"es", "en"}); !strings.HasPrefix(id, "openai/m1/prompt=") || strings.Contains(id, "secret") {
		t.Errorf("ID = %q", id)
	}

	_, err = o.Translate(context.Background(), Pair{"es", "en"}, []string{"BAD400"})
	if !IsPermanent(err) || !strings.Contains(err.Error(), "the input is invalid") || strings.Contains(err.Error(), "secret") {
		t.Errorf("400: permanent=%v %v", IsPermanent(err), err)
	}
	_, err = o.Translate(context.Background(), Pair{"es", "en"}, []string{"FAIL500"})
	if err == nil || IsPermanent(err) {
		t.Errorf("500: %v", err)
	}
	_, err = o.Translate(context.Background(), Pair{"es", "en"}, []string{"SLOW429"})
	if d, ok := RetryAfter(err); err == nil || IsPermanent(err) || !ok || d != 7*time.Second {
		t.Errorf("429: %v retry-after %v %v", err, d, ok)
	}

	if _, err := NewOpenAI(OpenAIConfig{BaseURL: srv.URL, Model: "m", APIKeyEnv: "TEST_TRANSLATE_UNSET_VAR"}); !IsPermanent(err) || !strings.Contains(err.Error(), "api_key_env") {
		t.Errorf("unset key var: %v", err)
	}
	if _, err := NewOpenAI(OpenAIConfig{BaseURL: srv.URL}); !IsPermanent(err) || !strings.Contains(err.Error(), "model") {
		t.Errorf("no model: %v", err)
	}
	if _, err := NewOpenAI(OpenAIConfig{BaseURL: srv.URL, Model: "m", Prompt: "{{.Nope"}); !IsPermanent(err) || !strings.Contains(err.Error(), "prompt") {
		t.Errorf("bad prompt: %v", err)
	}
}

func newLibreServer(t *testing.T, requests *int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/languages":
			json.NewEncoder(w).Encode([]map[string]any{
				{"code": "en", "name": "English", "targets": []string{"es", "de"}},
				{"code": "es", "name": "Spanish", "targets": []string{"en"}},
			})
		case "/translate":
			*requests++
			var req struct {
				Q              any
				Source, Target string
				Format         string
			}
			_ = json.NewDecoder(r.Body).Decode(&req)
			var texts []string
			switch q := req.Q.(type) {
			case string:
				texts = []string{q}
			case []any:
				for _, x := range q {
					texts = append(texts, x.(string))
				}
			}
			for _, tx := range texts {
				if st, msg := statusFor(tx); st != 200 {
					if st == 429 {
						w.Header().Set("Retry-After", "3")
					}
					w.WriteHeader(st)
					json.NewEncoder(w).Encode(map[string]string{"error": msg})
					return
				}
			}
			up := make([]string, len(texts))
			for i, tx := range texts {
				up[i] = req.Source + ">" + req.Target + ":" + strings.ToUpper(tx)
			}
			if _, one := req.Q.(string); one {
				json.NewEncoder(w).Encode(map[string]any{"translatedText": up[0]})
			} else {
				json.NewEncoder(w).Encode(map[string]any{"translatedText": up})
			}
		default:
			http.NotFound(w, r)
		}
	}))
}

func TestHTTPLibreTranslate(t *testing.T) {
	var n int
	srv := newLibreServer(t, &n)
	defer srv.Close()
	for _, one := range []bool{false, true} {
		n = 0
		h, err := NewHTTP(HTTPConfig{BaseURL: srv.URL, Model: "nllb-test", OnePerRequest: one})
		if err != nil {
			t.Fatal(err)
		}
		out, err := h.Translate(context.Background(), Pair{"es", "en"}, []string{"hola", "adiós"})
		if err != nil || len(out) != 2 || out[0] != "es>en:HOLA" || out[1] != "es>en:ADIÓS" {
			t.Fatalf("one=%v: %q %v", one, out, err)
		}
		if want := map[bool]int{false: 1, true: 2}[one]; n != want {
			t.Errorf("one=%v: %d requests, want %d", one, n, want)
		}
	}
	h, _ := NewHTTP(HTTPConfig{BaseURL: srv.URL})
	ps, err := h.Pairs(context.Background())
	if err != nil || FormatPairs(ps) != "en→de, en→es, es→en" {
		t.Errorf("Pairs = %v %v", FormatPairs(ps), err)
	}
	_, err = h.Translate(context.Background(), Pair{"es", "en"}, []string{"x", "BAD400"})
	if !IsPermanent(err) || !strings.Contains(err.Error(), "the input is invalid") {
		t.Errorf("400: %v", err)
	}
	_, err = h.Translate(context.Background(), Pair{"es", "en"}, []string{"FAIL500"})
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "500") {
		t.Errorf("500: %v", err)
	}
	_, err = h.Translate(context.Background(), Pair{"es", "en"}, []string{"SLOW429"})
	if d, ok := RetryAfter(err); IsPermanent(err) || !ok || d != 3*time.Second {
		t.Errorf("429: %v %v %v", err, d, ok)
	}
	if _, err := NewHTTP(HTTPConfig{}); !IsPermanent(err) || !strings.Contains(err.Error(), "base_url") {
		t.Errorf("missing base_url: %v", err)
	}
}

func TestStatusMapping(t *testing.T) {
	for st, perm := range map[int]bool{400: true, 401: true, 403: true, 404: true, 422: true, 408: false, 429: false, 500: false, 502: false, 503: false} {
		if got := IsPermanent(statusError("x", st, nil, "m", time.Now())); got != perm {
			t.Errorf("status %d: permanent=%v want %v", st, got, perm)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}
	if d, ok := RetryAfter(statusError("x", 429, h, "", now)); !ok || d != 90*time.Second {
		t.Errorf("HTTP-date Retry-After: %v %v", d, ok)
	}
	if _, ok := RetryAfter(statusError("x", 429, nil, "", now)); ok {
		t.Error("Retry-After without header")
	}
}

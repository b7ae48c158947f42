package translate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// HTTPConfig configures a LibreTranslate-compatible endpoint (LibreTranslate
// itself, or a self-hosted NLLB server speaking the same API).
type HTTPConfig struct {
	BaseURL string `json:"base_url" yaml:"base_url"`
	// Model names the system behind the endpoint (e.g. "nllb-200-distilled-600M@rev"); it
	// is the cache identity (default: the base URL).
	Model string `json:"model,omitempty" yaml:"model,omitempty"`
	// APIKeyEnv names the environment variable holding LibreTranslate's api_key (optional).
	APIKeyEnv string `json:"api_key_env,omitempty" yaml:"api_key_env,omitempty"`
	// OnePerRequest sends one text per request ("q": "…") instead of the
	// whole batch ("q": [...]).
	OnePerRequest bool         `json:"one_per_request,omitempty" yaml:"one_per_request,omitempty"`
	Client        *http.Client `json:"-" yaml:"-"`
}

// HTTP translates through POST /translate; GET /languages lists the pairs.
type HTTP struct {
	cfg   HTTPConfig
	key   string
	mu    sync.Mutex
	pairs []Pair
}

// NewHTTP validates cfg.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	u, err := checkBaseURL("base_url", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	cfg.BaseURL = u
	h := &HTTP{cfg: cfg}
	if cfg.APIKeyEnv != "" {
		if h.key = os.Getenv(cfg.APIKeyEnv); h.key == "" {
			return nil, inputerr.Field("api_key_env", "environment variable %s is not set", cfg.APIKeyEnv)
		}
	}
	if h.cfg.Client == nil {
		h.cfg.Client = http.DefaultClient
	}
	return h, nil
}

// ID is "http/MODEL" (or "http/BASEURL").
func (h *HTTP) ID(p Pair) string {
	if h.cfg.Model != "" {
		return "http/" + h.cfg.Model
	}
	return "http/" + h.cfg.BaseURL
}

// Pairs asks GET /languages once.
func (h *HTTP) Pairs(ctx context.Context) ([]Pair, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pairs != nil {
		return h.pairs, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.cfg.BaseURL+"/languages", nil)
	if err != nil {
		return nil, err
	}
	var langs []struct {
		Code    string   `json:"code"`
		Targets []string `json:"targets"`
	}
	if err := doHTTP(h.cfg.Client, "http", req, &langs); err != nil {
		return nil, err
	}
	all := make([]string, len(langs))
	for i, l := range langs {
		all[i] = l.Code
	}
	ps := []Pair{}
	for _, l := range langs {
		targets := l.Targets
		if targets == nil { // older servers: every language to every other
			targets = all
		}
		for _, t := range targets {
			if t != l.Code {
				ps = append(ps, Pair{l.Code, t})
			}
		}
	}
	h.pairs = sortPairs(ps)
	return h.pairs, nil
}

// Translate sends the texts in one request (or one per text).
func (h *HTTP) Translate(ctx context.Context, p Pair, texts []string) ([]string, error) {
	if len(texts) == 0 {
		return []string{}, nil
	}
	if h.cfg.OnePerRequest {
		out := make([]string, len(texts))
		err := parallel(ctx, len(texts), 4, func(ctx context.Context, i int) error {
			r, err := h.request(ctx, p, texts[i], 1)
			if err == nil {
				out[i] = r[0]
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	return h.request(ctx, p, texts, len(texts))
}

func (h *HTTP) request(ctx context.Context, p Pair, q any, n int) ([]string, error) {
	body := map[string]any{"q": q, "source": p.Src, "target": p.Tgt, "format": "text"}
	if h.key != "" {
		body["api_key"] = h.key
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.BaseURL+"/translate", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	var ans struct {
		TranslatedText json.RawMessage `json:"translatedText"`
	}
	if err := doHTTP(h.cfg.Client, "http", req, &ans); err != nil {
		return nil, err
	}
	var out []string
	if _, many := q.([]string); many {
		if err := json.Unmarshal(ans.TranslatedText, &out); err != nil {
			return nil, fmt.Errorf("http: translatedText is not a list of strings: %w", err)
		}
	} else {
		var s string
		if err := json.Unmarshal(ans.TranslatedText, &s); err != nil {
			return nil, fmt.Errorf("http: translatedText is not a string: %w", err)
		}
		out = []string{s}
	}
	if len(out) != n {
		return nil, fmt.Errorf("http: %d translations for %d texts", len(out), n)
	}
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out, nil
}

package translate

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/clirflow/clirflow/internal/inputerr"
)

// APYConfig configures the apertium-apy HTTP translator.
type APYConfig struct {
	BaseURL string `json:"base_url" yaml:"base_url"` // e.g. http://127.0.0.1:2737
	// Concurrency is the number of requests in flight per Translate call
	// (default 4; APy serialises requests per pipeline, start it with -i N for
	// more pipelines per pair).
	Concurrency int `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`
	// Version is appended to ID; set it to the server's apertium data version
	// so that cached translations change when the server changes.
	Version string `json:"version,omitempty" yaml:"version,omitempty"`
	// KeepUnknownMarks asks APy to keep *word marks (markUnknown=yes).
	KeepUnknownMarks bool         `json:"keep_unknown_marks,omitempty" yaml:"keep_unknown_marks,omitempty"`
	Client           *http.Client `json:"-" yaml:"-"`
}

// APY translates through apertium-apy (GET /listPairs, POST /translate), one
// request per text.
type APY struct {
	cfg   APYConfig
	mu    sync.Mutex
	pairs []Pair
}

// NewAPY validates cfg.
func NewAPY(cfg APYConfig) (*APY, error) {
	u, err := checkBaseURL("base_url", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	cfg.BaseURL = u
	if cfg.Concurrency < 0 {
		return nil, inputerr.Field("concurrency", "must be ≥ 0, got %d", cfg.Concurrency)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 4
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	return &APY{cfg: cfg}, nil
}

// ID is "apertium-apy/MODE[/VERSION][/marks]".
func (a *APY) ID(p Pair) string {
	id := "apertium-apy/" + modeOf(p)
	if a.cfg.Version != "" {
		id += "/" + a.cfg.Version
	}
	if a.cfg.KeepUnknownMarks {
		id += "/marks"
	}
	return id
}

// Pairs asks the server (GET /listPairs) once and caches the answer.
func (a *APY) Pairs(ctx context.Context) ([]Pair, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pairs != nil {
		return a.pairs, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.cfg.BaseURL+"/listPairs", nil)
	if err != nil {
		return nil, err
	}
	var ans struct {
		ResponseData []struct {
			SourceLanguage string `json:"sourceLanguage"`
			TargetLanguage string `json:"targetLanguage"`
		} `json:"responseData"`
	}
	if err := doHTTP(a.cfg.Client, "apy", req, &ans); err != nil {
		return nil, err
	}
	ps := []Pair{}
	for _, d := range ans.ResponseData {
		if plainMode.MatchString(d.SourceLanguage + "-" + d.TargetLanguage) {
			ps = append(ps, Pair{ISO1(d.SourceLanguage), ISO1(d.TargetLanguage)})
		}
	}
	a.pairs = sortPairs(ps)
	return a.pairs, nil
}

// Translate sends one request per text, Concurrency at a time.
func (a *APY) Translate(ctx context.Context, p Pair, texts []string) ([]string, error) {
	if ISO3(p.Src) == "" || ISO3(p.Tgt) == "" {
		return nil, permanent("apy", "unknown language code in pair %s", p)
	}
	pairs, err := a.Pairs(ctx)
	if err != nil {
		return nil, err
	}
	found := false
	for _, q := range pairs {
		found = found || q == p
	}
	if !found {
		return nil, unknownPair("apy", p, pairs)
	}
	out := make([]string, len(texts))
	err = parallel(ctx, len(texts), a.cfg.Concurrency, func(ctx context.Context, i int) error {
		if strings.TrimSpace(texts[i]) == "" {
			out[i] = texts[i]
			return nil
		}
		s, err := a.one(ctx, p, texts[i])
		out[i] = s
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (a *APY) one(ctx context.Context, p Pair, text string) (string, error) {
	form := url.Values{}
	form.Set("langpair", ISO3(p.Src)+"|"+ISO3(p.Tgt))
	form.Set("q", text)
	if a.cfg.KeepUnknownMarks {
		form.Set("markUnknown", "yes")
	} else {
		form.Set("markUnknown", "no")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.BaseURL+"/translate", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var ans struct {
		ResponseData struct {
			TranslatedText *string `json:"translatedText"`
		} `json:"responseData"`
		ResponseStatus  int    `json:"responseStatus"`
		ResponseDetails string `json:"responseDetails"`
	}
	if err := doHTTP(a.cfg.Client, "apy", req, &ans); err != nil {
		return "", err
	}
	if ans.ResponseData.TranslatedText == nil {
		return "", fmt.Errorf("apy: answer without translatedText (status %d %s)", ans.ResponseStatus, ans.ResponseDetails)
	}
	return strings.TrimSpace(*ans.ResponseData.TranslatedText), nil
}

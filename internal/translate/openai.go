package translate

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strings"
	"text/template"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/clirflow/clirflow/internal/httpx"
	"github.com/clirflow/clirflow/internal/inputerr"
)

//go:embed prompt_translate.tmpl
var defaultPrompt string

// OpenAIConfig configures the OpenAI-compatible chat translator.
type OpenAIConfig struct {
	BaseURL string `json:"base_url" yaml:"base_url"` // e.g. http://127.0.0.1:8000/v1
	Model   string `json:"model" yaml:"model"`
	// APIKeyEnv is the NAME of the environment variable holding the API key
	// (empty: no key, for local servers). The key is never logged or returned.
	APIKeyEnv string `json:"api_key_env,omitempty" yaml:"api_key_env,omitempty"`
	// Prompt is a text/template overriding the embedded prompt_translate.tmpl;
	// fields: .Src .Tgt (English language names), .SrcCode .TgtCode, .Text.
	Prompt      string       `json:"prompt,omitempty" yaml:"prompt,omitempty"`
	Concurrency int          `json:"concurrency,omitempty" yaml:"concurrency,omitempty"` // requests in flight per call (default 4)
	MaxTokens   int          `json:"max_tokens,omitempty" yaml:"max_tokens,omitempty"`
	Client      *http.Client `json:"-" yaml:"-"`
}

// OpenAI translates with a chat model, one request per text, temperature 0.
// HTTP 400/401/403/404 (and other 4xx but 408/429) → *PermanentError with the
// server's message; 408/429/5xx and network errors → transient (*StatusError
// carries Retry-After for RetryAfter).
type OpenAI struct {
	cfg    OpenAIConfig
	client *openai.Client
	tmpl   *template.Template
	hash   string
}

// NewOpenAI validates cfg and reads the API key from the named variable.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	u, err := checkBaseURL("base_url", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Model == "" {
		return nil, inputerr.Field("model", "is required")
	}
	if cfg.Concurrency < 0 {
		return nil, inputerr.Field("concurrency", "must be ≥ 0, got %d", cfg.Concurrency)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 4
	}
	key := ""
	if cfg.APIKeyEnv != "" {
		key = os.Getenv(cfg.APIKeyEnv)
		if key == "" {
			return nil, inputerr.Field("api_key_env", "environment variable %s is not set", cfg.APIKeyEnv)
		}
	}
	src := cfg.Prompt
	if src == "" {
		src = defaultPrompt
	}
	tmpl, err := template.New("prompt").Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, inputerr.Field("prompt", "%v", err)
	}
	sum := sha256.Sum256([]byte(src))
	hc := cfg.Client
	if hc == nil {
		hc = &http.Client{}
	}
	oc := openai.DefaultConfig(key)
	oc.BaseURL = u
	oc.HTTPClient = &httpx.HeaderDoer{Client: hc}
	return &OpenAI{cfg: cfg, client: openai.NewClientWithConfig(oc), tmpl: tmpl, hash: hex.EncodeToString(sum[:])[:12]}, nil
}

// ID is "openai/MODEL/prompt=HASH/t=0".
func (o *OpenAI) ID(p Pair) string { return "openai/" + o.cfg.Model + "/prompt=" + o.hash + "/t=0" }

// Pairs: a chat model translates between any languages this package can name.
func (o *OpenAI) Pairs(ctx context.Context) ([]Pair, error) {
	var ps []Pair
	for a := range langNames {
		for b := range langNames {
			if a != b {
				ps = append(ps, Pair{a, b})
			}
		}
	}
	return sortPairs(ps), nil
}

// Prompt renders the prompt for one text.
func (o *OpenAI) Prompt(p Pair, text string) (string, error) {
	var b strings.Builder
	err := o.tmpl.Execute(&b, map[string]string{"Src": LanguageName(p.Src), "Tgt": LanguageName(p.Tgt), "SrcCode": p.Src, "TgtCode": p.Tgt, "Text": text})
	if err != nil {
		return "", inputerr.Field("prompt", "%v", err)
	}
	return strings.TrimSpace(b.String()), nil
}

// Translate sends one chat request per text.
func (o *OpenAI) Translate(ctx context.Context, p Pair, texts []string) ([]string, error) {
	if _, ok := langNames[p.Src]; !ok {
		return nil, permanent("openai", "unknown source language %q", p.Src)
	}
	if _, ok := langNames[p.Tgt]; !ok {
		return nil, permanent("openai", "unknown target language %q", p.Tgt)
	}
	out := make([]string, len(texts))
	err := parallel(ctx, len(texts), o.cfg.Concurrency, func(ctx context.Context, i int) error {
		if strings.TrimSpace(texts[i]) == "" {
			out[i] = texts[i]
			return nil
		}
		prompt, err := o.Prompt(p, texts[i])
		if err != nil {
			return err
		}
		hctx, holder := httpx.WithHeaderHolder(ctx)
		resp, err := o.client.CreateChatCompletion(hctx, openai.ChatCompletionRequest{
			Model:       o.cfg.Model,
			Messages:    []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: prompt}},
			Temperature: 0,
			MaxTokens:   o.cfg.MaxTokens,
		})
		if err != nil {
			return o.mapError(err, holder)
		}
		if len(resp.Choices) == 0 {
			return fmt.Errorf("openai: answer without choices")
		}
		s := resp.Choices[0].Message.Content
		if k := strings.LastIndex(s, "</think>"); k >= 0 {
			s = s[k+len("</think>"):]
		}
		out[i] = strings.TrimSpace(s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (o *OpenAI) mapError(err error, h *httpx.HeaderHolder) error {
	status, msg := httpx.OpenAIStatus(err, errorMessage)
	if status == 0 {
		return fmt.Errorf("openai: %w", err)
	}
	return statusError("openai", status, h.Header(), msg, time.Now())
}

var langNames = map[string]string{
	"af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "da": "Danish",
	"de": "German", "el": "Greek", "en": "English", "eo": "Esperanto", "es": "Spanish", "et": "Estonian",
	"eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French", "ga": "Irish", "gl": "Galician",
	"ha": "Hausa", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian",
	"ig": "Igbo", "is": "Icelandic", "it": "Italian", "ja": "Japanese", "ko": "Korean", "lt": "Lithuanian",
	"lv": "Latvian", "nb": "Norwegian Bokmål", "nl": "Dutch", "no": "Norwegian", "pl": "Polish",
	"pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "so": "Somali",
	"sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian",
	"vi": "Vietnamese", "yo": "Yoruba", "zh": "Chinese", "zu": "Zulu", "am": "Amharic", "xh": "Xhosa",
}

// LanguageName is the English name of an ISO 639-1 code (the code itself when unknown).
func LanguageName(code string) string {
	if n, ok := langNames[strings.ToLower(code)]; ok {
		return n
	}
	return code
}

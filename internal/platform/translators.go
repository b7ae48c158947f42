package platform

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/llm"
	"github.com/clirflow/clirflow/internal/translate"
)

// NewTranslators returns the worker's translator factory. Instances are kept
// per configuration: an apertium pipeline or an HTTP client pool is started once
// and serves every activity of the worker. API keys are read from the
// environment by the translators themselves, never from the config.
func NewTranslators() experiment.Translators {
	var mu sync.Mutex
	made := map[string]translate.Translator{}
	return func(c config.Translator) (translate.Translator, error) {
		key, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		if t, ok := made[string(key)]; ok {
			return t, nil
		}
		t, err := newTranslator(c)
		if err != nil {
			return nil, err
		}
		made[string(key)] = t
		return t, nil
	}
}

// Requests in flight are bounded by the Batcher (config concurrency); each
// translator call itself sends one request at a time.
func newTranslator(c config.Translator) (translate.Translator, error) {
	switch c.Kind {
	case config.TranslatorApertium:
		return translate.NewApertium(translate.ApertiumConfig{})
	case config.TranslatorAPY:
		return translate.NewAPY(translate.APYConfig{BaseURL: c.BaseURL, Concurrency: 1})
	case config.TranslatorDictionary:
		return translate.NewDictionary(translate.DictionaryConfig{Dir: c.Dir, Senses: c.Senses, KeepOriginal: c.KeepOriginal})
	case config.TranslatorOpenAI:
		return translate.NewOpenAI(translate.OpenAIConfig{BaseURL: c.BaseURL, Model: c.Model, APIKeyEnv: c.APIKeyEnv, Concurrency: 1})
	case config.TranslatorHTTP:
		return translate.NewHTTP(translate.HTTPConfig{BaseURL: c.BaseURL, APIKeyEnv: c.APIKeyEnv})
	}
	return nil, inputerr.Field("translators", "unknown translator kind %q", c.Kind)
}

// NewLLMClients returns the worker's LLM client factory: one client per
// endpoint configuration, so its concurrency and rate limits hold across all
// the activities of the process, all sharing one response cache.
func NewLLMClients(cache llm.Cache, gate *llm.Gate) func(config.Endpoint) (experiment.Chatter, error) {
	var mu sync.Mutex
	made := map[string]experiment.Chatter{}
	return func(ep config.Endpoint) (experiment.Chatter, error) {
		key, err := json.Marshal(ep)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		if c, ok := made[string(key)]; ok {
			return c, nil
		}
		c, err := llm.New(ep, llm.Options{Cache: cache, Timeout: 5 * time.Minute, Gate: gate})
		if err != nil {
			return nil, err
		}
		made[string(key)] = Traced(c)
		return made[string(key)], nil
	}
}

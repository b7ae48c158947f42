package platform

import (
	"encoding/json"
	"sync"

	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/inputerr"
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

package platform

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/clirflow/clirflow/activities"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/embed"
	"github.com/clirflow/clirflow/internal/experiment"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/kvcache"
	"github.com/clirflow/clirflow/internal/llm"
	"github.com/clirflow/clirflow/internal/vector"
)

// NewDenseDeps builds the LLM worker's embedding clients (one per endpoint
// and input format, sharing the embedding cache under root/embed-cache) and
// vector stores (the embedded store under root/vectors; one Qdrant client
// per server).
func NewDenseDeps(root string, gate *llm.Gate) (activities.DenseDeps, error) {
	cache, err := kvcache.NewFileCache(filepath.Join(root, "embed-cache"))
	if err != nil {
		return activities.DenseDeps{}, err
	}
	embedded, err := vector.OpenEmbedded(filepath.Join(root, "vectors"))
	if err != nil {
		return activities.DenseDeps{}, err
	}
	var mu sync.Mutex
	encoders := map[string]experiment.Encoder{}
	qdrants := map[string]vector.VectorStore{}
	return activities.DenseDeps{
		Encoders: func(ep config.Endpoint, f embed.Format) (experiment.Encoder, error) {
			key, err := json.Marshal(struct {
				E config.Endpoint
				F embed.Format
			}{ep, f})
			if err != nil {
				return nil, err
			}
			mu.Lock()
			defer mu.Unlock()
			if c, ok := encoders[string(key)]; ok {
				return c, nil
			}
			c, err := embed.New(ep, embed.Options{Format: f, Cache: cache, Base64: true, Timeout: 5 * time.Minute, Gate: gate})
			if err != nil {
				return nil, err
			}
			encoders[string(key)] = c
			return c, nil
		},
		VectorStores: func(v config.VectorStore) (vector.VectorStore, error) {
			if v.Kind != config.StoreQdrant {
				return embedded, nil
			}
			mu.Lock()
			defer mu.Unlock()
			key := v.Key() + fmt.Sprintf("|%s|%t|%d", v.APIKeyEnv, v.TLS, v.BatchSize)
			if q, ok := qdrants[key]; ok {
				return q, nil
			}
			cfg := vector.QdrantConfig{Host: v.Host, Port: v.Port, UseTLS: v.TLS, BatchSize: v.BatchSize}
			if v.APIKeyEnv != "" {
				if cfg.APIKey = os.Getenv(v.APIKeyEnv); cfg.APIKey == "" {
					return nil, inputerr.Field("vector_store.api_key_env", "variable %s is not set on this worker", v.APIKeyEnv)
				}
			}
			q, err := vector.NewQdrant(cfg)
			if err != nil {
				return nil, err
			}
			qdrants[key] = q
			return q, nil
		},
	}, nil
}

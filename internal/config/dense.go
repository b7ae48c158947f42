package config

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/clirflow/clirflow/internal/embed"
	"github.com/clirflow/clirflow/internal/inputerr"
)

// First-stage kinds beyond BM25 and run files.
const (
	// KindDense embeds topics and corpus with an OpenAI-compatible embeddings
	// endpoint and retrieves by vector similarity.
	KindDense = "dense"
	// KindFusion fuses the runs of other first stages (hybrid retrieval).
	KindFusion = "fusion"

	FusionRRF    = "rrf"
	FusionMinMax = "minmax"

	StoreEmbedded = "embedded"
	StoreQdrant   = "qdrant"

	MetricCosine = "cosine"
	MetricDot    = "dot"

	DefaultRRFK      = 60.0
	DefaultQdrantGRP = 6334
)

// VectorStore selects where a dense stage keeps its document vectors: the
// embedded store (default; exact search, files beside the artifacts, no
// server) or a Qdrant server over gRPC.
type VectorStore struct {
	// Kind: embedded (default) or qdrant.
	Kind string `json:"kind,omitempty" yaml:"kind,omitempty"`
	// Qdrant's gRPC host and port (default localhost:6334, docker-compose's service).
	Host string `json:"host,omitempty" yaml:"host,omitempty"`
	Port int    `json:"port,omitempty" yaml:"port,omitempty"`
	// APIKeyEnv names the variable holding Qdrant's API key (workers read it).
	APIKeyEnv string `json:"api_key_env,omitempty" yaml:"api_key_env,omitempty"`
	TLS       bool   `json:"tls,omitempty" yaml:"tls,omitempty"`
	// BatchSize points per upsert (default 128; Qdrant advises 64–256).
	BatchSize int `json:"batch_size,omitempty" yaml:"batch_size,omitempty"`
}

// Key identifies the store's data (not its credentials) in memo keys.
func (v VectorStore) Key() string {
	if v.Kind == StoreQdrant {
		return StoreQdrant + "://" + v.Host + ":" + strconv.Itoa(v.Port)
	}
	return StoreEmbedded
}

// WithDefaults fills the store's unset fields.
func (v VectorStore) WithDefaults() VectorStore {
	if v.Kind == "" {
		v.Kind = StoreEmbedded
	}
	if v.Kind == StoreQdrant {
		if v.Host == "" {
			v.Host = "localhost"
		}
		if v.Port == 0 {
			v.Port = DefaultQdrantGRP
		}
	}
	if v.BatchSize == 0 {
		v.BatchSize = 128
	}
	return v
}

// EncoderPreset resolves a dense stage's encoder (preset plus overrides).
func (f FirstStage) EncoderPreset(field string) (embed.Preset, error) {
	if f.Encoder == nil {
		return embed.Preset{}, inputerr.Field(field+".encoder", "is required for kind %s", KindDense)
	}
	return f.Encoder.Resolve(field + ".encoder")
}

// checkDense validates a dense stage's endpoint, encoder, metric and store.
func (e Experiment) checkDense(p string, f FirstStage) error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if f.Endpoint == "" {
		add(inputerr.Field(p+".endpoint", "is required for kind %s (an embeddings endpoint under endpoints)", KindDense))
	} else if _, ok := e.EndpointNamed(f.Endpoint); !ok {
		add(inputerr.Field(p+".endpoint", "unknown endpoint %q (define it under endpoints)", f.Endpoint))
	}
	if f.Encoder == nil {
		add(inputerr.Field(p+".encoder", "is required for kind %s (e.g. {preset: multilingual-e5-large}; presets: %s)", KindDense, strings.Join(embed.Presets(), ", ")))
	} else if _, err := f.Encoder.Resolve(p + ".encoder"); err != nil {
		add(err)
	}
	if f.Metric != "" && !oneOf(f.Metric, MetricCosine, MetricDot) {
		add(inputerr.Field(p+".metric", "unknown metric %q (%s or %s)", f.Metric, MetricCosine, MetricDot))
	}
	if v := f.VectorStore; v != nil {
		vp := p + ".vector_store"
		switch v.Kind {
		case "", StoreEmbedded:
			if v.Host != "" || v.Port != 0 || v.APIKeyEnv != "" || v.TLS {
				add(inputerr.Field(vp, "host, port, api_key_env and tls only apply to kind %s", StoreQdrant))
			}
		case StoreQdrant:
			if v.Port < 0 || v.Port > 65535 {
				add(inputerr.Field(vp+".port", "must be between 1 and 65535, got %d", v.Port))
			}
			if strings.ContainsAny(v.Host, "/: ") {
				add(inputerr.Field(vp+".host", "%q: give the host name alone (port separately)", v.Host))
			}
		default:
			add(inputerr.Field(vp+".kind", "unknown kind %q (%s or %s)", v.Kind, StoreEmbedded, StoreQdrant))
		}
		add(checkEnvName(vp+".api_key_env", v.APIKeyEnv))
		if v.BatchSize < 0 || v.BatchSize > 4096 || (v.Kind == StoreQdrant && v.BatchSize != 0 && (v.BatchSize < 64 || v.BatchSize > 256)) {
			add(inputerr.Field(vp+".batch_size", "must be between 64 and 256 for qdrant (1–4096 embedded), got %d", v.BatchSize))
		}
	}
	return errors.Join(errs...)
}

// checkFusion validates a fusion stage: two or more distinct, non-fusion
// inputs that run on every dataset the fusion runs on.
func (e Experiment) checkFusion(p string, i int, f FirstStage) error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(f.Inputs) < 2 {
		add(inputerr.Field(p+".inputs", "names two or more first stages to fuse, got %d", len(f.Inputs)))
	}
	seen := map[string]bool{}
	for j, name := range f.Inputs {
		ip := fmt.Sprintf("%s.inputs[%d]", p, j)
		if seen[name] {
			add(inputerr.Field(ip, "%q is listed twice", name))
			continue
		}
		seen[name] = true
		k := slices.IndexFunc(e.FirstStages, func(s FirstStage) bool { return s.Name == name })
		switch {
		case k < 0:
			add(inputerr.Field(ip, "unknown first stage %q", name))
		case k == i:
			add(inputerr.Field(ip, "a stage cannot fuse itself"))
		case e.FirstStages[k].Kind == KindFusion:
			add(inputerr.Field(ip, "%q is a fusion; fuse its inputs instead", name))
		default:
			for _, d := range e.Datasets {
				if f.AppliesTo(d.Name) && !e.FirstStages[k].AppliesTo(d.Name) {
					add(inputerr.Field(ip, "%q does not run on dataset %q (restrict the fusion with datasets)", name, d.Name))
				}
			}
		}
	}
	switch f.Method {
	case "", FusionRRF:
		if f.RRFK < 0 || math.IsNaN(f.RRFK) || math.IsInf(f.RRFK, 0) {
			add(inputerr.Field(p+".rrf_k", "must be a finite number > 0, got %v", f.RRFK))
		}
		if len(f.Weights) > 0 {
			add(inputerr.Field(p+".weights", "only apply to method %s", FusionMinMax))
		}
	case FusionMinMax:
		if f.RRFK != 0 {
			add(inputerr.Field(p+".rrf_k", "only applies to method %s", FusionRRF))
		}
		if len(f.Weights) > 0 && len(f.Weights) != len(f.Inputs) {
			add(inputerr.Field(p+".weights", "one weight per input: %d weights for %d inputs", len(f.Weights), len(f.Inputs)))
		}
		sum := 0.0
		for j, w := range f.Weights {
			if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
				add(inputerr.Field(fmt.Sprintf("%s.weights[%d]", p, j), "must be a finite number ≥ 0, got %v", w))
			}
			sum += w
		}
		if len(f.Weights) > 0 && sum == 0 {
			add(inputerr.Field(p+".weights", "are all 0"))
		}
	default:
		add(inputerr.Field(p+".method", "unknown method %q (%s or %s)", f.Method, FusionRRF, FusionMinMax))
	}
	return errors.Join(errs...)
}

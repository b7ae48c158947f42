package platform

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"

	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/workflows"
)

// No Docker engine runs here, so docker-compose.yml is checked statically
// against the code's defaults: a port or variable renamed in one place and not
// the other fails this test.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		DependsOn   []string          `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func TestDockerComposeMatchesDefaults(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	require.NoError(t, err)
	var c composeFile
	require.NoError(t, yaml.UnmarshalWithOptions(raw, &c, yaml.DisallowUnknownField()))

	for _, name := range []string{"temporal", "qdrant", "jaeger", "worker"} {
		require.Contains(t, c.Services, name)
	}
	_, defPort, err := net.SplitHostPort(DefaultAddress)
	require.NoError(t, err)
	uiURL, err := url.Parse(DefaultUI)
	require.NoError(t, err)

	tmp := c.Services["temporal"]
	require.Contains(t, tmp.Ports, defPort+":"+defPort, "Temporal frontend port")
	require.Contains(t, tmp.Ports, uiURL.Port()+":"+uiURL.Port(), "Temporal UI port")
	cmd := strings.Join(tmp.Command, " ")
	require.Contains(t, cmd, "--port="+defPort)
	require.Contains(t, cmd, "--ui-port="+uiURL.Port())
	require.Contains(t, cmd, workflows.SearchExperiment.GetName()+"=Keyword")
	require.Contains(t, cmd, workflows.SearchDatasets.GetName()+"=KeywordList")
	require.Contains(t, cmd, "numTaskqueueReadPartitions=1")

	q := c.Services["qdrant"]
	require.Contains(t, q.Ports, "6333:6333", "Qdrant REST")
	require.Contains(t, q.Ports, "6334:6334", "Qdrant gRPC (the go-client's port)")
	require.Contains(t, q.Ports, fmt.Sprintf("%d:%d", config.DefaultQdrantGRP, config.DefaultQdrantGRP), "the vector_store default")
	require.Equal(t, "localhost", config.VectorStore{Kind: config.StoreQdrant}.WithDefaults().Host)
	require.NotEmpty(t, q.Volumes, "Qdrant storage must be a volume")

	j := c.Services["jaeger"]
	require.Contains(t, j.Ports, "4317:4317", "OTLP gRPC")
	require.Contains(t, j.Ports, "16686:16686", "Jaeger UI")
	require.Equal(t, "true", j.Environment["COLLECTOR_OTLP_ENABLED"])

	w := c.Services["worker"]
	require.NotNil(t, w.Build, "worker is built from the Dockerfile")
	_, err = os.Stat("../../Dockerfile")
	require.NoError(t, err)
	require.Equal(t, "temporal:"+defPort, w.Environment["TEMPORAL_ADDRESS"])
	require.Equal(t, DefaultNamespace, w.Environment["TEMPORAL_NAMESPACE"])
	require.Equal(t, workflows.TaskQueue, w.Environment[EnvTaskQueue])
	require.NotEmpty(t, w.Environment[EnvArtifacts])
	otlp, err := url.Parse(w.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"])
	require.NoError(t, err)
	require.Equal(t, "jaeger", otlp.Hostname())
	require.Equal(t, "4317", otlp.Port())
	require.ElementsMatch(t, []string{"temporal", "qdrant", "jaeger"}, w.DependsOn)
	for k := range w.Environment {
		require.NotContains(t, strings.ToUpper(k), "API_KEY", "secrets never go into the compose file")
	}
}

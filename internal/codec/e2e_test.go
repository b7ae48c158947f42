package codec_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/clirflow/clirflow/internal/codec"
	"github.com/clirflow/clirflow/internal/platform"
)

func echoActivity(_ context.Context, s string) (string, error) {
	if s == "" {
		return "", temporal.NewNonRetryableApplicationError("empty input", "Empty", nil)
	}
	return "echo: " + s, nil
}

// failActivity fails with the input in its message, as input errors do
// (FILE:LINE: …), so failure messages must be encrypted too.
func failActivity(_ context.Context, s string) (string, error) {
	return "", temporal.NewNonRetryableApplicationError("bad input "+s, "BadInput", nil)
}

func echoWorkflow(ctx workflow.Context, s string, fail bool) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var out string
	act := echoActivity
	if fail {
		act = failActivity
	}
	err := workflow.ExecuteActivity(ctx, act, s).Get(ctx, &out)
	return out, err
}

// TestEncryptedThroughDevServer runs a workflow and an activity through a
// real Temporal server with the codec wired as worker and starter wire it
// (platform.ClientOptionsWithCodecKey): the history the server stores — all
// the UI sees without the codec server — holds the input nowhere, neither in
// payloads nor in failure messages, while codec clients and the codec
// server's HTTP handler read everything back.
func TestEncryptedThroughDevServer(t *testing.T) {
	bin := os.Getenv("CLIRFLOW_TEMPORAL_BIN")
	if bin == "" {
		t.Skip("CLIRFLOW_TEMPORAL_BIN is unset: set it to a Temporal CLI (make test installs bin/temporal)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	logs, err := os.Create(filepath.Join(dir, "temporal.log"))
	require.NoError(t, err)
	defer logs.Close()
	quiet := tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: bin, LogLevel: "warn", Stdout: logs, Stderr: logs,
		ClientOptions: &client.Options{Logger: quiet},
	})
	require.NoError(t, err)
	defer srv.Stop()

	keyFile := filepath.Join(dir, "codec.key")
	_, err = codec.GenerateKeyFile(keyFile)
	require.NoError(t, err)
	opts, err := platform.ClientOptionsWithCodecKey(srv.FrontendHostPort(), "default", keyFile)
	require.NoError(t, err)
	c, err := client.Dial(opts)
	require.NoError(t, err)
	defer c.Close()
	plain, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Logger: quiet})
	require.NoError(t, err)
	defer plain.Close()

	queue := "codec-" + uuid.NewString()
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflow(echoWorkflow)
	w.RegisterActivity(echoActivity)
	w.RegisterActivity(failActivity)
	require.NoError(t, w.Start())
	defer w.Stop()

	marker := "clirflow-codec-marker-" + uuid.NewString()
	start := client.StartWorkflowOptions{TaskQueue: queue}
	ok, err := c.ExecuteWorkflow(ctx, start, echoWorkflow, marker, false)
	require.NoError(t, err)
	var out string
	require.NoError(t, ok.Get(ctx, &out))
	require.Equal(t, "echo: "+marker, out)

	failed, err := c.ExecuteWorkflow(ctx, start, echoWorkflow, marker, true)
	require.NoError(t, err)
	err = failed.Get(ctx, &out)
	require.ErrorContains(t, err, "bad input "+marker, "a codec client reads the failure message")

	var input *commonpb.Payload
	for _, run := range []client.WorkflowRun{ok, failed} {
		it := plain.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, 0)
		events := 0
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			raw, err := proto.Marshal(ev)
			require.NoError(t, err)
			require.False(t, bytes.Contains(raw, []byte(marker)), "marker in plaintext in %s event %d", run.GetID(), ev.GetEventId())
			if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil && input == nil {
				input = a.GetInput().GetPayloads()[0]
			}
			events++
		}
		require.Greater(t, events, 5)
	}
	require.Equal(t, codec.Encoding, string(input.GetMetadata()["encoding"]))

	// Without the key the result cannot be read.
	require.Error(t, plain.GetWorkflow(ctx, ok.GetID(), ok.GetRunID()).Get(ctx, &out))

	// The UI sends the history's payloads (protobuf JSON) to the codec server.
	k, err := codec.Load(keyFile)
	require.NoError(t, err)
	cs := httptest.NewServer(codec.NewHTTPHandler(k, platform.DefaultUI))
	defer cs.Close()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{input}})
	require.NoError(t, err)
	resp, err := http.Post(cs.URL+"/decode", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	dec, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(dec))
	var decoded commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(dec, &decoded), string(dec))
	require.Equal(t, `"`+marker+`"`, string(decoded.Payloads[0].GetData()))
}

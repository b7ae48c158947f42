package experiment

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/dataset"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/trec"
)

// PrepareInput is what PrepareDataset needs; Field is the config path of the
// dataset (e.g. "datasets[0]") so that errors about missing files name it.
type PrepareInput struct {
	Dataset config.Dataset `json:"dataset"`
	Field   string         `json:"field"`
}

// PrepareDataset validates a dataset's files and stores them in normal form.
// The memo key is the content of the files, not their paths or times: a changed
// corpus is prepared again, a moved one is not.
func PrepareDataset(ctx context.Context, s artifact.Store, in PrepareInput) (PreparedDataset, error) {
	d := in.Dataset
	// A CLEF corpus may be a directory tree: every file counts, in a fixed order.
	corpusFiles := []string{d.Corpus}
	if d.CorpusFormat == "clef" {
		files, err := dataset.CorpusFiles(d.Corpus)
		if err != nil {
			return PreparedDataset{}, inputerr.Field(in.Field+".corpus", "%v", err)
		}
		corpusFiles = files
	}
	type input struct{ field, path string }
	var inputs []input
	for _, f := range corpusFiles {
		inputs = append(inputs, input{"corpus", f})
	}
	inputs = append(inputs, input{"topics", d.Topics}, input{"qrels", d.Qrels})
	parts := []string{prepareVersion, d.CorpusFormat, d.Encoding, strings.Join(d.TextFields, ","), strings.Join(d.TitleFields, ","),
		d.TopicsFormat, strings.Join(d.TopicFields, ","), d.QueryLang}
	for _, f := range inputs {
		h, err := hashFile(f.path)
		if err != nil {
			return PreparedDataset{}, inputerr.Field(in.Field+"."+f.field, "%v", err)
		}
		// Names inside a corpus directory matter (they order the records);
		// where the files live does not.
		rel := ""
		if f.field == "corpus" {
			rel, _ = filepath.Rel(d.Corpus, f.path)
		}
		parts = append(parts, f.field, rel, h)
	}
	key := artifact.KeyOf(parts...)
	out, hit, err := lookup(ctx, s, key, func(o PreparedDataset) []artifact.Ref { return []artifact.Ref{o.Corpus, o.Topics, o.Qrels} })
	if err != nil {
		return out, err
	}
	if hit {
		out.Name, out.Cached = d.Name, true
		return out, nil
	}

	out = PreparedDataset{Name: d.Name}
	if out.Corpus, out.NumDocs, err = storeCorpus(ctx, s, d); err != nil {
		return PreparedDataset{}, err
	}
	topics, err := dataset.ReadTopicsWith(d.Topics, dataset.TopicOptions{
		Format: d.TopicsFormat, Fields: d.TopicFields, Encoding: d.Encoding, Lang: strings.ToUpper(d.QueryLang)})
	if err != nil {
		return PreparedDataset{}, err
	}
	out.NumTopics = len(topics)
	if out.Topics, err = storeJSONLines(ctx, s, topics); err != nil {
		return PreparedDataset{}, err
	}
	qrels, err := trec.ReadQrels(d.Qrels)
	if err != nil {
		return PreparedDataset{}, err
	}
	if out.Qrels, err = artifact.Put(ctx, s, canonicalQrels(qrels)); err != nil {
		return PreparedDataset{}, err
	}
	out.NumJudged = len(qrels)
	for _, docs := range qrels {
		for _, rel := range docs {
			if rel >= 1 {
				out.NumRelevant++
			}
		}
	}
	out.Warnings = coverageWarnings(d, topics, qrels)
	if err := s.PutMemo(ctx, key, out); err != nil {
		return PreparedDataset{}, err
	}
	return out, nil
}

func storeCorpus(ctx context.Context, s artifact.Store, d config.Dataset) (artifact.Ref, int, error) {
	w, err := s.Create(ctx)
	if err != nil {
		return "", 0, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	opts := dataset.CorpusOptions{Format: d.CorpusFormat, Encoding: d.Encoding, TextFields: d.TextFields, TitleFields: d.TitleFields}
	n, err := dataset.ReadCorpusWith(d.Corpus, opts, func(doc dataset.Document) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return enc.Encode(doc)
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		_ = w.Abort()
		return "", 0, err
	}
	ref, err := w.Commit()
	return ref, n, err
}

func storeJSONLines[T any](ctx context.Context, s artifact.Store, items []T) (artifact.Ref, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			return "", err
		}
	}
	return artifact.Put(ctx, s, []byte(sb.String()))
}

// canonicalQrels writes qrels sorted by query then document, so equal
// judgements give equal refs whatever the input's order.
func canonicalQrels(q trec.Qrels) []byte {
	qids := make([]string, 0, len(q))
	for qid := range q {
		qids = append(qids, qid)
	}
	sort.Strings(qids)
	var sb strings.Builder
	for _, qid := range qids {
		docs := make([]string, 0, len(q[qid]))
		for d := range q[qid] {
			docs = append(docs, d)
		}
		sort.Strings(docs)
		for _, d := range docs {
			fmt.Fprintf(&sb, "%s 0 %s %d\n", qid, d, q[qid][d])
		}
	}
	return []byte(sb.String())
}

// coverageWarnings reports judged queries without a topic and topics without
// judgements: legal (trec_eval skips them) but usually a sign of mismatched files.
func coverageWarnings(d config.Dataset, topics []dataset.Topic, q trec.Qrels) []string {
	have := make(map[string]bool, len(topics))
	unjudged := 0
	for _, t := range topics {
		have[t.ID] = true
		if _, ok := q[t.ID]; !ok {
			unjudged++
		}
	}
	var orphan []string
	for qid := range q {
		if !have[qid] {
			orphan = append(orphan, qid)
		}
	}
	sort.Strings(orphan)
	var w []string
	if len(orphan) > 0 {
		ex := orphan
		if len(ex) > 5 {
			ex = ex[:5]
		}
		w = append(w, fmt.Sprintf("%s: %d judged queries have no topic in %s (e.g. %s)", d.Qrels, len(orphan), d.Topics, strings.Join(ex, ", ")))
	}
	if unjudged > 0 {
		w = append(w, fmt.Sprintf("%s: %d of %d topics have no judgements in %s and are not evaluated", d.Topics, unjudged, len(topics), d.Qrels))
	}
	return w
}

func hashFile(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, unwrapPathErr(err))
	}
	if st.IsDir() {
		return "", fmt.Errorf("%s is a directory, expected a file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, unwrapPathErr(err))
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

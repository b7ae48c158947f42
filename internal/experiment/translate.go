package experiment

import (
	"bufio"
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/dataset"
	"github.com/clirflow/clirflow/internal/translate"
)

const translateVersion = "translate-v1"

// TranslateInput translates a prepared corpus (DT) or topics (QT).
type TranslateInput struct {
	Source     artifact.Ref      `json:"source"`
	What       string            `json:"what"` // config.TranslateDocuments or config.TranslateQueries
	Translator config.Translator `json:"translator"`
	Src        string            `json:"src"`
	Tgt        string            `json:"tgt"`
	// Field is the config path of the stage asking for it, for error messages.
	Field string `json:"field"`
}

// TranslationInfo references a translated corpus or topics artifact and says
// what it cost: Calls is the number of requests to the translation system
// (0 on a re-run: sentences come from the cache).
type TranslationInfo struct {
	Ref          artifact.Ref `json:"ref"`
	TranslatorID string       `json:"translator_id"`
	Texts        int          `json:"texts"`
	CacheHits    int          `json:"cache_hits"`
	Calls        int          `json:"calls"`
	// Untranslated texts came back empty and keep their original text (an
	// empty query or document would silently retrieve or match nothing).
	Untranslated int  `json:"untranslated,omitempty"`
	Cached       bool `json:"cached"`
}

// Translators builds translation systems from config; the worker supplies it
// (API keys come from the worker's environment).
type Translators func(config.Translator) (translate.Translator, error)

// Translate produces the translated artifact, sentence by sentence for
// documents. Every translated sentence goes to the cache at once, so an
// activity retried after a crash resumes where it stopped: finished sentences
// are cache hits. progress is called after each chunk of documents.
func Translate(ctx context.Context, s artifact.Store, cache translate.Cache, newT Translators, in TranslateInput, progress func(done int)) (TranslationInfo, error) {
	tr, err := newT(in.Translator)
	if err != nil {
		return TranslationInfo{}, err
	}
	pair := translate.Pair{Src: in.Src, Tgt: in.Tgt}
	id := tr.ID(pair)
	key := artifact.KeyOf(translateVersion, string(in.Source), in.What, id)
	out, hit, err := lookup(ctx, s, key, func(o TranslationInfo) []artifact.Ref { return []artifact.Ref{o.Ref} })
	if err != nil {
		return out, err
	}
	if hit {
		out.Cached, out.Calls, out.CacheHits = true, 0, out.Texts
		return out, nil
	}
	if err := checkPair(ctx, tr, pair, in); err != nil {
		return TranslationInfo{}, err
	}
	b := &translate.Batcher{T: tr, Cache: cache, BatchSize: in.Translator.BatchSize, Concurrency: in.Translator.Concurrency}
	var st translate.Stats
	if in.What == config.TranslateQueries {
		out.Ref, st, out.Untranslated, err = translateTopics(ctx, s, b, pair, in.Source)
	} else {
		out.Ref, st, out.Untranslated, err = translateCorpus(ctx, s, b, pair, in.Source, progress)
	}
	if err != nil {
		return TranslationInfo{}, err
	}
	out.TranslatorID, out.Texts, out.CacheHits, out.Calls = id, st.Texts, st.CacheHits, st.Calls
	return out, s.PutMemo(ctx, key, out)
}

func checkPair(ctx context.Context, tr translate.Translator, p translate.Pair, in TranslateInput) error {
	pairs, err := tr.Pairs(ctx)
	if err != nil {
		return err
	}
	for _, q := range pairs {
		if q == p {
			return nil
		}
	}
	return &translate.PermanentError{System: in.Translator.Kind, Msg: in.Field + ": translator " + in.Translator.Name +
		" cannot translate " + p.String() + "; it offers: " + translate.FormatPairs(pairs)}
}

// keepUntranslated puts the source text back where a translation came back
// empty, and counts those texts.
func keepUntranslated(src, out []string) int {
	n := 0
	for i := range out {
		if strings.TrimSpace(out[i]) == "" && strings.TrimSpace(src[i]) != "" {
			out[i] = src[i]
			n++
		}
	}
	return n
}

func translateTopics(ctx context.Context, s artifact.Store, b *translate.Batcher, p translate.Pair, ref artifact.Ref) (artifact.Ref, translate.Stats, int, error) {
	topics, err := LoadTopics(ctx, s, ref)
	if err != nil {
		return "", translate.Stats{}, 0, err
	}
	queries := make([]string, len(topics))
	for i, t := range topics {
		queries[i] = t.Query
	}
	out, st, err := b.Translate(ctx, p, queries)
	if err != nil {
		return "", st, 0, err
	}
	kept := keepUntranslated(queries, out)
	for i := range topics {
		topics[i].Query = out[i]
	}
	r, err := storeJSONLines(ctx, s, topics)
	return r, st, kept, err
}

// docChunk documents are translated together so that batches fill up across
// short documents.
const docChunk = 64

func translateCorpus(ctx context.Context, s artifact.Store, b *translate.Batcher, p translate.Pair, ref artifact.Ref, progress func(int)) (artifact.Ref, translate.Stats, int, error) {
	var total translate.Stats
	kept := 0
	w, err := s.Create(ctx)
	if err != nil {
		return "", total, 0, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var chunk []dataset.Document
	done := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		// Titles and texts become sentences; spans remember which belong where.
		var sentences []string
		type span struct{ start, n int }
		spans := make([]span, 0, 2*len(chunk))
		for _, d := range chunk {
			for _, field := range []string{d.Title, d.Text} {
				ss := translate.SplitSentences(p.Src, field)
				spans = append(spans, span{len(sentences), len(ss)})
				sentences = append(sentences, ss...)
			}
		}
		out, st, err := b.Translate(ctx, p, sentences)
		total.Add(st)
		if err != nil {
			return err
		}
		kept += keepUntranslated(sentences, out)
		for i, d := range chunk {
			t, x := spans[2*i], spans[2*i+1]
			d.Title = translate.Join(out[t.start : t.start+t.n])
			d.Text = translate.Join(out[x.start : x.start+x.n])
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
		done += len(chunk)
		chunk = chunk[:0]
		if progress != nil {
			progress(done)
		}
		return nil
	}
	err = forEachDocument(ctx, s, ref, func(d dataset.Document) error {
		chunk = append(chunk, d)
		if len(chunk) == docChunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		_ = w.Abort()
		return "", total, 0, err
	}
	r, err := w.Commit()
	return r, total, kept, err
}

// TranslationNote summarises translation costs for reports, e.g.
// "apertium es→en: 10234 sentences, 0 translator calls (100% cache hits)".
func TranslationNote(name string, src, tgt string, t TranslationInfo) string {
	rate := 100.0
	if t.Texts > 0 {
		rate = 100 * float64(t.CacheHits) / float64(t.Texts)
	}
	note := name + " " + src + "→" + tgt + ": " + strconv.Itoa(t.Texts) + " texts, " + strconv.Itoa(t.Calls) +
		" translator calls (" + strconv.FormatFloat(rate, 'f', 1, 64) + "% cache hits)"
	if t.Untranslated > 0 {
		note += ", " + strconv.Itoa(t.Untranslated) + " came back empty and kept their original text"
	}
	return note
}

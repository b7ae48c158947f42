// Package study holds the analysis of the study "Evaluating LLMs for
// Cross-Lingual Retrieval": the oracle reranker, the paired t-test used to
// mark significant improvements (scipy.stats.ttest_rel semantics), multiple
// comparison corrections, the headroom ("share of the potential realised")
// computation, result tables (Markdown, CSV, JSON, LaTeX) and SVG plots.
//
// Everything here is pure and deterministic: the same input always gives
// byte-identical output, and the only I/O is writing to an io.Writer.
package study

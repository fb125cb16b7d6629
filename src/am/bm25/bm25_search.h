// A query over a snapshot of a quarry_bm25 index.
//
// IndexView is what a scan (or the <@> operator) sees of the index: a copy of
// the metapage, every segment opened, and a copy of the pending list. Its
// statistics (N, average length) are frozen for the life of the view, so every
// score a scan produces uses the same statistics, across batches and reruns.
//
// PreparedQuery tokenizes the query with the index's text search
// configuration, merges repeated lexemes (a repeated lexeme weighs qtf times),
// or, for a query read with the query syntax (fts/query_syntax.h), tokenizes
// each clause and keeps which terms are scored, required and excluded,
// looks every term up in every segment and in the pending list to get its
// document frequency, and builds each term's scorer. OpenCursors then opens a
// TermCursor per term over all parts (segments in order, then the pending
// list, whose matching entries are encoded into posting lists in memory).
//
// Everything lives in the scan's arena; nothing here needs a destructor.
#pragma once

#include <type_traits>

#include "am/bm25/bm25_pending.h"
#include "am/bm25/bm25_segment.h"
#include "fts/clause_filter.h"
#include "fts/field_union.h"
#include "fts/phrase_cursor.h"
#include "fts/query_syntax.h"
#include "fts/term_expansion.h"
#include "fts/term_statistics.h"
#include "fts/term_cursor.h"
#include "fts/wand.h"

namespace quarry::am::bm25 {

struct IndexView {
	Relation index;
	MetaPage meta;
	Oid config;
	fts::Bm25Params params;
	fts::CollectionStats stats;
	// An index of fields (bm25_fields.h): their count (1 without), weights and
	// normalisations, and statistics (N and each field's total length).
	uint32_t field_count;
	fts::FieldNorm field_norms[kMaxFields];
	fts::CollectionStats field_stats[kMaxFields];
	SegmentReader **segments;
	uint32_t segment_count;
	PendingSnapshot *pending;
	fts::DocId pending_base; // global id of the first pending entry
	fts::DocId doc_end;		 // one past the last global id
};
static_assert(std::is_trivially_destructible_v<IndexView>, "lives across PostgreSQL calls made without PgCall");

IndexView *OpenIndexView(Relation index, mem::ScanArena &arena);

/// Buffers (positions readers', phrase cursors') grown from a scan arena.
fts::BufferSource ArenaBuffers(mem::ScanArena &arena);

/// A phrase of a query read with the query syntax: its distinct lexemes, and
/// per position of the phrase (a member) which lexeme stands there and at
/// which offset (stop words leave holes, as phraseto_tsquery counts them).
struct PhraseSpec {
	Lexeme *lexemes;
	uint32_t lexeme_count;
	uint32_t *member_lexeme; // per member
	uint32_t *member_offset; // per member, ascending
	uint32_t member_count;	 // 2..fts::kMaxPhraseTerms
	uint32_t slop;
	int field = -1; // an index of fields: the field it looks in (title:"a b"), -1: every field
};

struct QueryTerm {
	std::string_view text;
	uint32_t query_tf;
	uint64_t doc_freq; // a phrase: the smallest of its lexemes' (an upper bound)
	TermInfo *segment_info; // per segment; doc_freq == 0 where the term is absent
	fts::DocId *pending_docs; // local pending ids holding the term (ascending)
	uint32_t *pending_tfs;
	uint32_t *pending_positions; // their positions, document after document (an index with positions)
	uint32_t pending_count;
	fts::TermScorer scorer;
	fts::TermCursor cursor; // valid after OpenCursors
	// A phrase (else null): its spec, its lexemes' terms (scored with the
	// phrase's scorer, for bounds), and the cursor over them.
	const PhraseSpec *phrase;
	struct QueryTerm *lexemes;
	fts::PhraseCursor *phrase_cursor;
	// An index of fields: the term (or phrase) in each field it looks in,
	// and their union (bm25_field_query.cpp); a field's term: its field.
	struct QueryTerm *field_terms;
	uint32_t *field_numbers;
	uint32_t field_term_count;
	fts::FieldUnion *field_union;
	int field = -1;
};

/// A query's lexemes before they are looked up: the scored terms first (tf is
/// the query tf), then the excluded ones.
struct QueryTermList {
	Lexeme *terms;
	uint32_t count;
	uint32_t scored_count;
	// Per term, or null for a plain query: its boost (1 but for fuzzy
	// expansions), and its blend group: the expansions of one prefix or fuzzy
	// lexeme share one (consecutive terms), and are scored with the largest
	// document frequency among them; kNoBlend for the others.
	double *boosts;
	uint32_t *blend;
	// Per term, or null: a phrase's spec (the term's text is then the phrase's).
	const PhraseSpec **phrases;
	// Required groups of scored terms: group g is required[ends[g - 1] ..
	// ends[g]) (from 0 for g = 0); a row needs a term of every group.
	uint32_t *required;
	uint32_t *group_ends;
	uint32_t group_count;
};
inline constexpr uint32_t kNoBlend = 0xFFFFFFFF;

/// The terms of a query read with the query syntax (bm25_clauses.cpp): every
/// clause tokenized on its own; SHOULD and MUST lexemes scored (merged in order
/// of first occurrence, query tfs added up), MUST lexemes required, MUST_NOT
/// lexemes excluded; a prefix or fuzzy lexeme stands for its expansions over
/// `view`'s dictionaries (kept apart, after the plain lexemes).
QueryTermList ReadClauseTerms(IndexView *view, std::string_view text, mem::ScanArena &arena);
/// Whether a query read with the query syntax has a prefix or fuzzy clause
/// (its terms then depend on what the index holds).
bool HasExpansionClause(std::string_view text);

/// The dictionary terms a prefix or fuzzy lexeme expands to (bm25_expand.cpp):
/// at most quarry.bm25_max_expansions, in the order they were kept, copied
/// into `arena`; the work uses `scratch`, which the caller may reset after.
struct ExpandedTerms {
	fts::ExpansionCandidate *terms; // in the arena
	uint32_t count;
	uint64_t blended_df;
};
/// In an index of fields, `field` >= 0 expands over that field's terms (the
/// kept terms then carry its tag), -1 over every field's (the kept terms are
/// lexemes, each with its largest document frequency over the fields).
ExpandedTerms ExpandLexeme(IndexView *view, std::string_view lexeme, fts::ClauseKind kind, uint32_t distance,
						   int field, mem::ScanArena &scratch, mem::ScanArena &arena);
/// Most terms the prefix and fuzzy clauses of one query may expand to in all
/// (Lucene's default clause limit is 1024 per boolean query; this allows a
/// few clauses at the largest quarry.bm25_max_expansions).
inline constexpr uint32_t kMaxExpandedTerms = 4096;

struct PreparedQuery {
	IndexView *view;
	QueryTerm *terms; // scored terms in order of first occurrence, then excluded terms
	uint32_t term_count;   // every term (each has a cursor)
	uint32_t scored_count; // terms [0, scored_count) score; == term_count for a plain query
	// A row matches when it holds a scored term and passes the filter: every
	// required term (MUST lexemes, rarest first), no excluded term (terms
	// [scored_count, term_count)). Empty for a plain query. Points at the
	// terms' cursors.
	fts::ClauseFilter filter;
	// The required groups' terms, in the filter's order (QueryTermList's
	// layout): group g is required[group_ends[g - 1] .. group_ends[g]).
	uint32_t *required;
	uint32_t *group_ends;
	// Open cursors (for releasing pins).
	PagePostingBytes **page_bytes;
	uint32_t page_bytes_count;
	class ViewFieldLengths **field_lengths; // field terms' length readers
	uint32_t field_lengths_count;
	// Every term looked up in the index (a phrase's lexemes, a field's term),
	// with its document frequency.
	QueryTerm **lookups;
	uint32_t lookup_count;
};
static_assert(std::is_trivially_destructible_v<PreparedQuery>, "lives across PostgreSQL calls made without PgCall");

/// `parsed`: read `query` with the query syntax; else it is a bag of words.
/// `stats`: statistics to score with instead of the index's own (validated
/// text, fts/term_statistics.h), or empty.
PreparedQuery *PrepareQuery(IndexView *view, std::string_view query, bool parsed, std::string_view stats,
							mem::ScanArena &arena);

// --- statistics given with the query (bm25_global_stats.cpp) ---

/// Reads the statistics a query carries into `out`; false when it carries
/// none (`stats` empty).
bool ReadQueryStatistics(std::string_view stats, fts::TermStatistics *out);
/// Sets the view's N, average lengths and field normalisations from `given`,
/// or from its metapage when `given` is null.
void SetViewStatistics(IndexView *view, const fts::TermStatistics *given);
/// Gives each looked-up term the document frequency `given` holds for it.
void ApplyTermStatistics(const fts::TermStatistics *given, QueryTerm **lookups, uint32_t count);

/// Opens every term's cursor at its first document.
void OpenCursors(PreparedQuery *query, mem::ScanArena &arena);

// --- inside the access method: terms and phrases (bm25_phrase_query.cpp) ---

/// Finds `term` among a document's tokens (sorted by bytes); null if absent.
const Lexeme *FindLexeme(const Tokens &doc, std::string_view term);
/// Looks the term up in every segment (the pending list comes later).
void LookUpTerm(QueryTerm &qt, const Lexeme &lexeme, IndexView *view, mem::ScanArena &arena);
/// Opens a term's list in every part (positions too, with `positions`), its
/// page readers registered in `q` for release; returns the term's bound under
/// `scorer`.
double OpenTermParts(PreparedQuery *q, const QueryTerm &qt, const fts::TermScorer &scorer, bool positions,
					 mem::ScanArena &arena, fts::TermCursor::Part *&parts, uint32_t &count);
/// A phrase term: its lexemes looked up (ERROR if the index has no positions).
void PreparePhraseTerm(QueryTerm &qt, const Lexeme &text, const PhraseSpec *phrase, IndexView *view,
					   mem::ScanArena &arena);
/// A phrase's scorer: the sum of its lexemes' IDFs (Lucene's PhraseWeight),
/// also given to its lexemes for their bounds.
void MakePhraseScorer(QueryTerm &qt, const fts::Bm25Params &params, const fts::CollectionStats &stats);
/// Opens a phrase term's cursor (its lexemes' forward and probe cursors).
void OpenPhraseCursor(PreparedQuery *q, QueryTerm &qt, uint32_t term_index, mem::ScanArena &arena);
/// A phrase's frequency in a document given as tokens (with positions).
double PhraseFreqInTokens(const QueryTerm &qt, const Tokens &doc);
// --- inside the access method: terms over fields (bm25_field_query.cpp) ---

/// A term of an index of fields: the term (or phrase) looked up in each field
/// it looks in (a tagged text: that field; else every field).
void PrepareFieldTerm(QueryTerm &qt, const Lexeme &text, const PhraseSpec *phrase, IndexView *view,
					  mem::ScanArena &arena);
/// Most lookups (terms, phrase lexemes) a field term needs.
uint32_t FieldLookupCount(const IndexView *view, const PhraseSpec *phrase);
/// Appends the field term's lookups (what MatchPending fills in) and whether
/// each needs positions; returns how many.
uint32_t FieldLookups(QueryTerm &qt, QueryTerm **lookups, bool *positions);
/// The field term's scorers, once its fields' document frequencies are known
/// (pending list included): its own (BM25F, b = 0 over the folded frequency,
/// document frequency `df`, or for a phrase the sum of its positions' IDFs),
/// and its fields' (for their bounds). Sets qt.doc_freq first when `df` is 0.
uint64_t FieldDocFreq(const QueryTerm &qt);
void MakeFieldScorers(QueryTerm &qt, uint64_t df, double boost, const IndexView *view);
/// Opens a field term's cursor: its fields' cursors under a FieldUnion.
void OpenFieldCursor(PreparedQuery *q, QueryTerm &qt, uint32_t term_index, mem::ScanArena &arena);
/// Page readers a field term's cursors take per part.
uint32_t FieldReaders(const QueryTerm &qt);
/// A field term's folded frequency in a row given as tokens (TokenizeRow).
double FieldFreqInTokens(const QueryTerm &qt, const IndexView &view, const Tokens &doc);

/// Drops the buffer pins the cursors hold (they must be reopened to be used).
void ReleaseCursors(PreparedQuery *query);

/// The BM25 score of a document given as tokens (sorted by bytes), with the
/// query's statistics; summed in query term order like the index scan does.
/// 0 for a document that does not match (holds no scored term, or fails the
/// clause filter).
double ScoreTokens(const PreparedQuery &query, const Tokens &doc, double *term_scores);

/// Whether `doc` matches the query (cursors open; they do not move).
bool MatchesDoc(const PreparedQuery &query, fts::DocId doc);

/// Per-document access over a whole view by global id: lengths (for scoring),
/// admission (not removed by VACUUM), heap TIDs.
class ViewDocs final : public fts::DocLengths, public fts::DocAdmission {
public:
	ViewDocs(IndexView *view, mem::ScanArena &arena);
	uint32_t Length(fts::DocId doc) override;
	std::span<const uint32_t> Window(fts::DocId first, uint32_t max_count) override;
	bool Admit(fts::DocId doc) override;
	void Tid(fts::DocId doc, ItemPointer tid);
	void Release();

private:
	// Segment index holding `doc`, or segment_count for the pending list.
	uint32_t PartOf(fts::DocId doc) const;

	IndexView *view_;
	SegmentDocs *docs_; // one per segment
};

/// One field's lengths over a whole view by global id (an index of fields).
class ViewFieldLengths final : public fts::DocLengths {
public:
	ViewFieldLengths(IndexView *view, uint32_t field, mem::ScanArena &arena);
	uint32_t Length(fts::DocId doc) override;
	std::span<const uint32_t> Window(fts::DocId first, uint32_t max_count) override;
	void Release();

private:
	IndexView *view_;
	uint32_t field_;
	SegmentDocs *docs_; // one per segment, reading the field's lengths
};

} // namespace quarry::am::bm25

// quarry_bm25: declarations shared by the access method's files (options,
// pages, tokens, the callbacks). Which file holds what: README.md here.
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "access/amapi.h"
#include "access/genam.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

#include "am/am_routine.h"
#include "am/bm25/bm25_pages.h"
#include "fts/bm25.h"

#include <cstdint>
#include <type_traits>

namespace quarry::am::bm25 {

// --- options (bm25_handler.cpp) ---------------------------------------------------

struct Options {
	int32_t vl_len_;			 // varlena header (do not touch)
	int text_config_offset; // offset of the text_config string, 0 if unset
	double k1;
	double b;
	bool positions; // store term positions (phrase queries); fixed at CREATE INDEX
	int weights_offset; // offset of the weights string (bm25_fields.cpp), 0 if unset
};

/// Registers quarry_bm25's reloptions, settings and planner hooks; called once
/// from _PG_init.
void Initialize();
void RegisterOptions();
fts::Bm25Params ParamsOf(Relation index);
/// Checks the syntax of a weights option ('title=3, body=1'); the names are
/// checked against the index's columns when it is built and queried.
/// C-shaped (a reloption validator): raises PostgreSQL's errors.
void ValidateFieldWeights(const char *value);
/// The positions option of a new index (default on).
bool PositionsOptionOf(Relation index);

/// quarry.bm25_pending_limit (kB): the pending list of a quarry_bm25 index is
/// flushed into a segment once it holds more than this.
extern int pending_limit_kb;
/// quarry.bm25_max_expansions: most index terms a prefix or fuzzy query term
/// expands to (bm25_expand.cpp).
extern int max_expansions;

// --- tokens (bm25_tokens.cpp) ------------------------------------------------------

struct Lexeme {
	const char *text;
	uint32_t bytes;
	uint32_t tf;
	// Its tf positions in the text (1-based word positions, ascending; only
	// the clamped last position, 16383, may repeat), or null for a lexeme
	// that is not a tokenized text's (a query's expansion, a pending term).
	const uint32_t *positions = nullptr;
};

struct Tokens {
	Lexeme *lexemes; // palloc'd in the current memory context
	uint32_t count;
	uint32_t length; // sum of tf
	// A row of an index with fields (TokenizeRow): each field's length (the
	// sum of its lexemes' tfs; 0 for a NULL field), else null.
	uint32_t *field_lengths = nullptr;
	uint32_t field_count = 0;
};
static_assert(std::is_trivially_destructible_v<Tokens>, "lives across PostgreSQL calls made without PgCall");

/// Tokenizes with a text search configuration: the lexemes of to_tsvector(config,
/// text), with tf the number of positions of each. Lexemes come sorted by bytes,
/// or, with in_text_order, in the order of their first occurrence (for queries).
Tokens Tokenize(Oid config, const char *text, int bytes, bool in_text_order);
/// Tokenizes a text datum (detoasted as needed).
Tokens TokenizeDatum(Oid config, Datum text, bool in_text_order);
/// Tokenizes an index row of `fields` columns: with one, TokenizeDatum; with
/// more, every non-NULL column, each lexeme tagged with its field
/// (bm25_fields.h), sorted by bytes (so by field, then lexeme), with the
/// field lengths. The row must have a non-NULL column.
Tokens TokenizeRow(Oid config, const Datum *values, const bool *isnull, uint32_t fields);
/// Whether every one of the row's `fields` columns is NULL (the row is then
/// not indexed, but kept in the null-row list).
bool RowIsNull(const bool *isnull, uint32_t fields);

// Text search configurations (bm25_text_config.cpp).

/// The configuration for a new index: its text_config option (an unqualified
/// name is pg_catalog's), else default_text_search_config.
Oid ChooseTextConfig(Relation index);

/// Records configuration `config` in a new metapage: its OID, schema and name.
void RecordTextConfig(Oid config, MetaPage *meta);

/// Makes the index depend on `config` (in place of any earlier one).
void RecordConfigDependency(Relation index, Oid config);

/// The configuration an index tokenizes with, in this cluster: in the
/// cluster it was built in, the OID its metapage records; after pg_upgrade,
/// where OIDs differ, the schema and name it records (format 3), or for an
/// index written by quarry 0.1.0 (format 2, no name) the configuration the
/// restore made it depend on. Resolved once per relcache entry (rd_amcache).
/// A clear ERROR naming the index, with a hint to REINDEX, when it no longer
/// exists (InvalidOid with `missing_ok`). C-shaped.
Oid IndexTextConfig(Relation index, const MetaPage &meta, bool missing_ok = false);
/// Forgets the configuration IndexTextConfig resolved (a build starts).
void ForgetTextConfig(Relation index);

// --- callbacks (the IndexAmRoutine members) ----------------------------------------

QUARRY_INDEX_CALLBACKS(QUARRY_DECLARE_CALLBACK)
int64_t GetBitmap(IndexScanDesc scan, TIDBitmap *tbm);

/// For a caller that knows how many ranked rows it will read (the hybrid
/// scan's depth): the scan's first batch ranks that many at once, where it
/// otherwise starts at 16 and grows fourfold (a scan read for 100 rows ran
/// three top-k passes, of 16, 64 and 256). Call after amrescan, before the
/// first row; later batches grow from it.
void ExpectRows(IndexScanDesc scan, uint32_t rows);

// Build phases reported in pg_stat_progress_create_index.
inline constexpr int64_t kPhaseTokenizing = 1;
inline constexpr int64_t kPhaseSpilling = 2;
inline constexpr int64_t kPhaseWriting = 3;
inline constexpr int64_t kPhaseLogging = 4;

} // namespace quarry::am::bm25

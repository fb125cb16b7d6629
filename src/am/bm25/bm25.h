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
#include "am/bm25/bm25_format.h"
#include "pg/guard.h"
#include "pg/index_pages.h"
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
};

/// Registers quarry_bm25's reloptions, settings and planner hook; called once
/// from _PG_init.
void Initialize();
void RegisterOptions();
fts::Bm25Params ParamsOf(Relation index);

/// quarry.bm25_pending_limit (kB): the pending list of a quarry_bm25 index is
/// flushed into a segment once it holds more than this.
extern int pending_limit_kb;

// --- pages (bm25_pages.cpp) --------------------------------------------------------

void InitPage(Page page, PageType type, uint32_t segment_id);
inline PageOpaque *
OpaqueOf(Page page)
{
	return reinterpret_cast<PageOpaque *>(PageGetSpecialPointer(page));
}
inline char *
ContentOf(Page page)
{
	return reinterpret_cast<char *>(page) + kPageHeaderBytes;
}
/// Sets pd_lower so the first `bytes` of content are inside the page's used
/// area (WAL full-page images and generic WAL skip the hole).
void SetContentBytes(Page page, std::size_t bytes);

/// ERRORs (ERRCODE_INDEX_CORRUPTED, naming the index) unless the page has our
/// page id, `type`, and (when segment_id != 0) belongs to that segment.
void CheckPage(Relation index, Page page, BlockNumber block, PageType type, uint32_t segment_id);

/// Copies the metapage (share lock), checking magic and version.
void ReadMeta(Relation index, MetaPage *out);
/// The metapage's contents in a locked buffer's page.
MetaPage *MetaOf(Page page);

bool IsFreePage(Page page);

/// The null-row list's page format for pg/null_row_list.h.
const pg::NullRowListFormat &NullRowFormat();

/// The maintenance lock serialises flushes, merges, page recycling and VACUUM's
/// changes to segments (a heavyweight lock on the metapage, as GIN's pending
/// list cleanup uses). Scans and inserts never take it.
void LockMaintenance(Relation index);
bool TryLockMaintenance(Relation index);
void UnlockMaintenance(Relation index);

/// Stamps for retired pages, and whether a stamp is old enough for no running
/// scan to still read the pages.
uint64_t RetireStamp();
bool StampIsRecyclable(Relation index, uint64_t stamp);

// --- tokens (bm25_tokens.cpp) ------------------------------------------------------

struct Lexeme {
	const char *text;
	uint32_t bytes;
	uint32_t tf;
};

struct Tokens {
	Lexeme *lexemes; // palloc'd in the current memory context
	uint32_t count;
	uint32_t length; // sum of tf
};
static_assert(std::is_trivially_destructible_v<Tokens>, "lives across PostgreSQL calls made without PgCall");

/// Tokenizes with a text search configuration: the lexemes of to_tsvector(config,
/// text), with tf the number of positions of each. Lexemes come sorted by bytes,
/// or, with in_text_order, in the order of their first occurrence (for queries).
Tokens Tokenize(Oid config, const char *text, int bytes, bool in_text_order);
/// Tokenizes a text datum (detoasted as needed).
Tokens TokenizeDatum(Oid config, Datum text, bool in_text_order);

/// The configuration for a new index: its text_config option, else
/// default_text_search_config.
Oid ChooseTextConfig(Relation index);

// --- callbacks (the IndexAmRoutine members) ----------------------------------------

QUARRY_INDEX_CALLBACKS(QUARRY_DECLARE_CALLBACK)
int64_t GetBitmap(IndexScanDesc scan, TIDBitmap *tbm);

// Build phases reported in pg_stat_progress_create_index.
inline constexpr int64_t kPhaseTokenizing = 1;
inline constexpr int64_t kPhaseSpilling = 2;
inline constexpr int64_t kPhaseWriting = 3;
inline constexpr int64_t kPhaseLogging = 4;

} // namespace quarry::am::bm25

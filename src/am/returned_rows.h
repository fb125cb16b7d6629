// The row an ordered index scan returned last, with the value it ordered it
// by (on pgvector's types, pgvector's own value of the operator, computed
// when first asked: NoteReturnedRowLazily), for the scan's projection
// (am/plan_scores.cpp): after planning, the
// projection of an ordered quarry_bm25 or quarry_hnsw scan evaluates
// quarry_bm25_scored / quarry_hnsw_scored(ctid, col, query) in place of the
// ordering operator, and those take the value from here instead of computing
// it again (tokenizing a long text, detoasting and comparing a vector).
//
// A scan registers at each rescan, with its index and its query's identity
// (a tag and bytes: quarry_bm25 the parsed flag, the query text and the
// statistics it carries, quarry_hnsw the metric and the query vector's
// bytes), copied in `owner`'s
// memory; it is forgotten when `owner` (the scan's memory context) is reset
// or deleted, on every path. Eight scans at a time; more compute.
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "storage/itemptr.h"
#include "utils/memutils.h"
}

#include <cstdint>
#include <string_view>

namespace quarry::am {

struct ReturnedRow;

/// A ranking scan of `index` for the query (tag, key, extra: two byte
/// strings, each compared on its own); nullptr when every slot is taken (the
/// projection then computes).
ReturnedRow *RegisterRankingScan(MemoryContext owner, Oid index, uint32_t tag, std::string_view key,
								 std::string_view extra = {});
/// The row the scan returns now and the value it ordered it by (the
/// operator's value for that row and query, exactly).
void NoteReturnedRow(ReturnedRow *slot, ItemPointer tid, double value, bool null);
/// The row the scan returns now has no value here (the projection computes it).
void ForgetReturnedRow(ReturnedRow *slot);

/// Computes the value of the row a scan returned last, on demand, from the
/// scan's state; false when it cannot (the projection then computes it).
using ComputeReturnedValue = bool (*)(void *scan_state, double *value);
/// The row the scan returns now, whose value `compute(scan_state, ...)` gives
/// the first time the projection asks for it (a query that does not select
/// the distance never pays for it). `scan_state` must live as long as the
/// scan's memory context.
void NoteReturnedRowLazily(ReturnedRow *slot, ItemPointer tid, ComputeReturnedValue compute, void *scan_state);
/// The value a scan of `index` for (tag, key, extra) ordered row `tid` by,
/// if that row is the one it returned last.
bool ValueOfReturnedRow(Oid index, uint32_t tag, std::string_view key, ItemPointer tid, double *value, bool *null,
						std::string_view extra = {});

} // namespace quarry::am

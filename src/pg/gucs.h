// quarry's configuration settings (GUCs). Every setting is defined here, so
// the full list is in one place; the index code reads the variables.
#pragma once

namespace quarry::pg {

// --- quarry_hnsw ---------------------------------------------------------------
/// quarry.hnsw_ef_search: candidate list size of an HNSW scan.
extern int hnsw_ef_search;
/// quarry.hnsw_max_scan_tuples: nodes an iterative HNSW scan may score.
extern int hnsw_max_scan_tuples;

/// Defines every quarry.* setting and reserves the "quarry" prefix. Called once
/// from _PG_init.
void DefineGucs();

// --- quarry_bm25 ------------------------------------------------------------------

/// quarry.bm25_pending_limit (kB): the pending list of a quarry_bm25 index is
/// flushed into a segment once it holds more than this.
extern int bm25_pending_limit_kb;

} // namespace quarry::pg

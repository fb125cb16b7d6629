// Pages of a quarry_bm25 index: initialising and checking them, the
// metapage, the null-row list's page format, the maintenance lock and the
// stamps of retired pages (bm25_pages.cpp). The format itself is
// bm25_format.h.
#pragma once

#include "am/bm25/bm25_format.h"

#include "pg/guard.h"
#include "pg/index_pages.h"

extern "C" {
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

namespace quarry::am::bm25 {

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
const am::NullRowListFormat &NullRowFormat();

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

} // namespace quarry::am::bm25

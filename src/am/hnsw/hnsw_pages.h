// Pages of a quarry_hnsw index: initialising them, and reading pages that
// may be corrupted (every field checked before it is used). The format
// itself is hnsw_format.h.
#pragma once

#include "am/hnsw/hnsw_format.h"

#include "pg/guard.h"
#include "pg/index_pages.h"

namespace quarry::am::hnsw {

// --- pages ----------------------------------------------------------------------

/// The null-row list's page format for pg/null_row_list.h.
const am::NullRowListFormat &NullRowFormat();

/// Initialises an index page of `type` with the special space.
void InitPage(Page page, PageType type);

/// Initialises a stream page (node or TID): the whole payload counts as data
/// (pd_lower = pd_upper = pd_special), so full-page images keep it.
void InitStreamPage(Page page, PageType type);

inline PageOpaque *
OpaqueOf(Page page)
{
	return reinterpret_cast<PageOpaque *>(PageGetSpecialPointer(page));
}

inline char *
StreamPayload(Page page)
{
	return reinterpret_cast<char *>(page) + kStreamPayloadStart;
}

inline MetaPage *
MetaOf(Page page)
{
	return reinterpret_cast<MetaPage *>(PageGetContents(page));
}

/// Fills a new metapage for an index with these settings (dims may be 0).
void InitMetaPage(Page page, uint32_t dims, int m, int ef_construction, quarry::hnsw::Metric metric,
				  quarry::hnsw::Storage storage);

// --- reading pages that may be corrupted ------------------------------------------
//
// Nothing read from a page is trusted: every offset, count, level and slot
// number is checked before it is used, and a page that fails a check raises
// ERRCODE_INDEX_CORRUPTED naming the index (pg::ThrowCorrupt). The hot scan path
// pays one branch per page it pins through ReadBuffer and one per record it
// reads (HeaderLooksSane); see README.md here, "Corrupted pages".

/// Whether the fields of a metapage (already known to carry the magic and
/// version) are consistent: option ranges, record size, entry point, and
/// directories that cover node_count. If not, describes the first problem in
/// `why`. Block numbers are not compared with the relation's size here: that
/// costs a system call, and readers check the blocks they read.
bool MetaFieldsSane(const MetaPage &meta, char *why, std::size_t why_size);

/// Checks that `page` is this format's metapage (page id, type, magic,
/// version, MetaFieldsSane); ERROR otherwise. C-shaped.
void CheckMetaPage(Relation index, Page page);

/// Reads block 0 into `out` through CheckMetaPage: a clear ERROR if the
/// relation is not a sound quarry_hnsw index of this format. C-shaped.
void ReadMeta(Relation index, MetaPage *out);

/// The block of stream page `page`, or InvalidBlockNumber beyond the directory.
BlockNumber StreamBlock(const StreamDirectory &dir, uint32_t page);

/// Checks that `page` (just read) is a quarry_hnsw page of `type`; ERROR if not.
void CheckPage(Relation index, Page page, BlockNumber block, PageType type);

/// ERROR unless `block` is a block of `index`. `*known` caches a size the
/// relation had (it never shrinks): only a block beyond it costs a look at
/// the relation's size. For block numbers read from pages (upper items).
void CheckBlockExists(Relation index, BlockNumber block, BlockNumber *known);

/// Whether a node header can have been written by quarry: a known state, a
/// level up to kMaxLevel (or a duplicate), a layer-0 count within 2m. One
/// branch on the hot path.
inline bool
HeaderLooksSane(const NodeHeader &h, uint32_t capacity0)
{
	return (h.state <= static_cast<uint8_t>(NodeState::kReserved)) &
		   ((h.level <= quarry::hnsw::kMaxLevel) | (h.level == kDuplicateLevel)) & (h.count0 <= capacity0);
}

/// Whether a header was never written: all zeros, as on a page nobody wrote.
/// A slot VACUUM freed says so (kFree with no duplicate); one never written
/// has next_duplicate 0. Nothing links to a slot before its node is written,
/// so a link that leads to such a header is corruption (a zeroed page).
inline bool
NeverWritten(const NodeHeader &h)
{
	return (h.state == static_cast<uint8_t>(NodeState::kFree)) & (h.next_duplicate != quarry::hnsw::kInvalidNode);
}

/// The same for a TID entry.
inline bool
TidEntryLooksSane(const TidEntry &e)
{
	return (e.state <= static_cast<uint8_t>(NodeState::kReserved)) &
		   ((e.level <= quarry::hnsw::kMaxLevel) | (e.level == kDuplicateLevel));
}

/// TID page `page` of the stream, pinned and share-locked, checked: it must
/// be an initialised TID page (every TID page below node_count is). C-shaped.
Buffer ReadTidPage(Relation index, const MetaPage &meta, uint32_t page);

/// The bytes of upper-layer item `offset` on a locked upper page, or nullptr
/// when the line pointer is out of range, unused, or points outside the page;
/// `*length` gets its length.
const uint32_t *UpperItem(Page page, OffsetNumber offset, std::size_t *length);

/// A graph node of the highest level, read from the TID stream (below
/// meta.node_count): a live one, or also a deleted one when `deleted_too`.
/// kInvalidNode (level -1) if there is none. Reads every TID page.
uint32_t FindTopNode(Relation index, const MetaPage &meta, bool deleted_too, int *level);

} // namespace quarry::am::hnsw

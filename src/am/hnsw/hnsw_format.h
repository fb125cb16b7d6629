// The on-disk format of a quarry_hnsw index.
//
//   block 0          metapage: magic, format version, dims, m, ef_construction,
//                    metric, entry point, node count, free-slot count, and the
//                    extent directories of the two streams below
//   node stream      fixed-size node records, one per node id, packed as one
//                    byte stream over the payload of "node pages": record n
//                    starts at byte n * record_size of the stream, so a record
//                    may straddle two (or, above 2,040 dimensions, more) pages
//   TID stream       8-byte entries, one per node id (heap TID, level, state),
//                    1,020 per page: what VACUUM and slot reuse read, without
//                    touching the vectors
//   upper pages      ordinary slotted pages; one item per node with a level
//                    above 0 holding its neighbour lists of levels 1..L
//
// A stream's pages are allocated in extents of consecutive blocks; the
// metapage's directory maps stream page p to a block by arithmetic within the
// extent holding p. A build writes each stream as a single extent.
//
// Node record (record_size bytes, a multiple of 4):
//   NodeHeader (20) | uint32 links0[2m] | float vector[dims]
// Dense uint32 node ids name nodes in every link (not 6-byte TIDs).
//
// Every page carries HnswPageOpaque in its special space, ending with the page
// id 0xFFB2 (bloom 0xFF83, pgvector 0xFF90, quarry_bm25 0xFFB1).
#pragma once

#include "pg/null_row_list.h"
#include "pg/postgres_api.h"

extern "C" {
#include "storage/block.h"
#include "storage/buf.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"
}

#include "hnsw/candidates.h"
#include "hnsw/distance.h"
#include "hnsw/level.h"

#include <cstddef>
#include <cstdint>

namespace quarry::am {

inline constexpr uint16 kHnswPageId = 0xFFB2;
inline constexpr uint32 kHnswMagic = 0x51484E57; // "QHNW"
inline constexpr uint32 kHnswFormatVersion = 3; // 3: the null-row list
inline constexpr BlockNumber kHnswMetaBlock = 0;

/// Fake block numbers for heavyweight page locks (LockPage), as pgvector does:
/// inserts hold kHnswUpdateLock shared (exclusive when they move the entry
/// point); VACUUM takes it exclusive to wait for inserts in flight.
inline constexpr BlockNumber kHnswUpdateLock = 0;

enum class HnswPageType : uint8 {
	kMeta = 1,
	kNode = 2,
	kTid = 3,
	kUpper = 4,
	kNullRows = 5, // heap TIDs of rows whose vector is NULL (pg/null_row_list.h)
};

struct HnswPageOpaque {
	uint8 type; // HnswPageType
	uint8 unused1;
	uint16 unused2;
	uint16 unused3;
	uint16 page_id; // kHnswPageId, the last 2 bytes of the page
};
static_assert(sizeof(HnswPageOpaque) == 8, "special space: 8 bytes");
static_assert(offsetof(HnswPageOpaque, page_id) == sizeof(HnswPageOpaque) - 2, "page id ends the page");

/// Bytes of payload a stream page carries, after the page header and before
/// the special space.
inline constexpr std::size_t kStreamPayloadStart = MAXALIGN(SizeOfPageHeaderData);
inline constexpr std::size_t kStreamPayloadBytes =
	BLCKSZ - kStreamPayloadStart - MAXALIGN(sizeof(HnswPageOpaque));
static_assert(kStreamPayloadBytes == 8160, "the format assumes 8 kB pages");
static_assert(kStreamPayloadBytes % 8 == 0, "TID entries and records never split inside a 4-byte field");

/// Slot states, in NodeHeader::state and TidEntry::state.
enum class NodeState : uint8 {
	kFree = 0,	   // never used, or reusable after VACUUM
	kLive = 1,	   // in the graph, returned by scans
	kDeleted = 2,  // heap tuple dead: still traversed, never returned again
	kReserved = 3, // claimed by an insert that is writing it
};

/// The level of a duplicate: a row whose vector equals that of a node in the
/// graph. It is not in the graph (no links; nothing links to it); it hangs on
/// its primary's chain and is returned right after it, at the same distance.
/// A cluster of equal vectors in the graph would link only to itself (every
/// distance inside it is 0, so Algorithm 4 keeps those first) and cut itself
/// off; pgvector keeps up to 10 heap TIDs per element for the same reason.
inline constexpr uint8 kDuplicateLevel = 0xFF;

struct NodeHeader {
	uint8 level; // 0..kMaxLevel, or kDuplicateLevel
	uint8 state; // NodeState
	uint16 count0; // links in use on layer 0
	uint16 heap_tid[3]; // ItemPointerData, field by field
	uint16 upper_offset; // item of the upper-layer lists (0 when level == 0)
	uint32 upper_block; // block of that item; for a duplicate: its primary's id
	uint32 next_duplicate; // first (in a primary) or next (in a duplicate) duplicate
};
static_assert(sizeof(NodeHeader) == 20, "on-disk format: change kHnswFormatVersion with it");

struct TidEntry {
	uint16 heap_tid[3];
	uint8 level; // as in NodeHeader (kDuplicateLevel for duplicates)
	uint8 state; // NodeState
};
static_assert(sizeof(TidEntry) == 8, "on-disk format: change kHnswFormatVersion with it");
inline constexpr uint32 kTidEntriesPerPage = kStreamPayloadBytes / sizeof(TidEntry);
static_assert(kTidEntriesPerPage == 1020);

struct HnswExtent {
	uint32 first_page; // stream page of the extent's first block
	uint32 first_block;
	uint32 npages;
};
static_assert(sizeof(HnswExtent) == 12);

inline constexpr int kHnswMaxExtents = 128;

/// Where a stream's pages are. Extents are appended, never changed, so a copy
/// of a prefix stays valid.
struct HnswStreamDirectory {
	uint32 nextents;
	uint32 npages; // pages in all extents
	HnswExtent extents[kHnswMaxExtents];
};

struct HnswMetaPageData {
	uint32 magic;
	uint32 version;
	uint32 dims; // 0 until the first vector (or the dims option) fixes it
	uint16 m;
	uint16 ef_construction;
	uint8 metric; // hnsw::Metric
	uint8 unused[3];
	uint32 record_size; // bytes per node record (0 while dims is 0)
	uint32 entry_node; // hnsw::kInvalidNode when the graph is empty
	int32 entry_level;
	uint32 node_count; // node ids below this have a slot
	uint32 free_count; // slots in state kFree below node_count
	uint32 free_search_start; // where inserts start looking for a free slot
	uint32 upper_insert_block; // upper page tried first for new upper lists
	HnswStreamDirectory nodes;
	HnswStreamDirectory tids;
	pg::NullRowListMeta null_rows; // rows whose vector is NULL: returned last by ORDER BY scans
};
static_assert(MAXALIGN(SizeOfPageHeaderData) + sizeof(HnswMetaPageData) <=
				  BLCKSZ - MAXALIGN(sizeof(HnswPageOpaque)),
			  "the metapage fits in one page");

// --- record layout ------------------------------------------------------------

inline uint32
RecordSize(uint32 dims, int m)
{
	return static_cast<uint32>(sizeof(NodeHeader) + sizeof(uint32) * 2 * m + sizeof(float) * dims);
}
inline uint32
LinksOffset()
{
	return sizeof(NodeHeader);
}
inline uint32
VectorOffset(int m)
{
	return static_cast<uint32>(sizeof(NodeHeader) + sizeof(uint32) * 2 * m);
}

/// Bytes of a node's upper-layer item: levels 1..level, each count + m links.
inline Size
UpperItemSize(int level, int m)
{
	return static_cast<Size>(level) * sizeof(uint32) * (1 + m);
}
static_assert(hnsw::kMaxLevel < kDuplicateLevel);
static_assert(hnsw::kMaxLevel * sizeof(uint32) * (1 + hnsw::kMaxM) <=
				  BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - sizeof(ItemIdData) - MAXALIGN(sizeof(uint64)),
			  "the upper lists of one node always fit on an empty page");

/// The stream page and in-page offset of a byte of a stream.
struct StreamPosition {
	uint32 page;
	uint32 offset;
};

inline StreamPosition
StreamPositionOf(uint64 byte)
{
	return StreamPosition{static_cast<uint32>(byte / kStreamPayloadBytes),
						  static_cast<uint32>(byte % kStreamPayloadBytes)};
}

/// Stream pages needed to hold `count` records of `record_size` bytes.
inline uint32
StreamPagesFor(uint64 count, uint32 record_size)
{
	return static_cast<uint32>((count * record_size + kStreamPayloadBytes - 1) / kStreamPayloadBytes);
}

inline void
SetHeapTid(uint16 out[3], ItemPointer tid)
{
	out[0] = tid->ip_blkid.bi_hi;
	out[1] = tid->ip_blkid.bi_lo;
	out[2] = tid->ip_posid;
}

inline void
GetHeapTid(const uint16 in[3], ItemPointer tid)
{
	tid->ip_blkid.bi_hi = in[0];
	tid->ip_blkid.bi_lo = in[1];
	tid->ip_posid = in[2];
}

/// A heap TID packed in 48 bits (for payloads), and back. Bit 63 of a scan's
/// payload says the node has duplicates.
inline constexpr uint64 kHasDuplicates = uint64{1} << 63;
inline uint64
PackTid(const uint16 t[3])
{
	return (static_cast<uint64>(t[0]) << 32) | (static_cast<uint64>(t[1]) << 16) | t[2];
}
inline void
UnpackTid(uint64 packed, ItemPointer tid)
{
	tid->ip_blkid.bi_hi = static_cast<uint16>(packed >> 32);
	tid->ip_blkid.bi_lo = static_cast<uint16>(packed >> 16);
	tid->ip_posid = static_cast<uint16>(packed);
}

// --- pages ----------------------------------------------------------------------

/// The null-row list's page format for pg/null_row_list.h.
const pg::NullRowListFormat &HnswNullRowFormat();

/// Initialises an index page of `type` with the special space.
void InitHnswPage(Page page, HnswPageType type);

/// Initialises a stream page (node or TID): the whole payload counts as data
/// (pd_lower = pd_upper = pd_special), so full-page images keep it.
void InitStreamPage(Page page, HnswPageType type);

inline HnswPageOpaque *
HnswOpaque(Page page)
{
	return reinterpret_cast<HnswPageOpaque *>(PageGetSpecialPointer(page));
}

inline char *
StreamPayload(Page page)
{
	return reinterpret_cast<char *>(page) + kStreamPayloadStart;
}

inline HnswMetaPageData *
HnswMeta(Page page)
{
	return reinterpret_cast<HnswMetaPageData *>(PageGetContents(page));
}

/// Fills a new metapage for an index with these settings (dims may be 0).
void InitMetaPage(Page page, uint32 dims, int m, int ef_construction, hnsw::Metric metric);

// --- reading pages that may be corrupted ------------------------------------------
//
// Nothing read from a page is trusted: every offset, count, level and slot
// number is checked before it is used, and a page that fails a check raises
// ERRCODE_INDEX_CORRUPTED naming the index (HnswCorrupt). The hot scan path
// pays one branch per page it pins through ReadBuffer and one per record it
// reads (RecordLooksSane); see src/am/README.md, "Corruption".

/// Raises ERROR (ERRCODE_INDEX_CORRUPTED) "quarry_hnsw index "name" is
/// corrupted", the printf-style detail, and a hint to REINDEX. C-shaped.
[[noreturn]] void HnswCorrupt(Relation index, const char *fmt, ...) pg_attribute_printf(2, 3);

/// Whether the fields of a metapage (already known to carry the magic and
/// version) are consistent: option ranges, record size, entry point, and
/// directories that cover node_count. If not, describes the first problem in
/// `why`. Block numbers are not compared with the relation's size here: that
/// costs a system call, and readers check the blocks they read.
bool MetaFieldsSane(const HnswMetaPageData &meta, char *why, std::size_t why_size);

/// Checks that `page` is this format's metapage (page id, type, magic,
/// version, MetaFieldsSane); ERROR otherwise. C-shaped.
void CheckMetaPage(Relation index, Page page);

/// Reads block 0 into `out` through CheckMetaPage: a clear ERROR if the
/// relation is not a sound quarry_hnsw index of this format. C-shaped.
void ReadMetaPage(Relation index, HnswMetaPageData *out);

/// The block of stream page `page`, or InvalidBlockNumber beyond the directory.
BlockNumber StreamBlock(const HnswStreamDirectory &dir, uint32 page);

/// Checks that `page` (just read) is a quarry_hnsw page of `type`; ERROR if not.
void CheckPageType(Relation index, Page page, BlockNumber block, HnswPageType type);

/// ERROR unless `block` is a block of `index`. `*known` caches a size the
/// relation had (it never shrinks): only a block beyond it costs a look at
/// the relation's size. For block numbers read from pages (upper items).
void CheckBlockExists(Relation index, BlockNumber block, BlockNumber *known);

/// Whether a node header can have been written by quarry: a known state, a
/// level up to kMaxLevel (or a duplicate), a layer-0 count within 2m. One
/// branch on the hot path.
inline bool
HeaderLooksSane(const NodeHeader &h, uint32 capacity0)
{
	return (h.state <= static_cast<uint8>(NodeState::kReserved)) &
		   ((h.level <= hnsw::kMaxLevel) | (h.level == kDuplicateLevel)) & (h.count0 <= capacity0);
}

/// Whether a header was never written: all zeros, as on a page nobody wrote.
/// A slot VACUUM freed says so (kFree with no duplicate); one never written
/// has next_duplicate 0. Nothing links to a slot before its node is written,
/// so a link that leads to such a header is corruption (a zeroed page).
inline bool
NeverWritten(const NodeHeader &h)
{
	return (h.state == static_cast<uint8>(NodeState::kFree)) & (h.next_duplicate != hnsw::kInvalidNode);
}

/// The same for a TID entry.
inline bool
TidEntryLooksSane(const TidEntry &e)
{
	return (e.state <= static_cast<uint8>(NodeState::kReserved)) &
		   ((e.level <= hnsw::kMaxLevel) | (e.level == kDuplicateLevel));
}

/// TID page `page` of the stream, pinned and share-locked, checked: it must
/// be an initialised TID page (every TID page below node_count is). C-shaped.
Buffer ReadTidPage(Relation index, const HnswMetaPageData &meta, uint32 page);

/// The bytes of upper-layer item `offset` on a locked upper page, or nullptr
/// when the line pointer is out of range, unused, or points outside the page;
/// `*length` gets its length.
const uint32 *UpperItem(Page page, OffsetNumber offset, Size *length);

/// A graph node of the highest level, read from the TID stream (below
/// meta.node_count): a live one, or also a deleted one when `deleted_too`.
/// kInvalidNode (level -1) if there is none. Reads every TID page.
uint32 FindTopNode(Relation index, const HnswMetaPageData &meta, bool deleted_too, int *level);

} // namespace quarry::am

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
//   NodeHeader (20) | uint32_t links0[2m] | float vector[dims]        (full)
//   NodeHeader (20) | uint32_t links0[2m] | CodeHeader (16) | codes   (sq8, sq4:
//                     format version 4, src/hnsw/quantizer.h)
// Dense uint32_t node ids name nodes in every link (not 6-byte TIDs).
//
// Every page carries PageOpaque in its special space, ending with the page
// id 0xFFB2 (bloom 0xFF83, pgvector 0xFF90, quarry_bm25 0xFFB1).
//
// The format only: reading and writing pages is hnsw_pages.h.
#pragma once

#include "pg/postgres_api.h"

#include "am/null_row_list.h"
#include "pg/heap_tid.h"

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
#include "hnsw/quantizer.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace quarry::am::hnsw {

inline constexpr uint16_t kPageId = 0xFFB2;
inline constexpr uint32_t kMagic = 0x51484E57; // "QHNW"
inline constexpr uint32_t kFormatVersion = 3; // 3: the null-row list
/// Indexes with compressed vectors (storage = 'sq8' or 'sq4'): version 3 plus
/// MetaPage::storage and coded vectors in the records. Full-vector indexes
/// are still written as version 3, so older builds keep reading them.
inline constexpr uint32_t kCompressedFormatVersion = 4;
inline constexpr BlockNumber kMetaBlock = 0;

/// Fake block numbers for heavyweight page locks (LockPage), as pgvector does:
/// inserts hold kUpdateLock shared (exclusive when they move the entry
/// point); VACUUM takes it exclusive to wait for inserts in flight.
inline constexpr BlockNumber kUpdateLock = 0;

enum class PageType : uint8_t {
	kMeta = 1,
	kNode = 2,
	kTid = 3,
	kUpper = 4,
	kNullRows = 5, // heap TIDs of rows whose vector is NULL (pg/null_row_list.h)
};

struct PageOpaque {
	uint8_t type; // PageType
	uint8_t unused1;
	uint16_t unused2;
	uint16_t unused3;
	uint16_t page_id; // kPageId, the last 2 bytes of the page
};
static_assert(sizeof(PageOpaque) == 8, "special space: 8 bytes");
static_assert(offsetof(PageOpaque, page_id) == sizeof(PageOpaque) - 2, "page id ends the page");

/// Bytes of payload a stream page carries, after the page header and before
/// the special space.
inline constexpr std::size_t kStreamPayloadStart = MAXALIGN(SizeOfPageHeaderData);
inline constexpr std::size_t kStreamPayloadBytes =
	BLCKSZ - kStreamPayloadStart - MAXALIGN(sizeof(PageOpaque));
static_assert(kStreamPayloadBytes == 8160, "the format assumes 8 kB pages");
static_assert(kStreamPayloadBytes % 8 == 0, "TID entries and records never split inside a 4-byte field");

/// Slot states, in NodeHeader::state and TidEntry::state.
enum class NodeState : uint8_t {
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
inline constexpr uint8_t kDuplicateLevel = 0xFF;

struct NodeHeader {
	uint8_t level; // 0..kMaxLevel, or kDuplicateLevel
	uint8_t state; // NodeState
	uint16_t count0; // links in use on layer 0
	uint16_t heap_tid[3]; // ItemPointerData, field by field
	uint16_t upper_offset; // item of the upper-layer lists (0 when level == 0)
	uint32_t upper_block; // block of that item; for a duplicate: its primary's id
	uint32_t next_duplicate; // first (in a primary) or next (in a duplicate) duplicate
};
static_assert(sizeof(NodeHeader) == 20, "on-disk format: change kFormatVersion with it");

struct TidEntry {
	uint16_t heap_tid[3];
	uint8_t level; // as in NodeHeader (kDuplicateLevel for duplicates)
	uint8_t state; // NodeState
};
static_assert(sizeof(TidEntry) == 8, "on-disk format: change kFormatVersion with it");
inline constexpr uint32_t kTidEntriesPerPage = kStreamPayloadBytes / sizeof(TidEntry);
static_assert(kTidEntriesPerPage == 1020);

struct Extent {
	uint32_t first_page; // stream page of the extent's first block
	uint32_t first_block;
	uint32_t npages;
};
static_assert(sizeof(Extent) == 12);

inline constexpr int kMaxExtents = 128;

/// Whether an index's null-row list may hold zero vectors (a cosine index
/// keeps them there: they have no direction; quarry::hnsw's HeldAsNullRow).
/// Scans return the list's rows with a NaN bound while it may, with a NULL
/// distance (no recheck, nothing held in PostgreSQL's reorder queue) when it
/// holds only NULL vectors. Set when a zero vector is first held, never
/// cleared (VACUUM does not look at the rows' values).
enum class ZeroVectors : uint8_t {
	kUnknown = 0, // written before this field existed: under cosine it may
	kNone = 1,	  // the list has never held a zero vector
	kHeld = 2,	  // it may hold some (cosine only)
};

/// Where a stream's pages are. Extents are appended, never changed, so a copy
/// of a prefix stays valid.
struct StreamDirectory {
	uint32_t nextents;
	uint32_t npages; // pages in all extents
	Extent extents[kMaxExtents];
};
static_assert(sizeof(StreamDirectory) == 8 + 12 * kMaxExtents, "on-disk format");

struct MetaPage {
	uint32_t magic;
	uint32_t version;
	uint32_t dims; // 0 until the first vector (or the dims option) fixes it
	uint16_t m;
	uint16_t ef_construction;
	uint8_t metric; // quarry::hnsw::Metric
	uint8_t storage; // quarry::hnsw::Storage (version 4; 0 = full in version 3)
	uint8_t zero_vectors; // ZeroVectors (0 in indexes written before it)
	uint8_t unused;
	uint32_t record_size; // bytes per node record (0 while dims is 0)
	uint32_t entry_node; // quarry::hnsw::kInvalidNode when the graph is empty
	int32_t entry_level;
	uint32_t node_count; // node ids below this have a slot
	uint32_t free_count; // slots in state kFree below node_count
	uint32_t free_search_start; // where inserts start looking for a free slot
	uint32_t upper_insert_block; // upper page tried first for new upper lists
	StreamDirectory nodes;
	StreamDirectory tids;
	am::NullRowListMeta null_rows; // rows whose vector is NULL: returned last by ORDER BY scans
};
static_assert(std::is_trivially_destructible_v<MetaPage>, "lives across PostgreSQL calls made without PgCall");
static_assert(offsetof(MetaPage, zero_vectors) == 18 && offsetof(MetaPage, record_size) == 20,
			  "on-disk format: zero_vectors took a byte version 3 left zero");

/// Whether the null-row list may hold zero vectors, whose distance is NaN
/// (ZeroVectors).
inline bool
NullRowsMayHoldZeroVectors(const MetaPage &meta)
{
	return static_cast<quarry::hnsw::Metric>(meta.metric) == quarry::hnsw::Metric::kCosine &&
		   meta.zero_vectors != static_cast<uint8_t>(ZeroVectors::kNone);
}
static_assert(MAXALIGN(SizeOfPageHeaderData) + sizeof(MetaPage) <=
				  BLCKSZ - MAXALIGN(sizeof(PageOpaque)),
			  "the metapage fits in one page");

// --- record layout ------------------------------------------------------------

inline uint32_t
RecordSize(uint32_t dims, int m, quarry::hnsw::Storage storage)
{
	return static_cast<uint32_t>(sizeof(NodeHeader) + sizeof(uint32_t) * 2 * m +
								 quarry::hnsw::StoredVectorBytes(storage, dims));
}
static_assert(sizeof(quarry::hnsw::CodeHeader) % 4 == 0, "records stay a multiple of 4 bytes");

/// The layout of an index's vectors, from its metapage.
inline quarry::hnsw::Storage
StorageOf(const MetaPage &meta)
{
	return static_cast<quarry::hnsw::Storage>(meta.storage);
}

/// Writes the stored form of `vector` (dims floats, already normalised under
/// cosine) to `out` (StoredVectorBytes bytes): the floats, or their codes.
inline void
StoreVector(quarry::hnsw::Storage storage, quarry::hnsw::Metric metric, uint32_t dims, const float *vector, char *out)
{
	if (storage == quarry::hnsw::Storage::kFull)
		std::memcpy(out, vector, sizeof(float) * dims);
	else
		quarry::hnsw::Encode(storage, metric, {vector, dims},
							 {reinterpret_cast<uint8_t *>(out), quarry::hnsw::StoredVectorBytes(storage, dims)});
}

/// The format version a metapage of `storage` carries.
inline uint32_t
FormatVersionFor(quarry::hnsw::Storage storage)
{
	return storage == quarry::hnsw::Storage::kFull ? kFormatVersion : kCompressedFormatVersion;
}
inline uint32_t
LinksOffset()
{
	return sizeof(NodeHeader);
}
inline uint32_t
VectorOffset(int m)
{
	return static_cast<uint32_t>(sizeof(NodeHeader) + sizeof(uint32_t) * 2 * m);
}

/// Bytes of a node's upper-layer item: levels 1..level, each count + m links.
inline std::size_t
UpperItemSize(int level, int m)
{
	return static_cast<std::size_t>(level) * sizeof(uint32_t) * (1 + m);
}
static_assert(quarry::hnsw::kMaxLevel < kDuplicateLevel);
static_assert(quarry::hnsw::kMaxLevel * sizeof(uint32_t) * (1 + quarry::hnsw::kMaxM) <=
				  BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - sizeof(ItemIdData) - MAXALIGN(sizeof(uint64_t)),
			  "the upper lists of one node always fit on an empty page");

/// The stream page and in-page offset of a byte of a stream.
struct StreamPosition {
	uint32_t page;
	uint32_t offset;
};

inline StreamPosition
StreamPositionOf(uint64_t byte)
{
	return StreamPosition{static_cast<uint32_t>(byte / kStreamPayloadBytes),
						  static_cast<uint32_t>(byte % kStreamPayloadBytes)};
}

/// Stream pages needed to hold `count` records of `record_size` bytes.
inline uint32_t
StreamPagesFor(uint64_t count, uint32_t record_size)
{
	return static_cast<uint32_t>((count * record_size + kStreamPayloadBytes - 1) / kStreamPayloadBytes);
}

/// Bit 63 of a scan's payload (a packed heap TID, pg/heap_tid.h) says the
/// node has duplicates.
inline constexpr uint64_t kHasDuplicates = uint64_t{1} << 63;
static_assert(pg::kTidBits < 63);

} // namespace quarry::am::hnsw

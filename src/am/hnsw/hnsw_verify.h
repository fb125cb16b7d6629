// The quarry_hnsw checker's shared state: hnsw_verify.cpp reads the metapage,
// the blocks and the two streams into it; hnsw_verify_graph.cpp checks the
// links, the duplicate chains and the index against its table. See the file
// comment of hnsw_verify.cpp for what is checked and what is not.
//
// C-shaped: everything is palloc'd in the checker's memory context, nothing
// has a destructor, so PostgreSQL calls (and their ERRORs) need no PgCall.
#pragma once

#include "am/hnsw/hnsw_pages.h"
#include "am/verify.h"

#include <cstring>
#include <type_traits>

namespace quarry::am::hnsw {

/// What the checker keeps per node id (from its TID entry and its record).
enum NodeFlag : uint8_t {
	kTidReadable = 1,  // its TID entry is on a sound page and looks sane
	kReadable = 2,	   // and so is its record, consistent with the entry
	kWritten = 4,	   // its record was written once (the header is not all zeros)
	kOnChain = 8,	   // a duplicate reached from its primary's chain
};

struct NodeInfo {
	uint8_t state; // NodeState, from the TID stream
	uint8_t level; // from the TID stream (equal to the record's when kReadable)
	uint8_t flags; // NodeFlag
	uint8_t unused;
	uint32_t primary;	  // a duplicate's primary
	uint32_t next;	  // next_duplicate
	uint64_t vector_hash; // to compare a duplicate's vector with its primary's
};

/// An upper-layer item found on an upper page.
struct UpperEntry {
	BlockNumber block;
	OffsetNumber offset;
	uint16_t levels; // from its length
	uint32_t refs;   // nodes naming it
	uint32_t *lists; // a copy: levels * (1 + m) words
};

/// Stream page states while reading records.
enum StreamPageState : uint8_t {
	kPageUnknown = 0,
	kPageSound,
	kPageUnwritten, // all zeros or past the end of the relation: records read as zeros
	kPageBad,
};

struct Checker {
	Relation index;
	Relation heap;
	VerifyReport *report;
	MemoryContext context;

	MetaPage meta;
	BlockNumber nblocks;
	uint32_t capacity0; // 2m

	NodeInfo *nodes; // meta.node_count of them
	ItemPointerData *heap_tids; // from the TID stream

	UpperEntry *uppers; // in (block, offset) order
	uint32_t nuppers;
	uint32_t uppers_capacity;

	uint8_t *node_pages; // StreamPageState per node stream page
	uint32_t cached_page; // the node stream page in `page` (kInvalidNode: none)
	char *page;			// BLCKSZ
	char *record;		// meta.record_size

	ItemPointerData *null_tids; // the null-row list, in list order
	uint64_t null_count;

	uint64_t stale_links; // links into free or reused slots (accepted)
	uint64_t orphan_items; // upper items no node names (accepted)
	int64_t unreachable; // live graph nodes layer 0 does not reach (-1: not counted)
};
static_assert(std::is_trivially_destructible_v<Checker>, "lives across PostgreSQL calls made without PgCall");

/// Copies node `id`'s record into c.record; false if a page of it is bad.
bool ReadRecord(Checker &c, uint32_t id);

/// The record's header and vector in c.record.
inline NodeHeader
RecordHeader(const Checker &c)
{
	NodeHeader h;
	std::memcpy(&h, c.record, sizeof h);
	return h;
}
inline const float *
RecordVector(const Checker &c)
{
	return reinterpret_cast<const float *>(c.record + VectorOffset(c.meta.m));
}
inline const uint32_t *
RecordLinks(const Checker &c)
{
	return reinterpret_cast<const uint32_t *>(c.record + LinksOffset());
}

/// Whether `n` is in the graph: a readable live or deleted node that is not
/// a duplicate.
inline bool
IsGraphNode(const NodeInfo &n)
{
	return (n.flags & kReadable) != 0 && n.level != kDuplicateLevel &&
		   (n.state == static_cast<uint8_t>(NodeState::kLive) || n.state == static_cast<uint8_t>(NodeState::kDeleted));
}

/// hnsw_verify_graph.cpp: links, upper items, chains, the entry point.
void CheckGraph(Checker &c);
/// hnsw_verify_graph.cpp: the index against its table (through am::CheckTable).
void CheckAgainstTable(Checker &c);

} // namespace quarry::am::hnsw

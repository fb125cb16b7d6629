// The quarry_hnsw checker behind quarry_verify_index() (see verify.h).
//
// It reads every block of the index (a copy of each, under a share lock) and
// trusts nothing on a page before checking it, so that a garbage page gives
// problem rows, never a crash. (A page whose header PostgreSQL itself refuses
// gives PostgreSQL's "invalid page in block" ERROR, naming the relation.)
// With the table ShareLocked by quarry_verify_index, no insert or VACUUM runs
// meanwhile. Reported, as invariants of the design:
//
//   metapage   page id, type, magic, version; options in range, record size =
//              f(dims, m), entry point, counts covered by the directories;
//              extents that do not overlap, lie in the relation, and name pages
//              of their stream; the metric of the opclass
//   pages      every block is the metapage, a page of the stream whose extent
//              holds it, an upper page, or empty; stream pages beyond the last
//              slot were never written; upper items lie inside their page
//   TID stream an entry per slot, with a known state and level; nothing past
//              the node count
//   records    the header agrees with the TID entry (state, level, heap TID);
//              free slots look freed; graph nodes have level <= 15 and at most
//              2m layer-0 links, an upper item of their level's size (exactly
//              one node per item); duplicates have no links; vectors finite
//              (unit length under cosine)
//   links      (hnsw_verify_graph.cpp) name an existing slot, never the node
//              itself, never twice in a list, and never a slot no node was ever
//              written to; at most m per upper list
//   chains     a live primary's chain holds only its own duplicates, once, with
//              the primary's vector; every live duplicate is on its chain
//   entry      a graph node at the entry level, or none only if there is no
//              live graph node; no live row's node above the entry level
//   table      every row the table has for the index (live or recently dead)
//              is indexed exactly once, by a live node holding its vector bit
//              for bit; an entry the table scan did not report points to a
//              heap slot still in use (LP_DEAD or a dead tuple: VACUUM has not
//              removed it yet, or bypassed index vacuuming)
//
// Not reported, because the design allows them (README.md here, "Checking an index"):
//   - links into a slot that is free now, or that was freed and reused since
//     (by a node of any level, or a duplicate): VACUUM repairs the lists of the
//     neighbours a dead node links to, not of every node linking to it, so a
//     one-way link outlives its target. A link into a slot that never held a
//     node is still a problem: nothing links to a slot before its node is
//     written.
//   - nodes not reachable from the entry point: an HNSW graph does not promise
//     it (a walk of the whole Fashion-MNIST index returns 98.8 % of the rows),
//     and the stale links above make it worse under churn.
//   - kDeleted nodes, a free-slot count below the number of free slots, an
//     upper item no node names, a slot left kReserved: what an insert or a
//     VACUUM that failed halfway leaves; the next VACUUM or insert copes.
// Stale links, orphan items and unreachable nodes are counted in a DEBUG1
// message.
#include "am/hnsw/hnsw_verify.h"

#include "am/hnsw/hnsw.h"

extern "C" {
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
}

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace quarry::am::hnsw {


namespace {

/// Whether `page` carries our special space and page id (not its type).
bool
IsOurPage(Page page)
{
	return !PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(PageOpaque)) &&
		   OpaqueOf(page)->page_id == kPageId;
}

/// A stream page as InitStreamPage leaves it: of `type`, payload whole.
bool
IsStreamPage(Page page, PageType type)
{
	const auto *h = reinterpret_cast<const PageHeaderData *>(page);
	return IsOurPage(page) && OpaqueOf(page)->type == static_cast<uint8_t>(type) && h->pd_lower == h->pd_special &&
		   h->pd_upper == h->pd_special;
}

// The metapage: false if nothing else can be read through it.
bool
CheckMeta(Checker &c)
{
	if (c.nblocks == 0)
	{
		c.report->Problem(VerifyKind::kMetapage, "the index has no blocks");
		return false;
	}
	CopyBlock(c.index, kMetaBlock, c.nblocks, c.page);
	const Page page = c.page;
	if (!IsOurPage(page) || OpaqueOf(page)->type != static_cast<uint8_t>(PageType::kMeta))
	{
		c.report->Problem(VerifyKind::kMetapage, "block 0 is not a quarry_hnsw metapage");
		return false;
	}
	std::memcpy(&c.meta, MetaOf(page), sizeof c.meta);
	char why[256];
	if (c.meta.magic != kMagic || (c.meta.version != kFormatVersion && c.meta.version != kCompressedFormatVersion))
	{
		c.report->Problem(VerifyKind::kMetapage, "metapage: magic 0x%08x, format version %u (expected 0x%08x, %u)", c.meta.magic,
				c.meta.version, kMagic, kFormatVersion);
		return false;
	}
	if (!MetaFieldsSane(c.meta, why, sizeof why))
	{
		c.report->Problem(VerifyKind::kMetapage, "metapage: %s", why);
		return false;
	}
	// Sizes that follow from the metapage must be bounded by the relation's
	// before anything is allocated for them. (Loosely: see ClaimExtents.)
	const uint64_t bound = 2 * static_cast<uint64_t>(c.nblocks) + 64;
	if (c.meta.nodes.npages > bound || c.meta.tids.npages > bound)
	{
		c.report->Problem(VerifyKind::kMetapage, "metapage: the directories count %u node pages and %u TID pages; the index has %u blocks",
				c.meta.nodes.npages, c.meta.tids.npages, c.nblocks);
		return false;
	}
	const quarry::hnsw::Metric opclass = OpclassMetric(c.index);
	if (c.meta.metric != static_cast<uint8_t>(opclass))
		c.report->Problem(VerifyKind::kMetapage, "metapage: metric %s, but the operator class's is %s",
				quarry::hnsw::MetricName(static_cast<quarry::hnsw::Metric>(c.meta.metric)), quarry::hnsw::MetricName(opclass));
	c.capacity0 = 2u * c.meta.m;
	return true;
}

// Marks the blocks of one stream's extents in `kinds`; reports overlaps and
// extents past the end of the relation. (Those can happen without corruption:
// an extension is not WAL-logged, so a promoted standby, or a primary whose
// OS crashed, may lack an extent's trailing pages nobody wrote yet. They are
// still reported: writing a node there would fail.)
void
ClaimExtents(Checker &c, const StreamDirectory &dir, uint8_t kind, const char *name, uint8_t *kinds)
{
	for (uint32_t e = 0; e < dir.nextents; e++)
	{
		const Extent &extent = dir.extents[e];
		if (extent.first_block + extent.npages > c.nblocks)
			c.report->Problem(VerifyKind::kMetapage,
					"extent %u of the %s (blocks %u..%u) reaches past the end of the index (%u blocks)", e, name,
					extent.first_block, extent.first_block + extent.npages - 1, c.nblocks);
		for (uint32_t i = 0; i < extent.npages; i++)
		{
			const BlockNumber block = extent.first_block + i;
			if (block >= c.nblocks)
				break;
			if (kinds[block] != 0)
				c.report->Problem(VerifyKind::kMetapage, "block %u belongs to two extents", block);
			kinds[block] = kind;
		}
	}
}

// Keeps a copy of an upper item (its lists) for the graph checks.
void
AddUpperEntry(Checker &c, BlockNumber block, OffsetNumber offset, const uint32_t *item, std::size_t length)
{
	const std::size_t per_level = sizeof(uint32_t) * (1 + c.meta.m);
	if (length == 0 || length % per_level != 0 || length / per_level > static_cast<std::size_t>(quarry::hnsw::kMaxLevel))
	{
		c.report->Problem(VerifyKind::kUpperItem, "upper-layer item (%u,%u) has %zu bytes: no level's size", block, offset, length);
		return;
	}
	if (c.nuppers == c.uppers_capacity)
	{
		c.uppers_capacity = std::max<uint32_t>(c.uppers_capacity * 2, 256);
		c.uppers = static_cast<UpperEntry *>(repalloc_huge(c.uppers, sizeof(UpperEntry) * c.uppers_capacity));
	}
	auto *lists = static_cast<uint32_t *>(palloc(length));
	std::memcpy(lists, item, length);
	c.uppers[c.nuppers++] = UpperEntry{block, offset, static_cast<uint16_t>(length / per_level), 0, lists};
}

// An upper page: a slotted page whose items are upper-layer lists.
void
CheckUpperPage(Checker &c, BlockNumber block)
{
	const Page page = c.page;
	const auto *h = reinterpret_cast<const PageHeaderData *>(page);
	if (h->pd_lower < SizeOfPageHeaderData || h->pd_lower > h->pd_upper || h->pd_upper > h->pd_special)
	{
		c.report->Problem(VerifyKind::kPage, "upper page %u has a malformed header", block);
		return;
	}
	for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
	{
		const ItemId lp = PageGetItemId(page, off);
		if (!ItemIdIsUsed(lp))
			continue; // a freed item (its line pointer stays)
		std::size_t length = 0;
		const uint32_t *item = UpperItem(page, off, &length);
		if (item == nullptr || ItemIdGetOffset(lp) < h->pd_upper)
		{
			c.report->Problem(VerifyKind::kUpperItem, "upper page %u: line pointer %u points outside the page", block, off);
			continue;
		}
		AddUpperEntry(c, block, off, item, length);
	}
}

// Every block outside the streams: empty (an extension nobody wrote, e.g.
// after a crash) or an upper page.
void
CheckOtherBlocks(Checker &c, const uint8_t *kinds)
{
	for (BlockNumber block = 1; block < c.nblocks; block++)
	{
		CHECK_FOR_INTERRUPTS();
		if (kinds[block] != 0)
			continue;
		CopyBlock(c.index, block, c.nblocks, c.page);
		if (PageIsNew(c.page))
			continue;
		if (!IsOurPage(c.page) || OpaqueOf(c.page)->type != static_cast<uint8_t>(PageType::kUpper))
		{
			c.report->Problem(VerifyKind::kPage, "block %u is outside the streams but not an upper page%s", block,
					IsOurPage(c.page) ? "" : " (no quarry_hnsw page id)");
			continue;
		}
		CheckUpperPage(c, block);
	}
	const BlockNumber hint = c.meta.upper_insert_block;
	if (hint != InvalidBlockNumber && (hint >= c.nblocks || kinds[hint] != 0))
		c.report->Problem(VerifyKind::kMetapage, "metapage: the upper page for new items, block %u, is not an upper page", hint);
}

// The null-row list's chain, from its head to its tail: null-row pages not
// claimed yet, counts within a page, the total against the metapage. Its TIDs
// go to c.null_tids.
void
ClaimNullRowPages(Checker &c, uint8_t *kinds)
{
	const am::NullRowListMeta &list = c.meta.null_rows;
	const uint32_t capacity = NullRowFormat().capacity();
	c.null_tids = static_cast<ItemPointerData *>(palloc_extended(
		sizeof(ItemPointerData) * (std::min<uint64_t>(list.count, uint64_t{c.nblocks} * capacity) + 1), MCXT_ALLOC_HUGE));
	c.null_count = 0;
	BlockNumber block = list.head;
	while (block != InvalidBlockNumber)
	{
		if (block >= c.nblocks || kinds[block] != 0)
		{
			c.report->Problem(VerifyKind::kPage, "the null-row list leads to block %u, %s", block,
					block >= c.nblocks ? "past the end of the index" : "a block of something else (or a loop)");
			break;
		}
		kinds[block] = 4;
		CopyBlock(c.index, block, c.nblocks, c.page);
		const auto *header = reinterpret_cast<const am::NullRowPageHeader *>(StreamPayload(c.page));
		if (!IsOurPage(c.page) || OpaqueOf(c.page)->type != static_cast<uint8_t>(PageType::kNullRows) ||
			header->count > capacity)
		{
			c.report->Problem(VerifyKind::kPage, "block %u of the null-row list is not a sound null-row page", block);
			break;
		}
		const auto *tids = reinterpret_cast<const ItemPointerData *>(header + 1);
		for (uint32_t i = 0; i < header->count && c.null_count < list.count; i++)
			c.null_tids[c.null_count++] = tids[i];
		block = block == list.tail ? InvalidBlockNumber : header->next;
	}
	if (c.null_count != list.count)
		c.report->Problem(VerifyKind::kNullRows, "the null-row list holds %llu rows, the metapage says %llu",
				static_cast<unsigned long long>(c.null_count), static_cast<unsigned long long>(list.count));
}

// Block kinds: the metapage, the two streams' extents, the null-row list, the rest.
void
CheckBlocks(Checker &c)
{
	auto *kinds = static_cast<uint8_t *>(palloc0(c.nblocks));
	kinds[kMetaBlock] = 1;
	ClaimExtents(c, c.meta.nodes, 2, "node stream", kinds);
	ClaimExtents(c, c.meta.tids, 3, "TID stream", kinds);
	ClaimNullRowPages(c, kinds);
	CheckOtherBlocks(c, kinds);
	pfree(kinds);
}

// The TID entries of one TID page into c.nodes and c.heap_tids.
void
ReadTidEntries(Checker &c, uint32_t page, BlockNumber block)
{
	const uint32_t first = page * kTidEntriesPerPage;
	const auto *entries = reinterpret_cast<const TidEntry *>(StreamPayload(c.page));
	for (uint32_t i = 0; i < kTidEntriesPerPage; i++)
	{
		const uint32_t id = first + i;
		const TidEntry &e = entries[i];
		if (id >= c.meta.node_count)
		{
			static const TidEntry zero{};
			if (std::memcmp(&e, &zero, sizeof e) != 0)
			{
				c.report->Problem(VerifyKind::kTidEntry, "TID page %u (block %u) holds an entry for slot %u, past the node count %u",
						page, block, id, c.meta.node_count);
				return;
			}
			continue;
		}
		if (!TidEntryLooksSane(e))
		{
			c.report->Problem(VerifyKind::kTidEntry, "the TID entry of node %u has state %u and level %u", id, e.state, e.level);
			continue;
		}
		NodeInfo &n = c.nodes[id];
		n.state = e.state;
		n.level = e.level;
		n.flags = kTidReadable;
		pg::LoadTid(e.heap_tid, &c.heap_tids[id]);
	}
}

// The TID stream: pages holding slots are initialised TID pages; the ones
// beyond were never written.
void
CheckTidStream(Checker &c)
{
	for (uint32_t page = 0; page < c.meta.tids.npages; page++)
	{
		CHECK_FOR_INTERRUPTS();
		const BlockNumber block = StreamBlock(c.meta.tids, page);
		const bool holds_slots = static_cast<uint64_t>(page) * kTidEntriesPerPage < c.meta.node_count;
		CopyBlock(c.index, block, c.nblocks, c.page);
		if (PageIsNew(c.page))
		{
			if (holds_slots)
				c.report->Problem(VerifyKind::kPage, "TID page %u (block %u) is empty but holds slots", page, block);
			continue;
		}
		if (!IsStreamPage(c.page, PageType::kTid))
		{
			c.report->Problem(VerifyKind::kPage, "block %u, page %u of the TID stream, is not a TID page", block, page);
			continue;
		}
		if (!holds_slots)
			c.report->Problem(VerifyKind::kPage, "TID page %u (block %u) was written but holds no slot", page, block);
		ReadTidEntries(c, page, block);
	}
}

// Loads node stream page `page` into c.page (zeros if unwritten) and checks
// it the first time; false if it is bad.
bool
LoadNodePage(Checker &c, uint32_t page)
{
	if (c.cached_page == page)
		return c.node_pages[page] != kPageBad;
	const BlockNumber block = StreamBlock(c.meta.nodes, page);
	c.cached_page = page;
	const bool exists = CopyBlock(c.index, block, c.nblocks, c.page);
	if (c.node_pages[page] == kPageUnknown)
	{
		if (!exists || PageIsNew(c.page))
			c.node_pages[page] = kPageUnwritten;
		else if (IsStreamPage(c.page, PageType::kNode))
			c.node_pages[page] = kPageSound;
		else
		{
			c.node_pages[page] = kPageBad;
			c.report->Problem(VerifyKind::kPage, "block %u, page %u of the node stream, is not a node page", block, page);
		}
	}
	if (c.node_pages[page] == kPageUnwritten)
		std::memset(c.page, 0, BLCKSZ);
	return c.node_pages[page] != kPageBad;
}

} // namespace


bool
ReadRecord(Checker &c, uint32_t id)
{
	const uint32_t rs = c.meta.record_size;
	const uint64_t start = static_cast<uint64_t>(id) * rs;
	uint32_t copied = 0;
	StreamPosition at = StreamPositionOf(start);
	while (copied < rs)
	{
		if (!LoadNodePage(c, at.page))
			return false;
		const uint32_t piece = std::min<uint32_t>(rs - copied, kStreamPayloadBytes - at.offset);
		std::memcpy(c.record + copied, StreamPayload(c.page) + at.offset, piece);
		copied += piece;
		at = StreamPosition{at.page + 1, 0};
	}
	return true;
}


namespace {

uint64_t
HashVector(const float *v, uint32_t dims)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ dims;
	for (uint32_t i = 0; i < dims; i++)
	{
		uint32_t bits;
		std::memcpy(&bits, &v[i], sizeof bits);
		h = (h ^ bits) * 0xBF58476D1CE4E5B9ull;
		h ^= h >> 29;
	}
	return h;
}

// The codes of a live or deleted node of a compressed index: a sound code
// header and zero padding (quarry::hnsw::CheckStored); the decoded vector
// of unit length within the stored error under cosine. The hash covers the
// stored bytes (equal rows store equal bytes).
void
CheckCodes(Checker &c, uint32_t id, NodeInfo &n)
{
	const quarry::hnsw::Storage storage = StorageOf(c.meta);
	const std::size_t bytes = quarry::hnsw::StoredVectorBytes(storage, c.meta.dims);
	const auto *stored = reinterpret_cast<const uint8_t *>(c.record + VectorOffset(c.meta.m));
	const char *why = quarry::hnsw::CheckStored(storage, {stored, bytes}, c.meta.dims);
	if (why[0] != '\0')
	{
		c.report->Problem(VerifyKind::kRecord, "node %u: %s", id, why);
		return;
	}
	quarry::hnsw::CodeHeader h;
	std::memcpy(&h, stored, sizeof h);
	if (c.meta.metric == static_cast<uint8_t>(quarry::hnsw::Metric::kCosine) &&
		std::fabs(static_cast<double>(h.norm) - 1.0) > static_cast<double>(h.err) + 1e-3)
		c.report->Problem(VerifyKind::kRecord, "node %u: its codes decode to norm %g in a cosine index (unit vectors, error %g)",
						  id, static_cast<double>(h.norm), static_cast<double>(h.err));
	n.vector_hash = HashVector(reinterpret_cast<const float *>(stored), static_cast<uint32_t>(bytes / sizeof(float)));
}

// The vector of a live or deleted node: finite, of unit length under cosine.
void
CheckVector(Checker &c, uint32_t id, NodeInfo &n)
{
	if (StorageOf(c.meta) != quarry::hnsw::Storage::kFull)
		return CheckCodes(c, id, n);
	const float *v = RecordVector(c);
	double norm = 0;
	for (uint32_t i = 0; i < c.meta.dims; i++)
	{
		if (!std::isfinite(v[i]))
		{
			c.report->Problem(VerifyKind::kRecord, "node %u: element %u of its vector is not finite", id, i + 1);
			return;
		}
		norm += static_cast<double>(v[i]) * v[i];
	}
	if (c.meta.metric == static_cast<uint8_t>(quarry::hnsw::Metric::kCosine) && std::fabs(norm - 1.0) > 1e-3)
		c.report->Problem(VerifyKind::kRecord, "node %u: its vector has norm %g in a cosine index (unit vectors)", id,
				std::sqrt(norm));
	n.vector_hash = HashVector(v, c.meta.dims);
}

// A free slot (or one reserved by an insert that never wrote it) holds what
// SetNodeState(kFree) leaves, or nothing.
void
CheckFreeRecord(Checker &c, uint32_t id, const NodeHeader &h, bool reserved)
{
	const bool freed = h.state == static_cast<uint8_t>(NodeState::kFree) && h.level == 0 && h.count0 == 0 &&
					   h.upper_offset == InvalidOffsetNumber && h.upper_block == 0 &&
					   h.next_duplicate == quarry::hnsw::kInvalidNode;
	static const NodeHeader zero{};
	const bool never_written = std::memcmp(&h, &zero, sizeof h) == 0;
	if (freed || (reserved && never_written))
		return;
	c.report->Problem(VerifyKind::kRecord, "node %u is %s in the TID stream, but its record is not a free slot (state %u, level %u)",
			id, reserved ? "reserved" : "free", h.state, h.level);
}

// A graph node's or duplicate's header fields beyond state and level.
bool
CheckNodeHeader(Checker &c, uint32_t id, const NodeHeader &h)
{
	if (h.level == kDuplicateLevel)
	{
		if (h.count0 != 0 || h.upper_offset != InvalidOffsetNumber || h.upper_block >= c.meta.node_count ||
			h.upper_block == id)
		{
			c.report->Problem(VerifyKind::kRecord, "duplicate %u: %u links, primary %u", id, h.count0, h.upper_block);
			return false;
		}
		return true;
	}
	if (h.count0 > c.capacity0)
	{
		c.report->Problem(VerifyKind::kRecord, "node %u has %u links on layer 0 (at most %u)", id, h.count0, c.capacity0);
		return false;
	}
	if (h.level == 0 ? (h.upper_offset != InvalidOffsetNumber || h.upper_block != 0)
					 : (h.upper_offset == InvalidOffsetNumber || h.upper_block >= c.nblocks))
	{
		c.report->Problem(VerifyKind::kRecord, "node %u (level %u) names upper-layer item (%u,%u)", id, h.level, h.upper_block,
				h.upper_offset);
		return false;
	}
	return true;
}

// One record against its TID entry; fills c.nodes[id] and marks it readable.
void
CheckRecord(Checker &c, uint32_t id)
{
	NodeInfo &n = c.nodes[id];
	const NodeHeader h = RecordHeader(c);
	static const NodeHeader zero{};
	if (std::memcmp(&h, &zero, sizeof h) != 0)
		n.flags |= kWritten;
	if (n.state == static_cast<uint8_t>(NodeState::kFree) || n.state == static_cast<uint8_t>(NodeState::kReserved))
	{
		CheckFreeRecord(c, id, h, n.state == static_cast<uint8_t>(NodeState::kReserved));
		n.flags |= kReadable;
		return;
	}
	ItemPointerData tid;
	pg::LoadTid(h.heap_tid, &tid);
	if (h.state != n.state || h.level != n.level || !ItemPointerEquals(&tid, &c.heap_tids[id]))
	{
		c.report->Problem(VerifyKind::kRecord,
				"node %u: its record says state %u, level %u, row (%u,%u); its TID entry state %u, level %u, row (%u,%u)",
				id, h.state, h.level, ItemPointerGetBlockNumberNoCheck(&tid), ItemPointerGetOffsetNumberNoCheck(&tid),
				n.state, n.level, ItemPointerGetBlockNumberNoCheck(&c.heap_tids[id]),
				ItemPointerGetOffsetNumberNoCheck(&c.heap_tids[id]));
		return;
	}
	if (!CheckNodeHeader(c, id, h))
		return;
	n.primary = h.level == kDuplicateLevel ? h.upper_block : quarry::hnsw::kInvalidNode;
	n.next = h.next_duplicate;
	CheckVector(c, id, n);
	n.flags |= kReadable;
}

// The node stream: every slot's record; nothing written past the last one.
void
CheckNodeStream(Checker &c)
{
	for (uint32_t id = 0; id < c.meta.node_count; id++)
	{
		if (id % 1024 == 0)
			CHECK_FOR_INTERRUPTS();
		if ((c.nodes[id].flags & kTidReadable) == 0 || !ReadRecord(c, id))
			continue;
		CheckRecord(c, id);
	}
	const uint64_t end = static_cast<uint64_t>(c.meta.node_count) * c.meta.record_size;
	const StreamPosition last = StreamPositionOf(end);
	for (uint32_t page = last.page; page < c.meta.nodes.npages; page++)
	{
		if (!LoadNodePage(c, page) || c.node_pages[page] == kPageUnwritten)
			continue;
		const uint32_t from = page == last.page ? last.offset : 0;
		const char *payload = StreamPayload(c.page);
		for (uint32_t i = from; i < kStreamPayloadBytes; i++)
		{
			if (payload[i] != 0)
			{
				c.report->Problem(VerifyKind::kPage, "node page %u holds data past the last slot", page);
				break;
			}
		}
	}
}

} // namespace


void
Verify(Relation index, Relation heap, VerifyReport &report)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "quarry_hnsw verify", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	auto *c = static_cast<Checker *>(palloc0(sizeof(Checker)));
	c->index = index;
	c->heap = heap;
	c->report = &report;
	c->context = cxt;
	c->nblocks = RelationGetNumberOfBlocks(index);
	c->page = static_cast<char *>(palloc(BLCKSZ));
	c->cached_page = quarry::hnsw::kInvalidNode;
	c->unreachable = -1;
	if (CheckMeta(*c))
	{
		const uint32_t n = c->meta.node_count;
		c->nodes = static_cast<NodeInfo *>(palloc_extended(sizeof(NodeInfo) * (n + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO));
		c->heap_tids = static_cast<ItemPointerData *>(
			palloc_extended(sizeof(ItemPointerData) * (n + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO));
		c->node_pages = static_cast<uint8_t *>(palloc0(c->meta.nodes.npages + 1));
		c->record = static_cast<char *>(palloc(c->meta.record_size + 1));
		c->uppers = static_cast<UpperEntry *>(palloc(sizeof(UpperEntry)));
		CheckBlocks(*c);
		CheckTidStream(*c);
		CheckNodeStream(*c);
		CheckGraph(*c);
		CheckAgainstTable(*c);
	}
	elog(DEBUG1,
		 "quarry_verify_index(\"%s\"): %llu links into free or reused slots, %llu upper items no node names, "
		 "%lld live nodes not reachable on layer 0 from the entry point (-1: not counted)",
		 RelationGetRelationName(index), static_cast<unsigned long long>(c->stale_links),
		 static_cast<unsigned long long>(c->orphan_items), static_cast<long long>(c->unreachable));
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

} // namespace quarry::am::hnsw

// Changing the on-disk graph: slot allocation, node records, links, states,
// the entry point. Used by aminsert, by a build that ran out of
// maintenance_work_mem (building = true: no WAL, the build logs every page at
// its end) and by VACUUM.
//
// Every change is one GenericXLog record of at most 4 buffers
// (MAX_GENERIC_XLOG_PAGES), made on pages locked exclusively in ascending
// block order (the order every reader locks in too). A new node is written
// whole before any link points to it; links are added to a neighbour only if
// its list did not change since it was read (else the caller recomputes).
//
// C-shaped functions: they raise ERRORs and keep no object with a destructor
// on the stack.
#pragma once

#include "am/hnsw/hnsw_pages.h"

extern "C" {
#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
}

#include "hnsw/candidates.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace quarry::am::hnsw {

using pg::PageEdit;

/// A node's neighbour list on one level.
struct LinkList {
	uint32_t count;
	uint32_t ids[quarry::hnsw::kMaxNeighbors];
};
static_assert(std::is_trivially_destructible_v<LinkList>, "lives across PostgreSQL calls made without PgCall");

class GraphWriter {
public:
	/// `meta` is the caller's copy of the metapage; methods that change it
	/// (slot allocation, dims, entry point) refresh it.
	GraphWriter(Relation index, bool building, MetaPage *meta) : index_(index), building_(building), meta_(meta)
	{
	}

	bool building() const { return building_; }

	/// Fixes the dimensions of an index created empty (dims 0) at `dims`.
	/// Returns the dimensions in force (another backend may have fixed them).
	uint32_t FixDims(uint32_t dims);

	/// A slot for a new node of `level` for heap tuple `tid`: a free one, or a
	/// new one at the end of the streams. The slot is left kReserved.
	uint32_t AllocateSlot(ItemPointer tid, int level);

	/// Stores the upper-layer lists of a new node; returns where.
	void AddUpperItem(const char *item, std::size_t size, BlockNumber *block, OffsetNumber *offset);

	/// Removes a freed node's upper-layer item (its line pointer stays, so the
	/// other items keep their offsets) and tells the free space map.
	void FreeUpperItem(BlockNumber block, OffsetNumber offset);

	/// Writes node `id`'s whole record (`record`, record_size bytes) and marks
	/// its TID entry live.
	void WriteNode(uint32_t id, const char *record);

	/// Reads `id`'s list on `level` (and its header) under a share lock.
	void ReadLinks(uint32_t id, int level, NodeHeader *header, LinkList *out);

	/// Adds `to` to `id`'s list on `level` if there is room. Returns false if
	/// the list is full (then `current` holds it), true if added or present.
	bool AppendLink(uint32_t id, int level, uint32_t to, LinkList *current);

	/// Replaces `id`'s list on `level` with `replacement` if it still equals
	/// `expected`; false if it changed meanwhile.
	bool ReplaceLinks(uint32_t id, int level, const LinkList &expected, const LinkList &replacement);

	/// Removes every id of `drop` from `id`'s list on `level`, reading and
	/// writing it under one exclusive lock (no retry needed). True if the
	/// list changed.
	bool RemoveLinks(uint32_t id, int level, const uint32_t *drop, uint32_t ndrop);

	/// Sets the state of node `id` in its header and its TID entry.
	void SetNodeState(uint32_t id, NodeState state);

	/// Makes `id` (at `level`) the entry point if `level` is above the current
	/// entry level, or unconditionally when `force`. Invalid `id`: empty graph.
	void SetEntryPoint(uint32_t id, int level, bool force);

	/// Reads the header of `id` under a share lock.
	void ReadHeader(uint32_t id, NodeHeader *header);

	/// Puts `duplicate` (written already) at the head of `primary`'s chain.
	void LinkDuplicate(uint32_t primary, uint32_t duplicate);

	/// Takes `duplicate` out of the chain after `previous`, if it is still
	/// there; false if not.
	bool UnlinkDuplicate(uint32_t previous, uint32_t duplicate);

	/// A dead primary that still has a live duplicate takes over that
	/// duplicate's row: same vector, so the graph node stays as it is.
	void TakeOverRow(uint32_t primary, const uint16_t heap_tid[3]);

	/// Reloads the metapage copy.
	void RefreshMeta();

	/// Reloads it if it does not reach node `id` yet.
	void CoverNode(uint32_t id);

private:
	void EnsureStreamPages(MetaPage *meta, bool node_stream, uint32_t pages_needed);
	Buffer ReadStreamBuffer(const StreamDirectory &dir, uint32_t page);
	void CheckStreamPage(Buffer buffer, PageType type);
	uint32_t FindFreeSlot(MetaPage *meta);
	bool TryAddUpperItem(BlockNumber block, const char *item, std::size_t size, OffsetNumber *offset);
	void WriteRecordPages(uint64_t start, const char *record, uint32_t first, uint32_t last);

	Relation index_;
	bool building_;
	MetaPage *meta_;
	BlockNumber known_blocks_ = 0; // the index had at least this many blocks
};
static_assert(std::is_trivially_destructible_v<GraphWriter>, "lives across PostgreSQL calls made without PgCall");

/// Records in the metapage (one WAL record, the first time only) that the
/// null-row list holds a zero vector (ZeroVectors::kHeld). Called before the
/// row is appended to the list: a scan that can see the row sees the mark.
void MarkZeroVectorsHeld(Relation index);

/// The TID entry of node `id` on its TID page.
inline TidEntry *
TidEntryOf(Page page, uint32_t id)
{
	return reinterpret_cast<TidEntry *>(StreamPayload(page)) + (id % kTidEntriesPerPage);
}


// Copies the part of stream bytes [byte, byte + length) that lies on stream
// page `page` between the page image and `data` (to the page when `write`).
inline void
CopyOnPage(Page image, uint32_t page, uint64_t byte, char *data, uint32_t length, bool write)
{
	const uint64_t page_start = static_cast<uint64_t>(page) * kStreamPayloadBytes;
	const uint64_t from = std::max(byte, page_start);
	const uint64_t to = std::min(byte + length, page_start + kStreamPayloadBytes);
	if (from >= to)
		return;
	char *on_page = StreamPayload(image) + (from - page_start);
	char *in_data = data + (from - byte);
	if (write)
		std::memcpy(on_page, in_data, to - from);
	else
		std::memcpy(in_data, on_page, to - from);
}


/// Copies `length` bytes from `src` into the record at stream byte
/// `record_start` + `begin`, over the registered page images `pages` (which
/// hold consecutive stream pages from `first_page`).
void WriteRecordBytes(Page *pages, uint32_t first_page, uint64_t record_start, uint32_t begin, const void *src,
					  uint32_t length);

/// Reads bytes of a record from page images, the reverse of WriteRecordBytes.
void ReadRecordBytes(Page *pages, uint32_t first_page, uint64_t record_start, uint32_t begin, void *dst, uint32_t length);

} // namespace quarry::am::hnsw

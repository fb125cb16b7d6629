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

#include "am/hnsw/hnsw_format.h"

extern "C" {
#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
}

#include "hnsw/candidates.h"

#include <algorithm>
#include <cstring>

namespace quarry::am {

/// Up to 4 exclusively locked buffers changed together: under GenericXLog, or
/// directly during a build.
class PageEdit {
public:
	PageEdit(Relation index, bool building);

	/// The page to modify for `buffer` (locked exclusively by the caller).
	/// `fresh`: the page is being initialised (logged as a full image).
	Page Register(Buffer buffer, bool fresh = false);

	/// Applies the changes (and WAL-logs them).
	void Finish();
	/// Drops the changes.
	void Abort();

private:
	Relation index_;
	bool building_;
	GenericXLogState *state_ = nullptr;
	Buffer buffers_[MAX_GENERIC_XLOG_PAGES];
	int count_ = 0;
};

/// A node's neighbour list on one level.
struct LinkList {
	uint32 count;
	uint32 ids[hnsw::kMaxNeighbors];
};

class GraphWriter {
public:
	/// `meta` is the caller's copy of the metapage; methods that change it
	/// (slot allocation, dims, entry point) refresh it.
	GraphWriter(Relation index, bool building, HnswMetaPageData *meta) : index_(index), building_(building), meta_(meta)
	{
	}

	bool building() const { return building_; }

	/// Fixes the dimensions of an index created empty (dims 0) at `dims`.
	/// Returns the dimensions in force (another backend may have fixed them).
	uint32 FixDims(uint32 dims);

	/// A slot for a new node of `level` for heap tuple `tid`: a free one, or a
	/// new one at the end of the streams. The slot is left kReserved.
	uint32 AllocateSlot(ItemPointer tid, int level);

	/// Stores the upper-layer lists of a new node; returns where.
	void AddUpperItem(const char *item, Size size, BlockNumber *block, OffsetNumber *offset);

	/// Removes a freed node's upper-layer item (its line pointer stays, so the
	/// other items keep their offsets) and tells the free space map.
	void FreeUpperItem(BlockNumber block, OffsetNumber offset);

	/// Writes node `id`'s whole record (`record`, record_size bytes) and marks
	/// its TID entry live.
	void WriteNode(uint32 id, const char *record);

	/// Reads `id`'s list on `level` (and its header) under a share lock.
	void ReadLinks(uint32 id, int level, NodeHeader *header, LinkList *out);

	/// Adds `to` to `id`'s list on `level` if there is room. Returns false if
	/// the list is full (then `current` holds it), true if added or present.
	bool AppendLink(uint32 id, int level, uint32 to, LinkList *current);

	/// Replaces `id`'s list on `level` with `replacement` if it still equals
	/// `expected`; false if it changed meanwhile.
	bool ReplaceLinks(uint32 id, int level, const LinkList &expected, const LinkList &replacement);

	/// Removes every id of `drop` from `id`'s list on `level`, reading and
	/// writing it under one exclusive lock (no retry needed). True if the
	/// list changed.
	bool RemoveLinks(uint32 id, int level, const uint32 *drop, uint32 ndrop);

	/// Sets the state of node `id` in its header and its TID entry.
	void SetNodeState(uint32 id, NodeState state);

	/// Makes `id` (at `level`) the entry point if `level` is above the current
	/// entry level, or unconditionally when `force`. Invalid `id`: empty graph.
	void SetEntryPoint(uint32 id, int level, bool force);

	/// Reads the header of `id` under a share lock.
	void ReadHeader(uint32 id, NodeHeader *header);

	/// Puts `duplicate` (written already) at the head of `primary`'s chain.
	void LinkDuplicate(uint32 primary, uint32 duplicate);

	/// Takes `duplicate` out of the chain after `previous`, if it is still
	/// there; false if not.
	bool UnlinkDuplicate(uint32 previous, uint32 duplicate);

	/// A dead primary that still has a live duplicate takes over that
	/// duplicate's row: same vector, so the graph node stays as it is.
	void TakeOverRow(uint32 primary, const uint16 heap_tid[3]);

	/// Reloads the metapage copy.
	void RefreshMeta();

	/// Reloads it if it does not reach node `id` yet.
	void CoverNode(uint32 id);

private:
	void EnsureStreamPages(HnswMetaPageData *meta, bool node_stream, uint32 pages_needed);
	Buffer ReadStreamBuffer(const HnswStreamDirectory &dir, uint32 page);
	void CheckStreamPage(Buffer buffer, HnswPageType type);
	uint32 FindFreeSlot(HnswMetaPageData *meta);
	bool TryAddUpperItem(BlockNumber block, const char *item, Size size, OffsetNumber *offset);
	void WriteRecordPages(uint64 start, const char *record, uint32 first, uint32 last);

	Relation index_;
	bool building_;
	HnswMetaPageData *meta_;
	BlockNumber known_blocks_ = 0; // the index had at least this many blocks
};

/// The TID entry of node `id` on its TID page.
inline TidEntry *
TidEntryOf(Page page, uint32 id)
{
	return reinterpret_cast<TidEntry *>(StreamPayload(page)) + (id % kTidEntriesPerPage);
}


// Copies the part of stream bytes [byte, byte + length) that lies on stream
// page `page` between the page image and `data` (to the page when `write`).
inline void
CopyOnPage(Page image, uint32 page, uint64 byte, char *data, uint32 length, bool write)
{
	const uint64 page_start = static_cast<uint64>(page) * kStreamPayloadBytes;
	const uint64 from = std::max(byte, page_start);
	const uint64 to = std::min(byte + length, page_start + kStreamPayloadBytes);
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
void WriteRecordBytes(Page *pages, uint32 first_page, uint64 record_start, uint32 begin, const void *src,
					  uint32 length);

/// Reads bytes of a record from page images, the reverse of WriteRecordBytes.
void ReadRecordBytes(Page *pages, uint32 first_page, uint64 record_start, uint32 begin, void *dst, uint32 length);

} // namespace quarry::am

#include "am/hnsw_graph_write.h"

extern "C" {
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "utils/rel.h"
}

#include "pg/index_pages.h"

#include <algorithm>
#include <cstring>

namespace quarry::am {

namespace {

/// Smallest extent a stream grows by; later extents are 1/8 of the stream.
constexpr uint32 kMinNodeExtent = 16;
constexpr uint32 kMinTidExtent = 2;

TidEntry *
TidEntryOf(Page page, uint32 id)
{
	return reinterpret_cast<TidEntry *>(StreamPayload(page)) + (id % kTidEntriesPerPage);
}

// Copies the part of stream bytes [byte, byte + length) that lies on stream
// page `page` between the page image and `data` (to the page when `write`).
void
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

} // namespace

// --- PageEdit -----------------------------------------------------------------

PageEdit::PageEdit(Relation index, bool building) : index_(index), building_(building)
{
	if (!building_)
		state_ = GenericXLogStart(index_);
}

Page
PageEdit::Register(Buffer buffer, bool fresh)
{
	if (count_ >= MAX_GENERIC_XLOG_PAGES)
		elog(ERROR, "quarry_hnsw: more than %d pages in one change", MAX_GENERIC_XLOG_PAGES);
	buffers_[count_++] = buffer;
	if (building_)
		return BufferGetPage(buffer);
	return GenericXLogRegisterBuffer(state_, buffer, fresh ? GENERIC_XLOG_FULL_IMAGE : 0);
}

void
PageEdit::Finish()
{
	if (building_)
	{
		for (int i = 0; i < count_; i++)
			MarkBufferDirty(buffers_[i]);
		return;
	}
	GenericXLogFinish(state_);
	state_ = nullptr;
}

void
PageEdit::Abort()
{
	if (!building_ && state_ != nullptr)
		GenericXLogAbort(state_);
	state_ = nullptr;
}

void
WriteRecordBytes(Page *pages, uint32 first_page, uint64 record_start, uint32 begin, const void *src, uint32 length)
{
	const uint64 byte = record_start + begin;
	const uint32 last = StreamPositionOf(byte + length - 1).page;
	for (uint32 page = StreamPositionOf(byte).page; page <= last; page++)
		CopyOnPage(pages[page - first_page], page, byte, static_cast<char *>(const_cast<void *>(src)), length, true);
}

void
ReadRecordBytes(Page *pages, uint32 first_page, uint64 record_start, uint32 begin, void *dst, uint32 length)
{
	const uint64 byte = record_start + begin;
	const uint32 last = StreamPositionOf(byte + length - 1).page;
	for (uint32 page = StreamPositionOf(byte).page; page <= last; page++)
		CopyOnPage(pages[page - first_page], page, byte, static_cast<char *>(dst), length, false);
}

// --- GraphWriter --------------------------------------------------------------

void
GraphWriter::RefreshMeta()
{
	ReadMetaPage(index_, meta_);
}

// Other backends add nodes and extents all the time: before touching node
// `id`, make sure our copy of the directories reaches it. Called before any
// page lock is taken (it may read the metapage).
void
GraphWriter::CoverNode(uint32 id)
{
	if (id < meta_->node_count && StreamPagesFor(static_cast<uint64>(id) + 1, meta_->record_size) <= meta_->nodes.npages &&
		id / kTidEntriesPerPage < meta_->tids.npages)
		return;
	RefreshMeta();
}

Buffer
GraphWriter::ReadStreamBuffer(const HnswStreamDirectory &dir, uint32 page)
{
	BlockNumber block = StreamBlock(dir, page);
	if (block == InvalidBlockNumber)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has no stream page %u", RelationGetRelationName(index_), page)));
	return ReadBuffer(index_, block);
}

uint32
GraphWriter::FixDims(uint32 dims)
{
	Buffer buffer = ReadBuffer(index_, kHnswMetaBlock);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	if (HnswMeta(BufferGetPage(buffer))->dims == 0)
	{
		PageEdit edit(index_, building_);
		HnswMetaPageData *meta = HnswMeta(edit.Register(buffer));
		meta->dims = dims;
		meta->record_size = RecordSize(dims, meta->m);
		edit.Finish();
	}
	std::memcpy(meta_, HnswMeta(BufferGetPage(buffer)), sizeof(HnswMetaPageData));
	UnlockReleaseBuffer(buffer);
	return meta_->dims;
}

// Grows a stream by one extent of consecutive new blocks when it has fewer
// than `pages_needed` pages. Called with the metapage locked exclusively (so
// only one backend grows a stream at a time); `meta` is its edited image.
void
GraphWriter::EnsureStreamPages(HnswMetaPageData *meta, bool node_stream, uint32 pages_needed)
{
	HnswStreamDirectory *dir = node_stream ? &meta->nodes : &meta->tids;
	if (pages_needed <= dir->npages)
		return;
	if (dir->nextents >= kHnswMaxExtents)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("index \"%s\" cannot grow further: its extent directory is full",
						RelationGetRelationName(index_)),
				 errhint("REINDEX the index.")));
	const uint32 minimum = node_stream ? kMinNodeExtent : kMinTidExtent;
	const uint32 grow = std::max(pages_needed - dir->npages, std::max(minimum, dir->npages / 8));
	const bool lock = !RELATION_IS_LOCAL(index_);
	if (lock)
		LockRelationForExtension(index_, ExclusiveLock);
	BlockNumber first = InvalidBlockNumber;
	for (uint32 i = 0; i < grow; i++)
	{
		Buffer buffer = ReadBufferExtended(index_, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
		BlockNumber block = BufferGetBlockNumber(buffer);
		ReleaseBuffer(buffer);
		if (i == 0)
			first = block;
		else if (block != first + i)
			elog(ERROR, "quarry_hnsw: extent of index \"%s\" is not contiguous", RelationGetRelationName(index_));
	}
	if (lock)
		UnlockRelationForExtension(index_, ExclusiveLock);
	dir->extents[dir->nextents++] = HnswExtent{dir->npages, first, grow};
	dir->npages += grow;
}

// A free slot below the node count, or kInvalidNode. The metapage is locked
// exclusively, so no other insert claims slots meanwhile.
uint32
GraphWriter::FindFreeSlot(HnswMetaPageData *meta)
{
	const uint32 n = meta->node_count;
	if (n == 0)
		return hnsw::kInvalidNode;
	uint32 id = meta->free_search_start < n ? meta->free_search_start : 0;
	for (uint32 scanned = 0; scanned < n;)
	{
		const uint32 page = id / kTidEntriesPerPage;
		const uint32 end = std::min(n, (page + 1) * kTidEntriesPerPage);
		Buffer buffer = ReadStreamBuffer(meta->tids, page);
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		Page p = BufferGetPage(buffer);
		uint32 found = hnsw::kInvalidNode;
		if (!PageIsNew(p))
		{
			for (uint32 i = id; i < end && found == hnsw::kInvalidNode; i++)
			{
				if (TidEntryOf(p, i)->state == static_cast<uint8>(NodeState::kFree))
					found = i;
			}
		}
		UnlockReleaseBuffer(buffer);
		if (found != hnsw::kInvalidNode)
			return found;
		scanned += end - id;
		id = end < n ? end : 0;
	}
	return hnsw::kInvalidNode;
}

uint32
GraphWriter::AllocateSlot(ItemPointer tid, int level)
{
	Buffer meta_buffer = ReadBuffer(index_, kHnswMetaBlock);
	LockBuffer(meta_buffer, BUFFER_LOCK_EXCLUSIVE);
	const HnswMetaPageData *current = HnswMeta(BufferGetPage(meta_buffer));
	uint32 id = current->free_count > 0 ? FindFreeSlot(const_cast<HnswMetaPageData *>(current)) : hnsw::kInvalidNode;

	PageEdit edit(index_, building_);
	HnswMetaPageData *meta = HnswMeta(edit.Register(meta_buffer));
	if (id != hnsw::kInvalidNode)
	{
		meta->free_count--;
		meta->free_search_start = id + 1;
	}
	else
	{
		meta->free_count = 0; // the hint was stale
		id = meta->node_count;
		if (id == hnsw::kInvalidNode)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("index \"%s\" holds the most nodes it can", RelationGetRelationName(index_))));
		EnsureStreamPages(meta, true, StreamPagesFor(static_cast<uint64>(id) + 1, meta->record_size));
		EnsureStreamPages(meta, false, id / kTidEntriesPerPage + 1);
		meta->node_count = id + 1;
	}

	Buffer tid_buffer = ReadStreamBuffer(meta->tids, id / kTidEntriesPerPage);
	LockBuffer(tid_buffer, BUFFER_LOCK_EXCLUSIVE);
	const bool fresh = PageIsNew(BufferGetPage(tid_buffer));
	Page tid_page = edit.Register(tid_buffer, fresh);
	if (fresh)
		InitStreamPage(tid_page, HnswPageType::kTid);
	TidEntry *entry = TidEntryOf(tid_page, id);
	SetHeapTid(entry->heap_tid, tid);
	entry->level = static_cast<uint8>(level);
	entry->state = static_cast<uint8>(NodeState::kReserved);
	edit.Finish();
	UnlockReleaseBuffer(tid_buffer);
	std::memcpy(meta_, HnswMeta(BufferGetPage(meta_buffer)), sizeof(HnswMetaPageData));
	UnlockReleaseBuffer(meta_buffer);
	return id;
}

// Adds `item` to the upper page `block` if it has room; false if not.
bool
GraphWriter::TryAddUpperItem(BlockNumber block, const char *item, Size size, OffsetNumber *offset)
{
	if (block == InvalidBlockNumber || block >= RelationGetNumberOfBlocks(index_))
		return false;
	Buffer buffer = ReadBuffer(index_, block);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	Page current = BufferGetPage(buffer);
	const bool fits = !PageIsNew(current) && HnswOpaque(current)->page_id == kHnswPageId &&
					  HnswOpaque(current)->type == static_cast<uint8>(HnswPageType::kUpper) &&
					  PageGetFreeSpace(current) >= MAXALIGN(size);
	if (fits)
	{
		PageEdit edit(index_, building_);
		Page page = edit.Register(buffer);
		*offset = PageAddItem(page, const_cast<char *>(item), size, InvalidOffsetNumber, false, false);
		if (*offset == InvalidOffsetNumber)
			elog(ERROR, "quarry_hnsw: could not add an upper-layer item to block %u", block);
		edit.Finish();
	}
	UnlockReleaseBuffer(buffer);
	return fits;
}

// New upper-layer lists go to the page the metapage names, else to a page
// VACUUM left room on (the free space map), else to a new page.
void
GraphWriter::AddUpperItem(const char *item, Size size, BlockNumber *block, OffsetNumber *offset)
{
	Buffer meta_buffer = ReadBuffer(index_, kHnswMetaBlock);
	LockBuffer(meta_buffer, BUFFER_LOCK_EXCLUSIVE);
	const BlockNumber hint = HnswMeta(BufferGetPage(meta_buffer))->upper_insert_block;
	if (TryAddUpperItem(hint, item, size, offset))
	{
		UnlockReleaseBuffer(meta_buffer);
		*block = hint;
		return;
	}
	for (int attempt = 0; attempt < 4; attempt++)
	{
		const BlockNumber recycled = GetPageWithFreeSpace(index_, MAXALIGN(size) + sizeof(ItemIdData));
		if (recycled == InvalidBlockNumber)
			break;
		if (TryAddUpperItem(recycled, item, size, offset))
		{
			UnlockReleaseBuffer(meta_buffer);
			*block = recycled;
			return;
		}
		RecordPageWithFreeSpace(index_, recycled, 0); // stale entry
	}
	Buffer buffer = pg::NewIndexBuffer(index_, nullptr);
	PageEdit edit(index_, building_);
	HnswMetaPageData *meta = HnswMeta(edit.Register(meta_buffer));
	Page page = edit.Register(buffer, true);
	InitHnswPage(page, HnswPageType::kUpper);
	*offset = PageAddItem(page, const_cast<char *>(item), size, InvalidOffsetNumber, false, false);
	if (*offset == InvalidOffsetNumber)
		elog(ERROR, "quarry_hnsw: an upper-layer item of %zu bytes does not fit on a page", size);
	*block = BufferGetBlockNumber(buffer);
	meta->upper_insert_block = *block;
	edit.Finish();
	UnlockReleaseBuffer(buffer);
	UnlockReleaseBuffer(meta_buffer);
}

void
GraphWriter::FreeUpperItem(BlockNumber block, OffsetNumber offset)
{
	Buffer buffer = ReadBuffer(index_, block);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	Page current = BufferGetPage(buffer);
	Size free_space = 0;
	if (!PageIsNew(current) && HnswOpaque(current)->page_id == kHnswPageId &&
		HnswOpaque(current)->type == static_cast<uint8>(HnswPageType::kUpper) &&
		offset <= PageGetMaxOffsetNumber(current) && ItemIdIsUsed(PageGetItemId(current, offset)))
	{
		PageEdit edit(index_, building_);
		Page page = edit.Register(buffer);
		// Keeps the line pointers of the other items where they are.
		PageIndexTupleDeleteNoCompact(page, offset);
		free_space = PageGetFreeSpace(page);
		edit.Finish();
	}
	UnlockReleaseBuffer(buffer);
	if (free_space > 0)
		RecordPageWithFreeSpace(index_, block, free_space);
}

// Locks (with `mode`, in block order) the node pages holding bytes
// [begin, begin + length) of node `id`'s record; returns how many.
int
GraphWriter::LockRecordRange(uint32 id, uint32 begin, uint32 length, Buffer *buffers, int mode)
{
	const uint64 start = static_cast<uint64>(id) * meta_->record_size + begin;
	const uint32 first = StreamPositionOf(start).page;
	const uint32 last = StreamPositionOf(start + length - 1).page;
	int n = 0;
	for (uint32 page = first; page <= last; page++)
	{
		if (StreamBlock(meta_->nodes, page) == InvalidBlockNumber)
			RefreshMeta(); // extended by another backend after our copy
		buffers[n] = ReadStreamBuffer(meta_->nodes, page);
		LockBuffer(buffers[n], mode);
		n++;
	}
	return n;
}

void
GraphWriter::WriteNode(uint32 id, const char *record)
{
	const uint32 rs = meta_->record_size;
	const uint64 start = static_cast<uint64>(id) * rs;
	const uint32 first = StreamPositionOf(start).page;
	const uint32 last = StreamPositionOf(start + rs - 1).page;
	// The pages holding the header and the links go last, with the TID entry:
	// until then the slot's old header (not live) stands.
	// (When the whole record and the TID page fit in one change, all of it.)
	uint32 head_last = StreamPositionOf(start + VectorOffset(meta_->m) - 1).page;
	if (last - first + 2 <= MAX_GENERIC_XLOG_PAGES)
		head_last = last;
	for (uint32 group = head_last + 1; group <= last; group += MAX_GENERIC_XLOG_PAGES)
	{
		const uint32 group_last = std::min(last, group + MAX_GENERIC_XLOG_PAGES - 1);
		Buffer buffers[MAX_GENERIC_XLOG_PAGES];
		int n = 0;
		for (uint32 page = group; page <= group_last; page++, n++)
		{
			buffers[n] = ReadStreamBuffer(meta_->nodes, page);
			LockBuffer(buffers[n], BUFFER_LOCK_EXCLUSIVE);
		}
		PageEdit edit(index_, building_);
		for (int i = 0; i < n; i++)
		{
			const bool fresh = PageIsNew(BufferGetPage(buffers[i]));
			Page page = edit.Register(buffers[i], fresh);
			if (fresh)
				InitStreamPage(page, HnswPageType::kNode);
			CopyOnPage(page, group + i, start, const_cast<char *>(record), rs, true);
		}
		edit.Finish();
		for (int i = 0; i < n; i++)
			UnlockReleaseBuffer(buffers[i]);
	}

	// Node pages with the header and links, and the TID page, in block order.
	struct Target {
		Buffer buffer;
		uint32 stream_page; // of the node stream; kInvalidNode for the TID page
	};
	Target targets[MAX_GENERIC_XLOG_PAGES];
	int n = 0;
	for (uint32 page = first; page <= head_last; page++)
		targets[n++] = Target{ReadStreamBuffer(meta_->nodes, page), page};
	static_assert(sizeof(NodeHeader) + sizeof(uint32) * 2 * hnsw::kMaxM <= 2 * kStreamPayloadBytes,
				  "header and links span at most 2 pages: with the TID page, 3 buffers");
	targets[n++] = Target{ReadStreamBuffer(meta_->tids, id / kTidEntriesPerPage), hnsw::kInvalidNode};
	std::sort(targets, targets + n, [](const Target &a, const Target &b) {
		return BufferGetBlockNumber(a.buffer) < BufferGetBlockNumber(b.buffer);
	});
	for (int i = 0; i < n; i++)
		LockBuffer(targets[i].buffer, BUFFER_LOCK_EXCLUSIVE);
	PageEdit edit(index_, building_);
	const NodeHeader *header = reinterpret_cast<const NodeHeader *>(record);
	for (int i = 0; i < n; i++)
	{
		const bool fresh = PageIsNew(BufferGetPage(targets[i].buffer));
		Page page = edit.Register(targets[i].buffer, fresh);
		if (targets[i].stream_page == hnsw::kInvalidNode)
		{
			if (fresh)
				InitStreamPage(page, HnswPageType::kTid);
			TidEntry *entry = TidEntryOf(page, id);
			std::memcpy(entry->heap_tid, header->heap_tid, sizeof(entry->heap_tid));
			entry->level = header->level;
			entry->state = header->state;
			continue;
		}
		if (fresh)
			InitStreamPage(page, HnswPageType::kNode);
		CopyOnPage(page, targets[i].stream_page, start, const_cast<char *>(record), rs, true);
	}
	edit.Finish();
	for (int i = 0; i < n; i++)
		UnlockReleaseBuffer(targets[i].buffer);
}

namespace {

struct LockedRange {
	Buffer buffers[2];
	Page pages[2];
	int count;
	uint32 first_page;
	uint64 start;
};

void
UnlockRange(LockedRange &r)
{
	for (int i = 0; i < r.count; i++)
		UnlockReleaseBuffer(r.buffers[i]);
	r.count = 0;
}

bool
SameList(const LinkList &a, const LinkList &b)
{
	return a.count == b.count && std::memcmp(a.ids, b.ids, sizeof(uint32) * a.count) == 0;
}

bool
Contains(const LinkList &list, uint32 id)
{
	return std::find(list.ids, list.ids + list.count, id) != list.ids + list.count;
}

} // namespace

// The header and layer-0 links of `id`, locked with `mode`.
static void
LockLevel0(Relation index, const HnswMetaPageData &meta, uint32 id, int mode, LockedRange *r, NodeHeader *header,
		   LinkList *list)
{
	const uint32 capacity = 2u * meta.m;
	const uint32 length = LinksOffset() + sizeof(uint32) * capacity;
	r->start = static_cast<uint64>(id) * meta.record_size;
	r->first_page = StreamPositionOf(r->start).page;
	const uint32 last = StreamPositionOf(r->start + length - 1).page;
	r->count = 0;
	for (uint32 page = r->first_page; page <= last; page++)
	{
		BlockNumber block = StreamBlock(meta.nodes, page);
		if (block == InvalidBlockNumber)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has no node page %u", RelationGetRelationName(index), page)));
		r->buffers[r->count] = ReadBuffer(index, block);
		LockBuffer(r->buffers[r->count], mode);
		r->pages[r->count] = BufferGetPage(r->buffers[r->count]);
		CheckPageType(index, r->pages[r->count], block, HnswPageType::kNode);
		r->count++;
	}
	ReadRecordBytes(r->pages, r->first_page, r->start, 0, header, sizeof(NodeHeader));
	list->count = std::min<uint32>(header->count0, capacity);
	if (list->count > 0)
		ReadRecordBytes(r->pages, r->first_page, r->start, LinksOffset(), list->ids, sizeof(uint32) * list->count);
}

// The list of `level` (>= 1) in an upper-layer item on a locked page.
static uint32 *
UpperList(Relation index, Page page, const NodeHeader &header, int level, int m)
{
	CheckPageType(index, page, header.upper_block, HnswPageType::kUpper);
	if (header.upper_offset == InvalidOffsetNumber || header.upper_offset > PageGetMaxOffsetNumber(page))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a node without its upper-layer item", RelationGetRelationName(index))));
	ItemId item = PageGetItemId(page, header.upper_offset);
	if (ItemIdGetLength(item) < UpperItemSize(header.level, m))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a short upper-layer item", RelationGetRelationName(index))));
	return reinterpret_cast<uint32 *>(PageGetItem(page, item)) + static_cast<std::size_t>(level - 1) * (1 + m);
}

static void
CopyList(const uint32 *list, int m, LinkList *out)
{
	out->count = std::min<uint32>(list[0], m);
	std::memcpy(out->ids, list + 1, sizeof(uint32) * out->count);
}

void
GraphWriter::ReadLinks(uint32 id, int level, NodeHeader *header, LinkList *out)
{
	CoverNode(id);
	LockedRange r;
	LockLevel0(index_, *meta_, id, BUFFER_LOCK_SHARE, &r, header, out);
	UnlockRange(r);
	if (level == 0)
		return;
	out->count = 0;
	// A stale link can lead to a free slot: it has no lists any more.
	if (level > header->level || header->state == static_cast<uint8>(NodeState::kFree) ||
		header->state == static_cast<uint8>(NodeState::kReserved))
		return;
	Buffer buffer = ReadBuffer(index_, header->upper_block);
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	CopyList(UpperList(index_, BufferGetPage(buffer), *header, level, meta_->m), meta_->m, out);
	UnlockReleaseBuffer(buffer);
}

bool
GraphWriter::AppendLink(uint32 id, int level, uint32 to, LinkList *current)
{
	CoverNode(id);
	NodeHeader header;
	LockedRange r;
	LockLevel0(index_, *meta_, id, level == 0 ? BUFFER_LOCK_EXCLUSIVE : BUFFER_LOCK_SHARE, &r, &header, current);
	// Links from nodes that are not live (deleted, freed, being written) are
	// VACUUM's business, not ours.
	if (header.state != static_cast<uint8>(NodeState::kLive) || level > header.level)
	{
		UnlockRange(r);
		return true;
	}
	if (level == 0)
	{
		const bool room = current->count < 2u * meta_->m;
		if (room && !Contains(*current, to))
		{
			PageEdit edit(index_, building_);
			Page images[2];
			for (int i = 0; i < r.count; i++)
				images[i] = edit.Register(r.buffers[i]);
			WriteRecordBytes(images, r.first_page, r.start, LinksOffset() + sizeof(uint32) * current->count, &to,
							 sizeof(uint32));
			header.count0 = static_cast<uint16>(current->count + 1);
			WriteRecordBytes(images, r.first_page, r.start, 0, &header, sizeof(NodeHeader));
			edit.Finish();
		}
		UnlockRange(r);
		return room || Contains(*current, to);
	}
	UnlockRange(r);
	Buffer buffer = ReadBuffer(index_, header.upper_block);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	uint32 *list = UpperList(index_, BufferGetPage(buffer), header, level, meta_->m);
	CopyList(list, meta_->m, current);
	const bool room = current->count < static_cast<uint32>(meta_->m);
	if (room && !Contains(*current, to))
	{
		PageEdit edit(index_, building_);
		uint32 *image = UpperList(index_, edit.Register(buffer), header, level, meta_->m);
		image[1 + image[0]] = to;
		image[0]++;
		edit.Finish();
	}
	UnlockReleaseBuffer(buffer);
	return room || Contains(*current, to);
}

bool
GraphWriter::ReplaceLinks(uint32 id, int level, const LinkList &expected, const LinkList &replacement)
{
	CoverNode(id);
	NodeHeader header;
	LinkList current;
	LockedRange r;
	LockLevel0(index_, *meta_, id, level == 0 ? BUFFER_LOCK_EXCLUSIVE : BUFFER_LOCK_SHARE, &r, &header, &current);
	if (level == 0)
	{
		const bool same = SameList(current, expected);
		if (same)
		{
			PageEdit edit(index_, building_);
			Page images[2];
			for (int i = 0; i < r.count; i++)
				images[i] = edit.Register(r.buffers[i]);
			if (replacement.count > 0)
				WriteRecordBytes(images, r.first_page, r.start, LinksOffset(), replacement.ids,
								 sizeof(uint32) * replacement.count);
			header.count0 = static_cast<uint16>(replacement.count);
			WriteRecordBytes(images, r.first_page, r.start, 0, &header, sizeof(NodeHeader));
			edit.Finish();
		}
		UnlockRange(r);
		return same;
	}
	UnlockRange(r);
	if (level > header.level)
		return false;
	Buffer buffer = ReadBuffer(index_, header.upper_block);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	CopyList(UpperList(index_, BufferGetPage(buffer), header, level, meta_->m), meta_->m, &current);
	const bool same = SameList(current, expected);
	if (same)
	{
		PageEdit edit(index_, building_);
		uint32 *image = UpperList(index_, edit.Register(buffer), header, level, meta_->m);
		image[0] = replacement.count;
		std::memcpy(image + 1, replacement.ids, sizeof(uint32) * replacement.count);
		edit.Finish();
	}
	UnlockReleaseBuffer(buffer);
	return same;
}

void
GraphWriter::SetNodeState(uint32 id, NodeState state)
{
	CoverNode(id);
	struct Target {
		Buffer buffer;
		bool tid;
	};
	const uint64 start = static_cast<uint64>(id) * meta_->record_size;
	const uint32 first = StreamPositionOf(start).page;
	const uint32 last = StreamPositionOf(start + sizeof(NodeHeader) - 1).page;
	Target targets[3];
	int n = 0;
	for (uint32 page = first; page <= last; page++)
		targets[n++] = Target{ReadStreamBuffer(meta_->nodes, page), false};
	targets[n++] = Target{ReadStreamBuffer(meta_->tids, id / kTidEntriesPerPage), true};
	std::sort(targets, targets + n, [](const Target &a, const Target &b) {
		return BufferGetBlockNumber(a.buffer) < BufferGetBlockNumber(b.buffer);
	});
	for (int i = 0; i < n; i++)
		LockBuffer(targets[i].buffer, BUFFER_LOCK_EXCLUSIVE);
	PageEdit edit(index_, building_);
	Page node_pages[2];
	int node_count = 0;
	for (int i = 0; i < n; i++)
	{
		// A slot reserved by an insert that never wrote it may sit on a page
		// nobody initialised yet.
		const bool fresh = PageIsNew(BufferGetPage(targets[i].buffer));
		Page page = edit.Register(targets[i].buffer, fresh);
		if (fresh)
			InitStreamPage(page, targets[i].tid ? HnswPageType::kTid : HnswPageType::kNode);
		if (targets[i].tid)
			TidEntryOf(page, id)->state = static_cast<uint8>(state);
		else
			node_pages[node_count++] = page;
	}
	NodeHeader header;
	ReadRecordBytes(node_pages, first, start, 0, &header, sizeof(NodeHeader));
	header.state = static_cast<uint8>(state);
	if (state == NodeState::kFree)
	{
		// A free slot keeps no links, no upper-layer item (VACUUM frees the
		// item) and no duplicates: whoever reaches it through a stale link
		// stops there.
		header.level = 0;
		header.count0 = 0;
		header.upper_block = 0;
		header.upper_offset = InvalidOffsetNumber;
		header.next_duplicate = hnsw::kInvalidNode;
	}
	WriteRecordBytes(node_pages, first, start, 0, &header, sizeof(NodeHeader));
	edit.Finish();
	for (int i = 0; i < n; i++)
		UnlockReleaseBuffer(targets[i].buffer);
}

void
GraphWriter::SetEntryPoint(uint32 id, int level, bool force)
{
	Buffer buffer = ReadBuffer(index_, kHnswMetaBlock);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	const HnswMetaPageData *current = HnswMeta(BufferGetPage(buffer));
	if (force || current->entry_node == hnsw::kInvalidNode || level > current->entry_level)
	{
		PageEdit edit(index_, building_);
		HnswMetaPageData *meta = HnswMeta(edit.Register(buffer));
		meta->entry_node = id;
		meta->entry_level = id == hnsw::kInvalidNode ? -1 : level;
		edit.Finish();
	}
	std::memcpy(meta_, HnswMeta(BufferGetPage(buffer)), sizeof(HnswMetaPageData));
	UnlockReleaseBuffer(buffer);
}

// --- duplicate chains -----------------------------------------------------------

namespace {

/// The node pages holding the headers of up to two nodes (and maybe one TID
/// page), locked exclusively in block order and registered in one PageEdit.
class HeaderPages {
public:
	HeaderPages(Relation index, const HnswMetaPageData &meta) : index_(index), meta_(meta) {}

	void
	AddHeader(uint32 id)
	{
		const uint64 start = static_cast<uint64>(id) * meta_.record_size;
		for (uint32 page = StreamPositionOf(start).page; page <= StreamPositionOf(start + sizeof(NodeHeader) - 1).page;
			 page++)
			Add(StreamBlock(meta_.nodes, page), page, false);
	}
	void AddTidPage(uint32 id) { Add(StreamBlock(meta_.tids, id / kTidEntriesPerPage), id / kTidEntriesPerPage, true); }

	void
	LockAndRegister(PageEdit &edit)
	{
		for (int i = 1; i < n_; i++) // block order (at most 4 entries)
		{
			for (int j = i; j > 0 && entries_[j - 1].block > entries_[j].block; j--)
				std::swap(entries_[j - 1], entries_[j]);
		}
		for (int i = 0; i < n_; i++)
		{
			entries_[i].buffer = ReadBuffer(index_, entries_[i].block);
			LockBuffer(entries_[i].buffer, BUFFER_LOCK_EXCLUSIVE);
		}
		for (int i = 0; i < n_; i++)
			entries_[i].image = edit.Register(entries_[i].buffer);
	}

	void
	Release()
	{
		for (int i = 0; i < n_; i++)
			UnlockReleaseBuffer(entries_[i].buffer);
		n_ = 0;
	}

	/// Reads (write = false) or writes the header of `id` on the images.
	void
	Header(uint32 id, NodeHeader *header, bool write)
	{
		const uint64 start = static_cast<uint64>(id) * meta_.record_size;
		for (int i = 0; i < n_; i++)
		{
			if (!entries_[i].tid)
				CopyOnPage(entries_[i].image, entries_[i].stream_page, start, reinterpret_cast<char *>(header),
						   sizeof(NodeHeader), write);
		}
	}

	TidEntry *
	Tid(uint32 id)
	{
		for (int i = 0; i < n_; i++)
		{
			if (entries_[i].tid && entries_[i].stream_page == id / kTidEntriesPerPage)
				return TidEntryOf(entries_[i].image, id);
		}
		return nullptr;
	}

private:
	struct Entry {
		BlockNumber block;
		uint32 stream_page;
		bool tid;
		Buffer buffer;
		Page image;
	};

	void
	Add(BlockNumber block, uint32 stream_page, bool tid)
	{
		if (block == InvalidBlockNumber)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has no stream page %u", RelationGetRelationName(index_), stream_page)));
		for (int i = 0; i < n_; i++)
		{
			if (entries_[i].block == block)
				return;
		}
		if (n_ >= MAX_GENERIC_XLOG_PAGES)
			elog(ERROR, "quarry_hnsw: more than %d pages for two node headers", MAX_GENERIC_XLOG_PAGES);
		entries_[n_++] = Entry{block, stream_page, tid, InvalidBuffer, nullptr};
	}

	Relation index_;
	const HnswMetaPageData &meta_;
	Entry entries_[MAX_GENERIC_XLOG_PAGES];
	int n_ = 0;
};

} // namespace

void
GraphWriter::LinkDuplicate(uint32 primary, uint32 duplicate)
{
	CoverNode(primary);
	CoverNode(duplicate);
	HeaderPages pages(index_, *meta_);
	pages.AddHeader(primary);
	pages.AddHeader(duplicate);
	PageEdit edit(index_, building_);
	pages.LockAndRegister(edit);
	NodeHeader head, dup;
	pages.Header(primary, &head, false);
	pages.Header(duplicate, &dup, false);
	dup.next_duplicate = head.next_duplicate;
	head.next_duplicate = duplicate;
	pages.Header(primary, &head, true);
	pages.Header(duplicate, &dup, true);
	edit.Finish();
	pages.Release();
}

bool
GraphWriter::UnlinkDuplicate(uint32 previous, uint32 duplicate)
{
	CoverNode(previous);
	CoverNode(duplicate);
	HeaderPages pages(index_, *meta_);
	pages.AddHeader(previous);
	pages.AddHeader(duplicate);
	PageEdit edit(index_, building_);
	pages.LockAndRegister(edit);
	NodeHeader prev, dup;
	pages.Header(previous, &prev, false);
	pages.Header(duplicate, &dup, false);
	const bool linked = prev.next_duplicate == duplicate;
	if (linked)
	{
		prev.next_duplicate = dup.next_duplicate;
		pages.Header(previous, &prev, true);
		edit.Finish();
	}
	else
		edit.Abort();
	pages.Release();
	return linked;
}

void
GraphWriter::TakeOverRow(uint32 primary, const uint16 heap_tid[3])
{
	CoverNode(primary);
	HeaderPages pages(index_, *meta_);
	pages.AddHeader(primary);
	pages.AddTidPage(primary);
	PageEdit edit(index_, building_);
	pages.LockAndRegister(edit);
	NodeHeader head;
	pages.Header(primary, &head, false);
	std::memcpy(head.heap_tid, heap_tid, sizeof(head.heap_tid));
	head.state = static_cast<uint8>(NodeState::kLive);
	pages.Header(primary, &head, true);
	TidEntry *entry = pages.Tid(primary);
	std::memcpy(entry->heap_tid, heap_tid, sizeof(entry->heap_tid));
	entry->state = static_cast<uint8>(NodeState::kLive);
	edit.Finish();
	pages.Release();
}

void
GraphWriter::ReadHeader(uint32 id, NodeHeader *header)
{
	CoverNode(id);
	LinkList ignored;
	LockedRange r;
	LockLevel0(index_, *meta_, id, BUFFER_LOCK_SHARE, &r, header, &ignored);
	UnlockRange(r);
}

} // namespace quarry::am

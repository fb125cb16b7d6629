#include "am/hnsw/hnsw_graph_write.h"

extern "C" {
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "utils/rel.h"
}

#include "pg/index_pages.h"

#include <algorithm>
#include <cstring>

namespace quarry::am::hnsw {

namespace {

/// Smallest extent a stream grows by; later extents are 1/8 of the stream.
constexpr uint32_t kMinNodeExtent = 16;
constexpr uint32_t kMinTidExtent = 2;

} // namespace

// --- PageEdit -----------------------------------------------------------------

void
WriteRecordBytes(Page *pages, uint32_t first_page, uint64_t record_start, uint32_t begin, const void *src, uint32_t length)
{
	const uint64_t byte = record_start + begin;
	const uint32_t last = StreamPositionOf(byte + length - 1).page;
	for (uint32_t page = StreamPositionOf(byte).page; page <= last; page++)
		CopyOnPage(pages[page - first_page], page, byte, static_cast<char *>(const_cast<void *>(src)), length, true);
}

void
ReadRecordBytes(Page *pages, uint32_t first_page, uint64_t record_start, uint32_t begin, void *dst, uint32_t length)
{
	const uint64_t byte = record_start + begin;
	const uint32_t last = StreamPositionOf(byte + length - 1).page;
	for (uint32_t page = StreamPositionOf(byte).page; page <= last; page++)
		CopyOnPage(pages[page - first_page], page, byte, static_cast<char *>(dst), length, false);
}

// --- GraphWriter --------------------------------------------------------------

void
GraphWriter::RefreshMeta()
{
	ReadMeta(index_, meta_);
}

// Other backends add nodes and extents all the time: before touching node
// `id`, make sure our copy of the directories reaches it. Called before any
// page lock is taken (it may read the metapage).
void
GraphWriter::CoverNode(uint32_t id)
{
	if (id < meta_->node_count && StreamPagesFor(static_cast<uint64_t>(id) + 1, meta_->record_size) <= meta_->nodes.npages &&
		id / kTidEntriesPerPage < meta_->tids.npages)
		return;
	RefreshMeta();
}

Buffer
GraphWriter::ReadStreamBuffer(const StreamDirectory &dir, uint32_t page)
{
	BlockNumber block = StreamBlock(dir, page);
	if (block == InvalidBlockNumber)
		pg::ThrowCorrupt(index_, "a stream has no page %u", page);
	return ReadBuffer(index_, block);
}

// A stream page about to be written: new (nobody wrote it yet: the caller
// initialises it) or of the stream's type. Called with the buffer locked.
void
GraphWriter::CheckStreamPage(Buffer buffer, PageType type)
{
	Page page = BufferGetPage(buffer);
	if (!PageIsNew(page))
		CheckPage(index_, page, BufferGetBlockNumber(buffer), type);
}

uint32_t
GraphWriter::FixDims(uint32_t dims)
{
	Buffer buffer = ReadBuffer(index_, kMetaBlock);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	CheckMetaPage(index_, BufferGetPage(buffer));
	if (MetaOf(BufferGetPage(buffer))->dims == 0)
	{
		PageEdit edit(index_, building_);
		MetaPage *meta = MetaOf(edit.Register(buffer));
		meta->dims = dims;
		meta->record_size = RecordSize(dims, meta->m, StorageOf(*meta));
		edit.Finish();
	}
	std::memcpy(meta_, MetaOf(BufferGetPage(buffer)), sizeof(MetaPage));
	UnlockReleaseBuffer(buffer);
	return meta_->dims;
}

void
MarkZeroVectorsHeld(Relation index)
{
	Buffer buffer = ReadBuffer(index, kMetaBlock);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	CheckMetaPage(index, BufferGetPage(buffer));
	if (MetaOf(BufferGetPage(buffer))->zero_vectors != static_cast<uint8_t>(ZeroVectors::kHeld))
	{
		PageEdit edit(index, false);
		MetaOf(edit.Register(buffer))->zero_vectors = static_cast<uint8_t>(ZeroVectors::kHeld);
		edit.Finish();
	}
	UnlockReleaseBuffer(buffer);
}

// Grows a stream by one extent of consecutive new blocks when it has fewer
// than `pages_needed` pages. Called with the metapage locked exclusively (so
// only one backend grows a stream at a time); `meta` is its edited image.
void
GraphWriter::EnsureStreamPages(MetaPage *meta, bool node_stream, uint32_t pages_needed)
{
	StreamDirectory *dir = node_stream ? &meta->nodes : &meta->tids;
	if (pages_needed <= dir->npages)
		return;
	if (dir->nextents >= kMaxExtents)
		throw pg::Error(ERRCODE_PROGRAM_LIMIT_EXCEEDED, pg::Format("index \"%s\" cannot grow further: its extent directory is full", RelationGetRelationName(index_)).text, nullptr, "REINDEX the index.");
	const uint32_t minimum = node_stream ? kMinNodeExtent : kMinTidExtent;
	const uint32_t grow = std::max(pages_needed - dir->npages, std::max(minimum, dir->npages / 8));
	const bool lock = !RELATION_IS_LOCAL(index_);
	if (lock)
		LockRelationForExtension(index_, ExclusiveLock);
	BlockNumber first = InvalidBlockNumber;
	for (uint32_t i = 0; i < grow; i++)
	{
		Buffer buffer = ReadBufferExtended(index_, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
		BlockNumber block = BufferGetBlockNumber(buffer);
		ReleaseBuffer(buffer);
		if (i == 0)
			first = block;
		else if (block != first + i)
			pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_hnsw: extent of index \"%s\" is not contiguous", RelationGetRelationName(index_));
	}
	// Logged before the metapage record that refers to the extent, so replay
	// extends the relation first.
	pg::LogRelationLength(index_, first + grow - 1);
	if (lock)
		UnlockRelationForExtension(index_, ExclusiveLock);
	dir->extents[dir->nextents++] = Extent{dir->npages, first, grow};
	dir->npages += grow;
}

// A free slot below the node count, or kInvalidNode. The metapage is locked
// exclusively, so no other insert claims slots meanwhile.
uint32_t
GraphWriter::FindFreeSlot(MetaPage *meta)
{
	const uint32_t n = meta->node_count;
	if (n == 0)
		return quarry::hnsw::kInvalidNode;
	uint32_t id = meta->free_search_start < n ? meta->free_search_start : 0;
	for (uint32_t scanned = 0; scanned < n;)
	{
		const uint32_t page = id / kTidEntriesPerPage;
		const uint32_t end = std::min(n, (page + 1) * kTidEntriesPerPage);
		Buffer buffer = ReadTidPage(index_, *meta, page);
		Page p = BufferGetPage(buffer);
		uint32_t found = quarry::hnsw::kInvalidNode;
		for (uint32_t i = id; i < end && found == quarry::hnsw::kInvalidNode; i++)
		{
			if (TidEntryOf(p, i)->state == static_cast<uint8_t>(NodeState::kFree))
				found = i;
		}
		UnlockReleaseBuffer(buffer);
		if (found != quarry::hnsw::kInvalidNode)
			return found;
		scanned += end - id;
		id = end < n ? end : 0;
	}
	return quarry::hnsw::kInvalidNode;
}

uint32_t
GraphWriter::AllocateSlot(ItemPointer tid, int level)
{
	Buffer meta_buffer = ReadBuffer(index_, kMetaBlock);
	LockBuffer(meta_buffer, BUFFER_LOCK_EXCLUSIVE);
	CheckMetaPage(index_, BufferGetPage(meta_buffer)); // its counts size the streams
	const MetaPage *current = MetaOf(BufferGetPage(meta_buffer));
	uint32_t id = current->free_count > 0 ? FindFreeSlot(const_cast<MetaPage *>(current)) : quarry::hnsw::kInvalidNode;

	PageEdit edit(index_, building_);
	MetaPage *meta = MetaOf(edit.Register(meta_buffer));
	if (id != quarry::hnsw::kInvalidNode)
	{
		meta->free_count--;
		meta->free_search_start = id + 1;
	}
	else
	{
		meta->free_count = 0; // the hint was stale
		id = meta->node_count;
		if (id == quarry::hnsw::kInvalidNode)
			pg::ThrowError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "index \"%s\" holds the most nodes it can", RelationGetRelationName(index_));
		EnsureStreamPages(meta, true, StreamPagesFor(static_cast<uint64_t>(id) + 1, meta->record_size));
		EnsureStreamPages(meta, false, id / kTidEntriesPerPage + 1);
		meta->node_count = id + 1;
	}

	Buffer tid_buffer = ReadStreamBuffer(meta->tids, id / kTidEntriesPerPage);
	LockBuffer(tid_buffer, BUFFER_LOCK_EXCLUSIVE);
	CheckStreamPage(tid_buffer, PageType::kTid);
	const bool fresh = PageIsNew(BufferGetPage(tid_buffer));
	Page tid_page = edit.Register(tid_buffer, fresh);
	if (fresh)
		InitStreamPage(tid_page, PageType::kTid);
	TidEntry *entry = TidEntryOf(tid_page, id);
	pg::StoreTid(entry->heap_tid, tid);
	entry->level = static_cast<uint8_t>(level);
	entry->state = static_cast<uint8_t>(NodeState::kReserved);
	edit.Finish();
	UnlockReleaseBuffer(tid_buffer);
	std::memcpy(meta_, MetaOf(BufferGetPage(meta_buffer)), sizeof(MetaPage));
	UnlockReleaseBuffer(meta_buffer);
	return id;
}

// Adds `item` to the upper page `block` if it has room; false if not.
bool
GraphWriter::TryAddUpperItem(BlockNumber block, const char *item, std::size_t size, OffsetNumber *offset)
{
	if (block == InvalidBlockNumber || block >= RelationGetNumberOfBlocks(index_))
		return false;
	Buffer buffer = ReadBuffer(index_, block);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	Page current = BufferGetPage(buffer);
	const bool fits = !PageIsNew(current) && OpaqueOf(current)->page_id == kPageId &&
					  OpaqueOf(current)->type == static_cast<uint8_t>(PageType::kUpper) &&
					  PageGetFreeSpace(current) >= MAXALIGN(size);
	if (fits)
	{
		PageEdit edit(index_, building_);
		Page page = edit.Register(buffer);
		*offset = PageAddItem(page, const_cast<char *>(item), size, InvalidOffsetNumber, false, false);
		if (*offset == InvalidOffsetNumber)
			pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_hnsw: could not add an upper-layer item to block %u", block);
		edit.Finish();
	}
	UnlockReleaseBuffer(buffer);
	return fits;
}

// New upper-layer lists go to the page the metapage names, else to a page
// VACUUM left room on (the free space map), else to a new page.
void
GraphWriter::AddUpperItem(const char *item, std::size_t size, BlockNumber *block, OffsetNumber *offset)
{
	Buffer meta_buffer = ReadBuffer(index_, kMetaBlock);
	LockBuffer(meta_buffer, BUFFER_LOCK_EXCLUSIVE);
	CheckMetaPage(index_, BufferGetPage(meta_buffer));
	const BlockNumber hint = MetaOf(BufferGetPage(meta_buffer))->upper_insert_block;
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
	MetaPage *meta = MetaOf(edit.Register(meta_buffer));
	Page page = edit.Register(buffer, true);
	InitPage(page, PageType::kUpper);
	*offset = PageAddItem(page, const_cast<char *>(item), size, InvalidOffsetNumber, false, false);
	if (*offset == InvalidOffsetNumber)
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_hnsw: an upper-layer item of %zu bytes does not fit on a page", size);
	*block = BufferGetBlockNumber(buffer);
	meta->upper_insert_block = *block;
	edit.Finish();
	UnlockReleaseBuffer(buffer);
	UnlockReleaseBuffer(meta_buffer);
}

void
GraphWriter::FreeUpperItem(BlockNumber block, OffsetNumber offset)
{
	CheckBlockExists(index_, block, &known_blocks_);
	Buffer buffer = ReadBuffer(index_, block);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	Page current = BufferGetPage(buffer);
	CheckPage(index_, current, block, PageType::kUpper);
	std::size_t free_space = 0;
	std::size_t length;
	if (UpperItem(current, offset, &length) != nullptr)
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

// Copies the record at stream byte `start` onto node pages [first, last], at
// most MAX_GENERIC_XLOG_PAGES per change.
void
GraphWriter::WriteRecordPages(uint64_t start, const char *record, uint32_t first, uint32_t last)
{
	const uint32_t rs = meta_->record_size;
	for (uint32_t group = first; group <= last; group += MAX_GENERIC_XLOG_PAGES)
	{
		const uint32_t group_last = std::min(last, group + MAX_GENERIC_XLOG_PAGES - 1);
		Buffer buffers[MAX_GENERIC_XLOG_PAGES];
		int n = 0;
		for (uint32_t page = group; page <= group_last; page++, n++)
		{
			buffers[n] = ReadStreamBuffer(meta_->nodes, page);
			LockBuffer(buffers[n], BUFFER_LOCK_EXCLUSIVE);
		}
		PageEdit edit(index_, building_);
		for (int i = 0; i < n; i++)
		{
			CheckStreamPage(buffers[i], PageType::kNode);
			const bool fresh = PageIsNew(BufferGetPage(buffers[i]));
			Page page = edit.Register(buffers[i], fresh);
			if (fresh)
				InitStreamPage(page, PageType::kNode);
			CopyOnPage(page, group + i, start, const_cast<char *>(record), rs, true);
		}
		edit.Finish();
		for (int i = 0; i < n; i++)
			UnlockReleaseBuffer(buffers[i]);
	}
}

void
GraphWriter::WriteNode(uint32_t id, const char *record)
{
	const uint32_t rs = meta_->record_size;
	const uint64_t start = static_cast<uint64_t>(id) * rs;
	const uint32_t first = StreamPositionOf(start).page;
	const uint32_t last = StreamPositionOf(start + rs - 1).page;
	// The pages holding the header and the links go last, with the TID entry:
	// until then the slot's old header (not live) stands.
	// (When the whole record and the TID page fit in one change, all of it.)
	uint32_t head_last = StreamPositionOf(start + VectorOffset(meta_->m) - 1).page;
	if (last - first + 2 <= MAX_GENERIC_XLOG_PAGES)
		head_last = last;
	WriteRecordPages(start, record, head_last + 1, last);

	// Node pages with the header and links, and the TID page, in block order.
	struct Target {
		Buffer buffer;
		uint32_t stream_page; // of the node stream; kInvalidNode for the TID page
	};
	Target targets[MAX_GENERIC_XLOG_PAGES];
	int n = 0;
	for (uint32_t page = first; page <= head_last; page++)
		targets[n++] = Target{ReadStreamBuffer(meta_->nodes, page), page};
	static_assert(sizeof(NodeHeader) + sizeof(uint32_t) * 2 * quarry::hnsw::kMaxM <= 2 * kStreamPayloadBytes,
				  "header and links span at most 2 pages: with the TID page, 3 buffers");
	targets[n++] = Target{ReadStreamBuffer(meta_->tids, id / kTidEntriesPerPage), quarry::hnsw::kInvalidNode};
	std::sort(targets, targets + n, [](const Target &a, const Target &b) {
		return BufferGetBlockNumber(a.buffer) < BufferGetBlockNumber(b.buffer);
	});
	for (int i = 0; i < n; i++)
		LockBuffer(targets[i].buffer, BUFFER_LOCK_EXCLUSIVE);
	PageEdit edit(index_, building_);
	const NodeHeader *header = reinterpret_cast<const NodeHeader *>(record);
	for (int i = 0; i < n; i++)
	{
		CheckStreamPage(targets[i].buffer,
						targets[i].stream_page == quarry::hnsw::kInvalidNode ? PageType::kTid : PageType::kNode);
		const bool fresh = PageIsNew(BufferGetPage(targets[i].buffer));
		Page page = edit.Register(targets[i].buffer, fresh);
		if (targets[i].stream_page == quarry::hnsw::kInvalidNode)
		{
			if (fresh)
				InitStreamPage(page, PageType::kTid);
			TidEntry *entry = TidEntryOf(page, id);
			std::memcpy(entry->heap_tid, header->heap_tid, sizeof(entry->heap_tid));
			entry->level = header->level;
			entry->state = header->state;
			continue;
		}
		if (fresh)
			InitStreamPage(page, PageType::kNode);
		CopyOnPage(page, targets[i].stream_page, start, const_cast<char *>(record), rs, true);
	}
	edit.Finish();
	for (int i = 0; i < n; i++)
		UnlockReleaseBuffer(targets[i].buffer);
}

void
GraphWriter::SetNodeState(uint32_t id, NodeState state)
{
	CoverNode(id);
	struct Target {
		Buffer buffer;
		bool tid;
	};
	const uint64_t start = static_cast<uint64_t>(id) * meta_->record_size;
	const uint32_t first = StreamPositionOf(start).page;
	const uint32_t last = StreamPositionOf(start + sizeof(NodeHeader) - 1).page;
	Target targets[3];
	int n = 0;
	for (uint32_t page = first; page <= last; page++)
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
		CheckStreamPage(targets[i].buffer, targets[i].tid ? PageType::kTid : PageType::kNode);
		const bool fresh = PageIsNew(BufferGetPage(targets[i].buffer));
		Page page = edit.Register(targets[i].buffer, fresh);
		if (fresh)
			InitStreamPage(page, targets[i].tid ? PageType::kTid : PageType::kNode);
		if (targets[i].tid)
			TidEntryOf(page, id)->state = static_cast<uint8_t>(state);
		else
			node_pages[node_count++] = page;
	}
	NodeHeader header;
	ReadRecordBytes(node_pages, first, start, 0, &header, sizeof(NodeHeader));
	header.state = static_cast<uint8_t>(state);
	if (state == NodeState::kFree)
	{
		// A free slot keeps no links, no upper-layer item (VACUUM frees the
		// item) and no duplicates: whoever reaches it through a stale link
		// stops there.
		header.level = 0;
		header.count0 = 0;
		header.upper_block = 0;
		header.upper_offset = InvalidOffsetNumber;
		header.next_duplicate = quarry::hnsw::kInvalidNode;
	}
	WriteRecordBytes(node_pages, first, start, 0, &header, sizeof(NodeHeader));
	edit.Finish();
	for (int i = 0; i < n; i++)
		UnlockReleaseBuffer(targets[i].buffer);
}

void
GraphWriter::SetEntryPoint(uint32_t id, int level, bool force)
{
	Buffer buffer = ReadBuffer(index_, kMetaBlock);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	CheckMetaPage(index_, BufferGetPage(buffer));
	const MetaPage *current = MetaOf(BufferGetPage(buffer));
	if (force || current->entry_node == quarry::hnsw::kInvalidNode || level > current->entry_level)
	{
		PageEdit edit(index_, building_);
		MetaPage *meta = MetaOf(edit.Register(buffer));
		meta->entry_node = id;
		meta->entry_level = id == quarry::hnsw::kInvalidNode ? -1 : level;
		edit.Finish();
	}
	std::memcpy(meta_, MetaOf(BufferGetPage(buffer)), sizeof(MetaPage));
	UnlockReleaseBuffer(buffer);
}

} // namespace quarry::am::hnsw

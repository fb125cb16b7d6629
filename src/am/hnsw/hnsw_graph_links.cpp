// Links between existing nodes: reading and changing neighbour lists under
// exclusive locks with optimistic retries, and the duplicate chains (see
// kDuplicateLevel). The rest of GraphWriter is in hnsw_graph_write.cpp.
#include "am/hnsw/hnsw_graph_write.h"

extern "C" {
#include "utils/rel.h"
}

#include <algorithm>
#include <cstring>
#include <utility>
#include <type_traits>

namespace quarry::am::hnsw {

namespace {

struct LockedRange {
	Buffer buffers[2];
	Page pages[2];
	int count;
	uint32_t first_page;
	uint64_t start;
};
static_assert(std::is_trivially_destructible_v<LockedRange>);

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
	return a.count == b.count && std::memcmp(a.ids, b.ids, sizeof(uint32_t) * a.count) == 0;
}

bool
Contains(const LinkList &list, uint32_t id)
{
	return std::find(list.ids, list.ids + list.count, id) != list.ids + list.count;
}

// Whether the node has a list on `level`. A duplicate has none, on any layer:
// it is reached only through a stale link (into a slot reused by it), and its
// upper_block names its primary, not a page.
bool
HasLevel(const NodeHeader &header, int level)
{
	return header.level != kDuplicateLevel && level <= header.level;
}

} // namespace

// The header and layer-0 links of `id`, locked with `mode`.
static void
LockLevel0(Relation index, const MetaPage &meta, uint32_t id, int mode, LockedRange *r, NodeHeader *header,
		   LinkList *list)
{
	const uint32_t capacity = 2u * meta.m;
	const uint32_t length = LinksOffset() + sizeof(uint32_t) * capacity;
	r->start = static_cast<uint64_t>(id) * meta.record_size;
	r->first_page = StreamPositionOf(r->start).page;
	const uint32_t last = StreamPositionOf(r->start + length - 1).page;
	r->count = 0;
	for (uint32_t page = r->first_page; page <= last; page++)
	{
		BlockNumber block = StreamBlock(meta.nodes, page);
		if (block == InvalidBlockNumber)
			pg::ThrowCorrupt(index, "the node stream has no page %u", page);
		r->buffers[r->count] = ReadBuffer(index, block);
		LockBuffer(r->buffers[r->count], mode);
		r->pages[r->count] = BufferGetPage(r->buffers[r->count]);
		r->count++;
		// Nodes whose links are read or changed were written (a slot nobody
		// wrote yet is never linked to): its pages are initialised.
		CheckPage(index, r->pages[r->count - 1], block, PageType::kNode);
	}
	ReadRecordBytes(r->pages, r->first_page, r->start, 0, header, sizeof(NodeHeader));
	if (!HeaderLooksSane(*header, capacity) || NeverWritten(*header))
		pg::ThrowCorrupt(index, "node %u has a malformed record (state %u, level %u, %u links on layer 0)", id,
					header->state, header->level, header->count0);
	list->count = header->count0;
	if (list->count > 0)
		ReadRecordBytes(r->pages, r->first_page, r->start, LinksOffset(), list->ids, sizeof(uint32_t) * list->count);
}

// The list of `level` (>= 1) in an upper-layer item on a locked page.
static uint32_t *
UpperList(Relation index, Page page, const NodeHeader &header, int level, int m)
{
	CheckPage(index, page, header.upper_block, PageType::kUpper);
	std::size_t length = 0;
	const uint32_t *item = UpperItem(page, header.upper_offset, &length);
	if (item == nullptr)
		pg::ThrowCorrupt(index, "block %u has no upper-layer item %u", header.upper_block, header.upper_offset);
	if (length < UpperItemSize(header.level, m))
		pg::ThrowCorrupt(index, "the upper-layer item (%u,%u) is too short for level %u", header.upper_block,
					header.upper_offset, header.level);
	return const_cast<uint32_t *>(item) + static_cast<std::size_t>(level - 1) * (1 + m);
}

// The upper page of a node's item, pinned and locked with `mode`.
static Buffer
ReadUpperPage(Relation index, const NodeHeader &header, int mode, BlockNumber *known_blocks)
{
	CheckBlockExists(index, header.upper_block, known_blocks);
	Buffer buffer = ReadBuffer(index, header.upper_block);
	LockBuffer(buffer, mode);
	return buffer;
}

static void
CopyList(const uint32_t *list, int m, LinkList *out)
{
	out->count = std::min<uint32_t>(list[0], m);
	std::memcpy(out->ids, list + 1, sizeof(uint32_t) * out->count);
}

void
GraphWriter::ReadLinks(uint32_t id, int level, NodeHeader *header, LinkList *out)
{
	CoverNode(id);
	LockedRange r;
	LockLevel0(index_, *meta_, id, BUFFER_LOCK_SHARE, &r, header, out);
	UnlockRange(r);
	if (level == 0)
		return;
	out->count = 0;
	// A stale link can lead to a free slot: it has no lists any more.
	if (!HasLevel(*header, level) || header->state == static_cast<uint8_t>(NodeState::kFree) ||
		header->state == static_cast<uint8_t>(NodeState::kReserved))
		return;
	Buffer buffer = ReadUpperPage(index_, *header, BUFFER_LOCK_SHARE, &known_blocks_);
	CopyList(UpperList(index_, BufferGetPage(buffer), *header, level, meta_->m), meta_->m, out);
	UnlockReleaseBuffer(buffer);
}

bool
GraphWriter::AppendLink(uint32_t id, int level, uint32_t to, LinkList *current)
{
	CoverNode(id);
	NodeHeader header;
	LockedRange r;
	LockLevel0(index_, *meta_, id, level == 0 ? BUFFER_LOCK_EXCLUSIVE : BUFFER_LOCK_SHARE, &r, &header, current);
	// Links from nodes that are not live (deleted, freed, being written) are
	// VACUUM's business, not ours; a duplicate (reached by a stale link) has
	// no lists.
	if (header.state != static_cast<uint8_t>(NodeState::kLive) || !HasLevel(header, level))
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
			WriteRecordBytes(images, r.first_page, r.start, LinksOffset() + sizeof(uint32_t) * current->count, &to,
							 sizeof(uint32_t));
			header.count0 = static_cast<uint16_t>(current->count + 1);
			WriteRecordBytes(images, r.first_page, r.start, 0, &header, sizeof(NodeHeader));
			edit.Finish();
		}
		UnlockRange(r);
		return room || Contains(*current, to);
	}
	UnlockRange(r);
	Buffer buffer = ReadUpperPage(index_, header, BUFFER_LOCK_EXCLUSIVE, &known_blocks_);
	uint32_t *list = UpperList(index_, BufferGetPage(buffer), header, level, meta_->m);
	CopyList(list, meta_->m, current);
	const bool room = current->count < static_cast<uint32_t>(meta_->m);
	if (room && !Contains(*current, to))
	{
		PageEdit edit(index_, building_);
		uint32_t *image = UpperList(index_, edit.Register(buffer), header, level, meta_->m);
		image[1 + image[0]] = to;
		image[0]++;
		edit.Finish();
	}
	UnlockReleaseBuffer(buffer);
	return room || Contains(*current, to);
}

bool
GraphWriter::ReplaceLinks(uint32_t id, int level, const LinkList &expected, const LinkList &replacement)
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
								 sizeof(uint32_t) * replacement.count);
			header.count0 = static_cast<uint16_t>(replacement.count);
			WriteRecordBytes(images, r.first_page, r.start, 0, &header, sizeof(NodeHeader));
			edit.Finish();
		}
		UnlockRange(r);
		return same;
	}
	UnlockRange(r);
	if (!HasLevel(header, level))
		return false;
	Buffer buffer = ReadUpperPage(index_, header, BUFFER_LOCK_EXCLUSIVE, &known_blocks_);
	CopyList(UpperList(index_, BufferGetPage(buffer), header, level, meta_->m), meta_->m, &current);
	const bool same = SameList(current, expected);
	if (same)
	{
		PageEdit edit(index_, building_);
		uint32_t *image = UpperList(index_, edit.Register(buffer), header, level, meta_->m);
		image[0] = replacement.count;
		std::memcpy(image + 1, replacement.ids, sizeof(uint32_t) * replacement.count);
		edit.Finish();
	}
	UnlockReleaseBuffer(buffer);
	return same;
}

// The entries of `list` not in `drop`, in order; whether any was dropped.
static bool
FilterList(const uint32_t *list, uint32_t count, const uint32_t *drop, uint32_t ndrop, LinkList *out)
{
	out->count = 0;
	for (uint32_t i = 0; i < count; i++)
	{
		if (std::find(drop, drop + ndrop, list[i]) == drop + ndrop)
			out->ids[out->count++] = list[i];
	}
	return out->count != count;
}

bool
GraphWriter::RemoveLinks(uint32_t id, int level, const uint32_t *drop, uint32_t ndrop)
{
	CoverNode(id);
	NodeHeader header;
	LinkList current, kept;
	LockedRange r;
	LockLevel0(index_, *meta_, id, level == 0 ? BUFFER_LOCK_EXCLUSIVE : BUFFER_LOCK_SHARE, &r, &header, &current);
	if (level == 0)
	{
		const bool changed = FilterList(current.ids, current.count, drop, ndrop, &kept);
		if (changed)
		{
			PageEdit edit(index_, building_);
			Page images[2];
			for (int i = 0; i < r.count; i++)
				images[i] = edit.Register(r.buffers[i]);
			if (kept.count > 0)
				WriteRecordBytes(images, r.first_page, r.start, LinksOffset(), kept.ids, sizeof(uint32_t) * kept.count);
			header.count0 = static_cast<uint16_t>(kept.count);
			WriteRecordBytes(images, r.first_page, r.start, 0, &header, sizeof(NodeHeader));
			edit.Finish();
		}
		UnlockRange(r);
		return changed;
	}
	UnlockRange(r);
	if (level > header.level || header.state == static_cast<uint8_t>(NodeState::kFree) ||
		header.state == static_cast<uint8_t>(NodeState::kReserved))
		return false;
	Buffer buffer = ReadBuffer(index_, header.upper_block);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	const uint32_t *list = UpperList(index_, BufferGetPage(buffer), header, level, meta_->m);
	const bool changed = FilterList(list + 1, std::min<uint32_t>(list[0], meta_->m), drop, ndrop, &kept);
	if (changed)
	{
		PageEdit edit(index_, building_);
		uint32_t *image = UpperList(index_, edit.Register(buffer), header, level, meta_->m);
		image[0] = kept.count;
		std::memcpy(image + 1, kept.ids, sizeof(uint32_t) * kept.count);
		edit.Finish();
	}
	UnlockReleaseBuffer(buffer);
	return changed;
}

// --- duplicate chains -----------------------------------------------------------

namespace {

/// The node pages holding the headers of up to two nodes (and maybe one TID
/// page), locked exclusively in block order and registered in one PageEdit.
class HeaderPages {
public:
	HeaderPages(Relation index, const MetaPage &meta) : index_(index), meta_(meta) {}

	void
	AddHeader(uint32_t id)
	{
		const uint64_t start = static_cast<uint64_t>(id) * meta_.record_size;
		for (uint32_t page = StreamPositionOf(start).page; page <= StreamPositionOf(start + sizeof(NodeHeader) - 1).page;
			 page++)
			Add(StreamBlock(meta_.nodes, page), page, false);
	}
	void AddTidPage(uint32_t id) { Add(StreamBlock(meta_.tids, id / kTidEntriesPerPage), id / kTidEntriesPerPage, true); }

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
			// Written nodes only: their pages are initialised.
			CheckPage(index_, BufferGetPage(entries_[i].buffer), entries_[i].block,
						  entries_[i].tid ? PageType::kTid : PageType::kNode);
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
	Header(uint32_t id, NodeHeader *header, bool write)
	{
		const uint64_t start = static_cast<uint64_t>(id) * meta_.record_size;
		for (int i = 0; i < n_; i++)
		{
			if (!entries_[i].tid)
				CopyOnPage(entries_[i].image, entries_[i].stream_page, start, reinterpret_cast<char *>(header),
						   sizeof(NodeHeader), write);
		}
	}

	TidEntry *
	Tid(uint32_t id)
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
		uint32_t stream_page;
		bool tid;
		Buffer buffer;
		Page image;
	};

	void
	Add(BlockNumber block, uint32_t stream_page, bool tid)
	{
		if (block == InvalidBlockNumber)
			pg::ThrowCorrupt(index_, "a stream has no page %u", stream_page);
		for (int i = 0; i < n_; i++)
		{
			if (entries_[i].block == block)
				return;
		}
		if (n_ >= MAX_GENERIC_XLOG_PAGES)
			pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_hnsw: more than %d pages for two node headers", MAX_GENERIC_XLOG_PAGES);
		entries_[n_++] = Entry{block, stream_page, tid, InvalidBuffer, nullptr};
	}

	Relation index_;
	const MetaPage &meta_;
	Entry entries_[MAX_GENERIC_XLOG_PAGES];
	int n_ = 0;
};
static_assert(std::is_trivially_destructible_v<HeaderPages>);

} // namespace

void
GraphWriter::LinkDuplicate(uint32_t primary, uint32_t duplicate)
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
GraphWriter::UnlinkDuplicate(uint32_t previous, uint32_t duplicate)
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
GraphWriter::TakeOverRow(uint32_t primary, const uint16_t heap_tid[3])
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
	head.state = static_cast<uint8_t>(NodeState::kLive);
	pages.Header(primary, &head, true);
	TidEntry *entry = pages.Tid(primary);
	std::memcpy(entry->heap_tid, heap_tid, sizeof(entry->heap_tid));
	entry->state = static_cast<uint8_t>(NodeState::kLive);
	edit.Finish();
	pages.Release();
}

void
GraphWriter::ReadHeader(uint32_t id, NodeHeader *header)
{
	CoverNode(id);
	LinkList ignored;
	LockedRange r;
	LockLevel0(index_, *meta_, id, BUFFER_LOCK_SHARE, &r, header, &ignored);
	UnlockRange(r);
}

} // namespace quarry::am::hnsw

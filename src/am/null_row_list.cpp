// The null-row list: appending, build, VACUUM, reading. See null_row_list.h.
#include "pg/compat.h"
#include "am/null_row_list.h"

extern "C" {
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "utils/rel.h"
}

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace quarry::am {

namespace {

NullRowPageHeader *
HeaderOf(const NullRowListFormat &f, Page page)
{
	return reinterpret_cast<NullRowPageHeader *>(f.content(page));
}

ItemPointerData *
TidsOf(const NullRowListFormat &f, Page page)
{
	return reinterpret_cast<ItemPointerData *>(f.content(page) + sizeof(NullRowPageHeader));
}

// Sets the count and pd_lower, so WAL images skip the unused rest.
void
SetCount(const NullRowListFormat &f, Page page, uint32_t count)
{
	HeaderOf(f, page)->count = count;
	char *end = f.content(page) + sizeof(NullRowPageHeader) + count * sizeof(ItemPointerData);
	reinterpret_cast<PageHeader>(page)->pd_lower = static_cast<LocationIndex>(end - reinterpret_cast<char *>(page));
}


void
InitListPage(const NullRowListFormat &f, Page page)
{
	f.init_page(page);
	HeaderOf(f, page)->next = InvalidBlockNumber;
	SetCount(f, page, 0);
}

BlockNumber
NextOf(const NullRowListFormat &f, Page page)
{
	return HeaderOf(f, page)->next;
}

// A page for the list: from the free space map if the format allows it.
Buffer
NewListBuffer(const NullRowListFormat &f, Relation index)
{
	return f.reusable != nullptr ? pg::NewIndexBuffer(index, f.reusable) : pg::NewIndexBufferAtEnd(index);
}

// Checks a page of the list and the count it claims.
void
CheckListPage(const NullRowListFormat &f, Relation index, Page page, BlockNumber block)
{
	f.check_page(index, page, block);
	if (HeaderOf(f, page)->count > f.capacity())
		pg::ThrowCorrupt(index, "null-row page %u claims %u rows", block, HeaderOf(f, page)->count);
}

// A block the chain may lead to: inside the index, not the metapage.
void
CheckChainBlock(const NullRowListFormat &f, Relation index, BlockNumber block)
{
	if (block == f.meta_block || block >= RelationGetNumberOfBlocks(index))
		pg::ThrowCorrupt(index, "the null-row list leads to block %u", block);
}

// Appends to the page in `buffer` (exclusively locked, with room), logging
// it with the metapage.
void
AppendToPage(const NullRowListFormat &f, Relation index, Buffer meta_buffer, Buffer buffer, ItemPointer tid)
{
	pg::PageEdit edit(index, false);
	NullRowListMeta *meta = f.meta(index, edit.Register(meta_buffer));
	Page page = edit.Register(buffer);
	const uint32_t count = HeaderOf(f, page)->count;
	TidsOf(f, page)[count] = *tid;
	SetCount(f, page, count + 1);
	meta->count++;
	meta->hint = BufferGetBlockNumber(buffer);
	edit.Finish();
}

// Adds a page holding `tid` after the tail (or as the whole list).
void
AppendNewPage(const NullRowListFormat &f, Relation index, Buffer meta_buffer, ItemPointer tid)
{
	const BlockNumber tail = f.meta(index, BufferGetPage(meta_buffer))->tail;
	Buffer tail_buffer = InvalidBuffer;
	if (tail != InvalidBlockNumber)
	{
		CheckChainBlock(f, index, tail);
		tail_buffer = ReadBuffer(index, tail);
		LockBuffer(tail_buffer, BUFFER_LOCK_EXCLUSIVE);
		CheckListPage(f, index, BufferGetPage(tail_buffer), tail);
	}
	Buffer buffer = NewListBuffer(f, index);
	pg::PageEdit edit(index, false);
	NullRowListMeta *meta = f.meta(index, edit.Register(meta_buffer));
	Page page = edit.Register(buffer, true);
	InitListPage(f, page);
	TidsOf(f, page)[0] = *tid;
	SetCount(f, page, 1);
	const BlockNumber block = BufferGetBlockNumber(buffer);
	if (BufferIsValid(tail_buffer))
		HeaderOf(f, edit.Register(tail_buffer))->next = block;
	else
		meta->head = block;
	meta->tail = block;
	meta->hint = block;
	meta->count++;
	edit.Finish();
	UnlockReleaseBuffer(buffer);
	if (BufferIsValid(tail_buffer))
		UnlockReleaseBuffer(tail_buffer);
}

// Compacts one page of the list under the locked metapage; returns the
// TIDs removed. `set_hint` makes the page the insert hint when it has room.
uint32_t
VacuumPage(const NullRowListFormat &f, Relation index, Buffer meta_buffer, Buffer buffer,
		   IndexBulkDeleteCallback callback, void *callback_state, bool *set_hint)
{
	Page page = BufferGetPage(buffer);
	const uint32_t count = HeaderOf(f, page)->count;
	ItemPointerData kept[kMaxNullRowsPerPage];
	uint32_t n = 0;
	for (uint32_t i = 0; i < count; i++)
		if (!callback(&TidsOf(f, page)[i], callback_state))
			kept[n++] = TidsOf(f, page)[i];
	const bool hint = *set_hint && n < f.capacity();
	if (n == count && !hint)
		return 0;
	pg::PageEdit edit(index, false);
	NullRowListMeta *meta = f.meta(index, edit.Register(meta_buffer));
	Page p = edit.Register(buffer);
	std::memcpy(TidsOf(f, p), kept, n * sizeof(ItemPointerData));
	SetCount(f, p, n);
	meta->count -= std::min<uint64_t>(meta->count, count - n);
	if (hint)
		meta->hint = BufferGetBlockNumber(buffer);
	edit.Finish();
	*set_hint = *set_hint && !hint;
	return count - n;
}

} // namespace

void
AppendNullRow(const NullRowListFormat &f, Relation index, ItemPointer tid)
{
	Buffer meta_buffer = ReadBuffer(index, f.meta_block);
	LockBuffer(meta_buffer, BUFFER_LOCK_EXCLUSIVE);
	const NullRowListMeta meta = *f.meta(index, BufferGetPage(meta_buffer));
	// From the hint along the chain to the tail: the first page with room.
	BlockNumber block = meta.hint != InvalidBlockNumber ? meta.hint : meta.tail;
	for (BlockNumber steps = 0; block != InvalidBlockNumber; steps++)
	{
		CheckChainBlock(f, index, block);
		if (steps > RelationGetNumberOfBlocks(index))
			pg::ThrowCorrupt(index, "the null-row list loops through block %u", block);
		Buffer buffer = ReadBuffer(index, block);
		LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
		Page page = BufferGetPage(buffer);
		CheckListPage(f, index, page, block);
		if (HeaderOf(f, page)->count < f.capacity())
		{
			AppendToPage(f, index, meta_buffer, buffer, tid);
			UnlockReleaseBuffer(buffer);
			UnlockReleaseBuffer(meta_buffer);
			return;
		}
		const BlockNumber next = block == meta.tail ? InvalidBlockNumber : NextOf(f, page);
		UnlockReleaseBuffer(buffer);
		block = next;
	}
	AppendNewPage(f, index, meta_buffer, tid);
	UnlockReleaseBuffer(meta_buffer);
}

void
WriteNullRowsForBuild(const NullRowListFormat &f, Relation index, const ItemPointerData *tids, uint64_t count,
					  NullRowListMeta *meta)
{
	Buffer previous = InvalidBuffer;
	for (uint64_t done = 0; done < count;)
	{
		Buffer buffer = pg::NewIndexBufferAtEnd(index);
		Page page = BufferGetPage(buffer);
		InitListPage(f, page);
		const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(f.capacity(), count - done));
		std::memcpy(TidsOf(f, page), tids + done, n * sizeof(ItemPointerData));
		SetCount(f, page, n);
		MarkBufferDirty(buffer);
		const BlockNumber block = BufferGetBlockNumber(buffer);
		if (BufferIsValid(previous))
		{
			HeaderOf(f, BufferGetPage(previous))->next = block;
			MarkBufferDirty(previous);
			UnlockReleaseBuffer(previous);
		}
		else
			meta->head = block;
		meta->tail = block;
		meta->hint = block;
		previous = buffer;
		done += n;
	}
	if (BufferIsValid(previous))
		UnlockReleaseBuffer(previous);
	meta->count = count;
}

uint64_t
VacuumNullRows(const NullRowListFormat &f, Relation index, IndexBulkDeleteCallback callback, void *callback_state)
{
	Buffer meta_buffer = ReadBuffer(index, f.meta_block);
	LockBuffer(meta_buffer, BUFFER_LOCK_SHARE);
	const NullRowListMeta meta = *f.meta(index, BufferGetPage(meta_buffer));
	UnlockReleaseBuffer(meta_buffer);
	uint64_t removed = 0;
	bool set_hint = true; // the first page with room becomes the hint
	BlockNumber block = meta.head;
	for (BlockNumber steps = 0; block != InvalidBlockNumber; steps++)
	{
		CheckChainBlock(f, index, block);
		if (steps > RelationGetNumberOfBlocks(index))
			pg::ThrowCorrupt(index, "the null-row list loops through block %u", block);
		pg::VacuumDelayPoint();
		// The metapage first, as for inserts.
		meta_buffer = ReadBuffer(index, f.meta_block);
		LockBuffer(meta_buffer, BUFFER_LOCK_EXCLUSIVE);
		f.meta(index, BufferGetPage(meta_buffer));
		Buffer buffer = ReadBuffer(index, block);
		LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
		CheckListPage(f, index, BufferGetPage(buffer), block);
		removed += VacuumPage(f, index, meta_buffer, buffer, callback, callback_state, &set_hint);
		const BlockNumber next = block == meta.tail ? InvalidBlockNumber : NextOf(f, BufferGetPage(buffer));
		UnlockReleaseBuffer(buffer);
		UnlockReleaseBuffer(meta_buffer);
		block = next;
	}
	return removed;
}

bool
NullRowReader::LoadPage()
{
	const NullRowListFormat &f = *format_;
	while (next_ != InvalidBlockNumber)
	{
		CheckChainBlock(f, index_, next_);
		if (pages_read_++ > RelationGetNumberOfBlocks(index_))
			pg::ThrowCorrupt(index_, "the null-row list loops through block %u", next_);
		const BlockNumber block = next_;
		Buffer buffer = ReadBuffer(index_, block);
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		Page page = BufferGetPage(buffer);
		CheckListPage(f, index_, page, block);
		count_ = HeaderOf(f, page)->count;
		std::memcpy(tids_, TidsOf(f, page), count_ * sizeof(ItemPointerData));
		next_ = block == tail_ ? InvalidBlockNumber : NextOf(f, page);
		UnlockReleaseBuffer(buffer);
		at_ = 0;
		if (count_ > 0)
			return true;
	}
	return false;
}

bool
NullRowReader::Next(ItemPointer out)
{
	if (at_ >= count_ && !LoadPage())
		return false;
	*out = tids_[at_++];
	return true;
}

bool
NullRowChainSound(const NullRowListFormat &f, Relation index, const NullRowListMeta &meta,
				  bool (*sound)(void *arg, BlockNumber block), void *arg, char *why, std::size_t why_size)
{
	if (meta.head == InvalidBlockNumber)
		return true;
	const BlockNumber blocks = RelationGetNumberOfBlocks(index);
	char *copy = static_cast<char *>(palloc(BLCKSZ));
	BlockNumber block = meta.head;
	for (BlockNumber steps = 0; steps <= blocks; steps++)
	{
		if (block == InvalidBlockNumber || block >= blocks || !sound(arg, block))
		{
			std::snprintf(why, why_size, "the null-row list reaches block %u, which is not a sound page of it", block);
			return false;
		}
		Buffer buffer = ReadBuffer(index, block);
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		std::memcpy(copy, BufferGetPage(buffer), BLCKSZ);
		UnlockReleaseBuffer(buffer);
		if (HeaderOf(f, copy)->count > f.capacity())
		{
			std::snprintf(why, why_size, "null-row page %u claims %u rows", block, HeaderOf(f, copy)->count);
			return false;
		}
		if (block == meta.tail)
			return true;
		block = NextOf(f, copy);
	}
	std::snprintf(why, why_size, "the null-row list loops");
	return false;
}

} // namespace quarry::am

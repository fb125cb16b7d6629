// The null-row list: appending, build, VACUUM, reading. See bm25_null_rows.h.
#include "am/bm25_null_rows.h"

#include "pg/index_pages.h"

extern "C" {
#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
}

#include <algorithm>
#include <cstring>

namespace quarry::am::bm25 {

namespace {

NullRowsPage *
HeaderOf(Page page)
{
	return reinterpret_cast<NullRowsPage *>(ContentOf(page));
}

ItemPointerData *
TidsOf(Page page)
{
	return reinterpret_cast<ItemPointerData *>(ContentOf(page) + sizeof(NullRowsPage));
}

void
SetCount(Page page, uint32_t count)
{
	HeaderOf(page)->count = count;
	SetContentBytes(page, sizeof(NullRowsPage) + count * sizeof(ItemPointerData));
}

void
InitNullRowsPage(Page page)
{
	InitPage(page, kPageNullRows, 0);
	HeaderOf(page)->reserved = 0;
	SetCount(page, 0);
	OpaqueOf(page)->next = InvalidBlockNumber;
}

// Checks a page of the list and the count it claims.
void
CheckNullRowsPage(Relation index, Page page, BlockNumber block)
{
	CheckPage(index, page, block, kPageNullRows, 0);
	if (HeaderOf(page)->count > kNullRowsPerPage)
		ReportCorrupt(index, "null-row page %u claims %u rows", block, HeaderOf(page)->count);
}

// Appends to the page in `buffer` (exclusively locked, with room), logging
// it with the metapage.
void
AppendToPage(Relation index, Buffer meta_buffer, Buffer buffer, ItemPointer tid)
{
	GenericXLogState *state = GenericXLogStart(index);
	MetaPage *meta = MetaOf(GenericXLogRegisterBuffer(state, meta_buffer, 0));
	Page page = GenericXLogRegisterBuffer(state, buffer, 0);
	uint32_t count = HeaderOf(page)->count;
	TidsOf(page)[count] = *tid;
	SetCount(page, count + 1);
	meta->null_count++;
	meta->null_hint = BufferGetBlockNumber(buffer);
	GenericXLogFinish(state);
}

// Adds a page holding `tid` after the tail (or as the whole list).
void
AppendNewPage(Relation index, Buffer meta_buffer, ItemPointer tid)
{
	MetaPage *current = MetaOf(BufferGetPage(meta_buffer));
	Buffer tail_buffer = InvalidBuffer;
	if (current->null_tail != InvalidBlockNumber)
	{
		tail_buffer = ReadBuffer(index, current->null_tail);
		LockBuffer(tail_buffer, BUFFER_LOCK_EXCLUSIVE);
		CheckNullRowsPage(index, BufferGetPage(tail_buffer), current->null_tail);
	}
	Buffer buffer = pg::NewIndexBuffer(index, IsFreePage);
	GenericXLogState *state = GenericXLogStart(index);
	MetaPage *meta = MetaOf(GenericXLogRegisterBuffer(state, meta_buffer, 0));
	Page page = GenericXLogRegisterBuffer(state, buffer, GENERIC_XLOG_FULL_IMAGE);
	InitNullRowsPage(page);
	TidsOf(page)[0] = *tid;
	SetCount(page, 1);
	const BlockNumber block = BufferGetBlockNumber(buffer);
	if (BufferIsValid(tail_buffer))
		OpaqueOf(GenericXLogRegisterBuffer(state, tail_buffer, 0))->next = block;
	else
		meta->null_head = block;
	meta->null_tail = block;
	meta->null_hint = block;
	meta->null_count++;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buffer);
	if (BufferIsValid(tail_buffer))
		UnlockReleaseBuffer(tail_buffer);
}

} // namespace

void
AppendNullRow(Relation index, ItemPointer tid)
{
	Buffer meta_buffer = ReadBuffer(index, kMetaBlock);
	LockBuffer(meta_buffer, BUFFER_LOCK_EXCLUSIVE);
	CheckPage(index, BufferGetPage(meta_buffer), kMetaBlock, kPageMeta, 0);
	const MetaPage *meta = MetaOf(BufferGetPage(meta_buffer));
	// From the hint along the chain to the tail: the first page with room.
	// Full pages passed over move the hint past them for good.
	BlockNumber block = meta->null_hint != InvalidBlockNumber ? meta->null_hint : meta->null_tail;
	const BlockNumber blocks = RelationGetNumberOfBlocks(index);
	for (BlockNumber steps = 0; block != InvalidBlockNumber && steps < blocks; steps++)
	{
		if (block == kMetaBlock || block >= blocks)
			ReportCorrupt(index, "the null-row list leads to block %u", block);
		Buffer buffer = ReadBuffer(index, block);
		LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
		Page page = BufferGetPage(buffer);
		CheckNullRowsPage(index, page, block);
		if (HeaderOf(page)->count < kNullRowsPerPage)
		{
			AppendToPage(index, meta_buffer, buffer, tid);
			UnlockReleaseBuffer(buffer);
			UnlockReleaseBuffer(meta_buffer);
			return;
		}
		const BlockNumber next = block == meta->null_tail ? InvalidBlockNumber : OpaqueOf(page)->next;
		UnlockReleaseBuffer(buffer);
		block = next;
	}
	AppendNewPage(index, meta_buffer, tid);
	UnlockReleaseBuffer(meta_buffer);
}

void
WriteNullRowsForBuild(Relation index, const ItemPointerData *tids, uint64_t count, MetaPage *meta)
{
	Buffer previous = InvalidBuffer;
	for (uint64_t done = 0; done < count;)
	{
		Buffer buffer = pg::NewIndexBuffer(index, nullptr);
		Page page = BufferGetPage(buffer);
		InitNullRowsPage(page);
		const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(kNullRowsPerPage, count - done));
		std::memcpy(TidsOf(page), tids + done, n * sizeof(ItemPointerData));
		SetCount(page, n);
		MarkBufferDirty(buffer);
		const BlockNumber block = BufferGetBlockNumber(buffer);
		if (BufferIsValid(previous))
		{
			OpaqueOf(BufferGetPage(previous))->next = block;
			MarkBufferDirty(previous);
			UnlockReleaseBuffer(previous);
		}
		else
			meta->null_head = block;
		meta->null_tail = block;
		meta->null_hint = block;
		previous = buffer;
		done += n;
	}
	if (BufferIsValid(previous))
		UnlockReleaseBuffer(previous);
	meta->null_count = count;
}

uint64_t
VacuumNullRows(Relation index, IndexBulkDeleteCallback callback, void *callback_state)
{
	MetaPage meta;
	ReadMeta(index, &meta);
	uint64_t removed = 0;
	bool hint_set = false;
	BlockNumber block = meta.null_head;
	const BlockNumber blocks = RelationGetNumberOfBlocks(index);
	for (BlockNumber steps = 0; block != InvalidBlockNumber && steps < blocks; steps++)
	{
		if (block == kMetaBlock || block >= blocks)
			ReportCorrupt(index, "the null-row list leads to block %u", block);
		vacuum_delay_point();
		// The metapage first, as for inserts.
		Buffer meta_buffer = ReadBuffer(index, kMetaBlock);
		LockBuffer(meta_buffer, BUFFER_LOCK_EXCLUSIVE);
		Buffer buffer = ReadBuffer(index, block);
		LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
		Page page = BufferGetPage(buffer);
		CheckNullRowsPage(index, page, block);
		const uint32_t count = HeaderOf(page)->count;
		ItemPointerData kept[kNullRowsPerPage];
		uint32_t n = 0;
		for (uint32_t i = 0; i < count; i++)
			if (!callback(&TidsOf(page)[i], callback_state))
				kept[n++] = TidsOf(page)[i];
		const bool set_hint = !hint_set && n < kNullRowsPerPage;
		if (n < count || set_hint)
		{
			GenericXLogState *state = GenericXLogStart(index);
			MetaPage *m = MetaOf(GenericXLogRegisterBuffer(state, meta_buffer, 0));
			Page p = GenericXLogRegisterBuffer(state, buffer, 0);
			std::memcpy(TidsOf(p), kept, n * sizeof(ItemPointerData));
			SetCount(p, n);
			m->null_count -= std::min<uint64_t>(m->null_count, count - n);
			if (set_hint)
				m->null_hint = block;
			GenericXLogFinish(state);
			removed += count - n;
			hint_set = hint_set || set_hint;
		}
		const BlockNumber next = block == meta.null_tail ? InvalidBlockNumber : OpaqueOf(page)->next;
		UnlockReleaseBuffer(buffer);
		UnlockReleaseBuffer(meta_buffer);
		block = next;
	}
	return removed;
}

bool
NullRowReader::LoadPage()
{
	while (next_ != InvalidBlockNumber)
	{
		if (next_ == kMetaBlock || next_ >= RelationGetNumberOfBlocks(index_) ||
			pages_read_++ > RelationGetNumberOfBlocks(index_))
			ReportCorrupt(index_, "the null-row list leads to block %u", next_);
		const BlockNumber block = next_;
		Buffer buffer = ReadBuffer(index_, block);
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		Page page = BufferGetPage(buffer);
		CheckNullRowsPage(index_, page, block);
		count_ = HeaderOf(page)->count;
		std::memcpy(tids_, TidsOf(page), count_ * sizeof(ItemPointerData));
		next_ = block == tail_ ? InvalidBlockNumber : OpaqueOf(page)->next;
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

} // namespace quarry::am::bm25

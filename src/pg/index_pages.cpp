#include "pg/index_pages.h"

#include "pg/guard.h"

extern "C" {
#include "access/xloginsert.h"
#include "miscadmin.h"
#include "storage/indexfsm.h"
#include "access/amapi.h"
#include "storage/lmgr.h"
#include "utils/rel.h"
}

#include <cstdarg>
#include <cstdio>

namespace quarry::pg {

PageEdit::PageEdit(Relation index, bool building) : index_(index), building_(building)
{
	if (!building_)
		state_ = GenericXLogStart(index_);
}

Page
PageEdit::Register(Buffer buffer, bool fresh)
{
	if (count_ >= MAX_GENERIC_XLOG_PAGES)
		ThrowError(ERRCODE_INTERNAL_ERROR, "index \"%s\": more than %d pages in one change",
				   RelationGetRelationName(index_), MAX_GENERIC_XLOG_PAGES);
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
FinishNewPage(Buffer buffer, bool wal)
{
	START_CRIT_SECTION();
	MarkBufferDirty(buffer);
	if (wal)
		log_newpage_buffer(buffer, true);
	END_CRIT_SECTION();
}

Buffer
NewInitForkBuffer(Relation index)
{
	Buffer buffer = ReadBufferExtended(index, INIT_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	return buffer;
}

namespace {

struct NamedAccessMethod {
	const void *ambuild;
	const char *name;
};
NamedAccessMethod named_access_methods[4];

const char *
AccessMethodNameOf(Relation index)
{
	const void *ambuild = index->rd_indam != nullptr ? reinterpret_cast<const void *>(index->rd_indam->ambuild) : nullptr;
	for (const NamedAccessMethod &am : named_access_methods)
		if (am.ambuild != nullptr && am.ambuild == ambuild)
			return am.name;
	return "quarry";
}

} // namespace

void
NameAccessMethod(const void *ambuild, const char *name)
{
	for (NamedAccessMethod &am : named_access_methods)
	{
		if (am.ambuild == ambuild)
			return;
		if (am.ambuild == nullptr)
		{
			am = NamedAccessMethod{ambuild, name};
			return;
		}
	}
}

void
ThrowCorrupt(Relation index, const char *fmt, ...)
{
	Text detail;
	va_list args;
	va_start(args, fmt);
	std::vsnprintf(detail.text, sizeof detail.text, fmt, args);
	va_end(args);
	const char *name = RelationGetRelationName(index);
	throw Error(ERRCODE_INDEX_CORRUPTED, Format("%s index \"%s\" is corrupted", AccessMethodNameOf(index), name).text,
				detail.text, Format("REINDEX INDEX %s rebuilds it.", name).text);
}

void
ThrowOtherFormat(Relation index, uint32_t found, uint32_t expected)
{
	const char *name = RelationGetRelationName(index);
	throw Error(ERRCODE_FEATURE_NOT_SUPPORTED,
				Format("%s index \"%s\" has on-disk format %u; this quarry reads format %u",
					   AccessMethodNameOf(index), name, found, expected)
					.text,
				nullptr, Format("REINDEX INDEX %s rebuilds it.", name).text);
}

Buffer
NewIndexBuffer(Relation index, PageReusable reusable)
{
	// First try pages VACUUM recorded as free (as contrib/bloom does).
	for (;;)
	{
		BlockNumber blkno = GetFreeIndexPage(index);
		if (blkno == InvalidBlockNumber)
			break;
		Buffer buffer = ReadBuffer(index, blkno);
		// Someone else may have taken it: only a page we lock at once and that is
		// still free is ours.
		if (ConditionalLockBuffer(buffer))
		{
			Page page = BufferGetPage(buffer);
			if (PageIsNew(page) || (reusable != nullptr && reusable(page)))
				return buffer;
			LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
		}
		ReleaseBuffer(buffer);
	}

	return NewIndexBufferAtEnd(index);
}

Buffer
NewIndexBufferAtEnd(Relation index)
{
	bool need_lock = !RELATION_IS_LOCAL(index);
	if (need_lock)
		LockRelationForExtension(index, ExclusiveLock);
	Buffer buffer = ReadBuffer(index, P_NEW);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	if (need_lock)
		UnlockRelationForExtension(index, ExclusiveLock);
	return buffer;
}

void
LogNewIndexPages(Relation index)
{
	if (!RelationNeedsWAL(index))
		return;
	BlockNumber blocks = RelationGetNumberOfBlocks(index);
	log_newpage_range(index, MAIN_FORKNUM, 0, blocks, true);
	if (blocks > 0)
		LogRelationLength(index, blocks - 1);
}

void
LogRelationLength(Relation index, BlockNumber last_block)
{
	if (!RelationNeedsWAL(index))
		return;
	Buffer buffer = ReadBuffer(index, last_block);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	// A page with content is logged by whoever wrote it; replaying that record
	// extends the relation too.
	if (PageIsNew(BufferGetPage(buffer)))
		log_newpage_buffer(buffer, false);
	UnlockReleaseBuffer(buffer);
}

} // namespace quarry::pg

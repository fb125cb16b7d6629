#include "pg/index_pages.h"

extern "C" {
#include "access/xloginsert.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
}

namespace quarry::pg {

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

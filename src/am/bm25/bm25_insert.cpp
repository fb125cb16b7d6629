// aminsert for quarry_bm25: a new or updated row goes to the pending list at
// once, so it is searchable as soon as its transaction's changes are visible;
// a NULL value (in an index of fields: every field NULL) goes to the
// null-row list.
// N, the total length and the document frequencies include it immediately. The
// row is tokenized before any lock is taken; the append itself holds the
// metapage's exclusive lock for a memcpy and a WAL record.
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_maintenance.h"
#include "am/bm25/bm25_pending.h"

extern "C" {
#include "utils/memutils.h"
}

namespace quarry::am::bm25 {

bool
Insert(Relation index, Datum *values, bool *isnull, ItemPointer tid, Relation heap, IndexUniqueCheck check_unique,
	   bool index_unchanged, IndexInfo *info)
{
	const uint32_t fields = IndexRelationGetNumberOfKeyAttributes(index);
	if (RowIsNull(isnull, fields))
	{
		am::AppendNullRow(NullRowFormat(), index, tid); // ordered scans return NULL rows last
		return false;
	}

	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "quarry_bm25 insert", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	MetaPage meta;
	ReadMeta(index, &meta);
	Tokens tokens = TokenizeRow(IndexTextConfig(index, meta), values, isnull, fields);
	uint64_t pending_bytes = AppendPending(index, tid, tokens, (meta.flags & kMetaPositions) != 0);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);

	MaybeFlushPending(index, pending_bytes);
	return false;
}

} // namespace quarry::am::bm25

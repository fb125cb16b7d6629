// The null-row list of a quarry_bm25 index: the heap TIDs of rows whose value
// is NULL (see NullRowsPage in bm25_format.h). They are no documents (not in N,
// never matched by @@@), but ORDER BY col <@> q must return them after every
// other row, with a NULL score, as the query without the index does.
//
// The list is a chain of pages that are never unlinked: VACUUM compacts each
// page in place, and inserts fill the first page with room from a hint in the
// metapage, so a table whose NULL rows come and go does not grow the chain.
// Every change is one GenericXLog record that includes the metapage, which is
// always locked first (as for the pending list).
//
// C-shaped: these functions call PostgreSQL directly and may raise ERRORs.
#pragma once

#include "am/bm25.h"

extern "C" {
#include "access/genam.h"
}

namespace quarry::am::bm25 {

/// aminsert of a NULL value.
void AppendNullRow(Relation index, ItemPointer tid);

/// ambuild: writes `count` TIDs as the list (no WAL; the build logs every page)
/// and records it in the metapage image `meta`.
void WriteNullRowsForBuild(Relation index, const ItemPointerData *tids, uint64_t count, MetaPage *meta);

/// ambulkdelete: removes the TIDs `callback` reports dead; returns how many.
uint64_t VacuumNullRows(Relation index, IndexBulkDeleteCallback callback, void *callback_state);

/// Reads the list page by page, from the head to the tail recorded in a
/// metapage copy. Trivially destructible; its buffer comes from the caller.
class NullRowReader {
public:
	/// `buffer` holds kNullRowsPerPage TIDs.
	NullRowReader(Relation index, const MetaPage &meta, ItemPointerData *buffer)
		: index_(index), next_(meta.null_head), tail_(meta.null_tail), tids_(buffer)
	{
	}

	/// The next TID; false at the end of the list.
	bool Next(ItemPointer out);

private:
	bool LoadPage();

	Relation index_;
	BlockNumber next_; // the page to read next, InvalidBlockNumber after the tail
	BlockNumber tail_;
	ItemPointerData *tids_;
	uint32_t count_ = 0;
	uint32_t at_ = 0;
	BlockNumber pages_read_ = 0;
};

} // namespace quarry::am::bm25

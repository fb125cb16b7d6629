// Page allocation and WAL helpers shared by quarry's index access methods.
//
// Page updates after the build go through GenericXLog (at most
// MAX_GENERIC_XLOG_PAGES = 4 buffers per record): crash recovery and physical
// replicas replay them with no custom resource manager. A build writes its pages
// without WAL and then logs them all at once (LogNewIndexPages), as pgvector and
// nbtree do.
//
// Every page change after a build is made through one PageEdit, on both
// index types; a damaged page is reported through ThrowCorrupt.
//
// These are C-shaped helpers: call them from frames without live C++ objects
// (or through PgCall); they may raise ERRORs (thrown, see guard.h).
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "utils/rel.h"
}

#include <type_traits>

namespace quarry::pg {

/// Up to MAX_GENERIC_XLOG_PAGES (4) buffers, locked exclusively by the
/// caller, changed together: one GenericXLog record, or, during a build
/// (`building`), plain changes marked dirty that the build WAL-logs at its end
/// (LogNewIndexPages). Usage:
///
///   PageEdit edit(index, building);
///   Page meta = edit.Register(meta_buffer);
///   Page page = edit.Register(buffer, true);   // being initialised: full image
///   ... change meta and page ...
///   edit.Finish();                              // or edit.Abort()
///
/// Trivially destructible: it lives across PostgreSQL calls made without
/// PgCall; an ERROR in between abandons the record (GenericXLog's state is
/// palloc'd; the buffers' locks go with the transaction).
class PageEdit {
public:
	PageEdit(Relation index, bool building);

	/// The page to change for `buffer`. `fresh`: the page is being
	/// initialised (logged as a full image).
	Page Register(Buffer buffer, bool fresh = false);

	/// Applies the changes: WAL-logs them, or marks the buffers dirty.
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
static_assert(std::is_trivially_destructible_v<PageEdit>);

/// Throws ERRCODE_INDEX_CORRUPTED: "<access method> index "<name>" is
/// corrupted", the printf-style detail, and a hint to REINDEX. The one way
/// both index types report a damaged page or record. Reads no catalog (it is
/// called with buffers locked): the access method's name comes from
/// NameAccessMethod.
[[noreturn]] void ThrowCorrupt(Relation index, const char *fmt, ...) pg_attribute_printf(2, 3);

/// Throws ERRCODE_FEATURE_NOT_SUPPORTED: the index was written in on-disk
/// format `found`, this quarry reads `expected`; REINDEX rebuilds it.
[[noreturn]] void ThrowOtherFormat(Relation index, uint32_t found, uint32_t expected);

/// Records that indexes whose IndexAmRoutine has this `ambuild` belong to
/// access method `name` (a string with static storage), for ThrowCorrupt.
void NameAccessMethod(const void *ambuild, const char *name);

/// Tells whether a page taken from the free space map may be reused (for
/// example: it carries the access method's "deleted" flag). New (all-zero) pages
/// are always reusable and are not passed to it.
using PageReusable = bool (*)(Page page);

/// A page for new content: a recycled one from the free space map if
/// `reusable` accepts it, else a new block at the end of the relation. Returned
/// pinned and exclusively locked; the caller initialises it (under GenericXLog
/// outside of a build).
Buffer NewIndexBuffer(Relation index, PageReusable reusable);

/// A new block at the end of the relation, pinned and exclusively locked.
Buffer NewIndexBufferAtEnd(Relation index);

/// A page written whole into a new (or recycled) buffer: marks it dirty and,
/// when `wal`, WAL-logs it as a full image, in one critical section. The way
/// pages a flush, a merge or a build writes in bulk are logged (a PageEdit
/// would log the same image after copying the page twice).
void FinishNewPage(Buffer buffer, bool wal);

/// The first block of `index`'s init fork (an unlogged index's ambuildempty),
/// pinned and exclusively locked; fill it and call FinishNewPage(buffer, true).
Buffer NewInitForkBuffer(Relation index);

/// WAL-logs every page of `index` (main fork) after a build that wrote them
/// without WAL, and the relation's length (trailing pages still empty, e.g. a
/// preallocated extent, included). Does nothing for relations that need no WAL.
void LogNewIndexPages(Relation index);

/// Makes WAL replay extend the relation through `last_block` when that block
/// is still empty (all zeros): log_newpage_range skips empty pages, and a
/// standby or a crash-recovered primary would otherwise lack blocks the
/// metapage already refers to (as hash indexes log the last block of the
/// buckets they preallocate). Call after extending by several blocks.
void LogRelationLength(Relation index, BlockNumber last_block);

} // namespace quarry::pg

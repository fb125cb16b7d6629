// Page allocation and WAL helpers shared by quarry's index access methods.
//
// Page updates after the build go through GenericXLog (at most
// MAX_GENERIC_XLOG_PAGES = 4 buffers per record): crash recovery and physical
// replicas replay them with no custom resource manager. A build writes its pages
// without WAL and then logs them all at once (LogNewIndexPages), as pgvector and
// nbtree do.
//
// These are C-shaped helpers: call them from frames without live C++ objects
// (or through PgCall); they may raise ERRORs.
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "utils/rel.h"
}

namespace quarry::pg {

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

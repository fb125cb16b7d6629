// VACUUM for quarry_bm25.
//
// ambulkdelete asks PostgreSQL's callback about every indexed row (the index AM
// API offers no cheaper way to learn which rows died) and collects the dead
// ones of each segment page by page of its alive bitmap: each page's bits are
// cleared and the rows subtracted from N and the total lengths in the metapage
// in one WAL record, so a crash never leaves the two apart. Pages written are
// proportional to the rows removed, not to the index. Removed rows of the
// pending list get their "removed" flag the same way, one record each.
//
// amvacuumcleanup recycles retired pages whose last possible reader is gone,
// compacts segments in which a tenth or more of the rows were removed (which
// also refreshes their document frequencies), and applies the merge policy.
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_maintenance.h"
#include "am/bm25/bm25_pending.h"
#include "am/bm25/bm25_segment.h"

#include "pg/compat.h"
#include "pg/guard.h"
#include "pg/memory_glue.h"
#include "pg/owned.h"

extern "C" {
#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "utils/memutils.h"
}

#include <algorithm>

namespace quarry::am::bm25 {

namespace {

// What removed rows take from the statistics.
struct Removed {
	uint64_t rows = 0;
	uint64_t length = 0;
	uint64_t field_lengths[kMaxFields] = {}; // an index of fields
};

// Subtracts `removed` from the metapage's statistics and adds its rows to
// the removed count of segment `segment_id` (kNoSegment: pending rows).
constexpr uint32_t kNoSegment = UINT32_MAX;

void
SubtractFromMeta(MetaPage *m, const Removed &removed, uint32_t segment_id)
{
	m->doc_count -= std::min(m->doc_count, removed.rows);
	m->total_length -= std::min(m->total_length, removed.length);
	for (uint32_t f = 0; f < kMaxFields; f++)
		m->field_total_length[f] -= std::min(m->field_total_length[f], removed.field_lengths[f]);
	for (uint32_t i = 0; i < m->segment_count && segment_id != kNoSegment; i++)
		if (m->segments[i].id == segment_id)
			m->segments[i].dead_count += static_cast<uint32_t>(removed.rows);
}

// Removes rows on one page: `mark` changes data page `block` (of `type`,
// `segment_id`'s for segment pages) and the same WAL record subtracts
// `removed` from the metapage. One record, so that after a crash the page
// and the statistics agree (with a record each, a crash between them left
// the metapage counting rows whose alive bits were cleared, for good: the
// next VACUUM skips rows already marked). The metapage is locked first, as
// AppendPending locks it.
template <typename Mark>
void
RemoveOnPage(Relation index, BlockNumber block, PageType type, uint32_t segment_id, const Removed &removed,
			 Mark &&mark)
{
	pg::PgCall([&] {
		Buffer meta_buffer = ReadBuffer(index, kMetaBlock);
		LockBuffer(meta_buffer, BUFFER_LOCK_EXCLUSIVE);
		CheckPage(index, BufferGetPage(meta_buffer), kMetaBlock, PageType::kMeta, 0);
		Buffer buffer = ReadBuffer(index, block);
		LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
		CheckPage(index, BufferGetPage(buffer), block, type, type == PageType::kSegmentData ? segment_id : 0);
		pg::PageEdit edit(index, false);
		MetaPage *meta = MetaOf(edit.Register(meta_buffer));
		mark(edit.Register(buffer));
		SubtractFromMeta(meta, removed, segment_id);
		edit.Finish();
		UnlockReleaseBuffer(buffer);
		UnlockReleaseBuffer(meta_buffer);
	});
}

// The dead rows of one segment found on one alive-bitmap page, waiting to be
// cleared.
struct DeadOnPage {
	uint32_t page = 0;
	uint32_t *bits; // kAliveBitsPerPage entries
	uint32_t count = 0;
	Removed removed;
};

// Clears the alive bits of the rows in `dead` and takes them from the
// statistics, in one WAL record; adds their number to `total`.
void
ClearAliveBits(Relation index, const SegmentReader &segment, DeadOnPage &dead, uint64_t *total)
{
	if (dead.count == 0)
		return;
	BlockNumber block = LogicalBlock(segment, segment.header.alive_first + dead.page);
	if (block == InvalidBlockNumber)
		pg::ThrowCorrupt(index, "Segment %u: an alive bitmap page is missing.", segment.ref.id);
	RemoveOnPage(index, block, PageType::kSegmentData, segment.ref.id, dead.removed, [&](Page page) {
		auto *bits = reinterpret_cast<uint8_t *>(ContentOf(page));
		for (uint32_t k = 0; k < dead.count; k++)
			bits[dead.bits[k] / 8] &= static_cast<uint8_t>(~(1u << (dead.bits[k] % 8)));
	});
	*total += dead.removed.rows;
	dead.count = 0;
	dead.removed = Removed{};
}

// Finds the dead rows of one segment and removes them, one alive-bitmap page
// at a time (rows are visited in id order); adds their number to `total`.
void
VacuumSegment(Relation index, SegmentReader *segment, IndexBulkDeleteCallback callback, void *callback_state,
			  mem::ScanArena &arena, uint32_t *bits, uint64_t *total)
{
	auto *docs = arena.Make<SegmentDocs>(segment);
	const uint32_t fields = LengthArrays(segment->header) - 1; // 0 without fields
	auto **field_docs = arena.MakeArray<SegmentDocs *>(std::max<uint32_t>(fields, 1));
	for (uint32_t f = 0; f < fields; f++)
		field_docs[f] = arena.Make<SegmentDocs>(segment, static_cast<int>(f));
	DeadOnPage dead;
	dead.bits = bits;
	for (uint32_t d = 0; d < segment->header.doc_count; d++)
	{
		if (d % 4096 == 0)
			pg::PgCall([] { pg::VacuumDelayPoint(); });
		if (!docs->Alive(d))
			continue;
		ItemPointerData tid;
		docs->RowId(d, &tid);
		if (!pg::PgCall([&] { return callback(&tid, callback_state); }))
			continue;
		if (d / kAliveBitsPerPage != dead.page)
			ClearAliveBits(index, *segment, dead, total);
		dead.page = d / kAliveBitsPerPage;
		dead.bits[dead.count++] = d % kAliveBitsPerPage;
		dead.removed.rows++;
		dead.removed.length += docs->Length(d);
		for (uint32_t f = 0; f < fields; f++)
			dead.removed.field_lengths[f] += field_docs[f]->Length(d);
	}
	docs->Release();
	for (uint32_t f = 0; f < fields; f++)
		field_docs[f]->Release();
	ClearAliveBits(index, *segment, dead, total);
}

// Flags the dead rows of the pending list removed, one WAL record each
// (with the metapage's statistics); adds their number to `total`.
void
VacuumPending(Relation index, const MetaPage &meta, IndexBulkDeleteCallback callback, void *callback_state,
			  mem::ScanArena &arena, uint64_t *total)
{
	PendingSnapshot *pending = ReadPending(index, meta, arena);
	for (uint32_t i = 0; i < pending->count; i++)
	{
		PendingDoc &doc = pending->docs[i];
		if (doc.removed || !pg::PgCall([&] { return callback(&doc.tid, callback_state); }))
			continue;
		Removed removed;
		removed.rows = 1;
		removed.length = doc.length;
		for (uint32_t f = 0; f < pending->field_count; f++)
			removed.field_lengths[f] = pending->field_lengths[std::size_t{f} * pending->count + i];
		BlockNumber block;
		uint32_t offset;
		LocatePendingFlags(index, *pending, doc.stream_offset, &block, &offset);
		RemoveOnPage(index, block, PageType::kPending, kNoSegment, removed,
					 [&](Page page) { MarkPendingRemoved(index, page, block, offset); });
		++*total;
	}
}

} // namespace

IndexBulkDeleteResult *
BulkDelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
		   void *callback_state)
{
	Relation index = info->index;
	stats = StatsOrNew(stats);

	LockMaintenance(index);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "quarry_bm25 vacuum", ALLOCSET_DEFAULT_SIZES);
	mem::ScanArena *arena = pg::CreateScanArena(cxt, 64 * 1024);
	MetaPage meta;
	ReadMeta(index, &meta);
	uint64_t removed = 0;
	auto *bits = arena->MakeArray<uint32_t>(kAliveBitsPerPage);
	fts::DocId base = 0;
	for (uint32_t s = 0; s < meta.segment_count; s++)
	{
		SegmentReader *segment = OpenSegment(index, meta.segments[s], base, *arena);
		VacuumSegment(index, segment, callback, callback_state, *arena, bits, &removed);
		base += meta.segments[s].doc_count;
	}
	VacuumPending(index, meta, callback, callback_state, *arena, &removed);
	MemoryContextDelete(cxt);
	uint64_t null_rows_removed = am::VacuumNullRows(NullRowFormat(), index, callback, callback_state);
	UnlockMaintenance(index);

	ReadMeta(index, &meta);
	stats->tuples_removed += static_cast<double>(removed + null_rows_removed);
	stats->num_index_tuples = static_cast<double>(meta.doc_count + meta.null_rows.count);
	stats->num_pages = RelationGetNumberOfBlocks(index);
	return stats;
}

IndexBulkDeleteResult *
VacuumCleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	Relation index = info->index;
	stats = StatsOrNew(stats);
	uint32_t recycled = MaintainIndex(index);
	MetaPage meta;
	ReadMeta(index, &meta);
	stats->num_pages = RelationGetNumberOfBlocks(index);
	stats->num_index_tuples = static_cast<double>(meta.doc_count + meta.null_rows.count);
	stats->estimated_count = false;
	stats->pages_newly_deleted += recycled;
	return stats;
}

} // namespace quarry::am::bm25

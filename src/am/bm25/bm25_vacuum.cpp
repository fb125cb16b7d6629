// VACUUM for quarry_bm25.
//
// ambulkdelete asks PostgreSQL's callback about every indexed row (the index AM
// API offers no cheaper way to learn which rows died) and collects the dead
// ones of each segment in a CRoaring bitmap; then it clears their alive bits,
// page by page, and subtracts them from N and the total length in the
// metapage. Pages written are proportional to the rows removed, not to the
// index. Removed rows of the pending list get their "removed" flag.
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
#include <roaring/roaring.h>
}

#include <new>

namespace quarry::am::bm25 {

namespace {

// A CRoaring bitmap owned by a memory context, so an ERROR cannot leak it
// (CRoaring 0.2 allocates with malloc and has no memory hooks).
struct DeadSet {
	DeadSet() : bitmap(roaring_bitmap_create())
	{
		if (bitmap == nullptr)
			throw std::bad_alloc();
	}
	~DeadSet() { roaring_bitmap_free(bitmap); }
	DeadSet(const DeadSet &) = delete;
	DeadSet &operator=(const DeadSet &) = delete;

	roaring_bitmap_t *bitmap;
};

struct Removed {
	uint64_t rows = 0;
	uint64_t length = 0;
	uint64_t field_lengths[kMaxFields] = {}; // an index of fields
};

// Clears the alive bits of `dead` (sorted local ids) in one segment: a WAL
// record per bitmap page touched.
void
ClearAliveBits(Relation index, const SegmentReader &segment, const uint32_t *dead, uint64_t count)
{
	uint64_t i = 0;
	while (i < count)
	{
		uint32_t page = dead[i] / kAliveBitsPerPage;
		BlockNumber block = LogicalBlock(segment, segment.header.alive_first + page);
		if (block == InvalidBlockNumber)
			pg::ThrowCorrupt(index, "Segment %u: an alive bitmap page is missing.", segment.ref.id);
		uint64_t end = i;
		while (end < count && dead[end] / kAliveBitsPerPage == page)
			end++;
		pg::PgCall([&] {
			Buffer buffer = ReadBuffer(index, block);
			LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
			CheckPage(index, BufferGetPage(buffer), block, PageType::kSegmentData, segment.ref.id);
			pg::PageEdit edit(index, false);
			auto *bits = reinterpret_cast<uint8_t *>(ContentOf(edit.Register(buffer)));
			for (uint64_t k = i; k < end; k++)
			{
				uint32_t bit = dead[k] % kAliveBitsPerPage;
				bits[bit / 8] &= static_cast<uint8_t>(~(1u << (bit % 8)));
			}
			edit.Finish();
			UnlockReleaseBuffer(buffer);
		});
		i = end;
	}
}

// Finds the dead rows of one segment and removes them. Returns how many.
uint64_t
VacuumSegment(Relation index, SegmentReader *segment, IndexBulkDeleteCallback callback, void *callback_state,
			  MemoryContext cxt, mem::ScanArena &arena, Removed &removed)
{
	auto *dead = pg::MakeOwned<DeadSet>(cxt);
	auto *docs = arena.Make<SegmentDocs>(segment);
	const uint32_t fields = LengthArrays(segment->header) - 1; // 0 without fields
	auto **field_docs = arena.MakeArray<SegmentDocs *>(std::max<uint32_t>(fields, 1));
	for (uint32_t f = 0; f < fields; f++)
		field_docs[f] = arena.Make<SegmentDocs>(segment, static_cast<int>(f));
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
		roaring_bitmap_add(dead->bitmap, d);
		removed.length += docs->Length(d);
		for (uint32_t f = 0; f < fields; f++)
			removed.field_lengths[f] += field_docs[f]->Length(d);
	}
	docs->Release();
	for (uint32_t f = 0; f < fields; f++)
		field_docs[f]->Release();
	uint64_t count = roaring_bitmap_get_cardinality(dead->bitmap);
	if (count > 0)
	{
		auto *ids = arena.MakeArray<uint32_t>(count);
		roaring_bitmap_to_uint32_array(dead->bitmap, ids);
		ClearAliveBits(index, *segment, ids, count);
	}
	pg::DestroyOwned(dead);
	removed.rows += count;
	return count;
}

void
VacuumPending(Relation index, const MetaPage &meta, IndexBulkDeleteCallback callback, void *callback_state,
			  mem::ScanArena &arena, Removed &removed)
{
	PendingSnapshot *pending = ReadPending(index, meta, arena);
	for (uint32_t i = 0; i < pending->count; i++)
	{
		PendingDoc &doc = pending->docs[i];
		if (doc.removed || !pg::PgCall([&] { return callback(&doc.tid, callback_state); }))
			continue;
		MarkPendingRemoved(index, *pending, doc.stream_offset);
		removed.rows++;
		removed.length += doc.length;
		for (uint32_t f = 0; f < pending->field_count; f++)
			removed.field_lengths[f] += pending->field_lengths[std::size_t{f} * pending->count + i];
	}
}

// Subtracts the removed rows from the statistics and adds each segment's
// removed count (matched by segment id).
void
RecordRemoved(Relation index, const Removed &removed, const uint32_t *segment_ids, const uint64_t *dead,
			  uint32_t segment_count)
{
	pg::PgCall([&] {
		Buffer buffer = ReadBuffer(index, kMetaBlock);
		LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
		pg::PageEdit edit(index, false);
		MetaPage *m = MetaOf(edit.Register(buffer));
		m->doc_count -= std::min(m->doc_count, removed.rows);
		m->total_length -= std::min(m->total_length, removed.length);
		for (uint32_t f = 0; f < kMaxFields; f++)
			m->field_total_length[f] -= std::min(m->field_total_length[f], removed.field_lengths[f]);
		for (uint32_t i = 0; i < m->segment_count; i++)
			for (uint32_t k = 0; k < segment_count; k++)
				if (m->segments[i].id == segment_ids[k])
					m->segments[i].dead_count += static_cast<uint32_t>(dead[k]);
		edit.Finish();
		UnlockReleaseBuffer(buffer);
	});
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
	Removed removed;
	auto *ids = arena->MakeArray<uint32_t>(std::max<uint32_t>(meta.segment_count, 1));
	auto *dead = arena->MakeArray<uint64_t>(std::max<uint32_t>(meta.segment_count, 1));
	fts::DocId base = 0;
	for (uint32_t s = 0; s < meta.segment_count; s++)
	{
		SegmentReader *segment = OpenSegment(index, meta.segments[s], base, *arena);
		ids[s] = meta.segments[s].id;
		dead[s] = VacuumSegment(index, segment, callback, callback_state, cxt, *arena, removed);
		base += meta.segments[s].doc_count;
	}
	VacuumPending(index, meta, callback, callback_state, *arena, removed);
	if (removed.rows > 0)
		RecordRemoved(index, removed, ids, dead, meta.segment_count);
	MemoryContextDelete(cxt);
	uint64_t null_rows_removed = am::VacuumNullRows(NullRowFormat(), index, callback, callback_state);
	UnlockMaintenance(index);

	ReadMeta(index, &meta);
	stats->tuples_removed += static_cast<double>(removed.rows + null_rows_removed);
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

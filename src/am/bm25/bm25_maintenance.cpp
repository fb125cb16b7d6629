// Segment maintenance: writing, flushing, merging, compacting and recycling segments (see bm25_maintenance.h).
#include "am/bm25/bm25_maintenance.h"
#include "fts/term_positions.h"

#include "am/bm25/bm25_pending.h"
#include "am/bm25/bm25_search.h"
#include "am/bm25/bm25_segment.h"
#include "pg/guard.h"
#include "pg/memory_glue.h"
#include "pg/owned.h"

extern "C" {
#include "access/generic_xlog.h"
#include "storage/indexfsm.h"
#include "utils/memutils.h"
}

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace quarry::am::bm25 {

namespace {

template <typename T>
using ArenaVector = std::vector<T, mem::BuildAllocator<T>>;

// Memory of one maintenance operation: a context, its build arena (for the
// segment writer's containers) and a scan arena (for reading segments).
struct Work {
	MemoryContext cxt;
	mem::BuildArena *arena;
	mem::ScanArena *scratch;
};

Work
StartWork(const char *name)
{
	Work w;
	// `name` is a string literal: it must outlive the context.
	w.cxt = pg::PgCall([&] { return AllocSetContextCreateInternal(CurrentMemoryContext, name, ALLOCSET_DEFAULT_SIZES); });
	w.arena = pg::CreateBuildArena(w.cxt);
	w.scratch = pg::CreateScanArena(w.cxt, 64 * 1024);
	return w;
}

void
EndWork(Work &w)
{
	pg::PgCall([&] { MemoryContextDelete(w.cxt); });
}

// --- merging segments ---------------------------------------------------------------

// New ids for the live documents of the inputs, in order, with their lengths
// and row ids.
struct DocMap {
	explicit DocMap(mem::BuildArena &arena)
		: new_ids(mem::BuildAllocator<uint32_t>(arena)), offsets(mem::BuildAllocator<uint32_t>(arena)),
		  lengths(mem::BuildAllocator<uint32_t>(arena)), field_lengths(mem::BuildAllocator<uint32_t>(arena)),
		  row_ids(mem::BuildAllocator<uint64_t>(arena))
	{
	}
	ArenaVector<uint32_t> new_ids; // all inputs, concatenated
	ArenaVector<uint32_t> offsets; // where each input starts in new_ids
	ArenaVector<uint32_t> lengths;
	ArenaVector<uint32_t> field_lengths; // an index of fields: document after document
	uint32_t field_count = 1;
	ArenaVector<uint64_t> row_ids;
};

// Numbers the inputs' live documents in order and gathers their lengths (and
// field lengths: the inputs' field count, all alike) and row ids.
void
MapDocuments(SegmentReader **inputs, uint32_t n, mem::ScanArena &scratch, DocMap &map)
{
	map.field_count = 1;
	for (uint32_t i = 0; i < n; i++)
		if (inputs[i]->header.doc_count > 0)
			map.field_count = std::max<uint32_t>(LengthArrays(inputs[i]->header), 2) - 1;
	for (uint32_t i = 0; i < n; i++)
	{
		if (!SegmentFieldsMatch(inputs[i]->header, map.field_count))
			pg::ThrowCorrupt(inputs[i]->index, "Segment %u: its documents have another number of fields.",
							 inputs[i]->ref.id);
		map.offsets.push_back(static_cast<uint32_t>(map.new_ids.size()));
		auto *docs = scratch.Make<SegmentDocs>(inputs[i]);
		auto **fields = scratch.MakeArray<SegmentDocs *>(map.field_count);
		for (uint32_t f = 0; map.field_count >= 2 && f < map.field_count; f++)
			fields[f] = scratch.Make<SegmentDocs>(inputs[i], static_cast<int>(f));
		for (uint32_t d = 0; d < inputs[i]->header.doc_count; d++)
		{
			if (d % 4096 == 0)
				pg::CheckForInterrupts();
			if (!docs->Alive(d))
			{
				map.new_ids.push_back(fts::kEndDoc);
				continue;
			}
			map.new_ids.push_back(static_cast<uint32_t>(map.lengths.size()));
			map.lengths.push_back(docs->Length(d));
			for (uint32_t f = 0; map.field_count >= 2 && f < map.field_count; f++)
				map.field_lengths.push_back(fields[f]->Length(d));
			ItemPointerData tid;
			docs->RowId(d, &tid);
			map.row_ids.push_back(pg::PackTid(&tid));
		}
		docs->Release();
		for (uint32_t f = 0; map.field_count >= 2 && f < map.field_count; f++)
			fields[f]->Release();
	}
}

// What a merge appends a term's postings to.
struct MergedList {
	ArenaVector<fts::DocId> &docs;
	ArenaVector<uint32_t> &tfs;
	ArenaVector<uint32_t> *positions; // null: the index has none
};

// Appends the positions of the cursor's document to the list.
void
AppendPositions(fts::PostingCursor &cursor, fts::TermPositionsReader &reader, const SegmentReader *input,
				ArenaVector<uint32_t> &positions)
{
	const uint32_t tf = cursor.Tf();
	const std::size_t at = positions.size();
	positions.resize(at + tf);
	if (!reader.PositionsAt(cursor, {positions.data() + at, tf}))
		pg::ThrowCorrupt(input->index, "Segment %u: unreadable term positions.", input->ref.id);
}

// What a merge reads one input segment's lists with, made once per input (a
// term's lists take nothing more from the scratch arena but a larger
// positions buffer when a block needs one).
struct InputLists {
	static constexpr std::size_t kScratch = 4096;
	uint8_t *posting_scratch;
	uint8_t *position_scratch;
	fts::PostingCursor *cursor;
	fts::TermPositionsReader *reader;

	explicit InputLists(mem::ScanArena &scratch)
		: posting_scratch(scratch.MakeArray<uint8_t>(kScratch)), position_scratch(scratch.MakeArray<uint8_t>(kScratch)),
		  cursor(scratch.Make<fts::PostingCursor>()), reader(scratch.Make<fts::TermPositionsReader>())
	{
	}
};

// Appends input i's postings of a term (and their positions), renumbered,
// dropping removed rows.
void
AppendPostings(SegmentReader *input, const TermInfo &info, const uint32_t *new_ids, InputLists &lists,
			   mem::ScanArena &scratch, MergedList out)
{
	PagePostingBytes bytes(input, info.postings_offset, info.postings_bytes, lists.posting_scratch,
						   InputLists::kScratch);
	PagePostingBytes position_bytes(input, info.postings_offset + info.postings_bytes, PositionsBytes(info),
									lists.position_scratch, InputLists::kScratch);
	fts::PostingCursor &cursor = *lists.cursor;
	if (cursor.Open(&bytes))
	{
		lists.reader->Init(&position_bytes, PositionsBytes(info), cursor.block_count(), ArenaBuffers(scratch));
		for (; cursor.doc() != fts::kEndDoc; cursor.Next())
		{
			if (cursor.doc() >= input->header.doc_count)
				break;
			uint32_t id = new_ids[cursor.doc()];
			if (id == fts::kEndDoc)
				continue;
			out.docs.push_back(id);
			out.tfs.push_back(cursor.Tf());
			if (out.positions != nullptr)
				AppendPositions(cursor, *lists.reader, input, *out.positions);
		}
	}
	bytes.Release();
	position_bytes.Release();
	if (cursor.failed() || cursor.doc() != fts::kEndDoc)
		pg::ThrowCorrupt(input->index, "Segment %u: an unreadable posting list.", input->ref.id);
}

// Writes the merge of `inputs` as segment `id` (removed rows dropped).
SegmentRef
MergeInto(Relation index, bool wal, uint32_t id, bool with_positions, SegmentReader **inputs, uint32_t n, Work &work,
		  uint64_t *total_length)
{
	auto *map = pg::MakeOwned<DocMap>(work.cxt, *work.arena);
	MapDocuments(inputs, n, *work.scratch, *map);
	auto *writer = pg::MakeOwned<SegmentWriter>(work.cxt, index, wal, id, with_positions, *work.arena);
	writer->SetDocuments(map->lengths, map->row_ids, map->field_lengths, map->field_count);

	auto **iterators = work.scratch->MakeArray<TermIterator *>(n);
	auto *heads = work.scratch->MakeArray<std::string_view>(n);
	auto *infos = work.scratch->MakeArray<TermInfo>(n);
	auto *live = work.scratch->MakeArray<bool>(n);
	auto **lists = work.scratch->MakeArray<InputLists *>(n);
	for (uint32_t i = 0; i < n; i++)
	{
		lists[i] = work.scratch->Make<InputLists>(*work.scratch);
		iterators[i] = work.scratch->Make<TermIterator>(inputs[i], work.scratch->MakeArray<uint8_t>(kPageContentBytes));
		live[i] = iterators[i]->Next(heads[i], infos[i]);
	}
	ArenaVector<fts::DocId> docs{mem::BuildAllocator<fts::DocId>(*work.arena)};
	ArenaVector<uint32_t> tfs{mem::BuildAllocator<uint32_t>(*work.arena)};
	ArenaVector<uint32_t> positions{mem::BuildAllocator<uint32_t>(*work.arena)};
	std::string term;
	for (uint32_t terms = 0;; terms++)
	{
		int smallest = -1;
		for (uint32_t i = 0; i < n; i++)
			if (live[i] && (smallest < 0 || heads[i] < heads[smallest]))
				smallest = static_cast<int>(i);
		if (smallest < 0)
			break;
		term.assign(heads[smallest]);
		docs.clear();
		tfs.clear();
		positions.clear();
		for (uint32_t i = 0; i < n; i++)
		{
			if (!live[i] || heads[i] != term)
				continue;
			AppendPostings(inputs[i], infos[i], map->new_ids.data() + map->offsets[i], *lists[i], *work.scratch,
						   {docs, tfs, with_positions ? &positions : nullptr});
			live[i] = iterators[i]->Next(heads[i], infos[i]);
		}
		if (!docs.empty())
			writer->AddTerm(term, docs, tfs, positions);
		if (terms % 256 == 0)
			pg::CheckForInterrupts();
	}
	SegmentRef ref = writer->Finish();
	*total_length = writer->total_length();
	pg::DestroyOwned(writer);
	pg::DestroyOwned(map);
	return ref;
}

// --- page recycling -------------------------------------------------------------

// Every block of a segment: data pages, extent pages, header.
void
SegmentBlocks(Relation index, BlockNumber header_block, Work &work, ArenaVector<BlockNumber> &blocks)
{
	SegmentReader *segment = OpenRetiredSegment(index, header_block, *work.scratch);
	const SegmentRef &ref = segment->ref;
	for (uint32_t i = 0; i < segment->header.extent_count; i++)
		for (uint32_t k = 0; k < segment->extents[i].count; k++)
			blocks.push_back(segment->extents[i].start + k);
	BlockNumber next = pg::PgCall([&] {
		Buffer b = ReadBuffer(index, ref.header);
		BlockNumber n = OpaqueOf(BufferGetPage(b))->next;
		ReleaseBuffer(b);
		return n;
	});
	while (next != InvalidBlockNumber)
	{
		blocks.push_back(next);
		next = pg::PgCall([&] {
			Buffer b = ReadBuffer(index, next);
			CheckPage(index, BufferGetPage(b), next, PageType::kExtents, ref.id);
			BlockNumber n = OpaqueOf(BufferGetPage(b))->next;
			ReleaseBuffer(b);
			return n;
		});
	}
	blocks.push_back(ref.header);
}

void
PendingBlocks(Relation index, const RetiredRef &retired, ArenaVector<BlockNumber> &blocks)
{
	BlockNumber block = retired.first;
	BlockNumber limit = pg::PgCall([&] { return RelationGetNumberOfBlocks(index); });
	while (block != retired.stop && block != InvalidBlockNumber && blocks.size() <= limit)
	{
		blocks.push_back(block);
		block = pg::PgCall([&] {
			Buffer b = ReadBuffer(index, block);
			CheckPage(index, BufferGetPage(b), block, PageType::kPending, 0);
			BlockNumber n = OpaqueOf(BufferGetPage(b))->next;
			ReleaseBuffer(b);
			return n;
		});
	}
}

// Marks pages free (WAL-logged) and records them in the free space map. With
// wal = false (inside a build) only the pages are written.
void
FreePages(Relation index, const ArenaVector<BlockNumber> &blocks, bool wal)
{
	pg::PgCall([&] {
		for (BlockNumber block : blocks)
		{
			Buffer buffer = ReadBuffer(index, block);
			LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
			pg::PageEdit edit(index, !wal);
			InitPage(edit.Register(buffer, true), PageType::kFree, 0);
			edit.Finish();
			UnlockReleaseBuffer(buffer);
			RecordFreeIndexPage(index, block);
		}
		// Make the recorded pages findable by GetFreeIndexPage at once.
		IndexFreeSpaceMapVacuum(index);
	});
}

// Removes the metapage's retired sets that no snapshot can still need, then
// frees their pages. The metapage goes first: after a crash in between, pages
// are leaked, never freed twice.
uint32_t
RecycleRetired(Relation index, Work &work)
{
	MetaPage meta;
	pg::PgCall([&] { ReadMeta(index, &meta); });
	uint32_t ready = 0;
	RetiredRef take[kMaxRetired];
	for (uint32_t i = 0; i < meta.retired_count; i++)
		if (StampIsRecyclable(index, meta.retired[i].stamp))
			take[ready++] = meta.retired[i];
	if (ready == 0)
		return 0;

	ArenaVector<BlockNumber> blocks{mem::BuildAllocator<BlockNumber>(*work.arena)};
	for (uint32_t i = 0; i < ready; i++)
	{
		if (take[i].kind == kRetiredSegment)
			SegmentBlocks(index, take[i].first, work, blocks);
		else
			PendingBlocks(index, take[i], blocks);
	}
	pg::PgCall([&] {
		Buffer buffer = ReadBuffer(index, kMetaBlock);
		LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
		pg::PageEdit edit(index, false);
		MetaPage *m = MetaOf(edit.Register(buffer));
		uint32_t kept = 0;
		for (uint32_t i = 0; i < m->retired_count; i++)
		{
			bool taken = false;
			for (uint32_t k = 0; k < ready && !taken; k++)
				taken = take[k].first == m->retired[i].first && take[k].kind == m->retired[i].kind;
			if (!taken)
				m->retired[kept++] = m->retired[i];
		}
		m->retired_count = kept;
		edit.Finish();
		UnlockReleaseBuffer(buffer);
	});
	FreePages(index, blocks, true);
	return static_cast<uint32_t>(blocks.size());
}

// --- metapage updates ---------------------------------------------------------------

// Replaces segments [first, last] with `merged` (or with nothing when it holds
// no document) and retires the old ones. False if the metapage changed under us
// or has no room to retire them.
bool
ReplaceSegments(Relation index, uint32_t first, uint32_t last, const SegmentRef *merged, const MetaPage &seen)
{
	return pg::PgCall([&]() -> bool {
		Buffer buffer = ReadBuffer(index, kMetaBlock);
		LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
		MetaPage *now = MetaOf(BufferGetPage(buffer));
		uint32_t n = last - first + 1;
		bool same = now->segment_count == seen.segment_count && now->retired_count + n <= kMaxRetired;
		for (uint32_t i = first; same && i <= last; i++)
			same = now->segments[i].id == seen.segments[i].id;
		if (!same)
		{
			UnlockReleaseBuffer(buffer);
			return false;
		}
		pg::PageEdit edit(index, false);
		MetaPage *m = MetaOf(edit.Register(buffer));
		uint64_t stamp = RetireStamp();
		for (uint32_t i = first; i <= last; i++)
			m->retired[m->retired_count++] = {stamp, m->segments[i].header, InvalidBlockNumber, kRetiredSegment, 0};
		SegmentRef rest[kMaxSegments];
		uint32_t count = 0;
		for (uint32_t i = 0; i < first; i++)
			rest[count++] = m->segments[i];
		if (merged != nullptr)
			rest[count++] = *merged;
		for (uint32_t i = last + 1; i < m->segment_count; i++)
			rest[count++] = m->segments[i];
		std::memcpy(m->segments, rest, sizeof(SegmentRef) * count);
		m->segment_count = count;
		m->next_segment_id++;
		edit.Finish();
		UnlockReleaseBuffer(buffer);
		return true;
	});
}

// Merges segments [first, last] of the index (WAL-logged). False if it could
// not (no room to retire, or the metapage changed).
bool
MergeRange(Relation index, uint32_t first, uint32_t last, Work &work)
{
	MetaPage meta;
	pg::PgCall([&] { ReadMeta(index, &meta); });
	if (last >= meta.segment_count || first > last)
		return false;
	if (meta.retired_count + (last - first + 1) > kMaxRetired)
	{
		RecycleRetired(index, work);
		pg::PgCall([&] { ReadMeta(index, &meta); });
		if (meta.retired_count + (last - first + 1) > kMaxRetired)
			return false;
	}
	uint32_t n = last - first + 1;
	auto **inputs = work.scratch->MakeArray<SegmentReader *>(n);
	uint64_t live = 0;
	for (uint32_t i = 0; i < n; i++)
	{
		inputs[i] = OpenSegment(index, meta.segments[first + i], 0, *work.scratch);
		live += meta.segments[first + i].doc_count - meta.segments[first + i].dead_count;
	}
	if (live == 0)
		return ReplaceSegments(index, first, last, nullptr, meta);
	uint64_t total_length;
	SegmentRef merged = MergeInto(index, true, meta.next_segment_id, (meta.flags & kMetaPositions) != 0, inputs, n,
								  work, &total_length);
	return ReplaceSegments(index, first, last, &merged, meta);
}

uint32_t
LiveDocs(const SegmentRef &s)
{
	return s.doc_count - std::min(s.dead_count, s.doc_count);
}

// The merge policy (see bm25_maintenance.h). Returns merges done.
uint32_t
ApplyMergePolicy(Relation index, Work &work)
{
	uint32_t merges = 0;
	for (int guard = 0; guard < 2 * static_cast<int>(kMaxSegments); guard++)
	{
		MetaPage meta;
		pg::PgCall([&] { ReadMeta(index, &meta); });
		uint32_t n = meta.segment_count;
		uint32_t first = 0;
		if (n >= 2 && uint64_t{LiveDocs(meta.segments[n - 1])} * 2 >= LiveDocs(meta.segments[n - 2]))
			first = n - 2;
		else if (n > kMaxSegments - 8)
		{
			uint64_t best = UINT64_MAX;
			for (uint32_t i = 0; i + 1 < n; i++)
			{
				uint64_t size = uint64_t{LiveDocs(meta.segments[i])} + LiveDocs(meta.segments[i + 1]);
				if (size < best)
				{
					best = size;
					first = i;
				}
			}
		}
		else
			break;
		if (!MergeRange(index, first, first + 1, work))
			break;
		merges++;
		work.scratch->Reset();
	}
	return merges;
}

// --- flushing the pending list ----------------------------------------------------

// Writes the pending list's entries as a new segment and moves the list's head
// past them. False if there was nothing to do or no room.
bool
FlushPending(Relation index, Work &work)
{
	MetaPage meta;
	pg::PgCall([&] { ReadMeta(index, &meta); });
	if (meta.pending_docs == 0)
		return false;
	if (meta.segment_count >= kMaxSegments || meta.retired_count >= kMaxRetired)
		return false;
	PendingSnapshot *snap = ReadPending(index, meta, *work.scratch);

	const bool with_positions = (meta.flags & kMetaPositions) != 0;
	auto *inverter =
		pg::MakeOwned<fts::Inverter>(work.cxt, *work.arena, fts::Inverter::kDefaultSlabBytes, with_positions);
	ArenaVector<fts::TermFreq> terms{mem::BuildAllocator<fts::TermFreq>(*work.arena)};
	ArenaVector<uint32_t> positions{mem::BuildAllocator<uint32_t>(*work.arena)};
	for (uint32_t d = 0; d < snap->count; d++)
	{
		const PendingDoc &doc = snap->docs[d];
		if (doc.removed)
			continue;
		terms.clear();
		positions.resize(std::max<std::size_t>(doc.length, 1)); // every term's positions fit: sum of tfs
		PendingTerms reader(doc);
		fts::TermFreq tf;
		std::span<const uint8_t> encoded;
		std::size_t used = 0;
		while (reader.Next(tf.term, tf.tf, &encoded))
		{
			if (with_positions)
			{
				if (used + tf.tf > positions.size() || !DecodePendingPositions(encoded, tf.tf, positions.data() + used))
					pg::ThrowCorrupt(index, "A pending list entry has malformed positions.");
				tf.positions = {positions.data() + used, tf.tf};
				used += tf.tf;
			}
			terms.push_back(tf);
		}
		ItemPointerData tid = doc.tid;
		uint32_t field_lengths[kMaxFields];
		for (uint32_t f = 0; f < snap->field_count; f++)
			field_lengths[f] = snap->field_lengths[std::size_t{f} * snap->count + d];
		inverter->AddDocument(terms, doc.length, pg::PackTid(&tid), {field_lengths, snap->field_count});
	}
	SegmentRef ref{};
	bool have_segment = inverter->doc_count() > 0;
	if (have_segment)
		ref = WriteSegment(index, true, meta.next_segment_id, *inverter, *work.arena, work.cxt);

	BlockNumber new_head;
	uint32_t new_offset;
	LocatePending(*snap, snap->bytes, &new_head, &new_offset);
	pg::PgCall([&] {
		Buffer buffer = ReadBuffer(index, kMetaBlock);
		LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
		pg::PageEdit edit(index, false);
		MetaPage *m = MetaOf(edit.Register(buffer));
		if (have_segment)
			m->segments[m->segment_count++] = ref;
		m->next_segment_id++;
		if (new_head != m->pending_head)
			m->retired[m->retired_count++] = {RetireStamp(), m->pending_head, new_head, kRetiredPendingPages, 0};
		m->pending_head = new_head;
		m->pending_head_offset = new_offset;
		m->pending_docs -= snap->count;
		m->pending_bytes -= snap->bytes;
		edit.Finish();
		UnlockReleaseBuffer(buffer);
	});
	pg::DestroyOwned(inverter);
	return true;
}

} // namespace

// --- public -----------------------------------------------------------------------------

SegmentRef
WriteSegment(Relation index, bool wal, uint32_t id, fts::Inverter &inverter, mem::BuildArena &arena,
			 MemoryContext cxt)
{
	auto *writer = pg::MakeOwned<SegmentWriter>(cxt, index, wal, id, inverter.with_positions(), arena);
	const uint32_t fields = inverter.doc_count() == 0 ? 1 : inverter.field_lengths().size() / inverter.doc_count();
	writer->SetDocuments(inverter.lengths(), inverter.row_ids(), inverter.field_lengths(), fields);
	ArenaVector<fts::DocId> docs{mem::BuildAllocator<fts::DocId>(arena)};
	ArenaVector<uint32_t> tfs{mem::BuildAllocator<uint32_t>(arena)};
	ArenaVector<uint32_t> positions{mem::BuildAllocator<uint32_t>(arena)};
	uint32_t n = 0;
	for (uint32_t term : inverter.SortedTerms())
	{
		docs.resize(inverter.DocFreq(term));
		tfs.resize(inverter.DocFreq(term));
		positions.resize(inverter.with_positions() ? inverter.TfSum(term) : 0);
		inverter.Postings(term, docs, tfs, positions);
		writer->AddTerm(inverter.TermText(term), docs, tfs, positions);
		if (++n % 1024 == 0)
			pg::CheckForInterrupts();
	}
	SegmentRef ref = writer->Finish();
	pg::DestroyOwned(writer);
	return ref;
}

void
MergeBuildSegments(Relation index, SegmentList &segments, mem::BuildArena &arena, MemoryContext cxt)
{
	Work work{cxt, &arena, pg::CreateScanArena(cxt, 64 * 1024)};
	auto **inputs = work.scratch->MakeArray<SegmentReader *>(segments.count);
	uint64_t total = 0;
	for (uint32_t i = 0; i < segments.count; i++)
	{
		inputs[i] = OpenSegment(index, segments.refs[i], 0, *work.scratch);
		total += segments.total_lengths[i];
	}
	uint32_t id = segments.refs[segments.count - 1].id + 1;
	uint64_t merged_length;
	SegmentRef merged =
		MergeInto(index, false, id, PositionsOptionOf(index), inputs, segments.count, work, &merged_length);
	ArenaVector<BlockNumber> blocks{mem::BuildAllocator<BlockNumber>(arena)};
	for (uint32_t i = 0; i < segments.count; i++)
		SegmentBlocks(index, segments.refs[i].header, work, blocks);
	FreePages(index, blocks, false);
	segments.count = 0;
	segments.Add(merged, total);
	pg::DestroyOwned(work.scratch);
}

void
MaybeFlushPending(Relation index, uint64_t pending_bytes)
{
	if (pending_bytes < static_cast<uint64_t>(pending_limit_kb) * 1024)
		return;
	if (!pg::PgCall([&] { return TryLockMaintenance(index); }))
		return; // someone else is flushing or merging
	Work work = StartWork("quarry_bm25 flush");
	MetaPage meta;
	pg::PgCall([&] { ReadMeta(index, &meta); });
	if (meta.pending_bytes >= static_cast<uint64_t>(pending_limit_kb) * 1024)
	{
		RecycleRetired(index, work);
		if (meta.segment_count >= kMaxSegments - 1)
			ApplyMergePolicy(index, work);
		work.scratch->Reset();
		if (FlushPending(index, work))
			ApplyMergePolicy(index, work);
	}
	EndWork(work);
	pg::PgCall([&] { UnlockMaintenance(index); });
}

uint32_t
MaintainIndex(Relation index)
{
	pg::PgCall([&] { LockMaintenance(index); });
	Work work = StartWork("quarry_bm25 vacuum");
	uint32_t recycled = RecycleRetired(index, work);
	// Compact every segment with many removed rows. A compacted segment takes
	// its old slot; one whose rows were all removed disappears and the next
	// segment moves into the slot.
	for (uint32_t i = 0;;)
	{
		MetaPage meta;
		pg::PgCall([&] { ReadMeta(index, &meta); });
		if (i >= meta.segment_count)
			break;
		const SegmentRef s = meta.segments[i];
		if (s.dead_count == 0 || s.dead_count < kCompactDeadFraction * s.doc_count)
		{
			i++;
			continue;
		}
		work.scratch->Reset();
		if (!MergeRange(index, i, i, work))
			break;
		MetaPage after;
		pg::PgCall([&] { ReadMeta(index, &after); });
		if (after.segment_count == meta.segment_count)
			i++;
	}
	work.scratch->Reset();
	ApplyMergePolicy(index, work);
	EndWork(work);
	pg::PgCall([&] { UnlockMaintenance(index); });
	return recycled;
}

uint32_t
MergeEverything(Relation index)
{
	pg::PgCall([&] { LockMaintenance(index); });
	Work work = StartWork("quarry_bm25 merge");
	RecycleRetired(index, work);
	work.scratch->Reset();
	FlushPending(index, work);
	MetaPage meta;
	pg::PgCall([&] { ReadMeta(index, &meta); });
	if (meta.segment_count > 1 || (meta.segment_count == 1 && meta.segments[0].dead_count > 0))
	{
		work.scratch->Reset();
		if (!MergeRange(index, 0, meta.segment_count - 1, work))
			pg::ThrowError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
						   "quarry_bm25 index \"%s\" has too many retired page sets to merge now; run VACUUM first",
						   RelationGetRelationName(index));
	}
	pg::PgCall([&] { ReadMeta(index, &meta); });
	EndWork(work);
	pg::PgCall([&] { UnlockMaintenance(index); });
	return meta.segment_count;
}

} // namespace quarry::am::bm25

// ambuild and ambuildempty for quarry_bm25.
//
// CREATE INDEX scans the table, tokenizes every row with the index's text
// search configuration and inverts it into an Inverter that lives in a jemalloc
// build arena (src/memory/build_arena.h), bound to the build's memory context:
// when the build ends, or fails, or is cancelled, the arena is destroyed and its
// memory goes back to the operating system at once. When the inverter outgrows
// maintenance_work_mem it is written out as a segment and a new one started,
// so a large build produces a few segments rather than exceeding its budget.
// Pages are written without WAL and logged in one pass at the end.
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_fields.h"
#include "am/bm25/bm25_maintenance.h"
#include "am/bm25/bm25_segment.h"

#include "fts/inverter.h"
#include "pg/guard.h"
#include "pg/index_pages.h"
#include "pg/memory_glue.h"
#include "pg/owned.h"

extern "C" {
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_ts_config.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
}

#include <cstring>
#include <optional>
#include <vector>
#include <type_traits>

namespace quarry::am::bm25 {

namespace {

struct BuildState {
	BuildState(Relation index_, Oid config_, mem::BuildArena &arena_, MemoryContext build_cxt_, std::size_t budget_)
		: index(index_), config(config_), arena(arena_), build_cxt(build_cxt_),
		  terms(mem::BuildAllocator<fts::TermFreq>(arena_)), null_rows(mem::BuildAllocator<ItemPointerData>(arena_)),
		  budget(budget_), fields(static_cast<uint32_t>(IndexRelationGetNumberOfKeyAttributes(index_)))
	{
		NewInverter();
	}

	// Slabs of a sixteenth of the budget: memory_bytes() then tracks what the
	// postings really use instead of jumping by a megabyte.
	void
	NewInverter()
	{
		inverter.reset();
		inverter.emplace(arena, std::min(fts::Inverter::kDefaultSlabBytes, budget / 16), PositionsOptionOf(index));
	}

	Relation index;
	Oid config;
	mem::BuildArena &arena;
	MemoryContext build_cxt;
	MemoryContext tuple_cxt = nullptr;
	std::optional<fts::Inverter> inverter;
	std::vector<fts::TermFreq, mem::BuildAllocator<fts::TermFreq>> terms;
	std::vector<ItemPointerData, mem::BuildAllocator<ItemPointerData>> null_rows;
	std::size_t budget;
	uint32_t fields = 1;				   // key columns
	uint64_t field_totals[kMaxFields] = {}; // per field, over every row indexed
	uint64_t indexed = 0;
	SegmentList segments; // written so far
};

// The metapage of an empty index, into `page`.
void
InitMetaPage(Page page, Oid config, bool positions, uint32_t fields)
{
	InitPage(page, PageType::kMeta, 0);
	MetaPage *meta = MetaOf(page);
	std::memset(meta, 0, sizeof(MetaPage));
	meta->magic = kMagic;
	meta->version = kFormatVersion;
	RecordTextConfig(config, meta);
	meta->flags = positions ? kMetaPositions : 0;
	meta->field_count = fields;
	meta->next_segment_id = 1;
	meta->pending_head = InvalidBlockNumber;
	meta->pending_tail = InvalidBlockNumber;
	meta->null_rows.head = InvalidBlockNumber;
	meta->null_rows.tail = InvalidBlockNumber;
	meta->null_rows.hint = InvalidBlockNumber;
	SetContentBytes(page, sizeof(MetaPage));
}

// Writes the inverter's documents as the next segment and starts a new one.
void
SpillInverter(BuildState &st)
{
	if (st.inverter->doc_count() == 0)
		return;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseSpilling);
	uint32_t id = st.segments.count + 1;
	SegmentRef ref = WriteSegment(st.index, false, id, *st.inverter, st.arena, st.build_cxt);
	st.segments.Add(ref, st.inverter->total_length());
	st.NewInverter();
	if (st.segments.count >= kBuildSegmentsBeforeMerge)
		MergeBuildSegments(st.index, st.segments, st.arena, st.build_cxt);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseTokenizing);
}

void
AddRow(BuildState &st, ItemPointer tid, const Datum *values, const bool *isnull)
{
	Tokens tokens = TokenizeRow(st.config, values, isnull, st.fields);
	st.terms.clear();
	for (uint32_t i = 0; i < tokens.count; i++)
		st.terms.push_back({{tokens.lexemes[i].text, tokens.lexemes[i].bytes},
							tokens.lexemes[i].tf,
							{tokens.lexemes[i].positions, tokens.lexemes[i].tf}});
	st.inverter->AddDocument(st.terms, tokens.length, pg::PackTid(tid),
							 {tokens.field_lengths, tokens.field_lengths ? tokens.field_count : 0});
	for (uint32_t f = 0; tokens.field_lengths != nullptr && f < tokens.field_count; f++)
		st.field_totals[f] += tokens.field_lengths[f];
	st.indexed++;
	if (st.indexed % 1024 == 0)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64_t>(st.indexed));
	if (st.inverter->memory_bytes() > st.budget)
		SpillInverter(st);
}

void
BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool alive, void *arg)
{
	auto *st = static_cast<BuildState *>(arg);
	if (RowIsNull(isnull, st->fields))
	{
		pg::Boundary("quarry_bm25 build", [&] { st->null_rows.push_back(*tid); });
		return;
	}
	MemoryContext old = MemoryContextSwitchTo(st->tuple_cxt);
	pg::Boundary("quarry_bm25 build", [&] { AddRow(*st, tid, values, isnull); });
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->tuple_cxt);
}

// Writes block 0 (no WAL: the build logs every page at the end).
void
WriteMetaPage(Relation index, Oid config)
{
	Buffer buffer = ReadBuffer(index, P_NEW);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	if (BufferGetBlockNumber(buffer) != kMetaBlock)
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_bm25: the metapage of \"%s\" is not block 0", RelationGetRelationName(index));
	InitMetaPage(BufferGetPage(buffer), config, PositionsOptionOf(index),
				 static_cast<uint32_t>(IndexRelationGetNumberOfKeyAttributes(index)));
	MarkBufferDirty(buffer);
	UnlockReleaseBuffer(buffer);
}

// Records the built segments, statistics and NULL rows in the metapage.
void
FinishMetaPage(Relation index, const BuildState &st)
{
	const SegmentList &segments = st.segments;
	Buffer buffer = ReadBuffer(index, kMetaBlock);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	MetaPage *meta = MetaOf(BufferGetPage(buffer));
	am::WriteNullRowsForBuild(NullRowFormat(), index, st.null_rows.data(), st.null_rows.size(), &meta->null_rows);
	meta->field_count = st.fields;
	for (uint32_t f = 0; f < kMaxFields; f++)
		meta->field_total_length[f] = st.fields >= 2 && f < st.fields ? st.field_totals[f] : 0;
	meta->segment_count = segments.count;
	meta->doc_count = 0;
	meta->total_length = 0;
	for (uint32_t i = 0; i < segments.count; i++)
	{
		meta->segments[i] = segments.refs[i];
		meta->doc_count += segments.refs[i].doc_count;
		meta->total_length += segments.total_lengths[i];
		meta->next_segment_id = std::max(meta->next_segment_id, segments.refs[i].id + 1);
	}
	MarkBufferDirty(buffer);
	UnlockReleaseBuffer(buffer);
}

// C-shaped: the build state is owned by the build's memory context (its
// destructor runs on every path); quarry's errors thrown here reach the
// callback wrapper's IndexBoundary.
IndexBuildResult *
BuildIndex(Relation heap, Relation index, IndexInfo *info)
{
	if (RelationGetNumberOfBlocks(index) != 0)
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	if (IndexRelationGetNumberOfKeyAttributes(index) > static_cast<int>(kMaxFields))
		pg::ThrowError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "a quarry_bm25 index takes at most %u columns (fields)",
					   kMaxFields);
	double weights[kMaxFields];
	FieldWeights(index, static_cast<uint32_t>(IndexRelationGetNumberOfKeyAttributes(index)), weights); // names known
	if (info->ii_NumIndexAttrs != IndexRelationGetNumberOfKeyAttributes(index))
		pg::ThrowError(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_bm25 takes no INCLUDE columns");
	Oid config = ChooseTextConfig(index);
	RecordConfigDependency(index, config);
	ForgetTextConfig(index);

	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "quarry_bm25 build", ALLOCSET_DEFAULT_SIZES);
	mem::BuildArena *arena = pg::CreateBuildArena(cxt);
	// The inverter's budget: maintenance_work_mem, at least 4 MB (a smaller
	// budget would only multiply tiny segments).
	std::size_t budget = std::max<std::size_t>(static_cast<std::size_t>(maintenance_work_mem) * 1024, 4u << 20);
	BuildState *st = pg::MakeOwned<BuildState>(cxt, index, config, *arena, cxt, budget);
	st->tuple_cxt = AllocSetContextCreate(cxt, "quarry_bm25 build row", ALLOCSET_DEFAULT_SIZES);

	WriteMetaPage(index, config);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseTokenizing);
	if (heap->rd_rel->reltuples > 0)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, static_cast<int64_t>(heap->rd_rel->reltuples));
	double reltuples = table_index_build_scan(heap, index, info, true, true, BuildCallback, st, nullptr);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseWriting);
	if (st->inverter->doc_count() > 0 || st->segments.count == 0)
	{
		uint32_t id = st->segments.count + 1;
		SegmentRef ref = WriteSegment(index, false, id, *st->inverter, *arena, cxt);
		st->segments.Add(ref, st->inverter->total_length());
	}
	FinishMetaPage(index, *st);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseLogging);
	pg::LogNewIndexPages(index);

	auto *result = static_cast<IndexBuildResult *>(palloc0(sizeof(IndexBuildResult)));
	result->heap_tuples = reltuples;
	result->index_tuples = static_cast<double>(st->indexed + st->null_rows.size());
	MemoryContextDelete(cxt); // destroys the build state, then the build arena
	return result;
}

} // namespace

IndexBuildResult *
Build(Relation heap, Relation index, IndexInfo *info)
{
	return BuildIndex(heap, index, info);
}

void
BuildEmpty(Relation index)
{
	// The init fork of an unlogged index: just the metapage.
	Oid config = ChooseTextConfig(index);
	Buffer buffer = pg::NewInitForkBuffer(index);
	InitMetaPage(BufferGetPage(buffer), config, PositionsOptionOf(index),
				 static_cast<uint32_t>(IndexRelationGetNumberOfKeyAttributes(index)));
	pg::FinishNewPage(buffer, true);
	UnlockReleaseBuffer(buffer);
}

} // namespace quarry::am::bm25

// The quarry_bm25 checker behind quarry_verify_index() (see verify.h).
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_search.h"
#include "am/verify.h"

#include "pg/guard.h"
#include "pg/memory_glue.h"

extern "C" {
#include "access/heapam.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
}

#include <algorithm>
#include <cstring>
#include <string>

namespace quarry::am::bm25 {

namespace {

// A live index entry: where a row is, and the length the index holds for it.
struct Entry {
	ItemPointerData tid;
	uint32_t length;
	bool seen;	   // reported by the table scan
	bool null_row; // in the null-row list
};

struct Entries {
	Entry *items;
	uint64_t count;
	uint64_t capacity;
	uint64_t total_length;
	uint64_t null_rows;

	void
	Add(ItemPointerData tid, uint32_t length, bool null_row = false)
	{
		if (count == capacity)
		{
			capacity = std::max<uint64_t>(capacity * 2, 1024);
			items = static_cast<Entry *>(
				repalloc_huge(items, capacity * sizeof(Entry)));
		}
		items[count++] = {tid, length, false, null_row};
		total_length += length;
		null_rows += null_row ? 1 : 0;
	}
};

int
CompareEntries(const void *a, const void *b)
{
	return ItemPointerCompare(const_cast<ItemPointer>(&static_cast<const Entry *>(a)->tid),
							  const_cast<ItemPointer>(&static_cast<const Entry *>(b)->tid));
}

// Whether some impact point dominates (tf, length).
bool
Dominated(const TermInfo &info, uint32_t tf, uint32_t length)
{
	for (uint16_t i = 0; i < std::min<uint16_t>(info.impact_count, 4); i++)
		if ((info.impact_tf[i] >= tf || info.impact_tf[i] == fts::kSaturated16) &&
			(info.impact_doc_len[i] <= length || length >= fts::kSaturated16))
			return true;
	return false;
}

// Walks one segment's dictionary and posting lists; adds up each document's
// tfs into tf_sums.
void
CheckPostings(const SegmentReader &segment, uint32_t *tf_sums, mem::ScanArena &arena, VerifyReport &report)
{
	auto *page = arena.MakeArray<uint8_t>(kPageContentBytes);
	auto *scratch = arena.MakeArray<uint8_t>(4096);
	auto *lengths = arena.Make<SegmentDocs>(&segment);
	TermIterator terms(&segment, page);
	std::string previous;
	std::string_view term;
	TermInfo info;
	uint32_t term_count = 0;
	while (terms.Next(term, info))
	{
		if (term_count > 0 && !(std::string_view(previous) < term))
			report.Problem("segment %u: dictionary terms out of order at \"%.*s\"", segment.ref.id,
						   static_cast<int>(term.size()), term.data());
		previous.assign(term);
		term_count++;
		// The leaves were walked in order; a search descends the inner nodes.
		TermInfo found;
		if (!FindTerm(segment, term, &found) || found.postings_offset != info.postings_offset)
			report.Problem("segment %u: looking up \"%s\" through the dictionary's inner nodes fails",
						   segment.ref.id, previous.c_str());
		if (info.postings_offset + info.postings_bytes > segment.header.postings_bytes)
		{
			report.Problem("segment %u: term \"%s\" has postings past the postings section", segment.ref.id,
						   previous.c_str());
			continue;
		}
		PagePostingBytes bytes(&segment, info.postings_offset, info.postings_bytes, scratch, 4096);
		fts::PostingCursor cursor;
		uint32_t docs = 0;
		bool in_range = true, dominated = true;
		if (cursor.Open(&bytes))
		{
			for (; cursor.doc() != fts::kEndDoc; cursor.Next(), docs++)
			{
				if (cursor.doc() >= segment.header.doc_count)
				{
					in_range = false;
					break;
				}
				uint32_t tf = cursor.Tf();
				tf_sums[cursor.doc()] += tf;
				dominated = dominated && Dominated(info, tf, lengths->Length(cursor.doc()));
			}
		}
		bytes.Release();
		if (cursor.failed() || !in_range)
			report.Problem("segment %u: the posting list of \"%s\" is unreadable", segment.ref.id, previous.c_str());
		else if (docs != info.doc_freq)
			report.Problem("segment %u: term \"%s\" has %u postings, its dictionary entry says %u", segment.ref.id,
						   previous.c_str(), docs, info.doc_freq);
		if (!dominated)
			report.Problem("segment %u: the impacts of \"%s\" do not bound its postings", segment.ref.id,
						   previous.c_str());
		if (term_count % 1024 == 0)
			pg::CheckForInterrupts();
	}
	lengths->Release();
	if (term_count != segment.header.term_count)
		report.Problem("segment %u: %u terms in the dictionary, the header says %u", segment.ref.id, term_count,
					   segment.header.term_count);
}

// Per-document data of one segment: lengths against the tfs, alive bits
// against the metapage's removed count; live documents into `entries`.
void
CheckDocuments(const SegmentReader &segment, const uint32_t *tf_sums, Entries &entries, VerifyReport &report)
{
	SegmentDocs docs(&segment);
	uint32_t removed = 0;
	int reported = 0;
	for (uint32_t d = 0; d < segment.header.doc_count; d++)
	{
		uint32_t length = docs.Length(d);
		if (tf_sums[d] != length && reported++ < VerifyReport::kMaxPerKind)
			report.Problem("segment %u document %u: its tfs add up to %u, its length is %u", segment.ref.id, d,
						   tf_sums[d], length);
		if (!docs.Alive(d))
		{
			removed++;
			continue;
		}
		ItemPointerData tid;
		docs.RowId(d, &tid);
		entries.Add(tid, length);
	}
	docs.Release();
	if (removed != segment.ref.dead_count)
		report.Problem("segment %u: %u documents are marked removed, the metapage says %u", segment.ref.id, removed,
					   segment.ref.dead_count);
}

void
CheckPending(const PendingSnapshot &pending, Entries &entries, VerifyReport &report)
{
	for (uint32_t i = 0; i < pending.count; i++)
	{
		const PendingDoc &doc = pending.docs[i];
		PendingTerms terms(doc);
		std::string_view term;
		uint32_t tf, sum = 0;
		while (terms.Next(term, tf))
			sum += tf;
		if (sum != doc.length)
			report.Problem("pending entry %u: its tfs add up to %u, its length is %u", i, sum, doc.length);
		if (!doc.removed)
			entries.Add(doc.tid, doc.length);
	}
}

// Every block: an empty page (never written, or the tail of a crash) or a
// quarry_bm25 page of a known type with the right special space.
void
CheckAllPages(Relation index, VerifyReport &report)
{
	const BlockNumber blocks = RelationGetNumberOfBlocks(index);
	int reported = 0;
	for (BlockNumber block = 1; block < blocks; block++)
	{
		Buffer buffer = ReadBuffer(index, block);
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		Page page = BufferGetPage(buffer);
		const char *problem = nullptr;
		uint16_t type = 0;
		if (!PageIsNew(page))
		{
			const PageOpaque *o = OpaqueOf(page);
			if (reinterpret_cast<PageHeader>(page)->pd_special != BLCKSZ - MAXALIGN(sizeof(PageOpaque)))
				problem = "has a bad special space offset";
			else if (o->page_id != kPageId)
				problem = "is not a quarry_bm25 page";
			else if (o->type <= kPageMeta || o->type > kLastPageType)
				problem = "has an unknown page type";
			type = problem == nullptr ? 0 : o->type;
		}
		UnlockReleaseBuffer(buffer);
		if (problem != nullptr && reported++ < VerifyReport::kMaxPerKind)
			report.Problem("block %u %s (type %u)", block, problem, type);
		if (block % 1024 == 0)
			pg::CheckForInterrupts();
	}
}

// The pending list's chain of pages, from its head through its tail (which
// may hold no entry yet but takes the next insert).
void
CheckPendingChain(Relation index, const MetaPage &meta, VerifyReport &report)
{
	if (meta.pending_head == InvalidBlockNumber)
		return;
	const BlockNumber blocks = RelationGetNumberOfBlocks(index);
	BlockNumber block = meta.pending_head;
	for (BlockNumber steps = 0; steps < blocks; steps++)
	{
		if (block == InvalidBlockNumber || block == kMetaBlock || block >= blocks)
		{
			report.Problem("the pending list's chain leaves the index at block %u before its tail %u", block,
						   meta.pending_tail);
			return;
		}
		Buffer buffer = ReadBuffer(index, block);
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		Page page = BufferGetPage(buffer);
		const bool ok = !PageIsNew(page) && OpaqueOf(page)->page_id == kPageId &&
						OpaqueOf(page)->type == kPagePending;
		const BlockNumber next = ok ? OpaqueOf(page)->next : InvalidBlockNumber;
		UnlockReleaseBuffer(buffer);
		if (!ok)
		{
			report.Problem("pending list block %u is not a pending page", block);
			return;
		}
		if (block == meta.pending_tail)
			return;
		block = next;
	}
	report.Problem("the pending list's chain does not reach its tail %u", meta.pending_tail);
}

// The null-row list: its TIDs into `entries`, its count against the metapage.
void
CheckNullRows(Relation index, const MetaPage &meta, Entries &entries, mem::ScanArena &arena, VerifyReport &report)
{
	pg::NullRowReader reader(NullRowFormat(), index, meta.null_rows,
							 arena.MakeArray<ItemPointerData>(NullRowFormat().capacity()));
	ItemPointerData tid;
	uint64_t count = 0;
	while (reader.Next(&tid))
	{
		entries.Add(tid, 0, true);
		count++;
	}
	if (count != meta.null_rows.count)
		report.Problem("the null-row list holds %llu rows, the metapage says %llu",
					   static_cast<unsigned long long>(count), static_cast<unsigned long long>(meta.null_rows.count));
}

struct TableScan {
	Entries *entries;
	Oid config;
	VerifyReport *report;
	MemoryContext row_cxt;
	int missing = 0;
	int mismatched = 0;
};

void
CheckTableRow(TableScan *scan, ItemPointer tid, Datum *values, bool *isnull, bool alive)
{
	Entry key{*tid, 0, false, false};
	auto *found = static_cast<Entry *>(
		bsearch(&key, scan->entries->items, scan->entries->count, sizeof(Entry), CompareEntries));
	if (found == nullptr)
	{
		if (scan->missing++ < VerifyReport::kMaxPerKind)
			scan->report->Problem("%s row (%u,%u) is not in the index", alive ? "live" : "recently dead",
								  ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid));
		return;
	}
	found->seen = true;
	if (isnull[0] || found->null_row)
	{
		if (isnull[0] != found->null_row && scan->mismatched++ < VerifyReport::kMaxPerKind)
			scan->report->Problem("row (%u,%u) is %s, the index holds it as %s", ItemPointerGetBlockNumber(tid),
								  ItemPointerGetOffsetNumber(tid), isnull[0] ? "NULL" : "not NULL",
								  found->null_row ? "a NULL row" : "a document");
		return;
	}
	MemoryContext old = MemoryContextSwitchTo(scan->row_cxt);
	Tokens tokens = TokenizeDatum(scan->config, values[0], false);
	MemoryContextSwitchTo(old);
	MemoryContextReset(scan->row_cxt);
	if (tokens.length != found->length && scan->mismatched++ < VerifyReport::kMaxPerKind)
		scan->report->Problem("row (%u,%u): the index holds length %u, its text has %u lexemes",
							  ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid), found->length,
							  tokens.length);
}

void
TableScanCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool alive, void *arg)
{
	pg::Boundary("quarry_verify_index", [&] { CheckTableRow(static_cast<TableScan *>(arg), tid, values, isnull, alive); });
}

// An index entry the table scan did not report must point to a row that is
// dead (not yet vacuumed), never to a slot that is unused or reused.
void
CheckUnseen(Relation heap, const Entries &entries, VerifyReport &report)
{
	BlockNumber heap_blocks = RelationGetNumberOfBlocks(heap);
	int stale = 0;
	for (uint64_t i = 0; i < entries.count; i++)
	{
		const Entry &e = entries.items[i];
		if (e.seen)
			continue;
		BlockNumber block = ItemPointerGetBlockNumber(&e.tid);
		OffsetNumber offset = ItemPointerGetOffsetNumber(&e.tid);
		bool unused = true;
		if (block < heap_blocks)
		{
			Buffer buffer = ReadBuffer(heap, block);
			LockBuffer(buffer, BUFFER_LOCK_SHARE);
			Page page = BufferGetPage(buffer);
			if (offset <= PageGetMaxOffsetNumber(page))
				unused = !ItemIdIsUsed(PageGetItemId(page, offset));
			UnlockReleaseBuffer(buffer);
		}
		if (unused && stale++ < VerifyReport::kMaxPerKind)
			report.Problem("index entry (%u,%u) points to a heap slot that no longer holds its row", block, offset);
	}
}

} // namespace

void
Verify(Relation index, Relation heap, VerifyReport &report)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "quarry_bm25 verify", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	mem::ScanArena *arena = pg::CreateScanArena(cxt, 64 * 1024);
	IndexView *view = OpenIndexView(index, *arena);
	Entries entries{static_cast<Entry *>(palloc(sizeof(Entry) * 1024)), 0, 1024, 0, 0};

	for (uint32_t s = 0; s < view->segment_count; s++)
	{
		const SegmentReader &segment = *view->segments[s];
		auto *tf_sums = static_cast<uint32_t *>(palloc_extended(
			std::max<std::size_t>(sizeof(uint32_t) * segment.header.doc_count, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO));
		CheckPostings(segment, tf_sums, *arena, report);
		CheckDocuments(segment, tf_sums, entries, report);
		pfree(tf_sums);
	}
	CheckPending(*view->pending, entries, report);
	CheckPendingChain(index, view->meta, report);
	CheckNullRows(index, view->meta, entries, *arena, report);
	CheckAllPages(index, report);

	if (entries.count - entries.null_rows != view->meta.doc_count)
		report.Problem("the metapage counts %llu rows, the index holds %llu live entries",
					   static_cast<unsigned long long>(view->meta.doc_count),
					   static_cast<unsigned long long>(entries.count - entries.null_rows));
	if (entries.total_length != view->meta.total_length)
		report.Problem("the metapage's total length is %llu, the live entries add up to %llu",
					   static_cast<unsigned long long>(view->meta.total_length),
					   static_cast<unsigned long long>(entries.total_length));

	qsort(entries.items, entries.count, sizeof(Entry), CompareEntries);
	int duplicates = 0;
	for (uint64_t i = 1; i < entries.count; i++)
		if (ItemPointerEquals(&entries.items[i - 1].tid, &entries.items[i].tid) &&
			duplicates++ < VerifyReport::kMaxPerKind)
			report.Problem("heap row (%u,%u) is indexed twice", ItemPointerGetBlockNumber(&entries.items[i].tid),
						   ItemPointerGetOffsetNumber(&entries.items[i].tid));

	TableScan scan{&entries, view->config, &report,
				   AllocSetContextCreate(cxt, "quarry_bm25 verify row", ALLOCSET_DEFAULT_SIZES)};
	IndexInfo *info = BuildIndexInfo(index);
	table_index_build_scan(heap, index, info, false, false, TableScanCallback, &scan, nullptr);
	CheckUnseen(heap, entries, report);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

} // namespace quarry::am::bm25

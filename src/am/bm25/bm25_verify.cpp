// The quarry_bm25 checker behind quarry_verify_index() (see am/verify.h).
//
// It first reads a copy of every block and notes which are sound pages of
// the index (page id, special space, a known type, the segment they belong
// to); a damaged block is a row. Every structure is then read only where
// all of its blocks are sound: the metapage, each segment (header, extent
// chain, data and dictionary pages), the pending list's chain and the
// null-row list; one with a damaged block is a row and is left out (and the
// totals that need it are not compared), the others are checked in full,
// each in a subtransaction: a page whose header is sound but whose contents
// a reader refuses (a malformed dictionary leaf, a pending page claiming too
// many bytes) makes that structure a row too, and the walk goes on. Only a
// page PostgreSQL itself refuses ("invalid page in block") is an ERROR.
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_fields.h"
#include "am/bm25/bm25_pending.h"
#include "am/bm25/bm25_search.h"
#include "am/bm25/bm25_segment.h"
#include "am/verify.h"

#include "fts/term_positions.h"
#include "pg/guard.h"
#include "pg/memory_glue.h"

extern "C" {
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
}

#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>

namespace quarry::am::bm25 {

namespace {

// --- the page sweep --------------------------------------------------------------

// What the sweep found in a block.
struct BlockState {
	uint16_t type;		 // PageType of a sound page, 0 for an empty (new) one
	bool sound;			 // a page of this index (or an empty one)
	uint32_t segment_id; // of a sound page
};
static_assert(std::is_trivially_destructible_v<BlockState>);

struct Sweep {
	BlockState *blocks;
	BlockNumber count;

	// Whether `block` is a sound page of `type` (and of `segment_id` when it is not 0).
	bool
	Holds(BlockNumber block, PageType type, uint32_t segment_id = 0) const
	{
		return block < count && blocks[block].sound && blocks[block].type == static_cast<uint16_t>(type) &&
			   (segment_id == 0 || blocks[block].segment_id == segment_id);
	}
};
static_assert(std::is_trivially_destructible_v<Sweep>);

// Every block: an empty page (never written, or the tail of a crash) or a
// quarry_bm25 page of a known type with the right special space.
Sweep
SweepPages(Relation index, char *copy, VerifyReport &report)
{
	Sweep sweep{nullptr, RelationGetNumberOfBlocks(index)};
	sweep.blocks = static_cast<BlockState *>(
		palloc_extended(sizeof(BlockState) * (sweep.count + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO));
	for (BlockNumber block = 0; block < sweep.count; block++)
	{
		CopyBlock(index, block, sweep.count, copy);
		Page page = copy;
		BlockState &state = sweep.blocks[block];
		const char *problem = nullptr;
		if (!PageIsNew(page))
		{
			const PageOpaque *o = OpaqueOf(page);
			if (reinterpret_cast<PageHeader>(page)->pd_special != BLCKSZ - MAXALIGN(sizeof(PageOpaque)))
				problem = "has a bad special space offset";
			else if (o->page_id != kPageId)
				problem = "is not a quarry_bm25 page";
			else if (o->type < static_cast<uint16_t>(PageType::kMeta) || o->type > static_cast<uint16_t>(PageType::kLast) ||
					 (o->type == static_cast<uint16_t>(PageType::kMeta)) != (block == kMetaBlock))
				problem = "has an unknown page type";
			state.type = problem == nullptr ? o->type : 0;
			state.segment_id = o->segment_id;
		}
		state.sound = problem == nullptr;
		if (problem != nullptr)
			report.Problem(VerifyKind::kPage, "block %u %s (type %u)", block, problem, OpaqueOf(page)->type);
		if (block % 1024 == 0)
			pg::CheckForInterrupts();
	}
	return sweep;
}

// The metapage from its copy; false (a row) if nothing can be read through it.
bool
ReadSoundMeta(Relation index, const Sweep &sweep, char *copy, MetaPage *meta, VerifyReport &report)
{
	if (!sweep.Holds(kMetaBlock, PageType::kMeta))
	{
		report.Problem(VerifyKind::kMetapage, "block 0 is not a quarry_bm25 metapage");
		return false;
	}
	CopyBlock(index, kMetaBlock, sweep.count, copy);
	std::memcpy(meta, MetaOf(copy), sizeof(MetaPage));
	if (meta->magic != kMagic || meta->version < kOldestFormatVersion || meta->version > kFormatVersion)
	{
		report.Problem(VerifyKind::kMetapage, "the metapage has magic 0x%08x and format %u", meta->magic,
					   meta->version);
		return false;
	}
	if (meta->segment_count > kMaxSegments || meta->retired_count > kMaxRetired)
	{
		report.Problem(VerifyKind::kMetapage, "the metapage lists %u segments and %u retired sets",
					   meta->segment_count, meta->retired_count);
		return false;
	}
	return true;
}

// --- segments -------------------------------------------------------------------------

// Whether every block of segment `ref` is sound: its header, its extent
// chain, and each logical page (data or dictionary, of this segment). A row
// for the first that is not. C-shaped.
bool
SegmentSound(Relation index, const SegmentRef &ref, const Sweep &sweep, char *copy, VerifyReport &report)
{
	auto skip = [&](const char *what, BlockNumber block) {
		report.Problem(VerifyKind::kPage, "segment %u is not checked: %s (block %u) is damaged", ref.id, what, block);
		return false;
	};
	if (!sweep.Holds(ref.header, PageType::kSegmentHeader, ref.id))
		return skip("its header", ref.header);
	CopyBlock(index, ref.header, sweep.count, copy);
	SegmentHeader h;
	std::memcpy(&h, ContentOf(copy), sizeof h);
	if (h.id != ref.id || h.doc_count != ref.doc_count || !HeaderSectionsSane(h))
		return skip("its header", ref.header);
	uint32_t have = h.inline_extents;
	BlockNumber next = OpaqueOf(copy)->next;
	auto *extents = static_cast<Extent *>(palloc(sizeof(Extent) * std::max<uint32_t>(h.extent_count, 1)));
	std::memcpy(extents, ContentOf(copy) + sizeof(SegmentHeader), sizeof(Extent) * have);
	while (have < h.extent_count)
	{
		if (!sweep.Holds(next, PageType::kExtents, ref.id))
			return skip("an extent page", next);
		CopyBlock(index, next, sweep.count, copy);
		ExtentPage head;
		std::memcpy(&head, ContentOf(copy), sizeof head);
		const uint32_t n = std::min(head.count, h.extent_count - have);
		if (n == 0 || head.count > kExtentsPerPage)
			return skip("an extent page", next);
		std::memcpy(extents + have, ContentOf(copy) + sizeof head, sizeof(Extent) * n);
		have += n;
		next = OpaqueOf(copy)->next;
	}
	uint64_t pages = 0;
	for (uint32_t x = 0; x < h.extent_count; x++)
	{
		const Extent &e = extents[x];
		for (uint32_t i = 0; i < e.count; i++)
		{
			const BlockNumber block = e.start + i;
			if (!sweep.Holds(block, PageType::kSegmentData, ref.id) && !sweep.Holds(block, PageType::kDictLeaf, ref.id) &&
				!sweep.Holds(block, PageType::kDictInner, ref.id))
				return skip("a data page", block);
		}
		pages += e.count;
	}
	if (pages != h.page_count)
		return skip("its extent list", ref.header);
	return true;
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

// One posting list: its documents in range, their count, their impacts;
// each document's tf added to tf_sums.
void
CheckPostingList(const SegmentReader &segment, const std::string &term, const TermInfo &info, SegmentDocs &lengths,
				 uint32_t *tf_sums, uint8_t *scratch, VerifyReport &report)
{
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
			dominated = dominated && Dominated(info, tf, lengths.Length(cursor.doc()));
		}
	}
	bytes.Release();
	if (cursor.failed() || !in_range)
		report.Problem(VerifyKind::kPosting, "segment %u: the posting list of \"%s\" is unreadable", segment.ref.id,
					   term.c_str());
	else if (docs != info.doc_freq)
		report.Problem(VerifyKind::kPosting, "segment %u: term \"%s\" has %u postings, its dictionary entry says %u",
					   segment.ref.id, term.c_str(), docs, info.doc_freq);
	if (!dominated)
		report.Problem(VerifyKind::kPosting, "segment %u: the impacts of \"%s\" do not bound its postings",
					   segment.ref.id, term.c_str());
}

// Whether document `cursor.doc()`'s positions read back, in 1..16383 and
// non-decreasing.
bool
PositionsSound(fts::PostingCursor &cursor, fts::TermPositionsReader &reader, mem::ScanArena &arena,
			   std::span<uint32_t> &buffer)
{
	const uint32_t tf = cursor.Tf();
	if (tf > buffer.size())
		buffer = {arena.MakeArray<uint32_t>(std::max<std::size_t>(tf, 2 * buffer.size())),
				  std::max<std::size_t>(tf, 2 * buffer.size())};
	if (!reader.PositionsAt(cursor, buffer.first(tf)))
		return false;
	for (uint32_t i = 0; i < tf; i++)
		if (buffer[i] < 1 || buffer[i] > kMaxPosition || (i > 0 && buffer[i] < buffer[i - 1]))
			return false;
	return true;
}

// What CheckPositions reads with, made once per segment (so that checking a
// term allocates nothing but a larger buffer when a document needs one).
struct PositionsCheck {
	bool with_positions;
	uint8_t *posting_scratch;
	uint8_t *position_scratch;
	fts::TermPositionsReader *reader;
	std::span<uint32_t> buffer;
};

// A term's positions: there exactly when the index keeps positions, and every
// document's sound (PositionsSound).
void
CheckPositions(const SegmentReader &segment, const std::string &term, const TermInfo &info, PositionsCheck &check,
			   mem::ScanArena &arena, VerifyReport &report)
{
	if (!check.with_positions || PositionsBytes(info) == 0)
	{
		if (check.with_positions != (PositionsBytes(info) != 0))
			report.Problem(VerifyKind::kPosting, "segment %u: term \"%s\" %s positions, the index %s", segment.ref.id,
						   term.c_str(), check.with_positions ? "lacks" : "has",
						   check.with_positions ? "keeps them" : "does not");
		return;
	}
	if (uint64_t{info.postings_offset} + info.postings_bytes + PositionsBytes(info) > segment.header.postings_bytes)
	{
		report.Problem(VerifyKind::kPosting, "segment %u: the positions of \"%s\" run past the postings section",
					   segment.ref.id, term.c_str());
		return;
	}
	PagePostingBytes bytes(&segment, info.postings_offset, info.postings_bytes, check.posting_scratch, 4096);
	PagePostingBytes position_bytes(&segment, info.postings_offset + info.postings_bytes, PositionsBytes(info),
									check.position_scratch, 4096);
	fts::PostingCursor cursor;
	bool sound = cursor.Open(&bytes);
	if (sound)
		check.reader->Init(&position_bytes, PositionsBytes(info), cursor.block_count(), ArenaBuffers(arena));
	for (; sound && cursor.doc() != fts::kEndDoc; cursor.Next())
		sound = PositionsSound(cursor, *check.reader, arena, check.buffer);
	bytes.Release();
	position_bytes.Release();
	if (!sound)
		report.Problem(VerifyKind::kPosting, "segment %u: the positions of \"%s\" are unreadable or out of order",
					   segment.ref.id, term.c_str());
}

// Walks one segment's dictionary and posting lists; adds up each document's
// tfs into tf_sums.
void
CheckPostings(const SegmentReader &segment, bool with_positions, uint32_t *tf_sums, mem::ScanArena &arena,
			  VerifyReport &report)
{
	auto *page = arena.MakeArray<uint8_t>(kPageContentBytes);
	auto *scratch = arena.MakeArray<uint8_t>(4096);
	auto *lengths = arena.Make<SegmentDocs>(&segment);
	// An index of fields: each term's lengths and tf sums are its field's.
	const uint32_t fields = LengthArrays(segment.header) - 1;
	auto **field_lengths = arena.MakeArray<SegmentDocs *>(std::max<uint32_t>(fields, 1));
	for (uint32_t f = 0; f < fields; f++)
		field_lengths[f] = arena.Make<SegmentDocs>(&segment, static_cast<int>(f));
	PositionsCheck check{with_positions, arena.MakeArray<uint8_t>(4096), arena.MakeArray<uint8_t>(4096),
						 arena.Make<fts::TermPositionsReader>(), {}};
	TermIterator terms(&segment, page);
	std::string previous;
	std::string_view term;
	TermInfo info;
	uint32_t term_count = 0;
	while (terms.Next(term, info))
	{
		if (term_count > 0 && !(std::string_view(previous) < term))
			report.Problem(VerifyKind::kDictionary, "segment %u: dictionary terms out of order at \"%.*s\"",
						   segment.ref.id, static_cast<int>(term.size()), term.data());
		previous.assign(term);
		term_count++;
		// The leaves were walked in order; a search descends the inner nodes.
		TermInfo found;
		if (!FindTerm(segment, term, &found) || found.postings_offset != info.postings_offset)
			report.Problem(VerifyKind::kDictionary,
						   "segment %u: looking up \"%s\" through the dictionary's inner nodes fails", segment.ref.id,
						   previous.c_str());
		if (info.postings_offset + info.postings_bytes > segment.header.postings_bytes)
			report.Problem(VerifyKind::kPosting, "segment %u: term \"%s\" has postings past the postings section",
						   segment.ref.id, previous.c_str());
		else
		{
			const int field = fields == 0 ? 0 : TermField(term, fields);
			if (field < 0)
				report.Problem(VerifyKind::kDictionary, "segment %u: term \"%s\" names no field of the index",
							   segment.ref.id, previous.c_str());
			else if (fields != 0)
				CheckPostingList(segment, previous, info, *field_lengths[field],
								 tf_sums + std::size_t(1 + field) * segment.header.doc_count, scratch, report);
			else
				CheckPostingList(segment, previous, info, *lengths, tf_sums, scratch, report);
			CheckPositions(segment, previous, info, check, arena, report);
		}
		if (term_count % 1024 == 0)
			pg::CheckForInterrupts();
	}
	lengths->Release();
	for (uint32_t f = 0; f < fields; f++)
		field_lengths[f]->Release();
	if (term_count != segment.header.term_count)
		report.Problem(VerifyKind::kDictionary, "segment %u: %u terms in the dictionary, the header says %u",
					   segment.ref.id, term_count, segment.header.term_count);
}

// An index of fields: each field's lengths against its terms' tfs
// (tf_sums: an array per field after the first), and the document's length
// against the sum of its fields'.
void
CheckFieldLengths(const SegmentReader &segment, const uint32_t *tf_sums, VerifyReport &report)
{
	const uint32_t fields = LengthArrays(segment.header) - 1;
	const uint32_t count = segment.header.doc_count;
	SegmentDocs docs(&segment);
	for (uint32_t f = 0; f < fields; f++)
	{
		SegmentDocs field(&segment, static_cast<int>(f));
		for (uint32_t d = 0; d < count; d++)
		{
			const uint32_t length = field.Length(d);
			if (tf_sums[std::size_t{1 + f} * count + d] != length)
				report.Problem(VerifyKind::kDocument,
							   "segment %u document %u: its field %u's tfs add up to %u, its length there is %u",
							   segment.ref.id, d, f + 1, tf_sums[std::size_t{1 + f} * count + d], length);
		}
		field.Release();
	}
	for (uint32_t d = 0; d < count; d++)
	{
		uint64_t sum = 0;
		for (uint32_t f = 0; f < fields; f++)
			sum += tf_sums[std::size_t{1 + f} * count + d];
		if (sum != docs.Length(d))
			report.Problem(VerifyKind::kDocument, "segment %u document %u: its fields add up to %llu, its length is %u",
						   segment.ref.id, d, static_cast<unsigned long long>(sum), docs.Length(d));
	}
	docs.Release();
}

// Per-document data of one segment: lengths against the tfs, alive bits
// against the metapage's removed count; live documents into `rows`.
void
CheckDocuments(const SegmentReader &segment, const uint32_t *tf_sums, IndexedRows &rows, VerifyReport &report)
{
	SegmentDocs docs(&segment);
	const uint32_t fields = LengthArrays(segment.header) - 1;
	if (fields != 0)
		CheckFieldLengths(segment, tf_sums, report);
	uint32_t removed = 0;
	for (uint32_t d = 0; d < segment.header.doc_count; d++)
	{
		uint32_t length = docs.Length(d);
		if (fields == 0 && tf_sums[d] != length)
			report.Problem(VerifyKind::kDocument, "segment %u document %u: its tfs add up to %u, its length is %u",
						   segment.ref.id, d, tf_sums[d], length);
		if (!docs.Alive(d))
		{
			removed++;
			continue;
		}
		ItemPointerData tid;
		docs.RowId(d, &tid);
		rows.Add(tid, length, false);
	}
	docs.Release();
	if (removed != segment.ref.dead_count)
		report.Problem(VerifyKind::kDocument, "segment %u: %u documents are marked removed, the metapage says %u",
					   segment.ref.id, removed, segment.ref.dead_count);
}

// One segment whose blocks are all sound.
void
CheckSegment(Relation index, const SegmentRef &ref, const MetaPage &meta, mem::ScanArena &arena, IndexedRows &rows,
			 VerifyReport &report)
{
	const bool with_positions = (meta.flags & kMetaPositions) != 0;
	const SegmentReader &segment = *OpenSegment(index, ref, 0, arena);
	if (!SegmentFieldsMatch(segment.header, FieldCount(meta)))
	{
		report.Problem(VerifyKind::kDocument, "segment %u: %u length arrays, the index has %u fields", ref.id,
					   LengthArrays(segment.header), FieldCount(meta));
		return;
	}
	auto *tf_sums = static_cast<uint32_t *>(pg::PgCall([&] {
		return palloc_extended(std::max<std::size_t>(sizeof(uint32_t) * segment.header.doc_count *
														  LengthArrays(segment.header),
													  1),
							   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	}));
	CheckPostings(segment, with_positions, tf_sums, arena, report);
	CheckDocuments(segment, tf_sums, rows, report);
	pfree(tf_sums);
}

// --- the pending list and the null-row list ----------------------------------------------

// The pending list's chain of pages, from its head through its tail (which
// may hold no entry yet but takes the next insert): every page sound.
bool
PendingChainSound(const MetaPage &meta, const Sweep &sweep, Relation index, char *copy, VerifyReport &report)
{
	if (meta.pending_head == InvalidBlockNumber)
		return true;
	BlockNumber block = meta.pending_head;
	for (BlockNumber steps = 0; steps < sweep.count; steps++)
	{
		if (!sweep.Holds(block, PageType::kPending))
		{
			report.Problem(VerifyKind::kPending, "the pending list reaches block %u, which is not a pending page",
						   block);
			return false;
		}
		if (block == meta.pending_tail)
			return true;
		CopyBlock(index, block, sweep.count, copy);
		block = OpaqueOf(copy)->next;
	}
	report.Problem(VerifyKind::kPending, "the pending list's chain does not reach its tail %u", meta.pending_tail);
	return false;
}

void
CheckPending(const PendingSnapshot &pending, IndexedRows &rows, VerifyReport &report)
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
			report.Problem(VerifyKind::kPending, "pending entry %u: its tfs add up to %u, its length is %u", i, sum,
						   doc.length);
		if (!doc.removed)
			rows.Add(doc.tid, doc.length, false);
	}
}

bool
SweptSound(void *arg, BlockNumber block)
{
	return static_cast<const Sweep *>(arg)->Holds(block, PageType::kNullRows);
}

// The null-row list: its TIDs into `rows`, its count against the metapage.
bool
CheckNullRows(Relation index, const MetaPage &meta, const Sweep &sweep, IndexedRows &rows, mem::ScanArena &arena,
			  VerifyReport &report)
{
	char why[256];
	if (!am::NullRowChainSound(NullRowFormat(), index, meta.null_rows, SweptSound, const_cast<Sweep *>(&sweep), why,
							   sizeof why))
	{
		report.Problem(VerifyKind::kNullRows, "%s", why);
		return false;
	}
	am::NullRowReader reader(NullRowFormat(), index, meta.null_rows,
							 arena.MakeArray<ItemPointerData>(NullRowFormat().capacity()));
	ItemPointerData tid;
	uint64_t count = 0;
	while (reader.Next(&tid))
	{
		rows.Add(tid, 0, true);
		count++;
	}
	if (count != meta.null_rows.count)
		report.Problem(VerifyKind::kNullRows, "the null-row list holds %llu rows, the metapage says %llu",
					   static_cast<unsigned long long>(count), static_cast<unsigned long long>(meta.null_rows.count));
	return true;
}

// --- the table -------------------------------------------------------------------------

// What a table row is checked with.
struct RowCheckArg {
	Oid config;
	uint32_t fields;
};

// am::RowCheck: a row's length against the one the index holds.
void
CheckRowLength(void *arg, const IndexedRow &row, ItemPointer tid, const Datum *values, const bool *isnull, bool,
			   VerifyReport &report)
{
	const auto &check = *static_cast<const RowCheckArg *>(arg);
	Tokens tokens = TokenizeRow(check.config, values, isnull, check.fields);
	if (tokens.length != row.value)
		report.Problem(VerifyKind::kLength, "row (%u,%u): the index holds length %u, its text has %u lexemes",
					   ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid), row.value, tokens.length);
}

// N and the total length against the live entries (only when every part
// of the index could be read).
void
CheckTotals(const MetaPage &meta, const IndexedRows &rows, VerifyReport &report)
{
	uint64_t documents = 0, total_length = 0;
	for (uint64_t i = 0; i < rows.count; i++)
	{
		if (rows.items[i].null_row)
			continue;
		documents++;
		total_length += rows.items[i].value;
	}
	if (documents != meta.doc_count)
		report.Problem(VerifyKind::kCount, "the metapage counts %llu rows, the index holds %llu live entries",
					   static_cast<unsigned long long>(meta.doc_count), static_cast<unsigned long long>(documents));
	if (total_length != meta.total_length)
		report.Problem(VerifyKind::kCount, "the metapage's total length is %llu, the live entries add up to %llu",
					   static_cast<unsigned long long>(meta.total_length),
					   static_cast<unsigned long long>(total_length));
}

} // namespace

void
Verify(Relation index, Relation heap, VerifyReport &report)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "quarry_bm25 verify", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	mem::ScanArena *arena = pg::CreateScanArena(cxt, 64 * 1024);
	char *copy = static_cast<char *>(palloc(BLCKSZ));
	const Sweep sweep = SweepPages(index, copy, report);
	MetaPage meta;
	if (ReadSoundMeta(index, sweep, copy, &meta, report))
	{
		IndexedRows rows = IndexedRows::Make();
		bool whole = true;
		pg::Text error;
		for (uint32_t s = 0; s < meta.segment_count; s++)
		{
			const SegmentRef &ref = meta.segments[s];
			if (!SegmentSound(index, ref, sweep, copy, report))
				whole = false;
			else if (!pg::TrySubtransaction(
						 [&] { CheckSegment(index, ref, meta, *arena, rows, report); },
						 &error))
			{
				report.Problem(VerifyKind::kPage, "segment %u could not be read: %s", ref.id, error.text);
				whole = false;
			}
		}
		if (!PendingChainSound(meta, sweep, index, copy, report))
			whole = false;
		else if (!pg::TrySubtransaction([&] { CheckPending(*ReadPending(index, meta, *arena), rows, report); }, &error))
		{
			report.Problem(VerifyKind::kPending, "the pending list could not be read: %s", error.text);
			whole = false;
		}
		if (!pg::TrySubtransaction([&] { whole = CheckNullRows(index, meta, sweep, rows, *arena, report) && whole; },
								   &error))
		{
			report.Problem(VerifyKind::kNullRows, "the null-row list could not be read: %s", error.text);
			whole = false;
		}
		if (whole)
			CheckTotals(meta, rows, report);
		Oid config = IndexTextConfig(index, meta);
		RowCheckArg check{config, FieldCount(meta)};
		CheckTable(heap, index, rows, report, CheckRowLength, &check, whole);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

} // namespace quarry::am::bm25

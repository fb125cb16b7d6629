// Index views and prepared queries (see bm25_search.h).
#include "am/bm25/bm25_search.h"
#include "am/bm25/bm25_fields.h"

#include "fts/term_positions.h"
#include "pg/guard.h"

#include <algorithm>
#include <cstring>

namespace quarry::am::bm25 {

namespace {

// Bytes of scratch a PagePostingBytes needs for a read that straddles pages:
// the largest read is a skip-entry batch or a full block payload.
constexpr std::size_t kPostingScratch = 4096;

// A pending term's positions appended to qt's (grown in the arena).
void
AppendPendingPositions(QueryTerm &qt, std::span<const uint8_t> encoded, uint32_t tf, uint32_t &used,
					   uint32_t &capacity, mem::ScanArena &arena)
{
	if (used + tf > capacity)
	{
		const uint32_t grown = std::max({used + tf, 2 * capacity, 64u});
		auto *bigger = arena.MakeArray<uint32_t>(grown);
		std::copy_n(qt.pending_positions, used, bigger);
		qt.pending_positions = bigger;
		capacity = grown;
	}
	if (!DecodePendingPositions(encoded, tf, qt.pending_positions + used))
		pg::ThrowError(ERRCODE_INDEX_CORRUPTED, "quarry_bm25 pending list entry has malformed positions");
	used += tf;
}

// Collects, for every term to look up (`lookups`), the pending entries that
// hold it, and, for those whose `positions` is set (a phrase's words), their
// positions.
void
MatchPending(const PendingSnapshot *pending, QueryTerm **lookups, const bool *positions, uint32_t count,
			 mem::ScanArena &arena)
{
	auto *used = arena.MakeArray<uint32_t>(std::max<uint32_t>(count, 1));
	auto *capacity = arena.MakeArray<uint32_t>(std::max<uint32_t>(count, 1));
	for (uint32_t t = 0; t < count; t++)
	{
		lookups[t]->pending_docs = arena.MakeArray<fts::DocId>(std::max<uint32_t>(pending->count, 1));
		lookups[t]->pending_tfs = arena.MakeArray<uint32_t>(std::max<uint32_t>(pending->count, 1));
		lookups[t]->pending_positions = nullptr;
		lookups[t]->pending_count = 0;
		used[t] = capacity[t] = 0;
	}
	for (uint32_t d = 0; d < pending->count; d++)
	{
		const PendingDoc &doc = pending->docs[d];
		if (doc.removed)
			continue;
		PendingTerms terms(doc);
		std::string_view term;
		uint32_t tf;
		std::span<const uint8_t> encoded;
		while (terms.Next(term, tf, &encoded))
			for (uint32_t t = 0; t < count; t++)
			{
				QueryTerm &qt = *lookups[t];
				if (qt.text != term)
					continue;
				qt.pending_docs[qt.pending_count] = d;
				qt.pending_tfs[qt.pending_count] = tf;
				qt.pending_count++;
				if (positions[t])
					AppendPendingPositions(qt, encoded, tf, used[t], capacity[t], arena);
			}
	}
}

// Allocates for ArenaBuffers (nullptr when the arena has no memory).
uint8_t *
AllocateFromArena(void *state, std::size_t bytes)
{
	try
	{
		return static_cast<mem::ScanArena *>(state)->MakeArray<uint8_t>(bytes);
	}
	catch (const std::bad_alloc &)
	{
		return nullptr;
	}
}

} // namespace

// Finds `term` among a document's tokens (sorted by bytes).
const Lexeme *
FindLexeme(const Tokens &doc, std::string_view term)
{
	uint32_t lo = 0, hi = doc.count;
	while (lo < hi)
	{
		uint32_t mid = (lo + hi) / 2;
		int c = std::string_view(doc.lexemes[mid].text, doc.lexemes[mid].bytes).compare(term);
		if (c == 0)
			return &doc.lexemes[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return nullptr;
}

fts::BufferSource
ArenaBuffers(mem::ScanArena &arena)
{
	return {AllocateFromArena, &arena};
}

namespace {

// An index of fields: each field's weight, normalisation and statistics; its
// segments hold one length array per field.
void
OpenFields(IndexView *view)
{
	view->field_count = FieldCount(view->meta);
	if (view->field_count < 2)
		return;
	double weights[kMaxFields];
	FieldWeights(view->index, view->field_count, weights);
	for (uint32_t f = 0; f < view->field_count; f++)
	{
		const uint64_t total = view->meta.field_total_length[f];
		view->field_stats[f] = fts::CollectionStats{view->meta.doc_count, total};
		const double avg = total == 0 || view->meta.doc_count == 0 ? 1.0 : view->field_stats[f].AverageLength();
		view->field_norms[f] = fts::FieldNorm{weights[f], view->params.b, avg};
	}
	for (uint32_t s = 0; s < view->segment_count; s++)
		if (!SegmentFieldsMatch(view->segments[s]->header, view->field_count))
			pg::ThrowCorrupt(view->index, "Segment %u: its documents have another number of fields than the index.",
							 view->segments[s]->ref.id);
}

} // namespace

IndexView *
OpenIndexView(Relation index, mem::ScanArena &arena)
{
	auto *view = arena.Make<IndexView>();
	view->index = index;
	pg::PgCall([&] { ReadMeta(index, &view->meta); });
	view->config = pg::PgCall([&] { return IndexTextConfig(index, view->meta); });
	view->params = ParamsOf(index);
	view->stats = fts::CollectionStats{view->meta.doc_count, view->meta.total_length};
	view->segment_count = view->meta.segment_count;
	view->segments = arena.MakeArray<SegmentReader *>(std::max<uint32_t>(view->segment_count, 1));
	fts::DocId base = 0;
	for (uint32_t s = 0; s < view->segment_count; s++)
	{
		const SegmentRef &ref = view->meta.segments[s];
		view->segments[s] = OpenSegment(index, ref, base, arena);
		if (uint64_t{base} + ref.doc_count >= fts::kEndDoc)
			pg::ThrowError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "quarry_bm25 index holds too many documents");
		base += ref.doc_count;
	}
	view->pending_base = base;
	view->pending = ReadPending(index, view->meta, arena);
	OpenFields(view);
	if (uint64_t{base} + view->pending->count >= fts::kEndDoc)
		pg::ThrowError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "quarry_bm25 index holds too many documents");
	view->doc_end = base + view->pending->count;
	return view;
}

namespace {

// A plain query's terms: its lexemes in order of first occurrence, all scored.
QueryTermList
ReadPlainTerms(Oid config, std::string_view text)
{
	Tokens tokens = pg::PgCall([&] { return Tokenize(config, text.data(), static_cast<int>(text.size()), true); });
	return QueryTermList{tokens.lexemes, tokens.count, tokens.count, nullptr, nullptr, nullptr, nullptr, nullptr, 0};
}

} // namespace

// Looks the term up in every segment (the pending list comes later).
void
LookUpTerm(QueryTerm &qt, const Lexeme &lexeme, IndexView *view, mem::ScanArena &arena)
{
	qt = QueryTerm{};
	char *copy = static_cast<char *>(arena.Allocate(std::max<uint32_t>(lexeme.bytes, 1), 1));
	std::memcpy(copy, lexeme.text, lexeme.bytes);
	qt.text = {copy, lexeme.bytes};
	qt.query_tf = lexeme.tf;
	qt.segment_info = arena.MakeArray<TermInfo>(std::max<uint32_t>(view->segment_count, 1));
	for (uint32_t s = 0; s < view->segment_count; s++)
	{
		TermInfo &info = qt.segment_info[s];
		if (!FindTerm(*view->segments[s], qt.text, &info))
			info = TermInfo{};
		qt.doc_freq += info.doc_freq;
	}
}

namespace {

// Documents holding some term of required group g (an upper bound).
uint64_t
GroupDocFreq(const PreparedQuery *q, const QueryTermList &list, uint32_t g)
{
	uint64_t df = 0;
	for (uint32_t i = g == 0 ? 0 : list.group_ends[g - 1]; i < list.group_ends[g]; i++)
		df += q->terms[list.required[i]].doc_freq;
	return df;
}

// The clause filter over the terms' cursors: required groups rarest first.
void
MakeFilter(PreparedQuery *q, const QueryTermList &list, mem::ScanArena &arena)
{
	const uint32_t groups = list.group_count;
	auto *order = arena.MakeArray<uint32_t>(std::max<uint32_t>(groups, 1));
	auto *group_df = arena.MakeArray<uint64_t>(std::max<uint32_t>(groups, 1));
	for (uint32_t g = 0; g < groups; g++)
	{
		order[g] = g;
		group_df[g] = GroupDocFreq(q, list, g);
	}
	std::sort(order, order + groups, [&](uint32_t a, uint32_t b) {
		return group_df[a] != group_df[b] ? group_df[a] < group_df[b] : a < b;
	});
	const uint32_t members = groups == 0 ? 0 : list.group_ends[groups - 1];
	const uint32_t excluded_count = q->term_count - q->scored_count;
	auto **cursors = arena.MakeArray<fts::TermCursor *>(std::max<uint32_t>(members + excluded_count, 1));
	auto *spans = arena.MakeArray<fts::CursorGroup>(std::max<uint32_t>(groups, 1));
	q->required = arena.MakeArray<uint32_t>(std::max<uint32_t>(members, 1));
	q->group_ends = arena.MakeArray<uint32_t>(std::max<uint32_t>(groups, 1));
	uint32_t at = 0;
	for (uint32_t k = 0; k < groups; k++)
	{
		const uint32_t g = order[k];
		const uint32_t start = at;
		for (uint32_t i = g == 0 ? 0 : list.group_ends[g - 1]; i < list.group_ends[g]; i++, at++)
		{
			q->required[at] = list.required[i];
			cursors[at] = &q->terms[list.required[i]].cursor;
		}
		spans[k] = fts::CursorGroup(cursors + start, at - start);
		q->group_ends[k] = at;
	}
	for (uint32_t i = 0; i < excluded_count; i++)
		cursors[members + i] = &q->terms[q->scored_count + i].cursor;
	q->filter = fts::ClauseFilter{{spans, groups}, {cursors + members, excluded_count}};
}

// Every term's scorer; the expansions of one lexeme (a blend group, whose
// terms are consecutive) with the largest document frequency among them.
void
MakeScorers(PreparedQuery *q, const QueryTermList &list)
{
	const IndexView *view = q->view;
	for (uint32_t t = 0; t < q->term_count;)
	{
		const uint32_t blend = list.blend == nullptr ? kNoBlend : list.blend[t];
		uint32_t end = t + 1;
		uint64_t df = q->terms[t].doc_freq;
		while (blend != kNoBlend && end < q->term_count && list.blend[end] == blend)
			df = std::max(df, q->terms[end++].doc_freq);
		for (; t < end; t++)
		{
			QueryTerm &qt = q->terms[t];
			const double boost = list.boosts == nullptr ? 1.0 : list.boosts[t];
			if (qt.field_terms != nullptr)
				MakeFieldScorers(qt, df, boost, view);
			else if (qt.phrase != nullptr)
				MakePhraseScorer(qt, view->params, view->stats);
			else
				qt.scorer = fts::TermScorer(view->params, view->stats, df, qt.query_tf, boost);
		}
	}
}

} // namespace

PreparedQuery *
PrepareQuery(IndexView *view, std::string_view text, bool parsed, std::string_view stats, mem::ScanArena &arena)
{
	auto *q = arena.Make<PreparedQuery>();
	*q = PreparedQuery{view, nullptr, 0, 0, {}, nullptr, nullptr, nullptr, 0, nullptr, 0, nullptr, 0};
	fts::TermStatistics carried;
	const fts::TermStatistics *given = ReadQueryStatistics(stats, &carried) ? &carried : nullptr;
	SetViewStatistics(view, given);
	QueryTermList list = parsed ? ReadClauseTerms(view, text, arena) : ReadPlainTerms(view->config, text);
	q->term_count = list.count;
	q->scored_count = list.scored_count;
	q->terms = arena.MakeArray<QueryTerm>(std::max<uint32_t>(list.count, 1));
	uint32_t lookup_count = 0;
	for (uint32_t t = 0; t < list.count; t++)
	{
		const PhraseSpec *phrase = list.phrases == nullptr ? nullptr : list.phrases[t];
		lookup_count += view->field_count >= 2 ? FieldLookupCount(view, phrase)
											   : (phrase == nullptr ? 1 : phrase->lexeme_count);
	}
	auto **lookups = arena.MakeArray<QueryTerm *>(std::max<uint32_t>(lookup_count, 1));
	auto *positions = arena.MakeArray<bool>(std::max<uint32_t>(lookup_count, 1));
	uint32_t n = 0;
	for (uint32_t t = 0; t < list.count; t++)
	{
		const PhraseSpec *phrase = list.phrases == nullptr ? nullptr : list.phrases[t];
		if (view->field_count >= 2)
		{
			PrepareFieldTerm(q->terms[t], list.terms[t], phrase, view, arena);
			n += FieldLookups(q->terms[t], lookups + n, positions + n);
			continue;
		}
		if (phrase != nullptr)
		{
			PreparePhraseTerm(q->terms[t], list.terms[t], phrase, view, arena);
			for (uint32_t i = 0; i < phrase->lexeme_count; i++)
			{
				positions[n] = true;
				lookups[n++] = &q->terms[t].lexemes[i];
			}
			continue;
		}
		LookUpTerm(q->terms[t], list.terms[t], view, arena);
		positions[n] = false;
		lookups[n++] = &q->terms[t];
	}
	lookup_count = n;
	MatchPending(view->pending, lookups, positions, lookup_count, arena);
	for (uint32_t i = 0; i < lookup_count; i++)
		lookups[i]->doc_freq += lookups[i]->pending_count;
	ApplyTermStatistics(given, lookups, lookup_count);
	q->lookups = lookups;
	q->lookup_count = lookup_count;
	for (uint32_t t = 0; t < list.count; t++)
		if (q->terms[t].field_terms != nullptr)
			q->terms[t].doc_freq = FieldDocFreq(q->terms[t]);
	MakeScorers(q, list);
	if (parsed)
		MakeFilter(q, list, arena);
	return q;
}

namespace {

// The term's list in the pending list, encoded in the arena (with its
// positions section when the index has positions).
bool
OpenPendingPart(const QueryTerm &qt, const fts::TermScorer &scorer, IndexView *view, bool positions,
				mem::ScanArena &arena, fts::TermCursor::Part &part, double &bound)
{
	if (qt.pending_count == 0)
		return false;
	std::span<const fts::DocId> docs(qt.pending_docs, qt.pending_count);
	std::span<const uint32_t> tfs(qt.pending_tfs, qt.pending_count);
	auto *lens = arena.MakeArray<uint32_t>(qt.pending_count);
	std::size_t position_count = 0;
	for (uint32_t i = 0; i < qt.pending_count; i++)
	{
		lens[i] = qt.field < 0 ? view->pending->docs[qt.pending_docs[i]].length
							   : view->pending->field_lengths[std::size_t(qt.field) * view->pending->count +
															  qt.pending_docs[i]];
		position_count += qt.pending_tfs[i];
	}
	std::size_t bytes = fts::EncodedPostingListSize(docs, tfs);
	auto *encoded = arena.MakeArray<uint8_t>(bytes);
	fts::ImpactSummary impacts = fts::EncodePostingList(docs, tfs, {lens, qt.pending_count}, {encoded, bytes});
	auto *source = arena.Make<fts::MemoryPostingBytes>(encoded, bytes);
	auto *cursor = arena.Make<fts::PostingCursor>();
	if (!cursor->Open(source))
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "could not open a pending posting list");
	part = {cursor, view->pending_base, view->pending_base + docs.back(), nullptr};
	if (positions)
	{
		std::span<const uint32_t> all(qt.pending_positions, position_count);
		const std::size_t section = fts::EncodedTermPositionsSize(tfs, all);
		auto *data = arena.MakeArray<uint8_t>(std::max<std::size_t>(section, 1));
		fts::EncodeTermPositions(tfs, all, {data, section});
		auto *reader = arena.Make<fts::TermPositionsReader>();
		reader->Init(arena.Make<fts::MemoryPostingBytes>(data, section), static_cast<uint32_t>(section),
					 cursor->block_count(), ArenaBuffers(arena));
		part.positions = reader;
	}
	bound = std::max(bound, impacts.Bound(scorer));
	return true;
}

fts::ImpactSummary
ImpactsOf(const TermInfo &info)
{
	fts::ImpactSummary s;
	s.count = std::min<uint16_t>(info.impact_count, fts::kMaxImpacts);
	for (uint16_t i = 0; i < s.count; i++)
	{
		s.tf[i] = info.impact_tf[i];
		s.doc_len[i] = info.impact_doc_len[i];
	}
	return s;
}

// The positions of segment s's list of the term, pinned through `q`.
fts::TermPositionsReader *
OpenSegmentPositions(PreparedQuery *q, const SegmentReader *seg, const TermInfo &info, uint32_t block_count,
					 mem::ScanArena &arena)
{
	auto *bytes = arena.Make<PagePostingBytes>(seg, info.postings_offset + info.postings_bytes, PositionsBytes(info),
											   arena.MakeArray<uint8_t>(kPostingScratch), kPostingScratch);
	q->page_bytes[q->page_bytes_count++] = bytes;
	auto *reader = arena.Make<fts::TermPositionsReader>();
	reader->Init(bytes, PositionsBytes(info), block_count, ArenaBuffers(arena));
	return reader;
}

} // namespace

double
OpenTermParts(PreparedQuery *q, const QueryTerm &qt, const fts::TermScorer &scorer, bool positions,
			  mem::ScanArena &arena, fts::TermCursor::Part *&parts, uint32_t &count)
{
	IndexView *view = q->view;
	parts = arena.MakeArray<fts::TermCursor::Part>(view->segment_count + 1);
	count = 0;
	double bound = 0;
	for (uint32_t s = 0; s < view->segment_count; s++)
	{
		const TermInfo &info = qt.segment_info[s];
		if (info.doc_freq == 0)
			continue;
		const SegmentReader *seg = view->segments[s];
		auto *scratch = arena.MakeArray<uint8_t>(kPostingScratch);
		auto *bytes =
			arena.Make<PagePostingBytes>(seg, info.postings_offset, info.postings_bytes, scratch, kPostingScratch);
		q->page_bytes[q->page_bytes_count++] = bytes;
		auto *cursor = arena.Make<fts::PostingCursor>();
		if (!cursor->Open(bytes))
			pg::ThrowCorrupt(view->index, "Segment %u: an unreadable posting list.", seg->ref.id);
		fts::DocId last_local = cursor->LastDoc();
		if (last_local == fts::kEndDoc || last_local >= seg->header.doc_count)
			pg::ThrowCorrupt(view->index, "Segment %u: a posting list past the segment's documents.", seg->ref.id);
		parts[count++] = {cursor, seg->base, seg->base + last_local,
						  positions ? OpenSegmentPositions(q, seg, info, cursor->block_count(), arena) : nullptr};
		bound = std::max(bound, ImpactsOf(info).Bound(scorer));
	}
	if (OpenPendingPart(qt, scorer, view, positions, arena, parts[count], bound))
		count++;
	return bound;
}

void
OpenCursors(PreparedQuery *q, mem::ScanArena &arena)
{
	IndexView *view = q->view;
	// Page readers: postings (and positions) per part, per term or per
	// phrase member, forward and probe.
	uint32_t readers = 0, field_lengths = 0;
	for (uint32_t t = 0; t < q->term_count; t++)
	{
		const QueryTerm &qt = q->terms[t];
		readers += qt.field_terms != nullptr ? FieldReaders(qt) : qt.phrase == nullptr ? 1 : 4 * qt.phrase->member_count;
		field_lengths += qt.field_term_count;
	}
	q->field_lengths = arena.MakeArray<ViewFieldLengths *>(std::max<uint32_t>(field_lengths, 1));
	q->field_lengths_count = 0;
	q->page_bytes = arena.MakeArray<PagePostingBytes *>(std::max<uint32_t>(readers * (view->segment_count + 1), 1));
	q->page_bytes_count = 0;
	for (uint32_t t = 0; t < q->term_count; t++)
	{
		QueryTerm &qt = q->terms[t];
		if (qt.field_terms != nullptr)
		{
			OpenFieldCursor(q, qt, t, arena);
			continue;
		}
		if (qt.phrase != nullptr)
		{
			OpenPhraseCursor(q, qt, t, arena);
			continue;
		}
		fts::TermCursor::Part *parts;
		uint32_t count;
		double bound = OpenTermParts(q, qt, qt.scorer, false, arena, parts, count);
		qt.cursor.Init(parts, count, &qt.scorer, bound, t);
	}
}

void
ReleaseCursors(PreparedQuery *q)
{
	for (uint32_t i = 0; i < q->page_bytes_count; i++)
		q->page_bytes[i]->Release();
	for (uint32_t i = 0; i < q->field_lengths_count; i++)
		q->field_lengths[i]->Release();
}

namespace {

// A term's tf in a document given as tokens (a phrase's frequency), 0 if absent.
double
TfInTokens(const QueryTerm &qt, const IndexView &view, const Tokens &doc)
{
	if (qt.field_terms != nullptr)
		return FieldFreqInTokens(qt, view, doc);
	if (qt.phrase != nullptr)
		return PhraseFreqInTokens(qt, doc);
	const Lexeme *lex = FindLexeme(doc, qt.text);
	return lex == nullptr ? 0.0 : lex->tf;
}

} // namespace

double
ScoreTokens(const PreparedQuery &q, const Tokens &doc, double *term_scores)
{
	bool holds = false;
	for (uint32_t t = 0; t < q.scored_count; t++)
	{
		const double tf = TfInTokens(q.terms[t], *q.view, doc);
		holds |= tf > 0;
		term_scores[t] = tf == 0 ? 0.0 : q.terms[t].scorer.Score(tf, doc.length);
	}
	if (!holds)
		return 0.0;
	// The clause filter, on the document's tokens instead of the cursors.
	for (std::size_t g = 0; g < q.filter.required.size(); g++)
	{
		bool any = false;
		for (uint32_t i = g == 0 ? 0 : q.group_ends[g - 1]; i < q.group_ends[g] && !any; i++)
			any = TfInTokens(q.terms[q.required[i]], *q.view, doc) > 0;
		if (!any)
			return 0.0;
	}
	for (uint32_t t = q.scored_count; t < q.term_count; t++)
		if (TfInTokens(q.terms[t], *q.view, doc) > 0)
			return 0.0;
	return fts::SumInTermOrder(term_scores, q.scored_count);
}

bool
MatchesDoc(const PreparedQuery &q, fts::DocId doc)
{
	bool holds = false;
	for (uint32_t t = 0; t < q.scored_count && !holds; t++)
		holds = q.terms[t].cursor.Contains(doc);
	return holds && q.filter.Matches(doc);
}

// --- ViewDocs --------------------------------------------------------------------

ViewDocs::ViewDocs(IndexView *view, mem::ScanArena &arena) : view_(view)
{
	docs_ = arena.MakeArray<SegmentDocs>(std::max<uint32_t>(view->segment_count, 1));
	for (uint32_t s = 0; s < view->segment_count; s++)
		new (&docs_[s]) SegmentDocs(view->segments[s]);
}

namespace {

// The segment holding global document `doc`, or segment_count for the pending list.
uint32_t
PartOfDoc(const IndexView *view, fts::DocId doc)
{
	if (doc >= view->pending_base)
		return view->segment_count;
	uint32_t lo = 0, hi = view->segment_count;
	while (hi - lo > 1)
	{
		uint32_t mid = (lo + hi) / 2;
		if (view->segments[mid]->base <= doc)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

} // namespace

uint32_t
ViewDocs::PartOf(fts::DocId doc) const
{
	return PartOfDoc(view_, doc);
}

uint32_t
ViewDocs::Length(fts::DocId doc)
{
	uint32_t part = PartOf(doc);
	if (part == view_->segment_count)
		return view_->pending->docs[doc - view_->pending_base].length;
	return docs_[part].Length(doc - view_->segments[part]->base);
}

std::span<const uint32_t>
ViewDocs::Window(fts::DocId first, uint32_t max_count)
{
	uint32_t part = PartOf(first);
	if (part == view_->segment_count)
	{
		uint32_t local = first - view_->pending_base;
		return {view_->pending->lengths + local, std::min(max_count, view_->pending->count - local)};
	}
	return docs_[part].LengthWindow(first - view_->segments[part]->base, max_count);
}

bool
ViewDocs::Admit(fts::DocId doc)
{
	uint32_t part = PartOf(doc);
	if (part == view_->segment_count)
		return !view_->pending->docs[doc - view_->pending_base].removed;
	return docs_[part].Alive(doc - view_->segments[part]->base);
}

void
ViewDocs::Tid(fts::DocId doc, ItemPointer tid)
{
	uint32_t part = PartOf(doc);
	if (part == view_->segment_count)
	{
		*tid = view_->pending->docs[doc - view_->pending_base].tid;
		return;
	}
	docs_[part].RowId(doc - view_->segments[part]->base, tid);
}

void
ViewDocs::Release()
{
	for (uint32_t s = 0; s < view_->segment_count; s++)
		docs_[s].Release();
}

// --- ViewFieldLengths ---------------------------------------------------------------

ViewFieldLengths::ViewFieldLengths(IndexView *view, uint32_t field, mem::ScanArena &arena)
	: view_(view), field_(field)
{
	docs_ = arena.MakeArray<SegmentDocs>(std::max<uint32_t>(view->segment_count, 1));
	for (uint32_t s = 0; s < view->segment_count; s++)
		new (&docs_[s]) SegmentDocs(view->segments[s], static_cast<int>(field));
}

uint32_t
ViewFieldLengths::Length(fts::DocId doc)
{
	const uint32_t part = PartOfDoc(view_, doc);
	if (part == view_->segment_count)
	{
		const PendingSnapshot *p = view_->pending;
		return p->field_lengths[std::size_t{field_} * p->count + (doc - view_->pending_base)];
	}
	return docs_[part].Length(doc - view_->segments[part]->base);
}

std::span<const uint32_t>
ViewFieldLengths::Window(fts::DocId first, uint32_t max_count)
{
	const uint32_t part = PartOfDoc(view_, first);
	if (part == view_->segment_count)
	{
		const PendingSnapshot *p = view_->pending;
		uint32_t local = first - view_->pending_base;
		return {p->field_lengths + std::size_t{field_} * p->count + local, std::min(max_count, p->count - local)};
	}
	return docs_[part].LengthWindow(first - view_->segments[part]->base, max_count);
}

void
ViewFieldLengths::Release()
{
	for (uint32_t s = 0; s < view_->segment_count; s++)
		docs_[s].Release();
}

} // namespace quarry::am::bm25

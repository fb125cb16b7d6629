// Prefix and fuzzy terms over an index view: the dictionary terms a query's
// 'word*' or 'word~N' lexeme stands for (what they mean and how they score:
// fts/term_expansion.h).
//
// A prefix seeks every segment's dictionary to the prefix and reads on while
// the terms start with it; a fuzzy lexeme reads every dictionary in full,
// measuring only terms whose length allows a match. The pending list is read
// row by row (each row holding a term adds one to its document frequency).
// Candidates of all parts are merged by text, then at most
// quarry.bm25_max_expansions are kept.
//
// Memory: candidates, their texts and the readers' buffers go to a scratch
// arena the caller resets after every lexeme; only the kept terms are copied
// into the query's arena. A prefix of one letter on a large index takes a few
// MB of scratch (every term with that prefix) for a moment.
#include "am/bm25/bm25_search.h"

#include "pg/guard.h"

extern "C" {
#include "mb/pg_wchar.h"
#include "miscadmin.h"
}

#include <algorithm>
#include <cstring>

namespace quarry::am::bm25 {

namespace {

// What a lexeme is matched against, and the candidates found so far.
struct Expander {
	IndexView *view;
	mem::ScanArena &arena; // scratch
	std::string_view lexeme;
	fts::ClauseKind kind;
	uint32_t distance;
	// fuzzy: the lexeme's characters, a term's, and the distance's rows
	pg_wchar *query_chars = nullptr;
	uint32_t query_count = 0;
	pg_wchar *term_chars = nullptr;
	uint32_t *rows = nullptr;
	// candidates (a grown array leaves the old one in the arena)
	fts::ExpansionCandidate *items = nullptr;
	std::size_t count = 0;
	std::size_t capacity = 0;

	void Push(std::string_view text, uint64_t doc_freq, uint32_t edits, double boost);
	bool Consider(std::string_view term, uint64_t doc_freq);
	void Measure(std::string_view term, uint64_t doc_freq);
};

void
Expander::Push(std::string_view text, uint64_t doc_freq, uint32_t edits, double boost)
{
	if (count == capacity)
	{
		std::size_t grown = std::max<std::size_t>(64, capacity * 2);
		auto *bigger = arena.MakeArray<fts::ExpansionCandidate>(grown);
		std::copy_n(items, count, bigger);
		items = bigger;
		capacity = grown;
	}
	char *copy = static_cast<char *>(arena.Allocate(std::max<std::size_t>(text.size(), 1), 1));
	std::memcpy(copy, text.data(), text.size());
	items[count++] = fts::ExpansionCandidate{{copy, text.size()}, doc_freq, edits, boost};
}

// A fuzzy candidate: kept when within the distance and Lucene's boost is
// positive (fewer edits than the shorter word has characters).
void
Expander::Measure(std::string_view term, uint64_t doc_freq)
{
	// Every character takes at least one byte: too short a term is skipped
	// before it is decoded.
	if (term.size() + distance < query_count)
		return;
	const int n = pg_mb2wchar_with_len(term.data(), term_chars, static_cast<int>(term.size()));
	const uint32_t edits =
		fts::BoundedEditDistance({term_chars, static_cast<std::size_t>(n)}, {query_chars, query_count}, distance,
								 {rows, 3 * (std::size_t{query_count} + 1)});
	if (edits > distance)
		return;
	const double boost = fts::FuzzyBoost(edits, query_count, static_cast<std::size_t>(n));
	if (boost > 0)
		Push(term, doc_freq, edits, boost);
}

// Whether the iteration of a sorted dictionary goes on past `term`; adds the
// term when it matches.
bool
Expander::Consider(std::string_view term, uint64_t doc_freq)
{
	if (kind == fts::ClauseKind::kPrefix)
	{
		if (term.substr(0, lexeme.size()) != lexeme)
			return term < lexeme; // past the prefix's range: stop
		Push(term, doc_freq, 0, 1.0);
		return true;
	}
	Measure(term, doc_freq);
	return true;
}

void
ExpandSegment(Expander &e, const SegmentReader *segment)
{
	if (segment->header.dict_leaves == 0)
		return;
	TermIterator terms(segment, e.arena.MakeArray<uint8_t>(kPageContentBytes));
	if (e.kind == fts::ClauseKind::kPrefix)
		terms.Seek(e.lexeme);
	std::string_view term;
	TermInfo info;
	for (uint32_t read = 1; terms.Next(term, info); read++)
	{
		if (!e.Consider(term, info.doc_freq))
			break;
		if (read % 4096 == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

void
ExpandPending(Expander &e)
{
	const PendingSnapshot *pending = e.view->pending;
	for (uint32_t d = 0; d < pending->count; d++)
	{
		if (pending->docs[d].removed)
			continue;
		PendingTerms terms(pending->docs[d]);
		std::string_view term;
		uint32_t tf;
		while (terms.Next(term, tf))
			e.Consider(term, 1);
	}
}

void
PrepareFuzzy(Expander &e)
{
	e.query_chars = e.arena.MakeArray<pg_wchar>(e.lexeme.size() + 1);
	e.query_count = static_cast<uint32_t>(
		pg_mb2wchar_with_len(e.lexeme.data(), e.query_chars, static_cast<int>(e.lexeme.size())));
	e.term_chars = e.arena.MakeArray<pg_wchar>(kMaxTermBytes + 1);
	e.rows = e.arena.MakeArray<uint32_t>(3 * (std::size_t{e.query_count} + 1));
}

// Copies the kept candidates (and their texts) into the query's arena.
fts::ExpansionCandidate *
KeepTerms(std::span<const fts::ExpansionCandidate> kept, mem::ScanArena &arena)
{
	auto *terms = arena.MakeArray<fts::ExpansionCandidate>(std::max<std::size_t>(kept.size(), 1));
	for (std::size_t i = 0; i < kept.size(); i++)
	{
		char *copy = static_cast<char *>(arena.Allocate(std::max<std::size_t>(kept[i].text.size(), 1), 1));
		std::memcpy(copy, kept[i].text.data(), kept[i].text.size());
		terms[i] = kept[i];
		terms[i].text = {copy, kept[i].text.size()};
	}
	return terms;
}

} // namespace

ExpandedTerms
ExpandLexeme(IndexView *view, std::string_view lexeme, fts::ClauseKind kind, uint32_t distance,
			 mem::ScanArena &scratch, mem::ScanArena &arena)
{
	Expander e{view, scratch, lexeme, kind, distance};
	if (kind == fts::ClauseKind::kFuzzy)
		PrepareFuzzy(e);
	for (uint32_t s = 0; s < view->segment_count; s++)
		ExpandSegment(e, view->segments[s]);
	ExpandPending(e);
	const fts::ExpansionOrder order =
		kind == fts::ClauseKind::kPrefix ? fts::ExpansionOrder::kByFrequency : fts::ExpansionOrder::kByEdits;
	std::span<fts::ExpansionCandidate> all(e.items, e.count);
	const std::size_t kept = fts::SelectExpansions(all, order, static_cast<std::size_t>(max_expansions));
	return ExpandedTerms{KeepTerms(all.first(kept), arena), static_cast<uint32_t>(kept),
						 fts::BlendedDocFreq(all.first(kept))};
}

} // namespace quarry::am::bm25

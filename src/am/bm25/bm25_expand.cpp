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
#include "am/bm25/bm25_fields.h"

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
	std::string_view lexeme; // with the field's tag in an index of fields
	fts::ClauseKind kind;
	uint32_t distance;
	// An index of fields: the field's tag (0: none), which the terms
	// measured and pushed go without.
	uint8_t tag = 0;
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
		Push(term.substr(tag != 0 ? 1 : 0), doc_freq, 0, 1.0);
		return true;
	}
	if (tag != 0)
	{
		// Another field's term: before the field's range, read on; past it, stop.
		if (term.empty() || static_cast<uint8_t>(term[0]) != tag)
			return term.empty() || static_cast<uint8_t>(term[0]) < tag;
		term.remove_prefix(1);
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
	else if (e.tag != 0)
		terms.Seek(e.lexeme.substr(0, 1));
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
	const std::string_view word = e.lexeme.substr(e.tag != 0 ? 1 : 0);
	e.query_chars = e.arena.MakeArray<pg_wchar>(word.size() + 1);
	e.query_count =
		static_cast<uint32_t>(pg_mb2wchar_with_len(word.data(), e.query_chars, static_cast<int>(word.size())));
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

namespace {

// Every candidate of `lexeme` (tagged with `tag` in an index of fields),
// merged by text (document frequencies of the parts added), in the scratch
// arena.
std::span<fts::ExpansionCandidate>
Candidates(IndexView *view, std::string_view lexeme, uint8_t tag, fts::ClauseKind kind, uint32_t distance,
		   mem::ScanArena &scratch)
{
	Expander e{view, scratch, lexeme, kind, distance, tag};
	if (kind == fts::ClauseKind::kFuzzy)
		PrepareFuzzy(e);
	for (uint32_t s = 0; s < view->segment_count; s++)
		ExpandSegment(e, view->segments[s]);
	ExpandPending(e);
	std::span<fts::ExpansionCandidate> all(e.items, e.count);
	return all.first(fts::SelectExpansions(all, fts::ExpansionOrder::kByFrequency, all.size()));
}

// Every field's candidates of a lexeme, one per text with its largest
// document frequency over the fields.
std::span<fts::ExpansionCandidate>
CandidatesOverFields(IndexView *view, std::string_view lexeme, fts::ClauseKind kind, uint32_t distance,
					 mem::ScanArena &scratch)
{
	std::span<fts::ExpansionCandidate> per_field[kMaxFields];
	std::size_t total = 0;
	for (uint32_t f = 0; f < FieldCount(view->meta); f++)
	{
		per_field[f] = Candidates(view, FieldTerm(view->meta, f, lexeme, scratch), FieldTag(f), kind, distance, scratch);
		total += per_field[f].size();
	}
	auto *all = scratch.MakeArray<fts::ExpansionCandidate>(std::max<std::size_t>(total, 1));
	std::size_t n = 0;
	for (uint32_t f = 0; f < FieldCount(view->meta); f++)
		for (const fts::ExpansionCandidate &c : per_field[f])
			all[n++] = c;
	std::sort(all, all + n, [](const auto &a, const auto &b) { return a.text < b.text; });
	std::size_t kept = 0;
	for (std::size_t i = 0; i < n; i++)
	{
		if (kept > 0 && all[kept - 1].text == all[i].text)
			all[kept - 1].doc_freq = std::max(all[kept - 1].doc_freq, all[i].doc_freq);
		else
			all[kept++] = all[i];
	}
	return {all, kept};
}

// In an index of fields, a term kept for one field carries its tag.
void
TagTerms(IndexView *view, int field, std::span<fts::ExpansionCandidate> terms, mem::ScanArena &arena)
{
	if (field < 0 || !HasFields(view->meta))
		return;
	for (fts::ExpansionCandidate &c : terms)
		c.text = FieldTerm(view->meta, static_cast<uint32_t>(field), c.text, arena);
}

} // namespace

ExpandedTerms
ExpandLexeme(IndexView *view, std::string_view lexeme, fts::ClauseKind kind, uint32_t distance, int field,
			 mem::ScanArena &scratch, mem::ScanArena &arena)
{
	std::span<fts::ExpansionCandidate> all;
	if (!HasFields(view->meta))
		all = Candidates(view, lexeme, 0, kind, distance, scratch);
	else if (field >= 0)
		all = Candidates(view, FieldTerm(view->meta, static_cast<uint32_t>(field), lexeme, scratch),
						 FieldTag(static_cast<uint32_t>(field)), kind, distance, scratch);
	else
		all = CandidatesOverFields(view, lexeme, kind, distance, scratch);
	const fts::ExpansionOrder order =
		kind == fts::ClauseKind::kPrefix ? fts::ExpansionOrder::kByFrequency : fts::ExpansionOrder::kByEdits;
	const std::size_t kept = fts::SelectExpansions(all, order, static_cast<std::size_t>(max_expansions));
	fts::ExpansionCandidate *terms = KeepTerms(all.first(kept), arena);
	TagTerms(view, field, {terms, kept}, arena);
	return ExpandedTerms{terms, static_cast<uint32_t>(kept), fts::BlendedDocFreq({terms, kept})};
}

} // namespace quarry::am::bm25

// Index scans of the current statement: which index ran which query, and the
// statistics it ranked with (see bm25_query.h). The notes serve two things
// only: naming the index of a query nobody resolved (a query inside a SQL
// function PostgreSQL inlined), and scoring a returned row with the very
// statistics its scan ranked with. They never grant access: who may read an
// index's statistics is decided where they are read (bm25_functions.cpp).
#include "am/bm25/bm25_query.h"
#include "am/bm25/bm25_scan_notes.h"
#include "am/bm25/bm25_search.h"
#include "pg/guard.h"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/timestamp.h"
}

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace quarry::am::bm25 {

namespace {

struct ScanNote {
	TimestampTz statement;
	Oid user; // the user the scan ran for
	Oid index;
	bool parsed;
	uint32_t bytes;
	char *text; // in TopMemoryContext, like the arrays below
	uint64_t stats_hash; // of the statistics the query carried (0: none)
	fts::CollectionStats stats;
	uint32_t term_count;
	uint64_t terms_hash; // of the terms' texts: a prefix's expansions may change within a statement
	uint64_t *doc_freqs;
	fts::TermScorer *scorers; // what each term ranked with (blended, boosted)
};
static_assert(std::is_trivially_destructible_v<ScanNote>);
constexpr int kScanNotes = 16;
ScanNote scan_notes[kScanNotes];
int next_note = 0;

bool
SameQuery(const ScanNote &n, const QueryValue &q)
{
	return n.parsed == q.parsed && n.bytes == q.text.size() && n.stats_hash == StatisticsHash(q.stats) &&
		   std::memcmp(n.text, q.text.data(), q.text.size()) == 0;
}

// Whether note `n` was made in this statement, for the current user.
bool
NoteIsCurrent(const ScanNote &n)
{
	return n.statement == GetCurrentStatementStartTimestamp() && n.user == GetUserId();
}

ScanNote *
FindNote(Oid index, const QueryValue &q)
{
	for (ScanNote &n : scan_notes)
		if (NoteIsCurrent(n) && n.index == index && SameQuery(n, q))
			return &n;
	return nullptr;
}

// FNV-1a over the terms' texts, each followed by a zero byte.
uint64_t
TermsHash(const PreparedQuery &query)
{
	uint64_t h = 1469598103934665603ULL;
	for (uint32_t t = 0; t < query.term_count; t++)
	{
		for (char c : query.terms[t].text)
			h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
		h *= 1099511628211ULL;
	}
	return h;
}

} // namespace

void
NoteScanQuery(Oid index, const QueryValue &q, const PreparedQuery &query)
{
	std::string_view text = q.text;
	ScanNote *n = FindNote(index, q);
	if (n == nullptr)
	{
		n = &scan_notes[next_note];
		next_note = (next_note + 1) % kScanNotes;
		if (n->text != nullptr)
			pfree(n->text);
		if (n->doc_freqs != nullptr)
			pfree(n->doc_freqs);
		if (n->scorers != nullptr)
			pfree(n->scorers);
		n->text = static_cast<char *>(MemoryContextAlloc(TopMemoryContext, text.size() + 1));
		std::memcpy(n->text, text.data(), text.size());
		n->bytes = static_cast<uint32_t>(text.size());
		n->index = index;
		n->parsed = q.parsed;
		n->stats_hash = StatisticsHash(q.stats);
		n->statement = GetCurrentStatementStartTimestamp();
		n->user = GetUserId();
		n->doc_freqs = static_cast<uint64_t *>(
			MemoryContextAlloc(TopMemoryContext, sizeof(uint64_t) * std::max<uint32_t>(query.term_count, 1)));
		n->scorers = static_cast<fts::TermScorer *>(
			MemoryContextAlloc(TopMemoryContext, sizeof(fts::TermScorer) * std::max<uint32_t>(query.term_count, 1)));
	}
	else if (n->term_count != query.term_count)
		return; // the index changed within the statement and a prefix expands
				// otherwise: the terms differ, UseScanStatistics will not match
	n->stats = query.view->stats;
	n->term_count = query.term_count;
	n->terms_hash = TermsHash(query);
	for (uint32_t t = 0; t < query.term_count; t++)
	{
		n->doc_freqs[t] = query.terms[t].doc_freq;
		n->scorers[t] = query.terms[t].scorer;
	}
}

Oid
IndexScannedInThisStatement(const QueryValue &q)
{
	Oid found = InvalidOid;
	for (const ScanNote &n : scan_notes)
	{
		if (!NoteIsCurrent(n) || !SameQuery(n, q))
			continue;
		if (found != InvalidOid && found != n.index)
			return InvalidOid; // two indexes ran it: ambiguous
		found = n.index;
	}
	return found;
}

Oid
IndexOfQuery(const QueryValue &q)
{
	if (q.index != InvalidOid)
		return q.index;
	Oid index = IndexScannedInThisStatement(q);
	if (index != InvalidOid)
		return index;
	const int shown = static_cast<int>(std::min<std::size_t>(q.text.size(), 60));
	throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
					pg::Format("could not determine which quarry_bm25 index scores the query \"%.*s\"", shown,
							   q.text.data())
						.text,
					"The left operand is not a column (or expression) with exactly one quarry_bm25 index, "
					"or quarry was not loaded when the statement was planned.",
					"Name the index: quarry_query('...', 'index_name'). Adding quarry to "
					"session_preload_libraries resolves unnamed queries in every statement.");
}

void
UseScanStatistics(Oid index, const QueryValue &q, PreparedQuery &query)
{
	const ScanNote *n = FindNote(index, q);
	if (n == nullptr || n->term_count != query.term_count || n->terms_hash != TermsHash(query))
		return;
	query.view->stats = n->stats;
	for (uint32_t t = 0; t < query.term_count; t++)
	{
		query.terms[t].doc_freq = n->doc_freqs[t];
		query.terms[t].scorer = n->scorers[t];
	}
}

} // namespace quarry::am::bm25

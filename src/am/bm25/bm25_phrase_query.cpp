// Phrase terms of a query read with the query syntax ('"w1 w2"', '"w1 w2"~N').
//
// A phrase is one scored (or required, or excluded) term of the query whose
// documents and frequency come from its lexemes' positions
// (fts/phrase_cursor.h). Each distinct lexeme of the phrase is looked up like
// any term (segments, pending list with positions); each position of the
// phrase (a member) gets two cursors over that lexeme's lists, a forward one
// and a probe for random access. Scoring follows Lucene's PhraseQuery: the
// phrase's frequency is its tf, its IDF the sum of its lexemes' IDFs.
//
// An index built without positions (positions = off, or by quarry 0.1.x)
// cannot answer a phrase: a clear ERROR that says to REINDEX.
#include "am/bm25/bm25_search.h"

#include "pg/guard.h"

#include <algorithm>
#include <cstring>

namespace quarry::am::bm25 {

namespace {

// One member cursor (forward or probe) over lexeme `lexeme`'s lists.
fts::TermCursor *
OpenMember(PreparedQuery *q, const QueryTerm &lexeme, mem::ScanArena &arena)
{
	fts::TermCursor::Part *parts;
	uint32_t count;
	double bound = OpenTermParts(q, lexeme, lexeme.scorer, true, arena, parts, count);
	auto *cursor = arena.Make<fts::TermCursor>();
	cursor->Init(parts, count, &lexeme.scorer, bound, 0);
	return cursor;
}

} // namespace

void
PreparePhraseTerm(QueryTerm &qt, const Lexeme &text, const PhraseSpec *phrase, IndexView *view,
				  mem::ScanArena &arena)
{
	if ((view->meta.flags & kMetaPositions) == 0)
		throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED,
						pg::Format("index \"%s\" has no term positions, which phrase queries need",
								   RelationGetRelationName(view->index))
							.text,
						"It was built with positions = off, or by quarry 0.1.x.",
						pg::Format("REINDEX INDEX %s to search it for phrases (first ALTER INDEX %s SET (positions = on) "
								   "if it was built with positions = off).",
								   RelationGetRelationName(view->index), RelationGetRelationName(view->index))
							.text);
	qt = QueryTerm{};
	qt.text = {text.text, text.bytes};
	qt.query_tf = 1;
	qt.segment_info = arena.MakeArray<TermInfo>(std::max<uint32_t>(view->segment_count, 1));
	qt.phrase = phrase;
	qt.lexemes = arena.MakeArray<QueryTerm>(phrase->lexeme_count);
	for (uint32_t i = 0; i < phrase->lexeme_count; i++)
		LookUpTerm(qt.lexemes[i], phrase->lexemes[i], view, arena);
}

void
MakePhraseScorer(QueryTerm &qt, const fts::Bm25Params &params, const fts::CollectionStats &stats)
{
	// Lucene's PhraseWeight sums an IDF per position of the phrase (a repeated
	// word counts again); the phrase's document frequency is at most its
	// rarest word's.
	double idf = 0;
	for (uint32_t m = 0; m < qt.phrase->member_count; m++)
		idf += fts::Idf(stats.doc_count, qt.lexemes[qt.phrase->member_lexeme[m]].doc_freq);
	qt.doc_freq = UINT64_MAX;
	for (uint32_t i = 0; i < qt.phrase->lexeme_count; i++)
		qt.doc_freq = std::min(qt.doc_freq, qt.lexemes[i].doc_freq);
	// weight = qtf * (sum of the IDFs): a scorer whose "document frequency" is
	// none, boosted by that sum over the IDF of df = 0.
	const double idf0 = fts::Idf(stats.doc_count, 0);
	qt.scorer = fts::TermScorer(params, stats, 0, qt.query_tf, idf0 > 0 ? idf / idf0 : 0);
	for (uint32_t i = 0; i < qt.phrase->lexeme_count; i++)
		qt.lexemes[i].scorer = qt.scorer;
}

void
OpenPhraseCursor(PreparedQuery *q, QueryTerm &qt, uint32_t term_index, mem::ScanArena &arena)
{
	const PhraseSpec &spec = *qt.phrase;
	auto *members = arena.MakeArray<fts::PhraseCursor::Member>(spec.member_count);
	auto *bounds = arena.MakeArray<double>(spec.member_count);
	for (uint32_t m = 0; m < spec.member_count; m++)
	{
		const QueryTerm &lexeme = qt.lexemes[spec.member_lexeme[m]];
		members[m] = {OpenMember(q, lexeme, arena), OpenMember(q, lexeme, arena), spec.member_offset[m],
					  spec.member_lexeme[m]};
		bounds[m] = members[m].cursor->upper_bound();
	}
	// The rarest lexeme leads the intersection.
	std::sort(members, members + spec.member_count, [&](const auto &a, const auto &b) {
		uint64_t fa = qt.lexemes[a.term].doc_freq, fb = qt.lexemes[b.term].doc_freq;
		return fa != fb ? fa < fb : a.offset < b.offset;
	});
	auto *cursor = arena.Make<fts::PhraseCursor>();
	cursor->Init(members, spec.member_count, spec.slop, &qt.scorer, ArenaBuffers(arena));
	qt.phrase_cursor = cursor;
	qt.cursor.InitComposite(cursor, &qt.scorer, cursor->UpperBound({bounds, spec.member_count}), term_index);
}

double
PhraseFreqInTokens(const QueryTerm &qt, const Tokens &doc)
{
	const PhraseSpec &spec = *qt.phrase;
	fts::PhraseTerm terms[fts::kMaxPhraseTerms];
	for (uint32_t m = 0; m < spec.member_count; m++)
	{
		const Lexeme &lexeme = spec.lexemes[spec.member_lexeme[m]];
		const Lexeme *token = FindLexeme(doc, {lexeme.text, lexeme.bytes});
		if (token == nullptr || token->positions == nullptr)
			return 0;
		terms[m] = fts::PhraseTerm{{token->positions, token->tf}, spec.member_offset[m], spec.member_lexeme[m]};
	}
	std::span<const fts::PhraseTerm> all(terms, spec.member_count);
	return spec.slop == 0 ? fts::ExactPhraseFreq(all) : fts::SloppyPhrase(all, spec.slop).freq;
}

} // namespace quarry::am::bm25

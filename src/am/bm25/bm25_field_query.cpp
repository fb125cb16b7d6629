// Query terms of an index of fields (BM25F, fts/field_union.h).
//
// In an index of several columns every query term (a word, a kept expansion
// of a prefix or fuzzy lexeme, a phrase) looks in every field, or, written
// 'title:word' or 'title:"a phrase"', in one. Such a term is looked up once
// per field it looks in, as the tagged term of that field (bm25_fields.h):
// each field's term has its own posting lists, document frequency, pending
// rows and cursor, scored for bounds with its field's b and average length.
// The term itself is the FieldUnion of those cursors, whose frequency is the
// BM25F folded frequency, and its scorer has b = 0 (the fields normalised
// already):
//
//   score(t, d) = qtf * idf(df) * freq * (k1 + 1) / (freq + k1)
//   freq        = sum over its fields f of  w_f * tf(t, d.f) / (1 - b + b * |d.f| / avgdl_f)
//
// df, the term's document frequency, is its largest over the fields it looks
// in (Lucene's CombinedFieldQuery takes the same: the exact number of rows
// holding the term in any field is not stored); a phrase's IDF is the sum
// over its positions of each word's IDF so taken.
#include "am/bm25/bm25_fields.h"
#include "am/bm25/bm25_search.h"

#include "pg/guard.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace quarry::am::bm25 {

namespace {

// The phrase with its lexemes tagged for field `field`.
const PhraseSpec *
PhraseInField(const PhraseSpec &phrase, const IndexView *view, uint32_t field, mem::ScanArena &arena)
{
	auto *spec = arena.Make<PhraseSpec>(phrase);
	spec->lexemes = arena.MakeArray<Lexeme>(phrase.lexeme_count);
	spec->field = static_cast<int>(field);
	for (uint32_t i = 0; i < phrase.lexeme_count; i++)
	{
		std::string_view tagged = FieldTerm(view->meta, field, {phrase.lexemes[i].text, phrase.lexemes[i].bytes}, arena);
		spec->lexemes[i] = Lexeme{tagged.data(), static_cast<uint32_t>(tagged.size()), phrase.lexemes[i].tf};
	}
	return spec;
}

// The fields a term looks in: one (its text or phrase names it), or all.
uint32_t
TermFields(const IndexView *view, std::string_view text, const PhraseSpec *phrase, uint32_t *out)
{
	int only = -1;
	if (phrase != nullptr)
		only = phrase->field;
	else
		only = TermField(text, view->field_count);
	if (only >= 0)
	{
		out[0] = static_cast<uint32_t>(only);
		return 1;
	}
	for (uint32_t f = 0; f < view->field_count; f++)
		out[f] = f;
	return view->field_count;
}

} // namespace

void
PrepareFieldTerm(QueryTerm &qt, const Lexeme &text, const PhraseSpec *phrase, IndexView *view, mem::ScanArena &arena)
{
	qt = QueryTerm{};
	char *copy = static_cast<char *>(arena.Allocate(std::max<uint32_t>(text.bytes, 1), 1));
	std::memcpy(copy, text.text, text.bytes);
	qt.text = {copy, text.bytes};
	qt.query_tf = text.tf;
	qt.phrase = phrase;
	uint32_t fields[kMaxFields];
	qt.field_term_count = TermFields(view, qt.text, phrase, fields);
	qt.field_terms = arena.MakeArray<QueryTerm>(qt.field_term_count);
	qt.field_numbers = arena.MakeArray<uint32_t>(qt.field_term_count);
	// A word for every field is the lexeme; for one field, its tagged term.
	const bool tagged = phrase == nullptr && qt.field_term_count == 1 && view->field_count > 1 &&
						static_cast<uint8_t>(qt.text[0]) == FieldTag(fields[0]);
	for (uint32_t i = 0; i < qt.field_term_count; i++)
	{
		const uint32_t f = fields[i];
		qt.field_numbers[i] = f;
		QueryTerm &sub = qt.field_terms[i];
		if (phrase != nullptr)
		{
			PreparePhraseTerm(sub, text, PhraseInField(*phrase, view, f, arena), view, arena);
			for (uint32_t k = 0; k < sub.phrase->lexeme_count; k++)
				sub.lexemes[k].field = static_cast<int>(f); // their pending lists' bounds use the field's lengths
		}
		else
		{
			std::string_view term = tagged ? qt.text : FieldTerm(view->meta, f, qt.text, arena);
			LookUpTerm(sub, Lexeme{term.data(), static_cast<uint32_t>(term.size()), text.tf}, view, arena);
		}
		sub.field = static_cast<int>(f);
	}
}

uint32_t
FieldLookupCount(const IndexView *view, const PhraseSpec *phrase)
{
	return view->field_count * (phrase == nullptr ? 1 : phrase->lexeme_count);
}

uint32_t
FieldLookups(QueryTerm &qt, QueryTerm **lookups, bool *positions)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < qt.field_term_count; i++)
	{
		QueryTerm &sub = qt.field_terms[i];
		if (sub.phrase == nullptr)
		{
			positions[n] = false;
			lookups[n++] = &sub;
			continue;
		}
		for (uint32_t k = 0; k < sub.phrase->lexeme_count; k++)
		{
			positions[n] = true;
			lookups[n++] = &sub.lexemes[k];
		}
	}
	return n;
}

uint64_t
FieldDocFreq(const QueryTerm &qt)
{
	uint64_t df = 0;
	for (uint32_t i = 0; i < qt.field_term_count; i++)
	{
		const QueryTerm &sub = qt.field_terms[i];
		if (sub.phrase == nullptr)
			df = std::max(df, sub.doc_freq);
		else
		{
			// A phrase occurs in at most as many rows as its rarest word.
			uint64_t rarest = UINT64_MAX;
			for (uint32_t k = 0; k < sub.phrase->lexeme_count; k++)
				rarest = std::min(rarest, sub.lexemes[k].doc_freq);
			df = std::max(df, rarest);
		}
	}
	return df;
}

namespace {

// A phrase over fields: the sum over its positions of the IDF of the word
// there, with the word's largest document frequency over the fields.
double
PhraseIdf(const QueryTerm &qt, uint64_t doc_count)
{
	double idf = 0;
	for (uint32_t m = 0; m < qt.phrase->member_count; m++)
	{
		uint64_t df = 0;
		for (uint32_t i = 0; i < qt.field_term_count; i++)
			df = std::max(df, qt.field_terms[i].lexemes[qt.phrase->member_lexeme[m]].doc_freq);
		idf += fts::Idf(doc_count, df);
	}
	return idf;
}

} // namespace

void
MakeFieldScorers(QueryTerm &qt, uint64_t df, double boost, const IndexView *view)
{
	const fts::Bm25Params folded{view->params.k1, 0.0};
	qt.doc_freq = FieldDocFreq(qt);
	if (qt.phrase != nullptr)
	{
		const double idf0 = fts::Idf(view->stats.doc_count, 0);
		const double idf = PhraseIdf(qt, view->stats.doc_count);
		qt.scorer = fts::TermScorer(folded, view->stats, 0, qt.query_tf, idf0 > 0 ? idf / idf0 : 0);
	}
	else
		qt.scorer = fts::TermScorer(folded, view->stats, df, qt.query_tf, boost);
	for (uint32_t i = 0; i < qt.field_term_count; i++)
	{
		QueryTerm &sub = qt.field_terms[i];
		const fts::CollectionStats &stats = view->field_stats[qt.field_numbers[i]];
		if (sub.phrase != nullptr)
			MakePhraseScorer(sub, view->params, stats);
		else
			sub.scorer = fts::TermScorer(view->params, stats, sub.doc_freq, 1);
	}
}

uint32_t
FieldReaders(const QueryTerm &qt)
{
	uint32_t readers = 0;
	for (uint32_t i = 0; i < qt.field_term_count; i++)
		readers += qt.field_terms[i].phrase == nullptr ? 1 : 4 * qt.field_terms[i].phrase->member_count;
	return readers;
}

void
OpenFieldCursor(PreparedQuery *q, QueryTerm &qt, uint32_t term_index, mem::ScanArena &arena)
{
	const IndexView *view = q->view;
	auto *members = arena.MakeArray<fts::FieldUnion::Member>(std::max<uint32_t>(qt.field_term_count, 1));
	double freq_bound = 0;
	for (uint32_t i = 0; i < qt.field_term_count; i++)
	{
		QueryTerm &sub = qt.field_terms[i];
		const uint32_t f = qt.field_numbers[i];
		if (sub.phrase != nullptr)
			OpenPhraseCursor(q, sub, term_index, arena);
		else
		{
			fts::TermCursor::Part *parts;
			uint32_t count;
			double bound = OpenTermParts(q, sub, sub.scorer, false, arena, parts, count);
			sub.cursor.Init(parts, count, &sub.scorer, bound, term_index);
		}
		auto *lengths = arena.Make<ViewFieldLengths>(q->view, f, arena);
		q->field_lengths[q->field_lengths_count++] = lengths;
		members[i] = {&sub.cursor, lengths, view->field_norms[f]};
		freq_bound += fts::FreqBoundFromScore(sub.scorer, view->field_norms[f], sub.cursor.upper_bound());
	}
	const double k1 = view->params.k1;
	double bound = std::isinf(freq_bound) ? qt.scorer.weight() * (k1 + 1.0) : qt.scorer.Score(freq_bound, 0);
	bound *= 1.0 + fts::kBoundMargin;
	qt.field_union = arena.Make<fts::FieldUnion>();
	qt.field_union->Init(members, qt.field_term_count, &qt.scorer, bound);
	qt.cursor.InitComposite(qt.field_union, &qt.scorer, bound, term_index);
}

double
FieldFreqInTokens(const QueryTerm &qt, const IndexView &view, const Tokens &doc)
{
	double sum = 0;
	for (uint32_t i = 0; i < qt.field_term_count; i++)
	{
		const QueryTerm &sub = qt.field_terms[i];
		const uint32_t f = qt.field_numbers[i];
		double tf = 0;
		if (sub.phrase != nullptr)
			tf = PhraseFreqInTokens(sub, doc);
		else if (const Lexeme *lex = FindLexeme(doc, sub.text))
			tf = lex->tf;
		const uint32_t length = doc.field_lengths != nullptr && f < doc.field_count ? doc.field_lengths[f] : 0;
		sum += view.field_norms[f].Freq(tf, length);
	}
	return sum;
}

} // namespace quarry::am::bm25

// Highlighting: quarry_snippet(col, query [, start_tag, stop_tag,
// max_fragments, fragment_words]) and quarry_highlights(col, query).
//
// A word matches when the index's text search configuration makes it a
// lexeme the query scores (a plain query's words; a parsed query's SHOULD and
// MUST clauses, not its MUST_NOT ones): what <@> counts. Marks always come from
// PostgreSQL's own headline tokenizer (hlparsetext, what ts_headline uses:
// the configuration's parser and dictionaries, thesaurus phrases included)
// over the text they are in.
//
// A snippet takes two passes (fts/highlight.h) so that a long document costs
// little more than a scan of its bytes: the default parser is most of
// ts_headline's time, so pass 1 splits the text itself and looks each
// distinct word up once per query (a cache that lives as long as the query:
// the top 10 rows of a ranking mostly share their words), through the
// dictionaries the configuration maps words to; pass 2 tokenizes only the
// chosen fragments exactly. A configuration with another parser or a
// thesaurus (whose phrases span words) gets both passes from hlparsetext over
// the whole text: exact, as slow as ts_headline.
//
// quarry_highlights tokenizes the whole text exactly and returns character
// offsets (0-based, end exclusive) of every matching word.
//
// Memory: per call site, a context for the query (terms, the word cache),
// reset when another query comes; a child context for one row, reset per
// call.
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_query.h"
#include "am/bm25/bm25_scan_notes.h"
#include "am/bm25/bm25_search.h"
#include "am/bm25/bm25_fields.h"
#include "am/index_kind.h"
#include "fts/highlight.h"
#include "pg/guard.h"
#include "pg/memory_glue.h"

extern "C" {
#include "catalog/pg_namespace.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "tsearch/ts_cache.h"
#include "tsearch/ts_public.h"
#include "tsearch/ts_type.h"
#include "tsearch/ts_utils.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string_view>
#include <type_traits>

namespace quarry::am::bm25 {

namespace {

constexpr int32_t kNoTerm = -1;
constexpr uint32_t kMaxFragments = 100;
constexpr uint32_t kMaxFragmentWords = 1000;
constexpr uint32_t kMaxCachedWords = 1U << 16; // then the cache starts over
// The default parser's token types pass 1 gives its words.
constexpr int kAsciiWord = 1, kWord = 2, kNumWord = 3, kUnsignedInt = 22;

/// One call site's query: its identity, terms, and the word cache.
struct Highlighter {
	Oid index;
	bool parsed;
	// Whom the query was read for: a prefix or fuzzy query's terms come from
	// the index, which only whoever may score it may see (checked again when
	// any of these changes, e.g. SET ROLE inside a function).
	Oid user;
	bool column_operand;
	Oid check_as_user;
	char *text;
	int bytes;
	Oid config;
	bool fast;					// pass 1 by the splitter (default parser, no thesaurus)
	// Per pass-1 token type (bit t): its dictionaries are Snowball stemmers
	// and `simple` only, which keep a word's first letter (lowercased), so an
	// ASCII word whose first letter starts no query term cannot match.
	uint32_t first_letter_types;
	bool term_first[128];		// ASCII first bytes of the query's terms
	std::string_view *terms;	// the scored lexemes, sorted
	uint32_t term_count;
	TSQuery tsquery;			// the terms OR'ed, for hlparsetext
	fts::WordTermCache words;
	mem::ScanArena *words_arena; // the cache's slots and words
	MemoryContext query_cxt;
	MemoryContext row_cxt;
};
static_assert(std::is_trivially_destructible_v<Highlighter>);

// The index of lexeme `lexeme` among the query's terms, or kNoTerm.
int32_t
TermOf(const Highlighter &h, std::string_view lexeme)
{
	const std::string_view *begin = h.terms;
	const std::string_view *end = begin + h.term_count;
	const std::string_view *it = std::lower_bound(begin, end, lexeme);
	return it != end && *it == lexeme ? static_cast<int32_t>(it - h.terms) : kNoTerm;
}

// The query as a tsquery 'a' | 'b' | ... of its exact lexemes (no
// normalization), for hlparsetext to mark; without terms, a lexeme no
// dictionary gives (a control character), so that nothing is marked.
TSQuery
TermsAsTsquery(const Highlighter &h)
{
	std::size_t operand_bytes = 0;
	for (uint32_t t = 0; t < h.term_count; t++)
		operand_bytes += h.terms[t].size() + 1;
	if (operand_bytes >= MAXSTRPOS)
		pg::ThrowError(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
					   "a query of %u lexemes (%zu bytes) is too long to highlight: a tsquery holds less than %d bytes",
					   h.term_count, operand_bytes, MAXSTRPOS);
	StringInfoData buf;
	initStringInfo(&buf);
	if (h.term_count == 0)
		appendStringInfoString(&buf, "'\x01'");
	for (uint32_t t = 0; t < h.term_count; t++)
	{
		if (t > 0)
			appendStringInfoString(&buf, " | ");
		appendStringInfoChar(&buf, '\'');
		for (char c : h.terms[t])
		{
			if (c == '\'' || c == '\\')
				appendStringInfoChar(&buf, '\\');
			appendStringInfoChar(&buf, c);
		}
		appendStringInfoChar(&buf, '\'');
	}
	return DatumGetTSQuery(DirectFunctionCall1(tsqueryin, CStringGetDatum(buf.data)));
}

// Whether the configuration can take pass 1: the default parser, no
// thesaurus among its dictionaries, and a database encoding the splitter
// reads (UTF-8, or one byte per character).
bool
FastPathApplies(Oid config)
{
	if (GetDatabaseEncoding() != PG_UTF8 && pg_database_encoding_max_length() > 1)
		return false;
	TSConfigCacheEntry *cfg = lookup_ts_config_cache(config);
	if (lookup_ts_parser_cache(cfg->prsId)->startOid != F_PRSD_START)
		return false;
	for (int type = 0; type < cfg->lenmap; type++)
		for (int i = 0; i < cfg->map[type].len; i++)
			if (lookup_ts_dictionary_cache(cfg->map[type].dictIds[i])->lexizeOid == F_THESAURUS_LEXIZE)
				return false;
	return true;
}

// Whether every dictionary token type `type` maps to keeps a word's first
// letter: `simple` (lower-cases) and Snowball stemmers (strip suffixes).
bool
KeepsFirstLetter(Oid config, int type)
{
	TSConfigCacheEntry *cfg = lookup_ts_config_cache(config);
	if (type >= cfg->lenmap || cfg->map[type].len == 0)
		return false;
	for (int i = 0; i < cfg->map[type].len; i++)
	{
		const Oid lexize = lookup_ts_dictionary_cache(cfg->map[type].dictIds[i])->lexizeOid;
		if (lexize == F_DSIMPLE_LEXIZE)
			continue;
		const char *name = get_func_name(lexize);
		if (name == nullptr || strcmp(name, "dsnowball_lexize") != 0 ||
			get_func_namespace(lexize) != PG_CATALOG_NAMESPACE)
			return false;
	}
	return true;
}

// The first-letter filter of pass 1 (see Highlighter).
void
PrepareFirstLetterFilter(Highlighter &h)
{
	h.first_letter_types = 0;
	for (int type : {kAsciiWord, kWord, kNumWord, kUnsignedInt})
		if (KeepsFirstLetter(h.config, type))
			h.first_letter_types |= 1U << type;
	std::fill(std::begin(h.term_first), std::end(h.term_first), false);
	for (uint32_t t = 0; t < h.term_count; t++)
	{
		const auto first = static_cast<unsigned char>(h.terms[t].empty() ? 0 : h.terms[t][0]);
		if (first >= 128)
			h.first_letter_types = 0; // a term starting outside ASCII: no filter
		else
			h.term_first[first] = true;
	}
}

// The query's scored lexemes, sorted, in the query context. A prefix or
// fuzzy clause's are its expansions over the index (open, as `index`), which
// tell what the table holds: reading them needs what scoring needs.
void
ReadTerms(Highlighter &h, const QueryValue &q, Relation index)
{
	mem::ScanArena *arena = pg::CreateScanArena(h.query_cxt);
	Lexeme *lexemes;
	uint32_t count;
	uint32_t fields = 1;
	if (q.parsed)
	{
		IndexView *view = OpenIndexView(index, *arena);
		fields = view->field_count;
		QueryTermList list = ReadClauseTerms(view, q.text, *arena);
		// A phrase marks its words (wherever they are).
		count = 0;
		for (uint32_t t = 0; t < list.scored_count; t++)
			count += list.phrases[t] == nullptr ? 1 : list.phrases[t]->lexeme_count;
		lexemes = arena->MakeArray<Lexeme>(std::max<uint32_t>(count, 1));
		count = 0;
		for (uint32_t t = 0; t < list.scored_count; t++)
		{
			if (list.phrases[t] == nullptr)
			{
				lexemes[count++] = list.terms[t];
				continue;
			}
			for (uint32_t i = 0; i < list.phrases[t]->lexeme_count; i++)
				lexemes[count++] = list.phrases[t]->lexemes[i];
		}
	}
	else
	{
		Tokens tokens = Tokenize(h.config, q.text.data(), static_cast<int>(q.text.size()), false);
		lexemes = tokens.lexemes;
		count = tokens.count;
	}
	h.terms = static_cast<std::string_view *>(palloc(sizeof(std::string_view) * std::max<uint32_t>(count, 1)));
	for (uint32_t i = 0; i < count; i++)
	{
		// A term of one field ('title:word') carries the field's tag
		// (bm25_fields.h): the text marks the word itself, whichever column
		// it is.
		std::string_view term(lexemes[i].text, lexemes[i].bytes);
		if (fields >= 2 && TermField(term, fields) >= 0)
			term.remove_prefix(1);
		h.terms[i] = std::string_view(static_cast<char *>(pnstrdup(term.data(), term.size())), term.size());
	}
	std::sort(h.terms, h.terms + count);
	h.term_count = count;
}

// The call site's highlighter for query `q`, prepared on first use and when
// the query changes.
Highlighter &
HighlighterFor(FunctionCallInfo fcinfo, const QueryValue &q)
{
	auto *h = static_cast<Highlighter *>(fcinfo->flinfo->fn_extra);
	if (h == nullptr)
	{
		h = static_cast<Highlighter *>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(Highlighter)));
		h->query_cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "quarry highlighting", ALLOCSET_DEFAULT_SIZES);
		h->row_cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "quarry highlighting row", ALLOCSET_DEFAULT_SIZES);
		fcinfo->flinfo->fn_extra = h;
	}
	if (h->text != nullptr && h->index == q.index && h->parsed == q.parsed && h->user == GetUserId() &&
		h->column_operand == q.column_operand && h->check_as_user == q.check_as_user &&
		h->bytes == static_cast<int>(q.text.size()) && std::memcmp(h->text, q.text.data(), q.text.size()) == 0)
		return *h;
	MemoryContextReset(h->query_cxt);
	h->text = nullptr;
	CheckIndexKind(q.index, IndexKind::kBm25);
	// Before any lock, as every check: prefix and fuzzy terms are read from
	// the index (they tell what the table holds), which needs what scoring
	// needs.
	if (q.parsed && HasExpansionClause(q.text))
		CheckMayScore(q);
	Relation index = index_open(q.index, AccessShareLock);
	MetaPage meta;
	ReadMeta(index, &meta);
	h->config = IndexTextConfig(index, meta);

	MemoryContext old = MemoryContextSwitchTo(h->query_cxt);
	ReadTerms(*h, q, index);
	index_close(index, AccessShareLock);
	h->tsquery = TermsAsTsquery(*h);
	h->fast = FastPathApplies(h->config);
	PrepareFirstLetterFilter(*h);
	h->words.Clear();
	h->words_arena = pg::CreateScanArena(h->query_cxt);
	h->index = q.index;
	h->parsed = q.parsed;
	h->user = GetUserId();
	h->column_operand = q.column_operand;
	h->check_as_user = q.check_as_user;
	h->bytes = static_cast<int>(q.text.size());
	h->text = static_cast<char *>(palloc(q.text.size() + 1));
	std::memcpy(h->text, q.text.data(), q.text.size());
	MemoryContextSwitchTo(old);
	return *h;
}

// The token type the default parser gives a pass-1 word.
int
TypeOfWord(std::string_view word)
{
	bool ascii = true, digits = false, letters = false;
	for (char c : word)
	{
		const auto b = static_cast<unsigned char>(c);
		ascii = ascii && b < 0x80;
		digits = digits || (b >= '0' && b <= '9');
		letters = letters || !(b >= '0' && b <= '9');
	}
	if (!letters)
		return kUnsignedInt;
	if (digits)
		return kNumWord;
	return ascii ? kAsciiWord : kWord;
}

// The term a word of token type `type` matches, through the dictionaries the
// configuration maps the type to, one word at a time as parsetext runs them
// (a filtering dictionary passes its output on); h.term_count when a
// dictionary wants the next words (a multiword match may start here).
int32_t
LexizeWord(const Highlighter &h, int type, std::string_view word)
{
	TSConfigCacheEntry *cfg = lookup_ts_config_cache(h.config);
	if (type >= cfg->lenmap)
		return kNoTerm;
	const ListDictionary &map = cfg->map[type];
	char *lemm = pnstrdup(word.data(), word.size());
	int length = static_cast<int>(word.size());
	for (int i = 0; i < map.len; i++)
	{
		TSDictionaryCacheEntry *dict = lookup_ts_dictionary_cache(map.dictIds[i]);
		DictSubState state{false, false, nullptr};
		auto *res = reinterpret_cast<TSLexeme *>(DatumGetPointer(FunctionCall4(
			&dict->lexize, PointerGetDatum(dict->dictData), PointerGetDatum(lemm), Int32GetDatum(length),
			PointerGetDatum(&state))));
		if (state.getnext)
			return static_cast<int32_t>(h.term_count);
		if (res == nullptr)
			continue;
		if (res->lexeme != nullptr && (res->flags & TSL_FILTER) != 0)
		{
			lemm = res->lexeme;
			length = static_cast<int>(strlen(lemm));
			continue;
		}
		for (TSLexeme *l = res; l->lexeme != nullptr; l++)
		{
			int32_t term = TermOf(h, l->lexeme);
			if (term != kNoTerm)
				return term;
		}
		return kNoTerm;
	}
	return kNoTerm;
}

// LexizeWord through the query's word cache.
int32_t
TermOfWord(Highlighter &h, std::string_view word)
{
	const int type = TypeOfWord(word);
	const auto first = static_cast<unsigned char>(word[0]);
	if ((h.first_letter_types & (1U << type)) != 0 && first < 128 &&
		!h.term_first[first >= 'A' && first <= 'Z' ? first - 'A' + 'a' : first])
		return kNoTerm;
	int32_t term;
	if (h.words.Find(static_cast<uint8_t>(type), word, term))
		return term;
	term = LexizeWord(h, type, word);
	if (h.words.size() >= kMaxCachedWords)
	{
		h.words_arena->Reset();
		h.words.Clear();
	}
	h.words.Insert(static_cast<uint8_t>(type), word, term, *h.words_arena);
	return term;
}

// A text's words and the query terms they hold (pass 1), in the row context.
struct TextWords {
	fts::WordSpan *words;
	uint32_t count;
	fts::WordHit *hits;
	uint32_t hit_count;
	uint32_t capacity; // of both arrays

	// Appends a word (and its hit); the arrays grow as needed (the exact
	// tokenizer gives a hyphenated word and each of its parts).
	void
	Add(uint32_t start, uint32_t end, int32_t term)
	{
		if (count == capacity)
		{
			capacity = capacity == 0 ? 1024 : capacity * 2;
			const std::size_t words_bytes = sizeof(fts::WordSpan) * capacity;
			const std::size_t hits_bytes = sizeof(fts::WordHit) * capacity;
			words = static_cast<fts::WordSpan *>(words == nullptr ? palloc_extended(words_bytes, MCXT_ALLOC_HUGE)
																	: repalloc_huge(words, words_bytes));
			hits = static_cast<fts::WordHit *>(hits == nullptr ? palloc_extended(hits_bytes, MCXT_ALLOC_HUGE)
																 : repalloc_huge(hits, hits_bytes));
		}
		if (term != kNoTerm)
			hits[hit_count++] = fts::WordHit{count, static_cast<uint32_t>(term)};
		words[count++] = fts::WordSpan{start, end};
	}
};
static_assert(std::is_trivially_destructible_v<TextWords>);

// The offset of token `word` in `buf`, searched from `from`, the start of
// the token before it (hlparsetext copies its tokens, and gives the parts of
// a hyphenated word after the whole word; a token it skips, a word too long
// to index, leaves a gap).
uint32_t
Locate(std::string_view buf, uint32_t from, std::string_view word)
{
	if (from > buf.size())
		return static_cast<uint32_t>(buf.size());
	std::size_t at = buf.find(word, from);
	return at == std::string_view::npos ? from : static_cast<uint32_t>(at);
}

// Whether the configuration maps token type `type` to a dictionary (a word;
// blanks and punctuation are not mapped).
bool
MappedType(const TSConfigCacheEntry *cfg, int type)
{
	return type > 0 && type < cfg->lenmap && cfg->map[type].len > 0;
}

// Calls `visit(start, end, term)` for every word token of `buf`, with its byte span and the query term it matches (kNoTerm): the
// exact tokenization (hlparsetext, needs a query with terms).
template <typename Visit>
void
ForEachExactToken(const Highlighter &h, std::string_view buf, Visit &&visit)
{
	HeadlineParsedText prs;
	std::memset(&prs, 0, sizeof(prs));
	prs.lenwords = 64;
	prs.words = static_cast<HeadlineWordEntry *>(palloc(sizeof(HeadlineWordEntry) * prs.lenwords));
	hlparsetext(h.config, &prs, h.tsquery, const_cast<char *>(buf.data()), static_cast<int32>(buf.size()));
	const TSConfigCacheEntry *cfg = lookup_ts_config_cache(h.config); // once, not per token
	uint32_t start = 0;
	for (int32 i = 0; i < prs.curwords; i++)
	{
		const HeadlineWordEntry &w = prs.words[i];
		if (w.repeated)
			continue; // the same token, matching a second query item
		start = Locate(buf, start, std::string_view(w.word, static_cast<std::size_t>(w.len)));
		const uint32_t end = std::min<uint32_t>(start + static_cast<uint32_t>(w.len), static_cast<uint32_t>(buf.size()));
		int32_t term = kNoTerm;
		if (w.item != nullptr)
			term = TermOf(h, std::string_view(GETOPERAND(h.tsquery) + w.item->distance, w.item->length));
		if (MappedType(cfg, w.type))
			visit(start, end, term);
	}
}

// Pass 1 of a snippet: the text's words and hits, by the splitter and the
// word cache, or exactly where the fast path does not apply.
TextWords
FindWords(Highlighter &h, std::string_view text)
{
	TextWords out{nullptr, 0, nullptr, 0, 0};
	auto add = [&](uint32_t start, uint32_t end, int32_t term) { out.Add(start, end, term); };
	if (!h.fast)
	{
		ForEachExactToken(h, text, add);
		return out;
	}
	fts::WordSplitter splitter(text);
	fts::WordSpan w;
	while (splitter.Next(w))
		add(w.start, w.end, h.term_count == 0 ? kNoTerm : TermOfWord(h, text.substr(w.start, w.end - w.start)));
	return out;
}

// Appends text[start, end) with every matching token of it between the tags
// (pass 2: the exact tokenization of the fragment alone).
void
AppendMarked(const Highlighter &h, std::string_view text, fts::WordSpan range, std::string_view start_tag,
			 std::string_view stop_tag, StringInfo out)
{
	std::string_view fragment = text.substr(range.start, range.end - range.start);
	uint32_t copied = 0;
	if (h.term_count > 0)
		ForEachExactToken(h, fragment, [&](uint32_t start, uint32_t end, int32_t term) {
			if (term == kNoTerm || start < copied)
				return;
			appendBinaryStringInfo(out, fragment.data() + copied, static_cast<int>(start - copied));
			appendBinaryStringInfo(out, start_tag.data(), static_cast<int>(start_tag.size()));
			appendBinaryStringInfo(out, fragment.data() + start, static_cast<int>(end - start));
			appendBinaryStringInfo(out, stop_tag.data(), static_cast<int>(stop_tag.size()));
			copied = end;
		});
	appendBinaryStringInfo(out, fragment.data() + copied, static_cast<int>(fragment.size() - copied));
}

// The snippet of `text`: its best fragments, marked, joined by " ... ".
text *
Snippet(Highlighter &h, std::string_view text, std::string_view start_tag, std::string_view stop_tag,
		uint32_t max_fragments, uint32_t fragment_words)
{
	TextWords words = FindWords(h, text);
	auto *counts = static_cast<uint32_t *>(palloc0(sizeof(uint32_t) * (h.term_count + 1)));
	auto *fragments = static_cast<fts::Fragment *>(palloc(sizeof(fts::Fragment) * max_fragments));
	const std::size_t n = fts::SelectFragments({words.hits, words.hit_count}, words.count, fragment_words,
											   fts::FragmentScratch{counts, h.term_count + 1},
											   {fragments, max_fragments});
	StringInfoData out;
	initStringInfo(&out);
	for (std::size_t f = 0; f < n; f++)
	{
		if (f > 0)
			appendStringInfoString(&out, " ... ");
		fts::WordSpan range{words.words[fragments[f].first_word].start, words.words[fragments[f].end_word - 1].end};
		AppendMarked(h, text, range, start_tag, stop_tag, &out);
	}
	return cstring_to_text_with_len(out.data, out.len);
}

std::string_view
TextArg(FunctionCallInfo fcinfo, int arg)
{
	text *t = PG_GETARG_TEXT_PP(arg);
	return {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
}

uint32_t
CountArg(FunctionCallInfo fcinfo, int arg, const char *name, uint32_t most)
{
	const int32 value = PG_GETARG_INT32(arg);
	if (value < 1 || static_cast<uint32_t>(value) > most)
		throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
						pg::Format("%s must be between 1 and %u, not %d", name, most, value).text);
	return static_cast<uint32_t>(value);
}

} // namespace

} // namespace quarry::am::bm25

using namespace quarry::am::bm25;
using quarry::pg::Boundary;

// quarry_snippet(text, query, start_tag, stop_tag, max_fragments,
// fragment_words): the best fragments of the text with the query's words
// marked.
QUARRY_FUNCTION(quarry_snippet)
{
	return Boundary("quarry_snippet", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(1));
		q.index = IndexOfQuery(q);
		const uint32_t max_fragments = CountArg(fcinfo, 4, "max_fragments", kMaxFragments);
		const uint32_t fragment_words = CountArg(fcinfo, 5, "fragment_words", kMaxFragmentWords);
		Highlighter &h = HighlighterFor(fcinfo, q);
		MemoryContext caller = CurrentMemoryContext;
		MemoryContextReset(h.row_cxt);
		MemoryContextSwitchTo(h.row_cxt);
		text *snippet = Snippet(h, TextArg(fcinfo, 0), TextArg(fcinfo, 2), TextArg(fcinfo, 3), max_fragments,
								fragment_words);
		MemoryContextSwitchTo(caller);
		PG_RETURN_TEXT_P(DatumGetTextPCopy(PointerGetDatum(snippet)));
	});
}

// quarry_highlights(text, query): (start_offset, end_offset, lexeme) of every
// word of the text that matches, in characters from 0, end exclusive.
QUARRY_FUNCTION(quarry_highlights)
{
	return Boundary("quarry_highlights", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(1));
		q.index = IndexOfQuery(q);
		Highlighter &h = HighlighterFor(fcinfo, q);
		std::string_view text = TextArg(fcinfo, 0);
		InitMaterializedSRF(fcinfo, 0);
		auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
		if (h.term_count == 0)
			return static_cast<Datum>(0);
		uint32_t chars = 0, counted = 0; // characters in text[0, counted)
		ForEachExactToken(h, text, [&](uint32_t start, uint32_t end, int32_t term) {
			if (term == kNoTerm)
				return;
			chars += static_cast<uint32_t>(pg_mbstrlen_with_len(text.data() + counted, static_cast<int>(start - counted)));
			const uint32_t length = static_cast<uint32_t>(pg_mbstrlen_with_len(text.data() + start, static_cast<int>(end - start)));
			counted = end;
			Datum values[3] = {Int32GetDatum(static_cast<int32>(chars)), Int32GetDatum(static_cast<int32>(chars + length)),
							   PointerGetDatum(cstring_to_text_with_len(h.terms[term].data(), static_cast<int>(h.terms[term].size())))};
			bool nulls[3] = {false, false, false};
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			chars += length;
		});
		return static_cast<Datum>(0);
	});
}

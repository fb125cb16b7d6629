// The terms of a query read with the query syntax (quarry_query_parse).
//
// Every clause (fts/query_syntax.h) is tokenized on its own with the index's
// text search configuration, exactly as a plain query is: all its lexemes, stop
// words dropped. Then, per lexeme:
//   - scored   when it occurs in a SHOULD or MUST clause; its query tf is the
//              sum over those clauses, and scored terms keep the order of their
//              first occurrence (so '+a b' scores like the plain query 'a b');
//   - required when it occurs in a MUST clause;
//   - excluded when it occurs in a MUST_NOT clause.
// A MUST clause made only of stop words has no lexeme and so requires nothing.
//
// A prefix ('replic*') or fuzzy ('colour~1') clause is tokenized the same way
// (so 'Replication*' is the prefix 'replic', as to_tsquery reads
// 'Replication:*'), and each of its lexemes stands for its expansions over the
// index's dictionaries (bm25_expand.cpp): scored terms of their own, after the
// plain ones, boosted and blended (fts/term_expansion.h); for a MUST clause,
// one required group per lexeme (a row needs one of its expansions: none kept,
// no row matches); for a MUST_NOT clause, excluded terms.
//
// Scratch: the lexemes are copied into the scan arena; the tokenizer's
// palloc'd memory goes into a short-lived child context, reset per clause, so a
// query of many clauses does not pile up tokenizer memory.
#include "am/bm25/bm25_search.h"
#include "am/bm25/bm25_fields.h"

#include "fts/query_syntax.h"
#include "pg/guard.h"
#include "pg/memory_glue.h"
#include "pg/privileges.h"

extern "C" {
#include "catalog/pg_collation.h"
#include "utils/formatting.h"
#include "utils/memutils.h"
}

#include <algorithm>
#include <cstring>
#include <string>

namespace quarry::am::bm25 {

namespace {

struct Entry {
	std::string_view text; // in the arena
	uint32_t tf;
	uint32_t seq; // order of the lexeme among all clauses' lexemes
	fts::Occur occur;
};

// The expansions of one prefix or fuzzy lexeme.
struct ExpansionSet {
	ExpandedTerms expanded;
	uint32_t tf; // the lexeme's tf in its clauses (a repeated one adds up)
	fts::Occur occur;
	std::string_view lexeme; // in the arena
	fts::ClauseKind kind;
	uint8_t distance;
	int field; // the field the clause looks in, -1: every field
};

// A growable array in the arena (a grown array leaves the old one behind: at
// most as much again).
template <typename T>
struct Growing {
	T *items = nullptr;
	uint32_t count = 0;
	uint32_t capacity = 0;

	void
	Push(const T &e, mem::ScanArena &arena)
	{
		if (count == capacity)
		{
			uint32_t grown = std::max<uint32_t>(16, capacity * 2);
			T *bigger = arena.MakeArray<T>(grown);
			std::copy_n(items, count, bigger);
			items = bigger;
			capacity = grown;
		}
		items[count++] = e;
	}
};

// A phrase clause.
struct PhraseEntry {
	const PhraseSpec *spec; // in the arena
	std::string_view text;	// the clause's, in the arena
	fts::Occur occur;
};

struct Collected {
	Growing<Entry> words;
	Growing<ExpansionSet> sets;
	Growing<PhraseEntry> phrases;
	uint32_t expanded_terms = 0; // kept terms of all sets
	mem::ScanArena *scratch = nullptr; // the expansions' work, reset after each
};

// A prefix or fuzzy clause the query cannot run: a clear ERROR.
void
CheckExpansionClause(const fts::Clause &clause)
{
	if (clause.text.empty())
		throw pg::Error(ERRCODE_SYNTAX_ERROR,
						clause.kind == fts::ClauseKind::kPrefix ? "a prefix term needs a word before \"*\""
																: "a fuzzy term needs a word before \"~\"",
						nullptr, "Write a word and the suffix together, as in 'replic*' or 'colour~1'.");
	if (clause.kind == fts::ClauseKind::kFuzzy && clause.distance > fts::kMaxFuzzyDistance)
		throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
						pg::Format("fuzzy term \"%.*s~%s\" asks for more than %u edits",
								   static_cast<int>(clause.text.size()), clause.text.data(),
								   clause.distance == 255 ? "255+" : std::to_string(clause.distance).c_str(),
								   fts::kMaxFuzzyDistance)
							.text,
						"A fuzzy term allows 0, 1 or 2 edits (as in Lucene and Elasticsearch).",
						"Write 'word~1' or 'word~2'.");
}

// A prefix or fuzzy lexeme's expansions into `out`; a lexeme expanded
// already by an equal clause adds its tf there instead.
void
CollectExpansion(IndexView *view, const fts::Clause &clause, int field, const Lexeme &lex, mem::ScanArena &arena,
				 Collected &out)
{
	const std::string_view text(lex.text, lex.bytes);
	for (uint32_t i = 0; i < out.sets.count; i++)
	{
		ExpansionSet &set = out.sets.items[i];
		if (set.lexeme == text && set.kind == clause.kind && set.distance == clause.distance &&
			set.occur == clause.occur && set.field == field)
		{
			set.tf += lex.tf;
			return;
		}
	}
	ExpandedTerms expanded = ExpandLexeme(view, text, clause.kind, clause.distance, field, *out.scratch, arena);
	out.scratch->Reset();
	out.expanded_terms += expanded.count;
	if (out.expanded_terms > kMaxExpandedTerms)
		throw pg::Error(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
						pg::Format("the prefix and fuzzy terms of the query expand to more than %u index terms",
								   kMaxExpandedTerms)
							.text,
						nullptr, "Use fewer or longer prefixes, or lower quarry.bm25_max_expansions.");
	char *copy = static_cast<char *>(arena.Allocate(std::max<uint32_t>(lex.bytes, 1), 1));
	std::memcpy(copy, lex.text, lex.bytes);
	out.sets.Push(
		ExpansionSet{expanded, lex.tf, clause.occur, {copy, lex.bytes}, clause.kind, clause.distance, field}, arena);
}

// A phrase's spec from its clause's tokens (lexemes in text order, with
// their positions in the clause): a member per position, offsets from the
// first.
const PhraseSpec *
MakePhrase(const fts::Clause &clause, int field, const Tokens &tokens, mem::ScanArena &arena)
{
	auto *spec = arena.Make<PhraseSpec>();
	spec->field = field;
	spec->lexemes = arena.MakeArray<Lexeme>(tokens.count);
	spec->lexeme_count = tokens.count;
	spec->member_count = tokens.length;
	if (tokens.length > fts::kMaxPhraseTerms)
		throw pg::Error(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
						pg::Format("a phrase of %u words is longer than %zu", tokens.length, fts::kMaxPhraseTerms).text,
						nullptr, "Split the phrase into several, each in its own quotes.");
	spec->member_lexeme = arena.MakeArray<uint32_t>(tokens.length);
	spec->member_offset = arena.MakeArray<uint32_t>(tokens.length);
	spec->slop = clause.distance;
	uint32_t first = UINT32_MAX, m = 0;
	for (uint32_t i = 0; i < tokens.count; i++)
	{
		const Lexeme &lex = tokens.lexemes[i];
		char *copy = static_cast<char *>(arena.Allocate(std::max<uint32_t>(lex.bytes, 1), 1));
		std::memcpy(copy, lex.text, lex.bytes);
		spec->lexemes[i] = Lexeme{copy, lex.bytes, lex.tf};
		for (uint32_t j = 0; j < lex.tf; j++, m++)
		{
			spec->member_lexeme[m] = i;
			spec->member_offset[m] = lex.positions[j];
			first = std::min(first, lex.positions[j]);
		}
	}
	// Members by offset (ties by lexeme), offsets from the first position.
	auto *order = arena.MakeArray<uint32_t>(m);
	for (uint32_t k = 0; k < m; k++)
		order[k] = k;
	std::sort(order, order + m, [&](uint32_t a, uint32_t b) {
		return spec->member_offset[a] != spec->member_offset[b] ? spec->member_offset[a] < spec->member_offset[b]
																: spec->member_lexeme[a] < spec->member_lexeme[b];
	});
	auto *lexeme_of = arena.MakeArray<uint32_t>(m);
	auto *offset_of = arena.MakeArray<uint32_t>(m);
	for (uint32_t k = 0; k < m; k++)
	{
		lexeme_of[k] = spec->member_lexeme[order[k]];
		offset_of[k] = spec->member_offset[order[k]] - first;
	}
	spec->member_lexeme = lexeme_of;
	spec->member_offset = offset_of;
	return spec;
}

// One clause's lexemes into `out`: words as entries, prefix and fuzzy lexemes
// expanded, a phrase of two or more words as a phrase (of one word, a word).
void
CollectClause(IndexView *view, const fts::Clause &clause, int field, const Tokens &tokens, mem::ScanArena &arena,
			  Collected &out)
{
	if (clause.kind == fts::ClauseKind::kPhrase && tokens.length >= 2)
	{
		// A phrase's text (its identity among the query's terms) names its field.
		const std::string_view text = field < 0 ? clause.text : FieldTerm(view->meta, field, clause.text, arena);
		char *copy = static_cast<char *>(arena.Allocate(std::max<std::size_t>(text.size(), 1), 1));
		std::memcpy(copy, text.data(), text.size());
		out.phrases.Push(PhraseEntry{MakePhrase(clause, field, tokens, arena), {copy, text.size()}, clause.occur},
						 arena);
		return;
	}
	for (uint32_t i = 0; i < tokens.count; i++)
	{
		const Lexeme &lex = tokens.lexemes[i];
		if (clause.kind == fts::ClauseKind::kPrefix || clause.kind == fts::ClauseKind::kFuzzy)
		{
			CollectExpansion(view, clause, field, lex, arena, out);
			continue;
		}
		// A word of one field is its tagged term (bm25_fields.h); of every field, the lexeme.
		std::string_view text = field < 0 ? std::string_view(lex.text, lex.bytes)
										  : FieldTerm(view->meta, field, {lex.text, lex.bytes}, arena);
		char *copy = static_cast<char *>(arena.Allocate(std::max<std::size_t>(text.size(), 1), 1));
		std::memcpy(copy, text.data(), text.size());
		out.words.Push(Entry{{copy, text.size()}, lex.tf, out.words.count, clause.occur}, arena);
	}
}

// The field a clause names ('title:word'): its number; -1 for every field.
// In an index of fields an unknown name is an ERROR; in an index of one
// column, its column's name is that column, and any other 'name:' prefix
// is part of the words as in quarry 0.1 (the clause's text then starts at
// the name).
int
ClauseField(IndexView *view, fts::Clause &clause)
{
	if (clause.field.empty())
		return -1;
	const int f = FieldNumber(view->index, clause.field);
	if (!HasFields(view->meta))
	{
		if (f != 0)
			clause.text = std::string_view(clause.field.data(),
										   static_cast<std::size_t>(clause.text.data() + clause.text.size() -
																	clause.field.data()));
		clause.field = {};
		return -1;
	}
	if (f < 0)
		throw pg::Error(ERRCODE_UNDEFINED_COLUMN,
						pg::Format("field \"%.*s\" does not exist in index \"%s\"", static_cast<int>(clause.field.size()),
								   clause.field.data(), RelationGetRelationName(view->index))
							.text,
						pg::Format("Its fields are: %s.", FieldNames(view->index)).text,
						"Write name:word with one of them, or the word alone to search every field.");
	return f;
}

// A clause's lexemes. A prefix the configuration makes no lexeme of (a stop
// word: 'in*', 'the*') is the lower-cased word itself, so that search as you
// type finds 'index' from 'in*' (to_tsquery would find nothing).
Tokens
ClauseTokens(Oid config, const fts::Clause &clause)
{
	Tokens t = Tokenize(config, clause.text.data(), static_cast<int>(clause.text.size()), true);
	if (t.count > 0 || clause.kind != fts::ClauseKind::kPrefix)
		return t;
	char *lower = str_tolower(clause.text.data(), clause.text.size(), DEFAULT_COLLATION_OID);
	auto *lexeme = static_cast<Lexeme *>(palloc(sizeof(Lexeme)));
	*lexeme = Lexeme{lower, static_cast<uint32_t>(strlen(lower)), 1};
	return Tokens{lexeme, 1, 1};
}

// Prefix and fuzzy terms list what the index holds; under row-level security
// that would name terms of rows the policy hides.
void
CheckExpansionAllowed(IndexView *view)
{
	if (pg::RowSecurityActive(view->index->rd_index->indrelid))
		throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
						"prefix and fuzzy terms are not allowed on a table with row-level security",
						"Their expansions would name terms of rows the policy hides from you.",
						"Search for whole words.");
}

// Tokenizes every clause (in clause order, lexemes in text order).
void
CollectEntries(IndexView *view, std::string_view text, mem::ScanArena &arena, Collected &out)
{
	MemoryContext scratch = pg::PgCall([] {
		return AllocSetContextCreate(CurrentMemoryContext, "quarry_bm25 query clauses", ALLOCSET_SMALL_SIZES);
	});
	MemoryContext expansions = pg::PgCall([] {
		return AllocSetContextCreate(CurrentMemoryContext, "quarry_bm25 query expansions", ALLOCSET_DEFAULT_SIZES);
	});
	out.scratch = pg::PgCall([&] { return pg::CreateScanArena(expansions); });
	fts::ClauseReader reader(text);
	fts::Clause clause;
	bool checked = false;
	while (reader.Next(clause))
	{
		const int field = ClauseField(view, clause);
		if (clause.kind == fts::ClauseKind::kPrefix || clause.kind == fts::ClauseKind::kFuzzy)
		{
			CheckExpansionClause(clause);
			if (!checked)
				pg::PgCall([&] { CheckExpansionAllowed(view); });
			checked = true;
		}
		Tokens tokens = pg::PgCall([&] {
			MemoryContext old = MemoryContextSwitchTo(scratch);
			Tokens t = ClauseTokens(view->config, clause);
			MemoryContextSwitchTo(old);
			return t;
		});
		CollectClause(view, clause, field, tokens, arena, out);
		pg::PgCall([&] { MemoryContextReset(scratch); });
	}
	pg::PgCall([&] {
		MemoryContextDelete(scratch);
		MemoryContextDelete(expansions);
	});
}

// One distinct lexeme of the words clauses.
struct Grouped {
	std::string_view text;
	uint32_t scored_tf; // 0: not scored
	uint32_t first_scored;
	bool required;
	bool excluded;
};

// Sorted by text, the words clauses' entries folded into one group per lexeme,
// then ordered: scored lexemes in order of first occurrence, unscored last.
Growing<Grouped>
GroupWords(Growing<Entry> &entries, mem::ScanArena &arena)
{
	std::sort(entries.items, entries.items + entries.count, [](const Entry &a, const Entry &b) {
		int c = a.text.compare(b.text);
		return c != 0 ? c < 0 : a.seq < b.seq;
	});
	Growing<Grouped> groups;
	for (uint32_t i = 0; i < entries.count; i++)
	{
		const Entry &e = entries.items[i];
		if (i == 0 || e.text != entries.items[i - 1].text)
			groups.Push(Grouped{e.text, 0, 0, false, false}, arena);
		Grouped &g = groups.items[groups.count - 1];
		if (e.occur == fts::Occur::kMustNot)
		{
			g.excluded = true;
			continue;
		}
		if (g.scored_tf == 0)
			g.first_scored = e.seq; // entries of a lexeme come in seq order
		g.scored_tf += e.tf;
		g.required |= e.occur == fts::Occur::kMust;
	}
	std::sort(groups.items, groups.items + groups.count, [](const Grouped &a, const Grouped &b) {
		if ((a.scored_tf > 0) != (b.scored_tf > 0))
			return a.scored_tf > 0;
		return a.scored_tf > 0 ? a.first_scored < b.first_scored : a.text < b.text;
	});
	return groups;
}

// Appends a term to the list.
void
AddTerm(QueryTermList &list, std::string_view text, uint32_t tf, double boost, uint32_t blend,
		const PhraseSpec *phrase = nullptr)
{
	list.terms[list.count] = Lexeme{text.data(), static_cast<uint32_t>(text.size()), tf};
	list.boosts[list.count] = boost;
	list.blend[list.count] = blend;
	list.phrases[list.count] = phrase;
	list.count++;
}

// Ends a required group at the current end of `required`.
void
EndGroup(QueryTermList &list, uint32_t &required_count)
{
	list.group_ends[list.group_count++] = required_count;
}

// The term list: scored words, scored expansions, then excluded words and
// excluded expansions (a lexeme both scored and excluded appears twice; no
// row can match it).
QueryTermList
ListOfTerms(const Growing<Grouped> &words, const Growing<ExpansionSet> &sets, const Growing<PhraseEntry> &phrases,
			mem::ScanArena &arena)
{
	uint32_t capacity = 2 * words.count + phrases.count;
	for (uint32_t i = 0; i < sets.count; i++)
		capacity += sets.items[i].expanded.count;
	capacity = std::max<uint32_t>(capacity, 1);
	QueryTermList list{};
	list.terms = arena.MakeArray<Lexeme>(capacity);
	list.boosts = arena.MakeArray<double>(capacity);
	list.blend = arena.MakeArray<uint32_t>(capacity);
	list.phrases = arena.MakeArray<const PhraseSpec *>(capacity);
	list.required = arena.MakeArray<uint32_t>(capacity);
	list.group_ends = arena.MakeArray<uint32_t>(std::max<uint32_t>(words.count + sets.count + phrases.count, 1));
	uint32_t required_count = 0;
	for (uint32_t g = 0; g < words.count && words.items[g].scored_tf > 0; g++)
	{
		if (words.items[g].required)
		{
			list.required[required_count++] = list.count;
			EndGroup(list, required_count);
		}
		AddTerm(list, words.items[g].text, words.items[g].scored_tf, 1.0, kNoBlend);
	}
	for (uint32_t s = 0; s < sets.count; s++)
	{
		const ExpansionSet &set = sets.items[s];
		if (set.occur == fts::Occur::kMustNot)
			continue;
		for (uint32_t i = 0; i < set.expanded.count; i++)
		{
			if (set.occur == fts::Occur::kMust)
				list.required[required_count++] = list.count;
			AddTerm(list, set.expanded.terms[i].text, set.tf, set.expanded.terms[i].boost, s);
		}
		if (set.occur == fts::Occur::kMust)
			EndGroup(list, required_count);
	}
	for (uint32_t p = 0; p < phrases.count; p++)
	{
		const PhraseEntry &e = phrases.items[p];
		if (e.occur == fts::Occur::kMustNot)
			continue;
		if (e.occur == fts::Occur::kMust)
		{
			list.required[required_count++] = list.count;
			EndGroup(list, required_count);
		}
		AddTerm(list, e.text, 1, 1.0, kNoBlend, e.spec);
	}
	list.scored_count = list.count;
	for (uint32_t p = 0; p < phrases.count; p++)
		if (phrases.items[p].occur == fts::Occur::kMustNot)
			AddTerm(list, phrases.items[p].text, 1, 1.0, kNoBlend, phrases.items[p].spec);
	for (uint32_t g = 0; g < words.count; g++)
		if (words.items[g].excluded)
			AddTerm(list, words.items[g].text, 1, 1.0, kNoBlend);
	for (uint32_t s = 0; s < sets.count; s++)
		for (uint32_t i = 0; sets.items[s].occur == fts::Occur::kMustNot && i < sets.items[s].expanded.count; i++)
			AddTerm(list, sets.items[s].expanded.terms[i].text, 1, 1.0, kNoBlend);
	return list;
}

} // namespace

bool
HasExpansionClause(std::string_view text)
{
	fts::ClauseReader reader(text);
	fts::Clause clause;
	while (reader.Next(clause))
		if (clause.kind == fts::ClauseKind::kPrefix || clause.kind == fts::ClauseKind::kFuzzy)
			return true;
	return false;
}

QueryTermList
ReadClauseTerms(IndexView *view, std::string_view text, mem::ScanArena &arena)
{
	Collected collected;
	CollectEntries(view, text, arena, collected);
	Growing<Grouped> words = GroupWords(collected.words, arena);
	return ListOfTerms(words, collected.sets, collected.phrases, arena);
}

} // namespace quarry::am::bm25

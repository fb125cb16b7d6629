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
// Scratch: the lexemes are copied into the scan arena; the tokenizer's
// palloc'd memory goes into a short-lived child context, reset per clause, so a
// query of many clauses does not pile up tokenizer memory.
#include "am/bm25/bm25_search.h"

#include "fts/query_syntax.h"
#include "pg/guard.h"

extern "C" {
#include "utils/memutils.h"
}

#include <algorithm>
#include <cstring>

namespace quarry::am::bm25 {

namespace {

struct Entry {
	std::string_view text; // in the arena
	uint32_t tf;
	uint32_t seq; // order of the lexeme among all clauses' lexemes
	fts::Occur occur;
};

// A growable array of entries in the arena (a grown array leaves the old one
// behind: at most as much again).
struct Entries {
	Entry *items = nullptr;
	uint32_t count = 0;
	uint32_t capacity = 0;

	void
	Push(const Entry &e, mem::ScanArena &arena)
	{
		if (count == capacity)
		{
			uint32_t grown = std::max<uint32_t>(16, capacity * 2);
			Entry *bigger = arena.MakeArray<Entry>(grown);
			std::copy_n(items, count, bigger);
			items = bigger;
			capacity = grown;
		}
		items[count++] = e;
	}
};

// Tokenizes every clause into `out` (in clause order, lexemes in text order).
void
CollectEntries(Oid config, std::string_view text, mem::ScanArena &arena, Entries &out)
{
	MemoryContext scratch = pg::PgCall([] {
		return AllocSetContextCreate(CurrentMemoryContext, "quarry_bm25 query clauses", ALLOCSET_SMALL_SIZES);
	});
	fts::ClauseReader reader(text);
	fts::Clause clause;
	while (reader.Next(clause))
	{
		Tokens tokens = pg::PgCall([&] {
			MemoryContext old = MemoryContextSwitchTo(scratch);
			Tokens t = Tokenize(config, clause.text.data(), static_cast<int>(clause.text.size()), true);
			MemoryContextSwitchTo(old);
			return t;
		});
		for (uint32_t i = 0; i < tokens.count; i++)
		{
			const Lexeme &lex = tokens.lexemes[i];
			char *copy = static_cast<char *>(arena.Allocate(std::max<uint32_t>(lex.bytes, 1), 1));
			std::memcpy(copy, lex.text, lex.bytes);
			out.Push(Entry{{copy, lex.bytes}, lex.tf, out.count, clause.occur}, arena);
		}
		pg::PgCall([&] { MemoryContextReset(scratch); });
	}
	pg::PgCall([&] { MemoryContextDelete(scratch); });
}

// One distinct lexeme of the query.
struct Grouped {
	std::string_view text;
	uint32_t scored_tf; // 0: not scored
	uint32_t first_scored;
	bool required;
	bool excluded;
};

// The term list: scored groups, then one excluded term per excluded group (a
// lexeme both scored and excluded appears twice; no row can match it).
QueryTermList
ListOfGroups(const Grouped *groups, uint32_t group_count, mem::ScanArena &arena)
{
	QueryTermList list{};
	list.terms = arena.MakeArray<Lexeme>(std::max<uint32_t>(2 * group_count, 1));
	list.required = arena.MakeArray<uint32_t>(std::max<uint32_t>(group_count, 1));
	for (uint32_t g = 0; g < group_count && groups[g].scored_tf > 0; g++)
	{
		if (groups[g].required)
			list.required[list.required_count++] = list.count;
		list.terms[list.count++] = Lexeme{groups[g].text.data(), static_cast<uint32_t>(groups[g].text.size()),
										  groups[g].scored_tf};
	}
	list.scored_count = list.count;
	for (uint32_t g = 0; g < group_count; g++)
		if (groups[g].excluded)
			list.terms[list.count++] = Lexeme{groups[g].text.data(), static_cast<uint32_t>(groups[g].text.size()), 1};
	return list;
}

} // namespace

QueryTermList
ReadClauseTerms(Oid config, std::string_view text, mem::ScanArena &arena)
{
	Entries entries;
	CollectEntries(config, text, arena, entries);
	std::sort(entries.items, entries.items + entries.count, [](const Entry &a, const Entry &b) {
		int c = a.text.compare(b.text);
		return c != 0 ? c < 0 : a.seq < b.seq;
	});
	auto *groups = arena.MakeArray<Grouped>(std::max<uint32_t>(entries.count, 1));
	uint32_t group_count = 0;
	for (uint32_t i = 0; i < entries.count; i++)
	{
		const Entry &e = entries.items[i];
		if (i == 0 || e.text != entries.items[i - 1].text)
			groups[group_count++] = Grouped{e.text, 0, 0, false, false};
		Grouped &g = groups[group_count - 1];
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
	// Scored lexemes in order of first occurrence (unscored ones last).
	std::sort(groups, groups + group_count, [](const Grouped &a, const Grouped &b) {
		if ((a.scored_tf > 0) != (b.scored_tf > 0))
			return a.scored_tf > 0;
		return a.scored_tf > 0 ? a.first_scored < b.first_scored : a.text < b.text;
	});
	return ListOfGroups(groups, group_count, arena);
}

} // namespace quarry::am::bm25

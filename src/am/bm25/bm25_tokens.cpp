// Tokenizing with a PostgreSQL text search configuration.
//
// parsetext() runs the configuration's parser and dictionaries (stemming, stop
// words), exactly as to_tsvector does. A lexeme's tf is its number of distinct
// positions, as in the tsvector, and its positions are those positions. Two limits of tsvector do not apply here: it
// keeps at most 256 positions per lexeme and clamps positions at 16383, so for a
// document longer than 16383 words to_tsvector undercounts; we count every
// occurrence past that point. The document length is the sum of the tfs.
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_fields.h"
#include "pg/compat.h"

extern "C" {
#include "tsearch/ts_cache.h"
#include "tsearch/ts_utils.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/regproc.h"
#include "catalog/namespace.h"
#include "access/htup_details.h"
#include "catalog/pg_ts_config.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include <cstdlib>
#include <cstdio>
#include <algorithm>
#include <cstring>

namespace quarry::am::bm25 {

namespace {

// parsetext stores positions clamped to this value (LIMITPOS).
constexpr uint16_t kClampedPosition = MAXENTRYPOS - 1;

struct Occurrence {
	const char *text;
	uint32_t bytes;
	uint16_t position;
	uint32_t order; // index of the occurrence in the text
};

int
CompareText(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
	int c = std::memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

int
CompareOccurrence(const void *pa, const void *pb)
{
	const auto *a = static_cast<const Occurrence *>(pa);
	const auto *b = static_cast<const Occurrence *>(pb);
	int c = CompareText(a->text, a->bytes, b->text, b->bytes);
	if (c != 0)
		return c;
	if (a->position != b->position)
		return a->position < b->position ? -1 : 1;
	return a->order < b->order ? -1 : (a->order > b->order ? 1 : 0);
}

struct Grouped {
	Lexeme lexeme;
	uint32_t first; // order of the lexeme's first occurrence in the text
};

int
CompareFirstOccurrence(const void *pa, const void *pb)
{
	uint32_t a = static_cast<const Grouped *>(pa)->first;
	uint32_t b = static_cast<const Grouped *>(pb)->first;
	return a < b ? -1 : (a > b ? 1 : 0);
}

} // namespace

Tokens
Tokenize(Oid config, const char *text, int bytes, bool in_text_order)
{
	ParsedText parsed;
	parsed.lenwords = bytes / 6 + 2;
	parsed.curwords = 0;
	parsed.pos = 0;
	parsed.words = static_cast<ParsedWord *>(palloc(sizeof(ParsedWord) * parsed.lenwords));
	parsetext(config, &parsed, const_cast<char *>(text), bytes);

	Tokens tokens{nullptr, 0, 0};
	if (parsed.curwords == 0)
		return tokens;

	uint32_t n = static_cast<uint32_t>(parsed.curwords);
	auto *occ = static_cast<Occurrence *>(palloc(sizeof(Occurrence) * n));
	for (uint32_t i = 0; i < n; i++)
		occ[i] = {parsed.words[i].word, parsed.words[i].len, parsed.words[i].pos.pos, i};
	qsort(occ, n, sizeof(Occurrence), CompareOccurrence);

	auto *grouped = static_cast<Grouped *>(palloc(sizeof(Grouped) * n));
	auto *positions = static_cast<uint32_t *>(palloc(sizeof(uint32_t) * n));
	uint32_t count = 0;
	for (uint32_t i = 0; i < n; i++)
	{
		bool same_lexeme = i > 0 && CompareText(occ[i].text, occ[i].bytes, occ[i - 1].text, occ[i - 1].bytes) == 0;
		if (!same_lexeme)
			grouped[count++] = {{occ[i].text, occ[i].bytes, 0, positions + tokens.length}, occ[i].order};
		Grouped &g = grouped[count - 1];
		if (occ[i].order < g.first)
			g.first = occ[i].order;
		// One position counts once (as in a tsvector), except the clamped last
		// position, which stands for every position from there on.
		if (same_lexeme && occ[i].position == occ[i - 1].position && occ[i].position != kClampedPosition)
			continue;
		positions[tokens.length] = occ[i].position;
		g.lexeme.tf++;
		tokens.length++;
	}
	if (in_text_order)
		qsort(grouped, count, sizeof(Grouped), CompareFirstOccurrence);

	tokens.lexemes = static_cast<Lexeme *>(palloc(sizeof(Lexeme) * count));
	tokens.count = count;
	for (uint32_t i = 0; i < count; i++)
		tokens.lexemes[i] = grouped[i].lexeme;
	pfree(grouped);
	pfree(occ);
	pfree(parsed.words);
	return tokens;
}

Tokens
TokenizeDatum(Oid config, Datum value, bool in_text_order)
{
	text *t = DatumGetTextPP(value);
	Tokens tokens = Tokenize(config, VARDATA_ANY(t), static_cast<int>(VARSIZE_ANY_EXHDR(t)), in_text_order);
	return tokens;
}

bool
RowIsNull(const bool *isnull, uint32_t fields)
{
	for (uint32_t f = 0; f < fields; f++)
		if (!isnull[f])
			return false;
	return true;
}

Tokens
TokenizeRow(Oid config, const Datum *values, const bool *isnull, uint32_t fields)
{
	if (fields <= 1)
		return TokenizeDatum(config, values[0], false);
	Tokens per_field[kMaxFields];
	Tokens row{nullptr, 0, 0, static_cast<uint32_t *>(palloc0(sizeof(uint32_t) * fields)), fields};
	for (uint32_t f = 0; f < fields; f++)
	{
		per_field[f] = isnull[f] ? Tokens{nullptr, 0, 0} : TokenizeDatum(config, values[f], false);
		row.count += per_field[f].count;
		row.length += per_field[f].length;
		row.field_lengths[f] = per_field[f].length;
	}
	row.lexemes = static_cast<Lexeme *>(palloc(sizeof(Lexeme) * std::max<uint32_t>(row.count, 1)));
	uint32_t n = 0;
	for (uint32_t f = 0; f < fields; f++)
		for (uint32_t i = 0; i < per_field[f].count; i++)
		{
			const Lexeme &lex = per_field[f].lexemes[i];
			auto *tagged = static_cast<char *>(palloc(lex.bytes + 1));
			tagged[0] = static_cast<char>(FieldTag(f));
			std::memcpy(tagged + 1, lex.text, lex.bytes);
			row.lexemes[n++] = Lexeme{tagged, lex.bytes + 1, lex.tf, lex.positions};
		}
	return row;
}

} // namespace quarry::am::bm25

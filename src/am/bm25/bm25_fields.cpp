// Fields of a quarry_bm25 index: their names, weights and tagged terms
// (bm25_fields.h).
//
// A field's name is its index column's name, as \d shows it: the table
// column's name, or the name PostgreSQL gives an expression column ("expr",
// "lower", ...). The weights option names fields: 'title=3, body=1'; a field
// it does not name weighs 1. Weights are read at query time, so ALTER INDEX
// ... SET (weights = ...) rescores without a rebuild.
#include "am/bm25/bm25_fields.h"

#include "pg/guard.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_attribute.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
}

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

namespace quarry::am::bm25 {

namespace {

constexpr double kMaxWeight = 1000.0;

struct WeightItem {
	std::string_view name;
	double weight;
};

std::string_view
Trim(std::string_view s)
{
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
		s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
		s.remove_suffix(1);
	return s;
}

// Reads 'name=weight, ...' into items (at most kMaxFields); the message of
// the first mistake, or null.
const char *
ParseWeights(std::string_view text, WeightItem *items, uint32_t *count)
{
	*count = 0;
	while (!Trim(text).empty())
	{
		std::size_t comma = text.find(',');
		std::string_view item = Trim(text.substr(0, comma));
		text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
		std::size_t eq = item.find('=');
		if (eq == std::string_view::npos)
			return "every item must be name=weight";
		std::string_view name = Trim(item.substr(0, eq));
		std::string number(Trim(item.substr(eq + 1)));
		char *end = nullptr;
		double w = number.empty() ? -1 : std::strtod(number.c_str(), &end);
		if (name.empty())
			return "a weight needs a field name";
		if (number.empty() || end == nullptr || *end != '\0' || !std::isfinite(w) || w <= 0 || w > kMaxWeight)
			return "a weight must be a number above 0 and at most 1000";
		if (*count == kMaxFields)
			return "more weights than an index has fields (8)";
		for (uint32_t i = 0; i < *count; i++)
			if (items[i].name == name)
				return "a field is named twice";
		items[(*count)++] = {name, w};
	}
	return nullptr;
}

const char *
WeightsText(Relation index)
{
	auto *options = reinterpret_cast<Options *>(index->rd_options);
	if (options == nullptr || options->weights_offset == 0)
		return nullptr;
	return reinterpret_cast<const char *>(options) + options->weights_offset;
}

} // namespace

void
ValidateFieldWeights(const char *value)
{
	if (value == nullptr)
		return;
	WeightItem items[kMaxFields];
	uint32_t count;
	if (const char *mistake = ParseWeights(value, items, &count))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid weights \"%s\": %s", value, mistake),
						errhint("Write weights = 'title=3, body=1' with the index's column names.")));
}

int
FieldNumber(Relation index, std::string_view name)
{
	const int fields = IndexRelationGetNumberOfKeyAttributes(index);
	for (int f = 0; f < fields; f++)
		if (name == NameStr(TupleDescAttr(RelationGetDescr(index), f)->attname))
			return f;
	return -1;
}

const char *
FieldNames(Relation index)
{
	return pg::PgCall([&] {
		StringInfoData s;
		initStringInfo(&s);
		const int fields = IndexRelationGetNumberOfKeyAttributes(index);
		for (int f = 0; f < fields; f++)
			appendStringInfo(&s, "%s%s", f == 0 ? "" : ", ", NameStr(TupleDescAttr(RelationGetDescr(index), f)->attname));
		return s.data;
	});
}

void
FieldWeights(Relation index, uint32_t count, double *out)
{
	for (uint32_t f = 0; f < count; f++)
		out[f] = 1.0;
	const char *text = WeightsText(index);
	if (text == nullptr)
		return;
	WeightItem items[kMaxFields];
	uint32_t n;
	if (const char *mistake = ParseWeights(text, items, &n))
		throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, pg::Format("invalid weights \"%s\": %s", text, mistake).text);
	for (uint32_t i = 0; i < n; i++)
	{
		int f = FieldNumber(index, items[i].name);
		if (f < 0 || static_cast<uint32_t>(f) >= count)
			throw pg::Error(ERRCODE_UNDEFINED_COLUMN,
							pg::Format("weights of index \"%s\" name \"%.*s\", which is not one of its fields",
									   RelationGetRelationName(index), static_cast<int>(items[i].name.size()),
									   items[i].name.data())
								.text,
							pg::Format("Its fields are: %s.", FieldNames(index)).text,
							pg::Format("ALTER INDEX %s SET (weights = '...') with those names.",
									   RelationGetRelationName(index))
								.text);
		out[f] = items[i].weight;
	}
}

std::string_view
FieldTerm(const MetaPage &meta, uint32_t field, std::string_view lexeme, mem::ScanArena &arena)
{
	if (!HasFields(meta))
		return lexeme;
	char *tagged = static_cast<char *>(arena.Allocate(lexeme.size() + 1, 1));
	tagged[0] = static_cast<char>(FieldTag(field));
	std::memcpy(tagged + 1, lexeme.data(), lexeme.size());
	return {tagged, lexeme.size() + 1};
}

} // namespace quarry::am::bm25

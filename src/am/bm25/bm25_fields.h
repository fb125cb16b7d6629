// Fields: a quarry_bm25 index over several columns (BM25F).
//
// `CREATE INDEX ... USING quarry_bm25 (title, body)` indexes each key column
// as a field. Every term of such an index is stored with its field's number
// in front (one byte, 0 for the first column), so each field has its own
// posting lists and document frequencies in the same dictionaries, and the
// field's number sorts first: one field's terms are contiguous. Each row
// also has one length per field (segments: an array per field after the
// lengths array; pending entries: after their header) and the metapage sums
// them per field. An index of one column stores its terms as they are.
//
// Scoring (BM25F, fts/bm25f.h): a query term scores a row by the weighted
// sum of its per-field frequencies, each normalised by its field's length.
#pragma once

#include "am/bm25/bm25.h"
#include "memory/scan_arena.h"

#include <cstdint>
#include <string_view>

namespace quarry::am::bm25 {

/// The fields of an index: its key columns (1 for an index of one column).
inline uint32_t
FieldCount(const MetaPage &meta)
{
	return meta.field_count == 0 ? 1 : meta.field_count;
}

/// The byte in front of field `field`'s terms (never NUL).
constexpr uint8_t
FieldTag(uint32_t field)
{
	return static_cast<uint8_t>(field + 1);
}

/// The field a stored term of an index of `fields` >= 2 fields names by its
/// tag, or -1 if its first byte is no tag of those fields.
constexpr int
TermField(std::string_view term, uint32_t fields)
{
	if (term.empty())
		return -1;
	const uint32_t tag = static_cast<uint8_t>(term[0]);
	return tag >= FieldTag(0) && tag <= FieldTag(fields - 1) ? static_cast<int>(tag - FieldTag(0)) : -1;
}

/// Whether terms carry a field byte.
inline bool
HasFields(const MetaPage &meta)
{
	return FieldCount(meta) >= 2;
}

/// The stored term of `lexeme` in field `field` (the lexeme itself in an
/// index of one field), in `arena`.
std::string_view FieldTerm(const MetaPage &meta, uint32_t field, std::string_view lexeme, mem::ScanArena &arena);

/// Field weights of an index (its `weights` option, 1 for fields it does
/// not name), for `count` fields into `out`. ERRORs on names that are not
/// fields of the index.
void FieldWeights(Relation index, uint32_t count, double *out);

/// The field of `name` in `index` (its column name, as \d shows it), or -1.
int FieldNumber(Relation index, std::string_view name);

/// The names of the index's fields, for messages ("title, body").
const char *FieldNames(Relation index);

} // namespace quarry::am::bm25

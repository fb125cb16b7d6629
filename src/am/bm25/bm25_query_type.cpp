// The quarry_query type: storage, text form, and its SQL constructors.
//
// Storage (a varlena, no alignment needed: fields are read with memcpy):
//
//   int32_t  vl_len_        varlena header
//   Oid      index          the scoring index, InvalidOid while unresolved
//   uint8_t  flags          kParsedFlag: the text is read with the query syntax
//                           (quarry_query_parse); kColumnFlag: see below
//   Oid      check_as_user  only with kColumnFlag
//   uint32_t stats_bytes    only with kStatsFlag: the statistics to score with
//   char     stats[]        (fts/term_statistics.h), validated when made
//   char     text[]         the query text as given (not NUL-terminated)
//
// kColumnFlag is set by the planner alone (bm25_planner.cpp), on the query
// operand of a <@> or @@@ whose left operand it followed to the index's
// column: the rows scored are rows the statement reads from the index's
// table, through a range table entry checked as check_as_user (a view's
// owner) or, when that is InvalidOid, as the current user. No SQL function
// returns such a value: the text input and every constructor clear it, and
// the operand lives inside the operator, whose result is a number. A query
// without the flag reads the index's statistics on its own, which needs
// pg::CheckIndexStatisticsReadable (bm25_functions.cpp).
//
// Text form (quarry_query_in / quarry_query_out): a plain query prints as its
// text, a parsed one as "parsed:" followed by its text; a plain query whose text
// itself starts with "parsed:", "plain:" or "stats{" prints with "plain:" in
// front. A query carrying statistics prints as "stats{<statistics>}" followed
// by that form. Input reads the same forms, so every value prints and reads
// back to itself (the index is not part of the text form: it is resolved again
// from the column; a distributed table's shards resolve it to their own index).
#include "am/bm25/bm25_query.h"
#include "am/index_kind.h"
#include "fts/term_statistics.h"

#include "pg/guard.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include <cstring>

namespace quarry::am::bm25 {

namespace {

constexpr std::size_t kIndexOffset = VARHDRSZ;
constexpr std::size_t kFlagsOffset = kIndexOffset + sizeof(Oid);
constexpr std::size_t kHeaderBytes = kFlagsOffset + 1;
constexpr uint8_t kParsedFlag = 0x01;
constexpr uint8_t kColumnFlag = 0x02;
constexpr uint8_t kStatsFlag = 0x04;

constexpr std::string_view kParsedPrefix = "parsed:";
constexpr std::string_view kPlainPrefix = "plain:";
constexpr std::string_view kStatsPrefix = "stats{";

QueryValue
ReadQueryText(std::string_view s)
{
	if (s.starts_with(kStatsPrefix))
	{
		const std::size_t end = s.find('}');
		fts::TermStatistics stats;
		const char *error = "\"stats{\" without \"}\"";
		if (end == std::string_view::npos ||
			!fts::TermStatistics::Parse(s.substr(kStatsPrefix.size(), end - kStatsPrefix.size()), &stats, &error))
			throw pg::Error(ERRCODE_INVALID_TEXT_REPRESENTATION,
							pg::Format("malformed quarry_query statistics: %s", error).text,
							"A quarry_query whose text starts with \"stats{\" carries BM25 statistics.",
							"For a query whose words start with \"stats{\", write \"plain:\" in front.");
		QueryValue q = ReadQueryText(s.substr(end + 1));
		q.stats = s.substr(kStatsPrefix.size(), end - kStatsPrefix.size());
		return q;
	}
	if (s.starts_with(kParsedPrefix))
		return QueryValue{InvalidOid, s.substr(kParsedPrefix.size()), true};
	if (s.starts_with(kPlainPrefix))
		return QueryValue{InvalidOid, s.substr(kPlainPrefix.size()), false};
	return QueryValue{InvalidOid, s, false};
}

std::string_view
QueryTextPrefix(const QueryValue &q)
{
	if (q.parsed)
		return kParsedPrefix;
	if (q.text.starts_with(kParsedPrefix) || q.text.starts_with(kPlainPrefix) || q.text.starts_with(kStatsPrefix))
		return kPlainPrefix;
	return {};
}

} // namespace

QueryValue
DecodeQuery(Datum value)
{
	const auto *bytes = reinterpret_cast<const char *>(PG_DETOAST_DATUM(value));
	const std::size_t size = VARSIZE(bytes);
	if (size < kHeaderBytes)
		pg::ThrowError(ERRCODE_DATA_CORRUPTED, "malformed quarry_query value");
	QueryValue q{};
	std::memcpy(&q.index, bytes + kIndexOffset, sizeof(Oid));
	const auto flags = static_cast<uint8_t>(bytes[kFlagsOffset]);
	if ((flags & ~(kParsedFlag | kColumnFlag | kStatsFlag)) != 0)
		pg::ThrowError(ERRCODE_DATA_CORRUPTED, "malformed quarry_query value");
	q.parsed = (flags & kParsedFlag) != 0;
	q.column_operand = (flags & kColumnFlag) != 0;
	std::size_t text_start = kHeaderBytes;
	if (q.column_operand)
	{
		if (size < kHeaderBytes + sizeof(Oid))
			pg::ThrowError(ERRCODE_DATA_CORRUPTED, "malformed quarry_query value");
		std::memcpy(&q.check_as_user, bytes + kHeaderBytes, sizeof(Oid));
		text_start += sizeof(Oid);
	}
	if ((flags & kStatsFlag) != 0)
	{
		uint32_t stats_bytes;
		if (size < text_start + sizeof(uint32_t))
			pg::ThrowError(ERRCODE_DATA_CORRUPTED, "malformed quarry_query value");
		std::memcpy(&stats_bytes, bytes + text_start, sizeof(uint32_t));
		text_start += sizeof(uint32_t);
		if (stats_bytes == 0 || size - text_start < stats_bytes)
			pg::ThrowError(ERRCODE_DATA_CORRUPTED, "malformed quarry_query value");
		q.stats = std::string_view(bytes + text_start, stats_bytes);
		text_start += stats_bytes;
	}
	q.text = std::string_view(bytes + text_start, size - text_start);
	return q;
}

Datum
EncodeQuery(const QueryValue &value)
{
	const std::size_t stats_at = kHeaderBytes + (value.column_operand ? sizeof(Oid) : 0);
	const bool has_stats = !value.stats.empty();
	const std::size_t header = stats_at + (has_stats ? sizeof(uint32_t) + value.stats.size() : 0);
	const std::size_t size = header + value.text.size();
	if (size > MaxAllocSize)
		pg::ThrowError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "quarry_query text is too long");
	auto *bytes = static_cast<char *>(palloc(size));
	SET_VARSIZE(bytes, size);
	std::memcpy(bytes + kIndexOffset, &value.index, sizeof(Oid));
	bytes[kFlagsOffset] = static_cast<char>((value.parsed ? kParsedFlag : 0) | (value.column_operand ? kColumnFlag : 0) |
											(has_stats ? kStatsFlag : 0));
	if (value.column_operand)
		std::memcpy(bytes + kHeaderBytes, &value.check_as_user, sizeof(Oid));
	if (has_stats)
	{
		const auto stats_bytes = static_cast<uint32_t>(value.stats.size());
		std::memcpy(bytes + stats_at, &stats_bytes, sizeof(uint32_t));
		std::memcpy(bytes + stats_at + sizeof(uint32_t), value.stats.data(), value.stats.size());
	}
	std::memcpy(bytes + header, value.text.data(), value.text.size());
	return PointerGetDatum(bytes);
}

QueryValue
WithoutColumnRead(QueryValue q)
{
	q.column_operand = false;
	q.check_as_user = InvalidOid;
	return q;
}

// The schema of the access method's handler function is the extension's.
Oid
ExtensionSchema()
{
	Oid am = AccessMethodOid(IndexKind::kBm25);
	if (am == InvalidOid)
		return InvalidOid;
	HeapTuple tuple = SearchSysCache1(AMOID, ObjectIdGetDatum(am));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	Oid handler = reinterpret_cast<Form_pg_am>(GETSTRUCT(tuple))->amhandler;
	ReleaseSysCache(tuple);
	return get_func_namespace(handler);
}

Oid
QueryTypeOid()
{
	Oid ext_schema = ExtensionSchema();
	if (ext_schema == InvalidOid)
		return InvalidOid;
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("quarry_query"),
						   ObjectIdGetDatum(ext_schema));
}

namespace {

// The four constructors: the text of argument 0, read with the query syntax
// or not, for the index named by argument 1 when there is one (checked).
Datum
MakeQuery(FunctionCallInfo fcinfo, bool parsed)
{
	text *t = PG_GETARG_TEXT_PP(0);
	Oid index = InvalidOid;
	if (PG_NARGS() > 1)
	{
		index = PG_GETARG_OID(1);
		CheckIndexKind(index, IndexKind::kBm25);
	}
	return EncodeQuery({index, {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)}, parsed});
}

} // namespace

} // namespace quarry::am::bm25

using namespace quarry::am::bm25;
using quarry::am::CheckIndexKind;
using quarry::am::IndexKind;
using quarry::pg::Boundary;

QUARRY_FUNCTION(quarry_query_in)
{
	return Boundary("quarry_query_in", [&]() -> Datum {
		const char *s = PG_GETARG_CSTRING(0);
		return EncodeQuery(ReadQueryText(s));
	});
}

QUARRY_FUNCTION(quarry_query_out)
{
	return Boundary("quarry_query_out", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(0));
		StringInfoData out;
		initStringInfo(&out);
		if (!q.stats.empty())
			appendStringInfo(&out, "%.*s%.*s}", static_cast<int>(kStatsPrefix.size()), kStatsPrefix.data(),
							 static_cast<int>(q.stats.size()), q.stats.data());
		std::string_view prefix = QueryTextPrefix(q);
		appendBinaryStringInfo(&out, prefix.data(), static_cast<int>(prefix.size()));
		appendBinaryStringInfo(&out, q.text.data(), static_cast<int>(q.text.size()));
		PG_RETURN_CSTRING(out.data);
	});
}

// quarry_query(text): the cast from text; the index is resolved later.
QUARRY_FUNCTION(quarry_query_from_text)
{
	return Boundary("quarry_query", [&] { return MakeQuery(fcinfo, false); });
}

// quarry_query(text, regclass): a query scored with the statistics of the named index.
QUARRY_FUNCTION(quarry_query_for_index)
{
	return Boundary("quarry_query", [&] { return MakeQuery(fcinfo, false); });
}

// quarry_query_parse(text): a query read with the query syntax; the index is
// resolved later.
QUARRY_FUNCTION(quarry_query_parse)
{
	return Boundary("quarry_query_parse", [&] { return MakeQuery(fcinfo, true); });
}

// quarry_query_parse(text, regclass): the same, scored with the named index.
QUARRY_FUNCTION(quarry_query_parse_for_index)
{
	return Boundary("quarry_query_parse", [&] { return MakeQuery(fcinfo, true); });
}

// quarry_query_is_parsed(quarry_query): whether the query is read with the syntax.
QUARRY_FUNCTION(quarry_query_is_parsed)
{
	return Boundary("quarry_query_is_parsed", [&]() -> Datum {
		PG_RETURN_BOOL(DecodeQuery(PG_GETARG_DATUM(0)).parsed);
	});
}

// quarry_query_resolve(quarry_query, oid): names the index unless the query
// already names one. Kept for installs of 0.1.0, whose planner rewrite calls
// it; never marks a column read.
QUARRY_FUNCTION(quarry_query_resolve)
{
	return Boundary("quarry_query_resolve", [&]() -> Datum {
		QueryValue q = WithoutColumnRead(DecodeQuery(PG_GETARG_DATUM(0)));
		if (q.index == InvalidOid)
		{
			CheckIndexKind(PG_GETARG_OID(1), IndexKind::kBm25);
			q.index = PG_GETARG_OID(1);
		}
		return EncodeQuery(q);
	});
}

// quarry_query_resolve(query, resolved quarry_query): what the planner wraps a
// query operand it cannot fold in. `resolved` is the planner's constant: the
// index of the operator's column and, from the planner only, the column read
// (see the file comment). The query takes both unless it names another index.
QUARRY_FUNCTION(quarry_query_resolve_column)
{
	return Boundary("quarry_query_resolve", [&]() -> Datum {
		QueryValue q = WithoutColumnRead(DecodeQuery(PG_GETARG_DATUM(0)));
		QueryValue resolved = DecodeQuery(PG_GETARG_DATUM(1));
		if (q.index != InvalidOid && q.index != resolved.index)
			return EncodeQuery(q);
		CheckIndexKind(resolved.index, IndexKind::kBm25);
		q.index = resolved.index;
		q.column_operand = resolved.column_operand;
		q.check_as_user = resolved.check_as_user;
		return EncodeQuery(q);
	});
}

QUARRY_FUNCTION(quarry_query_index)
{
	return Boundary("quarry_query_index", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(0));
		if (q.index == InvalidOid)
			PG_RETURN_NULL();
		PG_RETURN_OID(q.index);
	});
}

QUARRY_FUNCTION(quarry_query_text)
{
	return Boundary("quarry_query_text", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(0));
		PG_RETURN_TEXT_P(cstring_to_text_with_len(q.text.data(), static_cast<int>(q.text.size())));
	});
}

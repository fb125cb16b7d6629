// Hybrid search's SQL functions and the registry of running hybrid scans.
//
// quarry_hybrid(...) and quarry_hybrid_detail(...) are what users write; the
// planner hook (hybrid_plan.cpp) turns each into quarry_hybrid_scored /
// quarry_hybrid_detail_scored(ctid, site, ...), which read the row's fused
// values from the hybrid scan of the same table (its "site" and its
// request's identity), wherever the statement evaluates them (the scan's
// projection, a sort above a join). A fused score depends on every
// candidate, so no row can compute it alone: without the scan they ERROR.
#include "am/hybrid/hybrid.h"

#include "pg/guard.h"
#include "pg/heap_tid.h"
#include "pg/result_row.h"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

#include <cmath>
#include <cstring>

namespace quarry::am::hybrid {

// A running scan's fused rows, readable by the functions (one slot per scan).
struct Ranking {
	MemoryContext owner; // nullptr: a free slot
	MemoryContextCallback forget;
	int32_t site;
	Oid user; // the user the scan ran as: another user reads nothing from it
	const char *key;
	std::size_t key_bytes;
	const fusion::Fused *rows;
	std::size_t count;
	// Returned rows whose tuple version is not at the TID they were fused by.
	uint64_t *alias_actual;
	uint64_t *alias_root;
	std::size_t aliases;
};

namespace {

constexpr int kMaxRankings = 16;
Ranking rankings[kMaxRankings];

// Reset callback of a scan's context: the slot is free again.
void
Forget(void *arg)
{
	static_cast<Ranking *>(arg)->owner = nullptr;
}

// Appends `bytes` to `out` with its length in front.
void
AppendPart(StringInfo out, const void *bytes, uint32_t length)
{
	appendBinaryStringInfo(out, reinterpret_cast<const char *>(&length), sizeof(length));
	appendBinaryStringInfo(out, static_cast<const char *>(bytes), static_cast<int>(length));
}

// Appends a varlena argument (NULL: a length no value has).
void
AppendVarlena(StringInfo out, const Request &r, int arg)
{
	if (r.null[arg])
	{
		uint32_t none = UINT32_MAX;
		appendBinaryStringInfo(out, reinterpret_cast<const char *>(&none), sizeof(none));
		return;
	}
	struct varlena *v = PG_DETOAST_DATUM_PACKED(r.values[arg]);
	AppendPart(out, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
}

// Reads the request of a call of quarry_hybrid*_scored(ctid, site, ...).
Request
CallRequest(FunctionCallInfo fcinfo)
{
	Request r;
	for (int i = 0; i < kArgCount; i++)
	{
		r.values[i] = PG_GETARG_DATUM(i);
		r.null[i] = PG_ARGISNULL(i);
	}
	for (int i : {kCtid, kSite, kDepth, kFusion, kK, kWeight})
		if (r.null[i])
			pg::ThrowError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "quarry_hybrid: %s must not be NULL",
						   i == kDepth ? "depth" : i == kFusion ? "fusion" : i == kK ? "k" : i == kWeight ? "weight" : "the row");
	return r;
}

// The fused row of the current call, with the errors of a missing scan.
const fusion::Fused &
RankedRow(FunctionCallInfo fcinfo)
{
	Request r = CallRequest(fcinfo);
	std::string_view key = RequestKey(r);
	bool scan_found = false;
	const fusion::Fused *f = FindRanked(DatumGetInt32(r.values[kSite]), key,
										reinterpret_cast<ItemPointer>(DatumGetPointer(r.values[kCtid])), &scan_found);
	if (f != nullptr)
		return *f;
	if (!scan_found)
		throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_hybrid() is computed by a hybrid scan, and none runs for it",
						"A fused score depends on every candidate of both rankings, so it is not computed row by row.",
						"Order the table's rows by it: ORDER BY quarry_hybrid(text_column, query, vector_column, vector) LIMIT n.");
	pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_hybrid: row (%u,%u) was not ranked by the hybrid scan",
				   ItemPointerGetBlockNumberNoCheck(reinterpret_cast<ItemPointer>(DatumGetPointer(r.values[kCtid]))),
				   ItemPointerGetOffsetNumberNoCheck(reinterpret_cast<ItemPointer>(DatumGetPointer(r.values[kCtid]))));
}

} // namespace

std::string_view
RequestKey(const Request &r)
{
	StringInfoData out;
	initStringInfo(&out);
	AppendVarlena(&out, r, kTextQuery);
	AppendVarlena(&out, r, kVectorQuery);
	AppendVarlena(&out, r, kFusion);
	const int32_t depth = DatumGetInt32(r.values[kDepth]);
	const double k = DatumGetFloat8(r.values[kK]);
	const double weight = DatumGetFloat8(r.values[kWeight]);
	appendBinaryStringInfo(&out, reinterpret_cast<const char *>(&depth), sizeof(depth));
	appendBinaryStringInfo(&out, reinterpret_cast<const char *>(&k), sizeof(k));
	appendBinaryStringInfo(&out, reinterpret_cast<const char *>(&weight), sizeof(weight));
	return {out.data, static_cast<std::size_t>(out.len)};
}

fusion::Options
RequestOptions(const Request &r, uint32_t *depth)
{
	constexpr int32_t kMaxDepth = 100000;
	const int32_t d = DatumGetInt32(r.values[kDepth]);
	if (d < 1 || d > kMaxDepth)
		pg::ThrowError(ERRCODE_INVALID_PARAMETER_VALUE, "quarry_hybrid: depth must be between 1 and %d, not %d", kMaxDepth, d);
	*depth = static_cast<uint32_t>(d);
	fusion::Options o;
	const char *name = text_to_cstring(DatumGetTextPP(r.values[kFusion]));
	if (std::strcmp(name, "rrf") == 0)
		o.method = fusion::Method::kRrf;
	else if (std::strcmp(name, "linear") == 0)
		o.method = fusion::Method::kLinear;
	else
		throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, pg::Format("quarry_hybrid: unknown fusion \"%s\"", name).text,
						nullptr, "Use 'rrf' (reciprocal rank fusion) or 'linear' (weighted sum of min-max normalised scores).");
	o.k = DatumGetFloat8(r.values[kK]);
	o.weight = DatumGetFloat8(r.values[kWeight]);
	if (const char *problem = fusion::Validate(o))
		pg::ThrowError(ERRCODE_INVALID_PARAMETER_VALUE, "quarry_hybrid: %s", problem);
	return o;
}

Ranking *
RegisterRanking(MemoryContext owner, int32_t site, std::string_view key, std::span<const fusion::Fused> by_row)
{
	for (Ranking &r : rankings)
	{
		if (r.owner != nullptr)
			continue;
		char *copy = static_cast<char *>(MemoryContextAlloc(owner, std::max<std::size_t>(key.size(), 1)));
		std::memcpy(copy, key.data(), key.size());
		const std::size_t slots = std::max<std::size_t>(by_row.size(), 1);
		auto *actual = static_cast<uint64_t *>(MemoryContextAlloc(owner, sizeof(uint64_t) * slots));
		auto *root = static_cast<uint64_t *>(MemoryContextAlloc(owner, sizeof(uint64_t) * slots));
		r = Ranking{owner, {}, site, GetUserId(), copy, key.size(), by_row.data(), by_row.size(), actual, root, 0};
		r.forget.func = Forget;
		r.forget.arg = &r;
		MemoryContextRegisterResetCallback(owner, &r.forget);
		return &r;
	}
	pg::ThrowError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "quarry_hybrid: more than %d hybrid scans at once", kMaxRankings);
}

void
AddAlias(Ranking *ranking, uint64_t actual, uint64_t root)
{
	if (ranking->aliases < std::max<std::size_t>(ranking->count, 1))
	{
		ranking->alias_actual[ranking->aliases] = actual;
		ranking->alias_root[ranking->aliases] = root;
		ranking->aliases++;
	}
}

const fusion::Fused *
FindRanked(int32_t site, std::string_view key, ItemPointer tid, bool *scan_found)
{
	*scan_found = false;
	const Oid user = GetUserId();
	// The latest registration first: a nested statement's scan of the same site.
	for (int i = kMaxRankings - 1; i >= 0; i--)
	{
		const Ranking &r = rankings[i];
		if (r.owner == nullptr || r.site != site || r.user != user || std::string_view(r.key, r.key_bytes) != key)
			continue;
		*scan_found = true;
		const uint64_t row = pg::PackTid(tid);
		if (const fusion::Fused *f = fusion::FindRow({r.rows, r.count}, row))
			return f;
		for (std::size_t a = 0; a < r.aliases; a++)
		{
			if (r.alias_actual[a] == row)
				return fusion::FindRow({r.rows, r.count}, r.alias_root[a]);
		}
	}
	return nullptr;
}

} // namespace quarry::am::hybrid

using namespace quarry;

// quarry_hybrid(text_col, text_query, vector_col, vector_query, depth, fusion,
// k, weight): minus the row's fused score. The planner replaces every call on
// a table's columns; one that reaches execution was not planned by quarry.
QUARRY_FUNCTION(quarry_hybrid)
{
	return pg::Boundary("quarry_hybrid", [&]() -> Datum {
		throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_hybrid() was not planned as a hybrid scan",
						"Its text and vector arguments must be two columns of one table of the query's FROM list, and quarry must be loaded when the statement is planned.",
						"Add quarry to session_preload_libraries, or call it with a literal query once in the session.");
	});
}

// quarry_hybrid_detail(...): as quarry_hybrid.
QUARRY_FUNCTION(quarry_hybrid_detail)
{
	return quarry_hybrid(fcinfo);
}

// quarry_hybrid_scored(ctid, site, ...): minus the fused score of the row,
// from the hybrid scan that ranked it (as ORDER BY wants it ascending).
QUARRY_FUNCTION(quarry_hybrid_scored)
{
	return pg::Boundary("quarry_hybrid", [&]() -> Datum {
		const fusion::Fused &f = am::hybrid::RankedRow(fcinfo);
		return Float8GetDatum(-f.score);
	});
}

// quarry_hybrid_detail_scored(ctid, site, ...): the row's fused score and
// each side's rank and value (NULL for a side that did not rank it).
QUARRY_FUNCTION(quarry_hybrid_detail_scored)
{
	return pg::Boundary("quarry_hybrid_detail", [&]() -> Datum {
		const fusion::Fused &f = am::hybrid::RankedRow(fcinfo);
		Datum values[5] = {Float8GetDatum(f.score), Int32GetDatum(static_cast<int32>(f.text_rank)),
						   Float8GetDatum(f.text_score), Int32GetDatum(static_cast<int32>(f.vector_rank)),
						   Float8GetDatum(f.vector_distance)};
		bool nulls[5] = {false, f.text_rank == 0, f.text_rank == 0, f.vector_rank == 0, f.vector_rank == 0};
		return pg::ResultRow(fcinfo, "quarry_hybrid_detail", values, nulls);
	});
}

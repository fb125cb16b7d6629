// real[] as a vector: input checks, and the SQL distance operators
//   <->  quarry_l2_distance                 Euclidean distance
//   <#>  quarry_negative_inner_product      -(a . b)
//   <=>  quarry_cosine_distance             1 - cos(a, b)
//   <+>  quarry_l1_distance                 sum |a[i] - b[i]|
// plus the opclasses' support functions (support function 1 names the metric,
// 2 the input format), and pgvector's vector and halfvec read as vectors (for
// quarry_pgvector's opclasses, whose operators are pgvector's own).
//
// The operators compute with the same float kernels and the same normalisation
// as the index, so an index scan reports exactly the value the operator gives.
#include "am/hnsw/hnsw.h"
#include "am/returned_rows.h"

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include "hnsw/distance.h"
#include "pg/catalog_lookup.h"
#include "pg/guard.h"
#include "pg/privileges.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace quarry::am::hnsw {

using quarry::hnsw::Metric;

VectorArg
DatumGetVector(Datum datum)
{
	ArrayType *array = DatumGetArrayTypeP(datum);
	if (ARR_ELEMTYPE(array) != FLOAT4OID)
		pg::ThrowError(ERRCODE_DATATYPE_MISMATCH, "vector must be a real[] array, not %s[]", format_type_be(ARR_ELEMTYPE(array)));
	if (ARR_NDIM(array) == 0)
		pg::ThrowError(ERRCODE_DATA_EXCEPTION, "vector must have at least one element");
	if (ARR_NDIM(array) != 1)
		pg::ThrowError(ERRCODE_ARRAY_SUBSCRIPT_ERROR, "vector must be a one-dimensional array, not %d-dimensional", ARR_NDIM(array));
	if (array_contains_nulls(array))
		pg::ThrowError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "vector must not contain NULL elements");
	return VectorArg{reinterpret_cast<const float *>(ARR_DATA_PTR(array)), ARR_DIMS(array)[0]};
}

VectorArg
DatumGetVector(Datum datum, quarry::hnsw::InputFormat format)
{
	if (format == quarry::hnsw::InputFormat::kRealArray)
		return DatumGetVector(datum);
	const bool half = format == quarry::hnsw::InputFormat::kHalfvec;
	struct varlena *value = PG_DETOAST_DATUM(datum);
	const auto *body = reinterpret_cast<const unsigned char *>(VARDATA(value));
	int dims = 0;
	switch (quarry::hnsw::ParsePgvector(format, body, VARSIZE(value) - VARHDRSZ, dims))
	{
		case quarry::hnsw::PgvectorProblem::kNone:
			break;
		case quarry::hnsw::PgvectorProblem::kTooShort:
		case quarry::hnsw::PgvectorProblem::kBadLength:
			pg::ThrowError(ERRCODE_DATA_CORRUPTED, "value is not a pgvector %s: %zu bytes do not hold its elements", half ? "halfvec" : "vector", static_cast<std::size_t>(VARSIZE(value) - VARHDRSZ));
		case quarry::hnsw::PgvectorProblem::kBadDimensions:
			pg::ThrowError(ERRCODE_DATA_CORRUPTED, "value is not a pgvector %s: it has %d dimensions", half ? "halfvec" : "vector", static_cast<int>(*reinterpret_cast<const int16 *>(body)));
	}
	const unsigned char *elements = body + quarry::hnsw::kPgvectorHeaderBytes;
	if (!half)
		return VectorArg{reinterpret_cast<const float *>(elements), dims};
	auto *floats = static_cast<float *>(palloc(sizeof(float) * dims));
	quarry::hnsw::HalvesToFloats(elements, dims, floats);
	return VectorArg{floats, dims};
}

bool
HeldAsNullRow(const VectorArg &v, Metric metric)
{
	if (metric != Metric::kCosine)
		return false;
	for (int i = 0; i < v.dims; i++)
	{
		if (v.data[i] != 0.0f) // -0 is zero too
			return false;
	}
	return true;
}

float
CheckVectorValues(const VectorArg &v, Metric metric, bool *zero)
{
	float squared_norm = 0;
	switch (quarry::hnsw::CheckVector(metric, v.span(), squared_norm))
	{
		case quarry::hnsw::VectorProblem::kNone:
			return squared_norm;
		case quarry::hnsw::VectorProblem::kNotFinite:
			for (int i = 0; i < v.dims; i++)
			{
				if (std::isnan(v.data[i]))
					pg::ThrowError(ERRCODE_DATA_EXCEPTION, "vector must not contain NaN (element %d)", i + 1);
				if (std::isinf(v.data[i]))
					pg::ThrowError(ERRCODE_DATA_EXCEPTION, "vector must not contain infinite values (element %d)", i + 1);
			}
			break;
		case quarry::hnsw::VectorProblem::kNormTooLarge:
			throw pg::Error(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "vector norm is too large: distances would overflow", pg::Format("The squared norm must stay below %g.", static_cast<double>(quarry::hnsw::kMaxSquaredNorm)).text, nullptr);
			break;
		case quarry::hnsw::VectorProblem::kZeroNorm:
			if (zero != nullptr)
			{
				*zero = true;
				return 0.0f;
			}
			// Callers hold such rows as NULL rows (HeldAsNullRow) first.
			pg::ThrowError(ERRCODE_DATA_EXCEPTION, "cosine distance is not defined for a zero vector");
			break;
	}
	return squared_norm;
}

void
CheckSameDims(int a, int b)
{
	if (a != b)
		pg::ThrowError(ERRCODE_DATA_EXCEPTION, "vectors have different dimensions: %d and %d", a, b);
}

void
CheckIndexableDims(int dims)
{
	if (dims < 1 || static_cast<std::size_t>(dims) > quarry::hnsw::kMaxDimensions)
		pg::ThrowError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "quarry_hnsw indexes vectors of 1 to %zu dimensions, not %d", quarry::hnsw::kMaxDimensions, dims);
}

void
PrepareIndexVector(const VectorArg &v, Metric metric, float *out)
{
	float squared_norm = CheckVectorValues(v, metric);
	if (metric == Metric::kCosine)
		quarry::hnsw::Normalize(v.span(), squared_norm, std::span<float>(out, v.dims));
	else
		std::memcpy(out, v.data, sizeof(float) * v.dims);
}

namespace {

/// A call site's decompressed copy of the compressed argument it was passed
/// last. A query vector read from a table (real[] over about 2 kB is stored
/// compressed) reaches every call of a scan's distance operator as the same
/// compressed bytes: a compressed index's rerank calls the operator for each
/// row it fetches, and decompressing 784 floats each time cost more than the
/// distance (sq8 on Fashion-MNIST: 15 % of the query time). The copy is used
/// only when the bytes are equal, so it is the same value; an argument that
/// changes on every call (the table's side) stops being copied after
/// kMaxMisses misses in a row.
struct DecompressedArg {
	static constexpr int kMaxMisses = 2;
	Size raw_bytes;
	char *raw; // its compressed bytes (fn_mcxt)
	Datum value; // decompressed (fn_mcxt)
	int misses;
};

struct OperatorCache {
	DecompressedArg args[2];
};

/// `datum` decompressed: from `slot` when it holds these bytes, else
/// decompressed (and kept in `slot` unless it keeps missing).
Datum
Decompressed(FmgrInfo *flinfo, DecompressedArg *slot, Datum datum)
{
	auto *v = reinterpret_cast<struct varlena *>(DatumGetPointer(datum));
	if (flinfo == nullptr || !VARATT_IS_COMPRESSED(v))
		return datum;
	const Size bytes = VARSIZE(v);
	if (slot->raw != nullptr && slot->raw_bytes == bytes && std::memcmp(slot->raw, v, bytes) == 0)
	{
		slot->misses = 0;
		return slot->value;
	}
	if (slot->raw != nullptr && ++slot->misses > DecompressedArg::kMaxMisses)
		return PointerGetDatum(PG_DETOAST_DATUM(datum));
	MemoryContext old = MemoryContextSwitchTo(flinfo->fn_mcxt);
	struct varlena *value = PG_DETOAST_DATUM(datum);
	char *raw = static_cast<char *>(palloc(bytes));
	MemoryContextSwitchTo(old);
	std::memcpy(raw, v, bytes);
	if (slot->raw != nullptr)
	{
		pfree(slot->raw);
		pfree(DatumGetPointer(slot->value));
	}
	*slot = DecompressedArg{bytes, raw, PointerGetDatum(value), slot->misses};
	return slot->value;
}

/// A call site's state of type T (fcinfo->flinfo->fn_extra, zeroed at the
/// first call), or nullptr when called without a call site. One function's
/// call sites all hold the same T.
template <typename T>
T *
CallSiteState(FunctionCallInfo fcinfo)
{
	static_assert(std::is_trivially_destructible_v<T>, "lives in fn_mcxt, freed without a destructor");
	if (fcinfo->flinfo == nullptr)
		return nullptr;
	if (fcinfo->flinfo->fn_extra == nullptr)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(T));
	return static_cast<T *>(fcinfo->flinfo->fn_extra);
}

/// The OperatorCache of a distance operator's call site, or nullptr.
OperatorCache *
CacheOf(FunctionCallInfo fcinfo)
{
	return CallSiteState<OperatorCache>(fcinfo);
}

// One distance between two real[] values, as the index computes it. C-shaped.
// `cache` (may be nullptr) keeps decompressed copies of the arguments.
double
SqlDistance(FmgrInfo *flinfo, OperatorCache *cache, Datum left, Datum right, Metric metric)
{
	if (cache != nullptr)
	{
		left = Decompressed(flinfo, &cache->args[0], left);
		right = Decompressed(flinfo, &cache->args[1], right);
	}
	VectorArg a = DatumGetVector(left);
	VectorArg b = DatumGetVector(right);
	CheckSameDims(a.dims, b.dims);
	bool zero = false;
	float norm_a = CheckVectorValues(a, metric, &zero);
	float norm_b = CheckVectorValues(b, metric, &zero);
	const quarry::hnsw::Kernels &k = quarry::hnsw::BestKernels();
	if (metric != Metric::kCosine)
		return quarry::hnsw::SqlDistance(metric, quarry::hnsw::InternalDistance(k, metric, a.data, b.data, a.dims));
	// The angle to a zero vector is undefined: NaN, as pgvector's <=>.
	if (zero)
		return std::numeric_limits<double>::quiet_NaN();
	// Cosine: normalise both, exactly as the index stores and queries them.
	float *unit_a = static_cast<float *>(palloc(sizeof(float) * a.dims));
	float *unit_b = static_cast<float *>(palloc(sizeof(float) * b.dims));
	quarry::hnsw::Normalize(a.span(), norm_a, std::span<float>(unit_a, a.dims));
	quarry::hnsw::Normalize(b.span(), norm_b, std::span<float>(unit_b, b.dims));
	double d = quarry::hnsw::SqlDistance(metric, quarry::hnsw::InternalDistance(k, metric, unit_a, unit_b, a.dims));
	pfree(unit_a);
	pfree(unit_b);
	return d;
}

} // namespace

} // namespace quarry::am::hnsw

// The checks raise ERRORs directly (no C++ object is alive in these frames);
// Boundary still catches any C++ exception.
QUARRY_FUNCTION(quarry_l2_distance)
{
	return quarry::pg::Boundary("quarry_l2_distance", [&]() -> Datum {
		PG_RETURN_FLOAT8(quarry::am::hnsw::SqlDistance(fcinfo->flinfo, quarry::am::hnsw::CacheOf(fcinfo), PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), quarry::hnsw::Metric::kL2));
	});
}

QUARRY_FUNCTION(quarry_negative_inner_product)
{
	return quarry::pg::Boundary("quarry_negative_inner_product", [&]() -> Datum {
		PG_RETURN_FLOAT8(quarry::am::hnsw::SqlDistance(fcinfo->flinfo, quarry::am::hnsw::CacheOf(fcinfo), PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), quarry::hnsw::Metric::kInnerProduct));
	});
}

QUARRY_FUNCTION(quarry_cosine_distance)
{
	return quarry::pg::Boundary("quarry_cosine_distance", [&]() -> Datum {
		PG_RETURN_FLOAT8(quarry::am::hnsw::SqlDistance(fcinfo->flinfo, quarry::am::hnsw::CacheOf(fcinfo), PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), quarry::hnsw::Metric::kCosine));
	});
}

QUARRY_FUNCTION(quarry_l1_distance)
{
	return quarry::pg::Boundary("quarry_l1_distance", [&]() -> Datum {
		PG_RETURN_FLOAT8(quarry::am::hnsw::SqlDistance(fcinfo->flinfo, quarry::am::hnsw::CacheOf(fcinfo), PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), quarry::hnsw::Metric::kL1));
	});
}

namespace quarry::am::hnsw {
namespace {

// Whether the current user may take a distance from the scan of `index`: a
// row's distance to a query tells about a vector, so only a user who may read
// the table's rows directly (SELECT, no row-level security in force) takes it;
// anyone else gets it computed from the vector they passed, the same value.
// Cached per call site while the index and the user stay the same.
struct ScoredSite {
	Oid index; // whose permission was checked
	Oid user;
	bool allowed;
	OperatorCache args; // for the distances computed here
};

ScoredSite *
ScoredSiteOf(FunctionCallInfo fcinfo)
{
	return CallSiteState<ScoredSite>(fcinfo);
}

bool
MayTakeScanValue(ScoredSite *c, Oid index)
{
	if (c->index != index || c->user != GetUserId())
	{
		c->allowed = pg::IndexReadable(index, GetUserId()) && !pg::RowSecurityActive(pg::IndexTable(index));
		c->index = index;
		c->user = GetUserId();
	}
	return c->allowed;
}

/// quarry_hnsw_scored's metric (argument 4). ERROR unless it names one.
int32
ScoredMetric(FunctionCallInfo fcinfo)
{
	const int32 metric = PG_GETARG_INT32(4);
	if (!quarry::hnsw::IsValidMetric(metric))
		pg::ThrowError(ERRCODE_INVALID_PARAMETER_VALUE, "quarry_hnsw_scored: metric must be 1 (L2), 2 (inner product), 3 (cosine) or 4 (L1), not %d", metric);
	return metric;
}

/// For quarry_hnsw_scored(ctid, value, query, index, metric): the value the
/// scan of `index` noted for row `ctid` and `query` (its bytes), if it is the
/// row that scan returned last and the current user may take it.
bool
TakeScanValue(FunctionCallInfo fcinfo, ScoredSite *site, int32 metric, double *value, bool *null)
{
	if (!MayTakeScanValue(site, PG_GETARG_OID(3)))
		return false;
	struct varlena *query = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(2));
	return am::ValueOfReturnedRow(PG_GETARG_OID(3), static_cast<uint32_t>(metric),
								  {VARDATA_ANY(query), VARSIZE_ANY_EXHDR(query)},
								  reinterpret_cast<ItemPointer>(PG_GETARG_POINTER(0)), value, null);
}

/// A call site of quarry_hnsw_scored on pgvector's types: the permission
/// check, and pgvector's operator of its argument type and metric.
struct PgvectorScoredSite {
	ScoredSite scored;
	Oid type;
	int32 metric;
	FmgrInfo op;
};

// pgvector's operator function for `metric` on `type` (vector or halfvec),
// from the schema that holds the type: the operator the planner replaced.
void
LookUpPgvectorOperator(PgvectorScoredSite *site, FunctionCallInfo fcinfo, Oid type, int32 metric)
{
	static const char *const names[] = {"<->", "<#>", "<=>", "<+>"};
	HeapTuple tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
	if (!HeapTupleIsValid(tuple))
		pg::ThrowError(ERRCODE_UNDEFINED_OBJECT, "type %u does not exist", type);
	const Oid schema = reinterpret_cast<Form_pg_type>(GETSTRUCT(tuple))->typnamespace;
	ReleaseSysCache(tuple);
	const Oid op = pg::OperatorInSchema(schema, names[metric - 1], type, type);
	if (op == InvalidOid)
		pg::ThrowError(ERRCODE_UNDEFINED_FUNCTION, "operator %s does not exist for type %s", names[metric - 1],
					   format_type_be(type));
	fmgr_info_cxt(get_opcode(op), &site->op, fcinfo->flinfo->fn_mcxt);
	site->type = type;
	site->metric = metric;
}

} // namespace
} // namespace quarry::am::hnsw

// quarry_hnsw_scored(ctid, vector, query, index, metric): what the planner
// puts in an ordered quarry_hnsw scan's projection in place of the distance
// operator (am/plan_scores.cpp): the distance the scan ordered the row by when
// the row is the one it returned last (no detoasting, no distance computed
// again), else the operator's value. The same value either way: the scan
// reports exactly what the operator computes.
QUARRY_FUNCTION(quarry_hnsw_scored)
{
	return quarry::pg::Boundary("quarry_hnsw_scored", [&]() -> Datum {
		const int32 metric = quarry::am::hnsw::ScoredMetric(fcinfo);
		double value;
		bool null;
		if (quarry::am::hnsw::TakeScanValue(fcinfo, quarry::am::hnsw::ScoredSiteOf(fcinfo), metric, &value, &null))
		{
			if (null)
				PG_RETURN_NULL();
			PG_RETURN_FLOAT8(value);
		}
		PG_RETURN_FLOAT8(quarry::am::hnsw::SqlDistance(fcinfo->flinfo, &quarry::am::hnsw::ScoredSiteOf(fcinfo)->args,
													 PG_GETARG_DATUM(1), PG_GETARG_DATUM(2),
													 static_cast<quarry::hnsw::Metric>(metric)));
	});
}

// Support function 1 of the opclasses: the metric code (internal) -> int4.
QUARRY_FUNCTION(quarry_hnsw_l2_support)
{
	PG_RETURN_INT32(static_cast<int32_t>(quarry::hnsw::Metric::kL2));
}

QUARRY_FUNCTION(quarry_hnsw_ip_support)
{
	PG_RETURN_INT32(static_cast<int32_t>(quarry::hnsw::Metric::kInnerProduct));
}

QUARRY_FUNCTION(quarry_hnsw_cosine_support)
{
	PG_RETURN_INT32(static_cast<int32_t>(quarry::hnsw::Metric::kCosine));
}

QUARRY_FUNCTION(quarry_hnsw_l1_support)
{
	PG_RETURN_INT32(static_cast<int32_t>(quarry::hnsw::Metric::kL1));
}

// Support function 2 of quarry_pgvector's opclasses: the input format
// (internal) -> int4.
QUARRY_FUNCTION(quarry_hnsw_vector_format)
{
	PG_RETURN_INT32(static_cast<int32_t>(quarry::hnsw::InputFormat::kVector));
}

QUARRY_FUNCTION(quarry_hnsw_halfvec_format)
{
	PG_RETURN_INT32(static_cast<int32_t>(quarry::hnsw::InputFormat::kHalfvec));
}

// quarry_hnsw_scored(ctid, value, query, index, metric) on pgvector's vector
// and halfvec (quarry_pgvector): as on real[], the distance the scan ordered
// the row by when the row is the one it returned last, which for pgvector's
// types the scan computed with pgvector's own operator function
// (hnsw_operator_value.h; hnsw_rerank.h), else pgvector's operator of
// `metric` on the two values. The same value either way, to the last bit.
QUARRY_FUNCTION(quarry_hnsw_scored_pgvector)
{
	return quarry::pg::Boundary("quarry_hnsw_scored", [&]() -> Datum {
		const int32 metric = quarry::am::hnsw::ScoredMetric(fcinfo);
		auto *site = quarry::am::hnsw::CallSiteState<quarry::am::hnsw::PgvectorScoredSite>(fcinfo);
		if (site == nullptr)
			quarry::pg::ThrowError(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_hnsw_scored must be called through the function manager");
		double value;
		bool null;
		if (quarry::am::hnsw::TakeScanValue(fcinfo, &site->scored, metric, &value, &null))
		{
			if (null)
				PG_RETURN_NULL();
			PG_RETURN_FLOAT8(value);
		}
		const Oid type = get_fn_expr_argtype(fcinfo->flinfo, 1);
		if (site->op.fn_oid == InvalidOid || site->type != type || site->metric != metric)
			quarry::am::hnsw::LookUpPgvectorOperator(site, fcinfo, type, metric);
		return FunctionCall2Coll(&site->op, PG_GET_COLLATION(), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2));
	});
}

// pgvector's operator values for an ordered scan's returned rows
// (hnsw_operator_value.h). C-shaped: pgvector's function may raise an ERROR,
// and no C++ object with a destructor is alive in these frames.
#include "am/hnsw/hnsw_operator_value.h"

#include "am/hnsw/hnsw.h"
#include "hnsw/vector_formats.h"
#include "pg/heap_tid.h"

extern "C" {
#include "fmgr.h"
#include "utils/lsyscache.h"
}

#include <cstring>
#include <type_traits>

namespace quarry::am::hnsw {

struct OperatorValue {
	ScanKey key; // the scan's ORDER BY key: pgvector's function and the query
	quarry::hnsw::InputFormat format;
	uint32_t dims;
	float *floats;		  // the node's vector
	struct varlena *row;  // the column's value rebuilt from it, rewritten for every row
};
static_assert(std::is_trivially_destructible_v<OperatorValue>);

// Whether the scan's ORDER BY key carries the function of the index's
// ordering operator (the executor's keys do; a key built without one, as
// quarry's hybrid scan builds it, has none).
bool
IsOrderingFunction(IndexScanDesc scan)
{
	const Oid function = scan->orderByData[0].sk_func.fn_oid;
	if (function == InvalidOid)
		return false;
	Relation index = scan->indexRelation;
	const Oid type = index->rd_opcintype[0];
	const Oid op = get_opfamily_member(index->rd_opfamily[0], type, type, kDistanceStrategy);
	return op != InvalidOid && get_opcode(op) == function;
}

ScanKey
PgvectorOrderingKey(IndexScanDesc scan, quarry::hnsw::InputFormat format)
{
	if (format == quarry::hnsw::InputFormat::kRealArray || scan->numberOfOrderBys != 1 || !IsOrderingFunction(scan))
		return nullptr;
	return &scan->orderByData[0];
}

OperatorValue *
BeginOperatorValue(IndexScanDesc scan, const DiskGraph &graph, mem::ScanArena &arena,
				   quarry::hnsw::InputFormat format)
{
	if (graph.storage() != quarry::hnsw::Storage::kFull || graph.metric() == quarry::hnsw::Metric::kCosine ||
		graph.dims() == 0)
		return nullptr;
	const ScanKey key = PgvectorOrderingKey(scan, format);
	if (key == nullptr)
		return nullptr;
	auto *state = arena.Make<OperatorValue>();
	state->key = key;
	state->format = format;
	state->dims = graph.dims();
	state->floats = arena.MakeArray<float>(state->dims);
	const std::size_t element = format == quarry::hnsw::InputFormat::kHalfvec ? 2 : 4;
	const std::size_t bytes = VARHDRSZ + quarry::hnsw::kPgvectorHeaderBytes + element * state->dims;
	auto *words = arena.MakeArray<uint32_t>((bytes + 3) / 4); // a varlena's 4-byte header, aligned
	std::memset(words, 0, bytes);
	state->row = reinterpret_cast<struct varlena *>(words);
	SET_VARSIZE(state->row, bytes);
	// The body's header: int16 dim, int16 unused (vector_formats.h).
	const auto dim = static_cast<int16>(state->dims);
	std::memcpy(VARDATA(state->row), &dim, sizeof(dim));
	return state;
}

// Writes the node's floats into the rebuilt value. False if a float is not
// exactly a half (a halfvec index holds only halves: corruption, or not
// this row; the projection then computes from the table).
bool
FillRow(OperatorValue *state)
{
	char *elements = VARDATA(state->row) + quarry::hnsw::kPgvectorHeaderBytes;
	if (state->format == quarry::hnsw::InputFormat::kVector)
	{
		std::memcpy(elements, state->floats, sizeof(float) * state->dims);
		return true;
	}
	for (uint32_t i = 0; i < state->dims; i++)
	{
		uint16_t half;
		if (!quarry::hnsw::FloatToHalfExact(state->floats[i], &half))
			return false;
		std::memcpy(elements + 2 * i, &half, sizeof(half));
	}
	return true;
}

bool
OperatorValueOf(OperatorValue *state, DiskGraph &graph, uint32_t node, uint64_t tid, double *out)
{
	NodeHeader header;
	// The node was scored as this row's; a slot freed and reused since holds
	// another row (and vector): then there is no value here.
	if (!graph.ReadNode(node, &header, state->floats) || pg::PackTid(header.heap_tid) != tid || !FillRow(state))
		return false;
	// ORDER BY column <op> query: the column's value is the left argument.
	const ScanKey key = state->key;
	*out = DatumGetFloat8(
		FunctionCall2Coll(&key->sk_func, key->sk_collation, PointerGetDatum(state->row), key->sk_argument));
	return true;
}

} // namespace quarry::am::hnsw

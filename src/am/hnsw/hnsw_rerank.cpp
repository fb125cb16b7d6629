// Exact distances for a compressed index's scan, from the table's vectors
// (hnsw_rerank.h). C-shaped: PostgreSQL calls here may raise ERRORs, and no
// C++ object with a destructor is alive in these frames.
#include "am/hnsw/hnsw_rerank.h"

extern "C" {
#include "access/tableam.h"
#include "executor/executor.h"
#include "utils/memutils.h"
}

#include "pg/guard.h"
#include "pg/heap_tid.h"

namespace quarry::am::hnsw {

bool
CanRerankFromTable(Relation index)
{
	return index->rd_index->indnatts == 1 && index->rd_index->indkey.values[0] != 0;
}

void
BeginHeapVectors(HeapVectors *h, Relation heap, Relation index, quarry::hnsw::Metric metric, uint32_t dims)
{
	h->fetch = table_index_fetch_begin(heap);
	h->slot = table_slot_create(heap, nullptr);
	h->batch_context = AllocSetContextCreate(CurrentMemoryContext, "quarry_hnsw rerank", ALLOCSET_SMALL_SIZES);
	h->column = index->rd_index->indkey.values[0];
	h->format = OpclassFormat(index);
	h->metric = metric;
	h->dims = dims;
	h->scratch = static_cast<float *>(palloc(sizeof(float) * dims));
	h->value_key = nullptr;
}

bool
ExactDistance(HeapVectors *h, uint64_t tid, Snapshot snapshot, const float *query, float *distance,
			  double *value)
{
	ItemPointerData heap_tid;
	pg::UnpackTid(tid, &heap_tid);
	bool call_again = false;
	bool all_dead = false;
	if (!table_index_fetch_tuple(h->fetch, &heap_tid, snapshot, h->slot, &call_again, &all_dead))
		return false;
	bool isnull;
	const Datum column = slot_getattr(h->slot, h->column, &isnull);
	if (isnull)
		return false;
	MemoryContext old = MemoryContextSwitchTo(h->batch_context);
	// Detoasted once, for the kernels and for the key's function alike.
	const Datum row = h->format == quarry::hnsw::InputFormat::kRealArray ? column
																		 : PointerGetDatum(PG_DETOAST_DATUM(column));
	const VectorArg v = DatumGetVector(row, h->format);
	MemoryContextSwitchTo(old);
	if (static_cast<uint32_t>(v.dims) != h->dims)
		pg::ThrowError(ERRCODE_DATA_CORRUPTED, "the row at (%u,%u) has a vector of %d dimensions, but the index has %u",
					   ItemPointerGetBlockNumber(&heap_tid), ItemPointerGetOffsetNumber(&heap_tid), v.dims, h->dims);
	// The operator's computation (hnsw_operators.cpp): the stored form of the
	// row's vector (normalised under cosine) against the query's.
	PrepareIndexVector(v, h->metric, h->scratch);
	*distance = quarry::hnsw::InternalDistance(quarry::hnsw::BestKernels(), h->metric, query, h->scratch, h->dims);
	if (h->value_key != nullptr)
	{
		// ORDER BY column <op> query: the column's value is the left argument.
		old = MemoryContextSwitchTo(h->batch_context);
		*value = DatumGetFloat8(
			FunctionCall2Coll(&h->value_key->sk_func, h->value_key->sk_collation, row, h->value_key->sk_argument));
		MemoryContextSwitchTo(old);
	}
	MemoryContextReset(h->batch_context);
	return true;
}

void
EndHeapVectors(HeapVectors *h)
{
	if (h->slot != nullptr)
		ExecDropSingleTupleTableSlot(h->slot);
	if (h->fetch != nullptr)
		table_index_fetch_end(h->fetch);
	h->slot = nullptr;
	h->fetch = nullptr;
}

} // namespace quarry::am::hnsw

// quarry_hnsw_index_info(regclass): what an index holds, for tests, monitoring
// and the benchmarks (slot counts, free slots, pages).
#include "am/hnsw/hnsw.h"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "funcapi.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
}

#include "am/hnsw/hnsw_pages.h"
#include "am/index_kind.h"
#include "pg/guard.h"
#include "pg/privileges.h"
#include "pg/result_row.h"

#include <algorithm>
#include <type_traits>

namespace quarry::am::hnsw {

namespace {

struct StateCounts {
	int64_t live = 0;
	int64_t deleted = 0;
	int64_t free = 0;
};
static_assert(std::is_trivially_destructible_v<StateCounts>);

// C-shaped: reads the TID stream.
StateCounts
CountStates(Relation index, const MetaPage &meta)
{
	StateCounts counts;
	for (uint32_t page = 0; page * kTidEntriesPerPage < meta.node_count; page++)
	{
		Buffer buffer = ReadTidPage(index, meta, page);
		const uint32_t end = std::min(meta.node_count - page * kTidEntriesPerPage, kTidEntriesPerPage);
		const auto *entries = reinterpret_cast<const TidEntry *>(StreamPayload(BufferGetPage(buffer)));
		for (uint32_t i = 0; i < end; i++)
		{
			if (!TidEntryLooksSane(entries[i]))
				pg::ThrowCorrupt(index, "the TID entry of node %u has state %u and level %u",
							page * kTidEntriesPerPage + i, entries[i].state, entries[i].level);
			switch (static_cast<NodeState>(entries[i].state))
			{
				case NodeState::kLive:
					counts.live++;
					break;
				case NodeState::kDeleted:
					counts.deleted++;
					break;
				case NodeState::kFree:
					counts.free++;
					break;
				case NodeState::kReserved:
					break;
			}
		}
		UnlockReleaseBuffer(buffer);
	}
	return counts;
}

constexpr int kInfoColumns01 = 12; // quarry_hnsw_index_info's columns in quarry 0.1.x

// The zero_vectors column: what the metapage's mark says (ZeroVectors). Only a
// cosine index keeps zero vectors with its NULL rows; the others hold none.
const char *
ZeroVectorsName(const MetaPage &meta)
{
	if (static_cast<quarry::hnsw::Metric>(meta.metric) != quarry::hnsw::Metric::kCosine)
		return "none";
	switch (static_cast<ZeroVectors>(meta.zero_vectors))
	{
		case ZeroVectors::kNone:
			return "none";
		case ZeroVectors::kHeld:
			return "held";
		case ZeroVectors::kUnknown:
			break;
	}
	return "unknown"; // written before the mark (ReadMeta refused other values)
}

} // namespace

} // namespace quarry::am::hnsw

using namespace quarry::am::hnsw;
using quarry::am::CheckIndexKind;
using quarry::am::IndexKind;

QUARRY_FUNCTION(quarry_hnsw_index_info)
{
	return quarry::pg::IndexBoundary("quarry_hnsw_index_info", quarry::pg::IndexNameForContext(PG_GETARG_OID(0)), [&]() -> Datum {
		Oid oid = PG_GETARG_OID(0);
		CheckIndexKind(oid, IndexKind::kHnsw);
		quarry::pg::CheckIndexStatisticsReadable(oid);
		Relation index = index_open(oid, AccessShareLock);
		MetaPage meta;
		ReadMeta(index, &meta);
		StateCounts counts = CountStates(index, meta);
		const int64_t total_pages = RelationGetNumberOfBlocks(index);
		relation_close(index, AccessShareLock);
		Datum values[] = {
			Int32GetDatum(static_cast<int32_t>(meta.dims)),
			Int32GetDatum(meta.m),
			Int32GetDatum(meta.ef_construction),
			CStringGetTextDatum(quarry::hnsw::MetricName(static_cast<quarry::hnsw::Metric>(meta.metric))),
			Int64GetDatum(meta.node_count),
			Int64GetDatum(counts.live),
			Int64GetDatum(counts.deleted),
			Int64GetDatum(counts.free),
			Int32GetDatum(meta.entry_level),
			Int64GetDatum(meta.nodes.npages),
			Int64GetDatum(total_pages),
			Int64GetDatum(static_cast<int64_t>(meta.null_rows.count)),
			CStringGetTextDatum(ZeroVectorsName(meta)),
		};
		bool nulls[lengthof(values)] = {};
		// 13 columns; 12 under 0.1.x's declaration: the same first 12.
		return quarry::pg::ResultRow(fcinfo, "quarry_hnsw_index_info", values, nulls, kInfoColumns01);
	});
}

// quarry_hnsw: what the access method's files share (options, settings,
// vector input checks, the callbacks, build phases). The graph algorithms
// live in src/hnsw, free of PostgreSQL. Which file holds what: README.md here.
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "access/amapi.h"
#include "access/genam.h"
#include "nodes/pathnodes.h"
#include "utils/array.h"
#include "utils/rel.h"
}

#include "am/am_routine.h"
#include "hnsw/distance.h"
#include "hnsw/quantizer.h"
#include "hnsw/vector_formats.h"

#include <span>
#include <type_traits>

namespace quarry::am::hnsw {

// --- options ------------------------------------------------------------------

inline constexpr int kDefaultM = 16;
inline constexpr int kMinM = 2;
inline constexpr int kMaxM = 100;
inline constexpr int kDefaultEfConstruction = 64;
inline constexpr int kMinEfConstruction = 4;
inline constexpr int kMaxEfConstruction = 1000;

/// The reloptions of a quarry_hnsw index (WITH (m = ..., ef_construction = ...,
/// dims = ...)).
struct Options {
	int32_t vl_len_; // varlena header (do not touch)
	int m;
	int ef_construction;
	int dims; // 0: fixed by the first vector
	int storage_offset; // the storage option's string, from the struct's start (0: not given)
};

/// Registers quarry_hnsw's reloptions and settings; called once from _PG_init.
void Initialize();
void RegisterOptions();

/// quarry.hnsw_ef_search: candidate list size of a scan.
extern int ef_search;
/// quarry.hnsw_max_scan_tuples: nodes an iterative scan may score.
extern int max_scan_tuples;

/// The options of `index`, with defaults for those not given.
int OptionM(Relation index);
int OptionEfConstruction(Relation index);
int OptionDims(Relation index);
/// The storage option: how vectors are kept (full floats, or codes).
quarry::hnsw::Storage OptionStorage(Relation index);

/// Support function 1 of every quarry_hnsw opclass: returns the metric code.
inline constexpr int kMetricProc = 1;
/// Support function 2, optional: how the indexed type stores a vector
/// (quarry::hnsw::InputFormat; real[] when the opclass has none). Only
/// quarry_pgvector's opclasses have it (pgvector's vector and halfvec).
inline constexpr int kFormatProc = 2;
inline constexpr int kNumProcs = 2;
/// The one ordering strategy: the opclass's distance operator.
inline constexpr int kDistanceStrategy = 1;

/// The metric of `index`'s opclass, from support function 1. ERROR if unknown.
quarry::hnsw::Metric OpclassMetric(Relation index);

/// The input format of `index`'s opclass, from support function 2 (real[]
/// without one). ERROR if unknown.
quarry::hnsw::InputFormat OpclassFormat(Relation index);

// --- vectors --------------------------------------------------------------------

/// A real[] value as a vector: its floats, detoasted (maybe palloc'd in the
/// current memory context). C-shaped: raises ERRORs.
struct VectorArg {
	const float *data;
	int dims;
	std::span<const float> span() const { return {data, static_cast<std::size_t>(dims)}; }
};
static_assert(std::is_trivially_destructible_v<VectorArg>, "lives across PostgreSQL calls made without PgCall");

/// Detoasts `datum` and checks that it is a one-dimensional real[] with at
/// least one element and no NULL element. ERROR otherwise.
VectorArg DatumGetVector(Datum datum);

/// The same for a value of `format`: a pgvector vector is read in place
/// (detoasted), a halfvec converted to floats palloc'd in the current memory
/// context. ERROR for a value that is not of the format.
VectorArg DatumGetVector(Datum datum, quarry::hnsw::InputFormat format);

/// Whether an index of `metric` keeps `v` in the null-row list instead of
/// the graph: a zero vector under cosine (no direction). The cosine operators
/// give NaN for it (quarry's on real[] as pgvector's <=> on its types), which
/// sorts after every number and before NULL; an ordered scan returns these
/// rows after every other vector and lets PostgreSQL put them before the NULL
/// rows (hnsw_scan.cpp, NaN bounds). pgvector's own HNSW leaves them out.
bool HeldAsNullRow(const VectorArg &v, quarry::hnsw::Metric metric);

/// Checks the values of `v` for `metric`: no NaN or infinity, a norm that
/// cannot overflow a distance, not the zero vector under cosine. Returns the
/// squared norm. ERROR otherwise, except that with `zero` the zero vector
/// under cosine sets *zero and returns 0.
float CheckVectorValues(const VectorArg &v, quarry::hnsw::Metric metric, bool *zero = nullptr);

/// ERROR unless both vectors have the same number of dimensions.
void CheckSameDims(int a, int b);

/// ERROR unless `dims` fits in an index (1..16,000).
void CheckIndexableDims(int dims);

/// The vector an index stores for `v`: a copy in `out` (dims floats),
/// normalised under cosine. Runs CheckVectorValues.
void PrepareIndexVector(const VectorArg &v, quarry::hnsw::Metric metric, float *out);

// --- access method callbacks ----------------------------------------------------

QUARRY_INDEX_CALLBACKS(QUARRY_DECLARE_CALLBACK)

/// Build subphases shown in pg_stat_progress_create_index.
inline constexpr int64_t kPhaseLoad = 2;		// building the graph in memory
inline constexpr int64_t kPhaseWrite = 3;		// writing the graph to pages
inline constexpr int64_t kPhaseOnDisk = 4;	// inserting on disk (past maintenance_work_mem)
inline constexpr int64_t kPhaseWalLog = 5;	// WAL-logging the new pages

} // namespace quarry::am::hnsw

// quarry_hnsw CREATE INDEX: what the serial build (hnsw_build.cpp) and the
// parallel one (hnsw_build_parallel.cpp) share: the build's state, the page
// writer, the rows left for after the graph.
#pragma once

#include "am/hnsw/hnsw.h"

#include "hnsw/builder.h"
#include "hnsw/graph.h"
#include "memory/build_arena.h"
#include "memory/scan_arena.h"

extern "C" {
#include "nodes/execnodes.h"
}

#include <cstdint>
#include <type_traits>

namespace quarry::am::hnsw {

/// Levels of a build come from a fixed seed: the same rows in the same order
/// give the same graph (serial builds; a parallel build hashes each row's
/// TID with it).
inline constexpr uint64_t kBuildSeed = 0x5155415252592D48; // "QUARRY-H"

/// The leader's (or the serial build's) state. C-shaped: lives across
/// PostgreSQL calls.
struct BuildState {
	Relation heap;
	Relation index;
	quarry::hnsw::Metric metric;
	quarry::hnsw::InputFormat format;
	int m;
	int ef_construction;
	uint32_t dims; // 0 until known
	std::size_t budget; // maintenance_work_mem in bytes
	MemoryContext build_context; // everything of the build
	MemoryContext graph_context; // child: owns arena, graph and builder
	MemoryContext tuple_context;
	mem::BuildArena *arena;
	quarry::hnsw::BuildGraph *graph;
	quarry::hnsw::GraphBuilder *builder;
	float *vector; // dims floats
	double indexed;
	double expected_rows; // reltuples, or -1
	bool on_disk; // past maintenance_work_mem
	mem::ScanArena *insert_arena;
	std::size_t peak_arena_bytes;
	ItemPointerData *null_rows; // heap TIDs of rows whose vector is NULL
	uint64_t null_count;
	uint64_t null_capacity;
	bool holds_zero_vectors; // the null-row list gets a zero vector (cosine)
	// After a parallel build's graph: the heap TIDs it holds, sorted; the
	// leader's second scan skips them and takes the other rows.
	const uint64_t *graph_tids;
	uint32_t graph_tid_count;
	int workers_launched; // parallel build: workers that took part
};
static_assert(std::is_trivially_destructible_v<BuildState>);

/// Writes `graph` (a BuildGraph or a SharedGraph, at least one node) to pages
/// in breadth-first order, without WAL; scratch from s->arena.
template <typename Graph>
void WriteGraph(BuildState *s, const Graph &graph);

/// Adds a row to the build's list of rows whose vector is NULL.
void AddNullRow(BuildState *s, ItemPointer tid);

/// The metapage of an index without any graph node.
void WriteEmptyGraph(BuildState *s);

/// Builds the graph with `workers` parallel workers and the leader (s->dims
/// known), writes it, and takes the rows it does not hold (NULL, past the
/// memory limit) in a second scan; the heap's tuples in `heap_tuples`.
/// False, having done nothing, when no DSM segment or no worker could be
/// had, or too little memory: then build serially. C-shaped.
bool BuildParallel(BuildState *s, IndexInfo *index_info, int workers, double *heap_tuples);

/// The second scan of a parallel build: rows with a NULL (or held-as-NULL)
/// vector to the null-row list, rows not in s->graph_tids inserted on disk
/// (when the graph refused rows, or the segment's NULL rows overflowed).
/// C-shaped.
void AddLeftoverRows(BuildState *s, IndexInfo *index_info);

/// The dimensions of the first vector the build would index (0 if none of
/// the first rows has one). C-shaped.
uint32_t ProbeDims(BuildState *s, IndexInfo *index_info);

} // namespace quarry::am::hnsw

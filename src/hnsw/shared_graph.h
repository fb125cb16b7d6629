// The graph of a parallel index build: one region of memory that several
// processes (or threads) map, each possibly at another address, and insert
// into at the same time (Malkov & Yashunin 2018, Algorithm 1, run
// concurrently as hnswlib and pgvector's parallel build run it).
//
// Region layout (every reference is an offset or a node id, never a pointer):
//     SharedGraphHeader
//     capacity node records, each
//         SharedNode (lock, level, label, duplicate chain, upper offset)
//         uint32 count | uint32 links[2m]          layer 0
//         float vector[dims]
//     upper area: levels 1..L of nodes above level 0, handed out by a bump
//         pointer, each level [ uint32 count | uint32 links[m] ]
//
// Concurrency: a node is written whole (vector, level, empty lists) before
// any link to it exists; every neighbour list is read and written under its
// node's spinlock (a std::atomic in the region: lock-free, so address-free
// and shared between processes); the entry point and the top level under
// the header's lock. Node ids come from an atomic counter: a region holds at
// most `capacity` nodes, and Reserve says when it is full (the caller then
// puts the row elsewhere: on-disk inserts). No lock is held while a caller's
// code runs, and every lock is taken by a RAII guard, so a throw never
// leaves one held.
//
// The region is plain memory: the PostgreSQL side puts it in the build's DSM
// segment, which goes away with the build (or its abort); the unit tests in
// a std::vector. Nothing in it needs destroying.
#pragma once

#include "hnsw/candidates.h"
#include "hnsw/distance.h"
#include "hnsw/graph.h"
#include "hnsw/level.h"
#include "hnsw/visited.h"
#include "memory/build_arena.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace quarry::hnsw {

static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "shared between processes");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "shared between processes");

/// A spinlock that lives in shared memory (test-and-test-and-set; yields the
/// CPU after a while, since the holder may be a descheduled process).
class SharedSpinLock {
public:
	void Lock();
	void Unlock() { word_.store(0, std::memory_order_release); }

private:
	std::atomic<std::uint32_t> word_{0};
};

/// Holds a SharedSpinLock for a scope.
class SpinGuard {
public:
	explicit SpinGuard(SharedSpinLock &lock) : lock_(lock) { lock_.Lock(); }
	~SpinGuard() { lock_.Unlock(); }
	SpinGuard(const SpinGuard &) = delete;
	SpinGuard &operator=(const SpinGuard &) = delete;

private:
	SharedSpinLock &lock_;
};

/// The fixed part of a node record.
struct SharedNode {
	SharedSpinLock lock;		  // guards the node's lists and next_duplicate
	std::int32_t level;			  // highest layer; fixed before the node is linked
	std::uint64_t label;		  // heap TID
	std::uint64_t upper;		  // offset of levels 1..level in the region, 0 if none
	std::uint32_t duplicate_of;	  // kInvalidNode, or its primary
	std::uint32_t next_duplicate; // chain: a primary's first duplicate, a duplicate's next
};
static_assert(sizeof(SharedNode) == 32);

/// What the region starts with.
struct SharedGraphHeader {
	std::uint32_t magic;
	std::uint32_t dims;
	std::int32_t m;
	std::int32_t ef_construction;
	std::int32_t metric;
	std::uint32_t capacity;
	std::uint64_t record_bytes;
	std::uint64_t records_offset;
	std::uint64_t upper_offset; // start of the upper area
	std::uint64_t region_bytes;
	std::atomic<std::uint32_t> reserved; // node ids handed out (may pass capacity)
	std::atomic<std::uint32_t> refused;	 // rows Reserve turned away (full)
	std::atomic<std::uint64_t> upper_used;
	SharedSpinLock entry_lock;			 // guards the two fields below
	std::uint32_t entry_point;
	std::int32_t max_level;
};

/// A view of a region holding a shared graph. Cheap to make: each process
/// (thread) makes its own over its own mapping of the region.
class SharedGraph {
public:
	static constexpr std::uint32_t kMagic = 0x51534847; // "QSHG"

	/// Bytes a region needs for `capacity` nodes, upper layers included
	/// (twice their expected share, plus a little).
	static std::size_t RegionBytes(const GraphParams &params, std::uint32_t capacity);

	/// The most nodes a region of `bytes` holds (0 if not even one).
	static std::uint32_t CapacityFor(const GraphParams &params, std::size_t bytes);

	/// Formats `region` (RegionBytes(params, capacity) bytes, 8-aligned) as an
	/// empty graph.
	static void Initialize(std::span<std::byte> region, const GraphParams &params, std::uint32_t capacity);

	/// A view of an initialized region.
	explicit SharedGraph(std::byte *region);

	const GraphParams &params() const { return params_; }
	std::uint32_t capacity() const { return header_->capacity; }

	/// Reserves a node for `vector` with `label` at `level` and writes it
	/// (no links yet); kInvalidNode when the region is full. When the upper
	/// area is exhausted, the node gets level 0.
	std::uint32_t Reserve(std::span<const float> vector, std::uint64_t label, int level);

	/// Rows turned away since the region became full.
	std::uint32_t refused() const { return header_->refused.load(std::memory_order_relaxed); }

	/// The entry point and top level, read together under their lock.
	void EntryPoint(std::uint32_t &entry, int &max_level) const;
	/// Makes `id` the entry point if its level is above the top one (or the
	/// graph has none yet). Returns whether it did.
	bool OfferEntryPoint(std::uint32_t id);

	SharedNode &node(std::uint32_t id) const { return *reinterpret_cast<SharedNode *>(Record(id)); }

	/// The list of `id` on `level` ([count, links...]). Hold node(id).lock
	/// while others may insert.
	std::uint32_t *links(std::uint32_t id, int level) const;

	// What the page writer reads once every inserter is done (BuildGraph's
	// names, so both graphs go through the same code).
	std::uint32_t size() const;
	int level(std::uint32_t id) const { return node(id).level; }
	std::uint64_t label(std::uint32_t id) const { return node(id).label; }
	bool is_duplicate(std::uint32_t id) const { return node(id).duplicate_of != kInvalidNode; }
	std::uint32_t duplicate_of(std::uint32_t id) const { return node(id).duplicate_of; }
	std::uint32_t next_duplicate(std::uint32_t id) const { return node(id).next_duplicate; }
	const float *
	vector(std::uint32_t id) const
	{
		return reinterpret_cast<const float *>(Record(id) + vector_offset_);
	}
	std::uint32_t entry_point() const { return header_->entry_point; }
	int max_level() const { return header_->max_level; }

	/// Bytes of the region in use (records of the nodes so far, upper layers).
	std::size_t used_bytes() const;

private:
	std::byte *
	Record(std::uint32_t id) const
	{
		return base_ + header_->records_offset + static_cast<std::size_t>(id) * header_->record_bytes;
	}

	std::byte *base_;
	SharedGraphHeader *header_;
	GraphParams params_;
	std::size_t vector_offset_;
};

/// One inserter of a shared graph: a process's (thread's) private scratch,
/// from its own build arena, and Algorithm 1 against the shared structure.
class SharedInserter {
public:
	SharedInserter(mem::BuildArena &arena, SharedGraph &graph);

	/// Inserts `vector` (dims floats; unit length under cosine) with `label`
	/// at `level`: false, adding nothing, when the region is full. A vector
	/// equal to the nearest node found joins that node's duplicate chain.
	/// Throws std::bad_alloc (scratch).
	bool Insert(std::span<const float> vector, std::uint64_t label, int level);

	/// A search by the index's metric (tests): up to `ef` nodes, ascending.
	std::vector<Candidate> Search(std::span<const float> query, std::size_t ef);

private:
	class View;
	using CandidateVector = std::vector<Candidate, mem::BuildAllocator<Candidate>>;

	void SearchLevel(const float *query, Candidate entry, int level, std::size_t ef,
					 const MetricDistance &distance);
	void Connect(std::uint32_t id, int level, std::span<const Candidate> found);
	void AddLink(std::uint32_t from, std::uint32_t to, float distance, int level);
	std::size_t Shrink(Candidate *pool, std::size_t count, std::uint32_t capacity, Candidate *kept) const;
	float NodeDistance(std::uint32_t a, std::uint32_t b) const
	{
		return build_distance_(graph_.vector(a), graph_.vector(b));
	}

	SharedGraph &graph_;
	MetricDistance build_distance_;
	MetricDistance query_distance_;
	VisitedEpochs<mem::BuildAllocator<std::uint16_t>> visited_;
	CandidateVector results_;
	CandidateVector candidates_;
	CandidateVector sorted_;
	CandidateVector found_;
	std::size_t found_start_[kMaxLevel + 2];
};

/// The level of the row with `label` in a parallel build: a hash of the label
/// and `seed` as the uniform draw of Algorithm 1 line 4, so a row's level does
/// not depend on which process inserts it, or when.
int LevelOfLabel(std::uint64_t label, std::uint64_t seed, double level_multiplier);

} // namespace quarry::hnsw

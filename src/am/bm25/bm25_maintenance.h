// Segment maintenance of a quarry_bm25 index: writing, flushing, merging, compacting and recycling segments.
//
// Segments are immutable. The index changes by adding segments (a build, a
// flush of the pending list) and by replacing a run of adjacent segments with
// their merge (dropping the rows VACUUM removed), so document order, and with it
// the tie-break between equal scores, never changes. Replaced segments and
// flushed pending pages are "retired": they stay readable until no snapshot
// that could still see them is left, then they are recycled into the free
// space map (bm25_pages.cpp, StampIsRecyclable).
//
// Merge policy (after each flush): while the newest segment holds at least
// half as many live rows as the one before it, merge the two; so sizes fall
// geometrically from the oldest segment to the newest, a row is rewritten
// O(log n) times, and there are O(log n) segments. VACUUM compacts any segment
// in which at least a tenth of the rows were removed, which also refreshes its
// document frequencies.
//
// All of these hold the maintenance lock (LockMaintenance) except the build,
// which owns the index alone.
#pragma once

#include <type_traits>

#include "am/bm25/bm25.h"
#include "fts/inverter.h"
#include "memory/build_arena.h"

namespace quarry::am::bm25 {

/// Segments a build has written so far.
struct SegmentList {
	SegmentRef refs[kMaxSegments];
	uint64_t total_lengths[kMaxSegments];
	uint32_t count = 0;

	void
	Add(const SegmentRef &ref, uint64_t total_length)
	{
		refs[count] = ref;
		total_lengths[count] = total_length;
		count++;
	}
};
static_assert(std::is_trivially_destructible_v<SegmentList>, "lives across PostgreSQL calls made without PgCall");

/// A build merges its spilled segments into one once it has this many.
inline constexpr uint32_t kBuildSegmentsBeforeMerge = 8;

/// Share of removed rows at which VACUUM compacts a segment.
inline constexpr double kCompactDeadFraction = 0.10;

/// Writes the inverter's documents (local ids 0..n-1) as segment `id`.
SegmentRef WriteSegment(Relation index, bool wal, uint32_t id, fts::Inverter &inverter, mem::BuildArena &arena,
						MemoryContext cxt);

/// Build only: merges all of `segments` into one and frees their pages at once
/// (nobody else can see the index yet).
void MergeBuildSegments(Relation index, SegmentList &segments, mem::BuildArena &arena, MemoryContext cxt);

/// After an insert made the pending list `pending_bytes` long: flush it and
/// apply the merge policy if it is over quarry.bm25_pending_limit and no other
/// backend is already doing maintenance.
void MaybeFlushPending(Relation index, uint64_t pending_bytes);

/// VACUUM's cleanup: recycle retired pages that are safe, compact segments with
/// many removed rows, apply the merge policy. Returns pages recycled.
uint32_t MaintainIndex(Relation index);

/// quarry_bm25_merge(): flush the pending list and merge every segment into one
/// (exact document frequencies again). Returns the segment count afterwards.
uint32_t MergeEverything(Relation index);

} // namespace quarry::am::bm25

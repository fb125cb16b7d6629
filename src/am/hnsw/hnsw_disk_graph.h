// Reading the on-disk graph: node records on pinned pages, for scans, inserts
// and VACUUM. It is a Graph for src/hnsw/search.h (Neighbors, Score).
//
// Reads go straight to the shared buffers: a vector that lies on one page is
// scored in place, without a copy; a record that straddles pages is gathered
// into scratch first (so that the distance equals the SQL operator's value
// bit for bit). Score sorts a batch of nodes by page, reads every page once,
// and prefetches pages it has not seen.
//
// Every page is read under a share content lock, and a straddling record's
// pages are locked together in block order, so a record is always seen whole:
// its heap TID belongs to the vector it was scored with, even when VACUUM and
// an insert reuse the slot meanwhile.
//
// A backend keeps, per index, the buffer each node page was last found in
// (in rd_amcache) and pins it with ReadRecentBuffer, which skips the buffer
// mapping lookup (about half the cost of a random ReadBuffer here). The hint
// array is looked up again at the start of every callback (BeginCall), never
// kept across callbacks: a relcache invalidation may free it in between.
//
// The methods are C-shaped: they call ReadBuffer and LockBuffer directly and
// keep no object with a destructor on the stack, so a PostgreSQL ERROR may
// longjmp through them (see src/pg/guard.h).
#pragma once

#include "am/hnsw/hnsw_pages.h"

extern "C" {
#include "storage/bufmgr.h"
}

#include "hnsw/candidates.h"
#include "hnsw/distance.h"
#include "hnsw/quantizer.h"
#include "hnsw/visited.h"
#include "memory/scan_arena.h"

#include <cmath>
#include <span>

namespace quarry::am::hnsw {

class DiskGraph {
public:
	/// Reads the metapage. Scratch comes from `arena`.
	DiskGraph(Relation index, mem::ScanArena &arena);

	/// Call at the start of every AM callback that uses this graph.
	void BeginCall();

	/// Re-reads the metapage (new entry point, new nodes, new extents).
	void LoadMeta();

	const MetaPage &meta() const { return meta_; }
	Relation index() const { return index_; }
	quarry::hnsw::Metric metric() const { return static_cast<quarry::hnsw::Metric>(meta_.metric); }
	uint32_t dims() const { return meta_.dims; }

	/// The internal distance between two vectors of this index: by the
	/// index's metric (scans), or by its construction metric after
	/// UseConstructionMetric() (inserts, VACUUM; see quarry::hnsw::ConstructionMetric).
	/// Stored vectors are finite with bounded norms, so their distances are
	/// finite: anything else is corruption (ERROR), never a NaN that would
	/// break the orderings the callers sort by.
	float
	Distance(const float *a, const float *b) const
	{
		const float d = distance_(a, b);
		if (__builtin_expect(!std::isfinite(d), 0))
			CorruptDistance();
		return d;
	}

	void UseConstructionMetric();

	/// How this index stores vectors.
	quarry::hnsw::Storage storage() const { return StorageOf(meta_); }
	/// Bytes of a stored vector (floats or a code header and codes).
	uint32_t stored_vector_bytes() const { return stored_bytes_; }

	/// Scans of a compressed index: Score returns lower bounds of the exact
	/// internal distances (quarry::hnsw::CodeDistance::LowerBound) for a query
	/// of norm `query_norm`, so that PostgreSQL can rerank by the exact ones.
	/// Without it (inserts, VACUUM) Score returns the distance to the decoded
	/// vector. No effect on full-vector indexes.
	void UseLowerBounds(float query_norm)
	{
		lower_bounds_ = true;
		query_norm_ = query_norm;
	}

	// search.h's Graph:
	void Neighbors(uint32_t node, int level, quarry::hnsw::NeighborBuffer &out);
	void Score(const float *query, std::span<const uint32_t> ids, quarry::hnsw::Scored *out);

	/// Where Score records the heap TID of each live node it scores (as a
	/// VisitedMap payload), or nullptr.
	void set_tid_sink(quarry::hnsw::VisitedMap *sink) { tid_sink_ = sink; }

	/// Copies the header and vector of `node` (decoded from its codes in a
	/// compressed index). False if `node` has no slot.
	/// `unwritten_ok`: the slot may lie on a page nobody wrote yet (a slot
	/// claimed by an insert that has not written it, or never will); its
	/// header then reads as all zeros (a free slot). Otherwise such a page is
	/// corruption: nothing links to a slot before it is written.
	bool ReadNode(uint32_t node, NodeHeader *header, float *vector, bool unwritten_ok = false);

	/// A compressed index: a lower bound of the exact internal distance
	/// between `query` (of norm `query_norm`) and the vector `node`'s codes
	/// were encoded from (quarry::hnsw::CodeDistance::LowerBound). False if
	/// `node` has no slot.
	bool LowerBound(const float *query, float query_norm, uint32_t node, float *out);

	/// Copies the stored vector of `node` as it is on the page (floats, or a
	/// code header and codes: stored_vector_bytes()). False if no slot.
	bool ReadStoredVector(uint32_t node, char *out);

	/// The state in `node`'s TID entry (a slot below the node count).
	uint8_t TidState(uint32_t node);

	/// Nodes scored since construction (the iterative scan's budget).
	uint64_t scored() const { return scored_; }

	/// Whether `node` names a slot (refreshing the metapage copy if needed).
	bool ValidNode(uint32_t node);

private:
	struct WindowPage {
		uint32_t stream_page;
		Buffer buffer;
		const char *payload;
	};
	static constexpr int kMaxWindow = 16;

	const char *Window(uint32_t stream_page) const;
	void LockThrough(uint32_t last_page, bool unwritten_ok);
	void ReleaseBefore(uint32_t first_page);
	void ReleaseWindow();
	Buffer PinNodePage(uint32_t stream_page, bool unwritten_ok);
	const char *RecordBytes(uint64_t record_start, uint32_t begin, uint32_t length, char *scratch);
	void LockRecord(uint64_t record_start, uint32_t length, bool unwritten_ok = false);
	[[noreturn]] void CorruptRecord(uint32_t node, const NodeHeader &header) const;
	[[noreturn]] void CorruptDistance() const;
	float ScoreVector(const float *query, const char *stored) const;
	void SetDistances();
	void PrefetchPages(const uint32_t *pages, int count);
	void OrderAndPrefetch(std::span<const uint32_t> ids);
	void PrefetchRecord(uint64_t record_start) const;
	void ReadUpperLinks(const NodeHeader &header, uint32_t node, int level, quarry::hnsw::NeighborBuffer &out);

	Relation index_;
	mem::ScanArena &arena_;
	MetaPage meta_;
	quarry::hnsw::MetricDistance distance_;
	bool construction_ = false;
	quarry::hnsw::CodeDistance code_distance_; // compressed indexes
	bool lower_bounds_ = false;
	float query_norm_ = 0.0f;
	uint32_t stored_bytes_ = 0;
	uint32_t vector_offset_ = 0;
	quarry::hnsw::VisitedMap *tid_sink_ = nullptr;
	BlockNumber own_known_blocks_ = 0; // without an rd_amcache (an empty index)
	BlockNumber *known_blocks_ = &own_known_blocks_; // the index had at least this many blocks
	Buffer *hints_ = nullptr; // rd_amcache: buffer hints per node page
	uint32_t hint_pages_ = 0;
	WindowPage window_[kMaxWindow];
	int window_count_ = 0;
	char *record_scratch_ = nullptr; // one gathered record
	uint32_t batch_pages_[quarry::hnsw::kMaxNeighbors]; // Score's batch, sorted by page
	uint16_t batch_order_[quarry::hnsw::kMaxNeighbors];
	uint64_t scored_ = 0;
};

/// The entry point of a search (Algorithm 5 line 1) scored against `query`,
/// and the level to descend from: the metapage's entry point when it is a node
/// of the entry level. Otherwise the metapage is read again (it may have moved
/// meanwhile) and, if it still names a slot that is no such node, a node of
/// the highest level in the TID stream stands in. False if the graph is empty.
bool FindEntryPoint(DiskGraph &graph, const float *query, quarry::hnsw::Candidate *entry, int *level);

/// A walk along the duplicate chain of a primary node (see kDuplicateLevel):
/// its live rows other than the primary's, each checked to still hang on that
/// node (a slot can be reused), for at most node_count + 1 steps.
struct DuplicateChain {
	uint32_t primary;
	uint32_t next; // kInvalidNode when the walk is over
	uint64_t primary_tid;
	uint32_t steps;
};

/// The duplicate chain of node `primary`, from its visited-map `payload` (its
/// row's heap TID and whether it has duplicates, kHasDuplicates): empty when
/// it has none.
DuplicateChain StartChain(DiskGraph &graph, uint32_t primary, uint64_t payload);

/// The next live row on `chain` (its heap TID in `tid`, its node in `node`);
/// false at its end.
bool NextOnChain(DiskGraph &graph, DuplicateChain *chain, uint64_t *tid, uint32_t *node);

} // namespace quarry::am::hnsw

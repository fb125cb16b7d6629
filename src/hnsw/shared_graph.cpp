#include "hnsw/shared_graph.h"

#include "hnsw/neighbors.h"
#include "hnsw/search.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <sched.h>

namespace quarry::hnsw {

namespace {

constexpr std::size_t kAlign = 64;

std::size_t
AlignUp(std::size_t n, std::size_t align)
{
	return (n + align - 1) / align * align;
}

std::size_t
RecordBytes(const GraphParams &params)
{
	return AlignUp(sizeof(SharedNode) + Level0RecordBytes(params.dims, params.m), 8);
}

// Upper-area bytes reserved per node: twice the expected 1/(m-1) upper layers.
double
UpperBytesPerNode(const GraphParams &params)
{
	return 2.0 * static_cast<double>(UpperLevelBytes(params.m)) / (params.m - 1);
}

constexpr std::size_t kUpperSlack = 64 * 1024;

} // namespace

// Test-and-test-and-set: spin on a plain load, yield after 64 tries.
void
SharedSpinLock::Lock()
{
	for (unsigned spins = 0;; spins++)
	{
		if (word_.load(std::memory_order_relaxed) == 0 && word_.exchange(1, std::memory_order_acquire) == 0)
			return;
		if (spins >= 64)
		{
			sched_yield();
			spins = 0;
		}
		else
			__builtin_ia32_pause();
	}
}

std::size_t
SharedGraph::RegionBytes(const GraphParams &params, std::uint32_t capacity)
{
	return AlignUp(sizeof(SharedGraphHeader), kAlign) + static_cast<std::size_t>(capacity) * RecordBytes(params) +
		   static_cast<std::size_t>(UpperBytesPerNode(params) * capacity) + kUpperSlack;
}

std::uint32_t
SharedGraph::CapacityFor(const GraphParams &params, std::size_t bytes)
{
	const std::size_t fixed = AlignUp(sizeof(SharedGraphHeader), kAlign) + kUpperSlack;
	if (bytes <= fixed)
		return 0;
	const double per_node = static_cast<double>(RecordBytes(params)) + UpperBytesPerNode(params) + 1;
	const double n = static_cast<double>(bytes - fixed) / per_node;
	std::uint32_t capacity = static_cast<std::uint32_t>(std::min(n, static_cast<double>(kInvalidNode - 1)));
	while (capacity > 0 && RegionBytes(params, capacity) > bytes)
		capacity--;
	while (capacity < kInvalidNode - 1 && RegionBytes(params, capacity + 1) <= bytes)
		capacity++;
	return capacity;
}

void
SharedGraph::Initialize(std::span<std::byte> region, const GraphParams &params, std::uint32_t capacity)
{
	auto *h = new (region.data()) SharedGraphHeader{};
	h->magic = kMagic;
	h->dims = static_cast<std::uint32_t>(params.dims);
	h->m = params.m;
	h->ef_construction = params.ef_construction;
	h->metric = static_cast<std::int32_t>(params.metric);
	h->capacity = capacity;
	h->record_bytes = RecordBytes(params);
	h->records_offset = AlignUp(sizeof(SharedGraphHeader), kAlign);
	h->upper_offset = h->records_offset + static_cast<std::size_t>(capacity) * h->record_bytes;
	h->region_bytes = region.size();
	h->upper_used.store(0, std::memory_order_relaxed);
	h->reserved.store(0, std::memory_order_relaxed);
	h->refused.store(0, std::memory_order_relaxed);
	h->entry_point = kInvalidNode;
	h->max_level = -1;
}

SharedGraph::SharedGraph(std::byte *region)
	: base_(region), header_(reinterpret_cast<SharedGraphHeader *>(region))
{
	params_.dims = header_->dims;
	params_.m = header_->m;
	params_.ef_construction = header_->ef_construction;
	params_.metric = static_cast<Metric>(header_->metric);
	vector_offset_ = sizeof(SharedNode) + sizeof(std::uint32_t) * (1 + 2 * static_cast<std::size_t>(params_.m));
}

std::uint32_t
SharedGraph::size() const
{
	return std::min(header_->reserved.load(std::memory_order_acquire), header_->capacity);
}

std::size_t
SharedGraph::used_bytes() const
{
	return header_->records_offset + static_cast<std::size_t>(size()) * header_->record_bytes +
		   header_->upper_used.load(std::memory_order_relaxed);
}

std::uint32_t *
SharedGraph::links(std::uint32_t id, int level) const
{
	std::byte *record = Record(id);
	if (level == 0)
		return reinterpret_cast<std::uint32_t *>(record + sizeof(SharedNode));
	const SharedNode &n = *reinterpret_cast<const SharedNode *>(record);
	return reinterpret_cast<std::uint32_t *>(base_ + n.upper) + static_cast<std::size_t>(level - 1) * (1 + params_.m);
}

std::uint32_t
SharedGraph::Reserve(std::span<const float> vector, std::uint64_t label, int level)
{
	if (header_->reserved.load(std::memory_order_relaxed) >= header_->capacity)
	{
		header_->refused.fetch_add(1, std::memory_order_relaxed);
		return kInvalidNode;
	}
	const std::uint32_t id = header_->reserved.fetch_add(1, std::memory_order_acq_rel);
	if (id >= header_->capacity)
	{
		header_->refused.fetch_add(1, std::memory_order_relaxed);
		return kInvalidNode;
	}
	std::uint64_t upper = 0;
	if (level > 0)
	{
		const std::uint64_t bytes = AlignUp(static_cast<std::size_t>(level) * UpperLevelBytes(params_.m), 8);
		const std::uint64_t at = header_->upper_used.fetch_add(bytes, std::memory_order_relaxed);
		if (header_->upper_offset + at + bytes <= header_->region_bytes)
		{
			upper = header_->upper_offset + at;
			std::memset(base_ + upper, 0, bytes);
		}
		else
			level = 0; // upper area exhausted: the node stays on layer 0
	}
	std::byte *record = Record(id);
	auto *n = new (record) SharedNode{};
	n->level = level;
	n->label = label;
	n->upper = upper;
	n->duplicate_of = kInvalidNode;
	n->next_duplicate = kInvalidNode;
	std::memset(record + sizeof(SharedNode), 0, vector_offset_ - sizeof(SharedNode));
	std::memcpy(record + vector_offset_, vector.data(), vector.size_bytes());
	return id;
}

void
SharedGraph::EntryPoint(std::uint32_t &entry, int &max_level) const
{
	SpinGuard guard(header_->entry_lock);
	entry = header_->entry_point;
	max_level = header_->max_level;
}

bool
SharedGraph::OfferEntryPoint(std::uint32_t id)
{
	SpinGuard guard(header_->entry_lock);
	if (header_->entry_point != kInvalidNode && node(id).level <= header_->max_level)
		return false;
	header_->entry_point = id;
	header_->max_level = node(id).level;
	return true;
}

} // namespace quarry::hnsw

namespace quarry::hnsw {

/// The shared graph as search.h's Graph: lists are copied under their node's
/// lock; vectors and levels never change once a node is linked.
class SharedInserter::View {
public:
	View(const SharedGraph &graph, const MetricDistance &distance) : graph_(graph), distance_(distance) {}

	void
	Neighbors(std::uint32_t node, int level, NeighborBuffer &out) const
	{
		SpinGuard guard(graph_.node(node).lock);
		const std::uint32_t *list = graph_.links(node, level);
		out.count = list[0];
		std::memcpy(out.ids, list + 1, sizeof(std::uint32_t) * list[0]);
	}

	void
	Score(const float *query, std::span<const std::uint32_t> ids, Scored *out) const
	{
		for (std::size_t i = 0; i < ids.size(); i++)
		{
			if (i + 1 < ids.size())
			{
				const char *next = reinterpret_cast<const char *>(graph_.vector(ids[i + 1]));
				__builtin_prefetch(next);
				__builtin_prefetch(next + 64);
			}
			out[i] = Scored{distance_(query, graph_.vector(ids[i])), true,
							static_cast<std::int8_t>(graph_.level(ids[i]))};
		}
	}

private:
	const SharedGraph &graph_;
	const MetricDistance &distance_;
};

SharedInserter::SharedInserter(mem::BuildArena &arena, SharedGraph &graph)
	: graph_(graph),
	  build_distance_(BestKernels(), ConstructionMetric(graph.params().metric), graph.params().dims),
	  query_distance_(BestKernels(), graph.params().metric, graph.params().dims),
	  visited_(mem::BuildAllocator<std::uint16_t>(arena)),
	  results_(mem::BuildAllocator<Candidate>(arena)),
	  candidates_(mem::BuildAllocator<Candidate>(arena)),
	  sorted_(mem::BuildAllocator<Candidate>(arena)),
	  found_(mem::BuildAllocator<Candidate>(arena))
{
	visited_.Resize(graph.capacity());
}

// Algorithm 1 as GraphBuilder::InsertAtLevel runs it, against a graph others
// change meanwhile: the entry point is read once under its lock; a node
// whose level is above it offers itself as the new one after it is linked.
bool
SharedInserter::Insert(std::span<const float> vector, std::uint64_t label, int level)
{
	const std::uint32_t id = graph_.Reserve(vector, label, level);
	if (id == kInvalidNode)
		return false;
	level = graph_.level(id);
	std::uint32_t ep;
	int top;
	graph_.EntryPoint(ep, top);
	if (ep == kInvalidNode)
	{
		if (graph_.OfferEntryPoint(id))
			return true; // the first node
		graph_.EntryPoint(ep, top);
	}
	const float *query = graph_.vector(id);
	const int first = std::min(level, top);
	View view(graph_, build_distance_);
	Candidate entry{build_distance_(query, graph_.vector(ep)), ep};
	for (int lc = top; lc > level; lc--)
		entry = GreedyClosest(view, query, entry, lc);
	found_.clear();
	for (int lc = first; lc >= 0; lc--)
	{
		SearchLevel(query, entry, lc, static_cast<std::size_t>(graph_.params().ef_construction), build_distance_);
		found_start_[lc + 1] = found_.size();
		found_.insert(found_.end(), sorted_.begin(), sorted_.end());
		entry = sorted_.front();
	}
	found_start_[0] = found_.size();
	const std::uint32_t nearest = found_[found_start_[1]].id;
	if (std::memcmp(query, graph_.vector(nearest), sizeof(float) * graph_.params().dims) == 0)
	{
		// Not linked: it hangs on the nearest node's duplicate chain.
		SharedNode &primary = graph_.node(nearest);
		SpinGuard guard(primary.lock);
		SharedNode &self = graph_.node(id);
		self.duplicate_of = nearest;
		self.next_duplicate = primary.next_duplicate;
		primary.next_duplicate = id;
		return true;
	}
	for (int lc = first; lc >= 0; lc--)
	{
		const std::size_t begin = found_start_[lc + 1];
		const std::size_t end = lc > 0 ? found_start_[lc] : found_start_[0];
		Connect(id, lc, std::span<const Candidate>(found_.data() + begin, end - begin));
	}
	if (level > top)
		graph_.OfferEntryPoint(id);
	return true;
}

// Algorithm 2 from one entry point; leaves the result ascending in sorted_.
void
SharedInserter::SearchLevel(const float *query, Candidate entry, int level, std::size_t ef,
							const MetricDistance &distance)
{
	View view(graph_, distance);
	visited_.Clear();
	visited_.TryVisit(entry.id);
	results_.clear();
	candidates_.clear();
	results_.push_back(entry);
	candidates_.push_back(entry);
	SearchLayer(view, query, level, ef, visited_, results_, candidates_);
	sorted_.assign(results_.begin(), results_.end());
	std::sort(sorted_.begin(), sorted_.end(), Nearer);
}

// Algorithm 4 over `pool` (any order) for the list of `base`, into `kept`.
std::size_t
SharedInserter::Shrink(Candidate *pool, std::size_t count, std::uint32_t capacity, Candidate *kept) const
{
	std::sort(pool, pool + count, Nearer);
	auto pair_distance = [this](std::uint32_t a, std::uint32_t b) { return NodeDistance(a, b); };
	return SelectNeighborsHeuristic(std::span<const Candidate>(pool, count), capacity, pair_distance, kept);
}

// Algorithm 1 lines 10-16 for one layer. The new node's list is set under its
// lock; a link another inserter added to it meanwhile (it reached the node
// from the layer above) is kept, shrinking with Algorithm 4 if need be.
void
SharedInserter::Connect(std::uint32_t id, int level, std::span<const Candidate> found)
{
	Candidate selected[kMaxNeighbors];
	auto pair_distance = [this](std::uint32_t a, std::uint32_t b) { return NodeDistance(a, b); };
	std::size_t n = SelectNeighborsHeuristic(found, graph_.params().m, pair_distance, selected);
	{
		SpinGuard guard(graph_.node(id).lock);
		std::uint32_t *list = graph_.links(id, level);
		const std::uint32_t capacity = static_cast<std::uint32_t>(graph_.params().max_links(level));
		Candidate pool[kMaxNeighbors + kMaxM];
		std::size_t count = 0;
		for (std::size_t i = 0; i < n; i++)
			pool[count++] = selected[i];
		for (std::uint32_t i = 0; i < list[0]; i++)
		{
			const std::uint32_t other = list[1 + i];
			bool known = false;
			for (std::size_t j = 0; j < n && !known; j++)
				known = selected[j].id == other;
			if (!known)
				pool[count++] = Candidate{NodeDistance(id, other), other};
		}
		Candidate kept[kMaxNeighbors + kMaxM];
		std::size_t k = count <= capacity ? count : Shrink(pool, count, capacity, kept);
		const Candidate *out = count <= capacity ? pool : kept;
		list[0] = static_cast<std::uint32_t>(k);
		for (std::size_t i = 0; i < k; i++)
			list[1 + i] = out[i].id;
	}
	for (std::size_t i = 0; i < n; i++)
		AddLink(selected[i].id, id, selected[i].distance, level);
}

// Adds `to` to the list of `from` under its lock, shrinking a full list with
// Algorithm 4 (as GraphBuilder::AddLink).
void
SharedInserter::AddLink(std::uint32_t from, std::uint32_t to, float distance, int level)
{
	SpinGuard guard(graph_.node(from).lock);
	std::uint32_t *list = graph_.links(from, level);
	const std::uint32_t capacity = static_cast<std::uint32_t>(graph_.params().max_links(level));
	for (std::uint32_t i = 0; i < list[0]; i++)
	{
		if (list[1 + i] == to)
			return;
	}
	if (list[0] < capacity)
	{
		list[1 + list[0]] = to;
		list[0]++;
		return;
	}
	Candidate pool[kMaxNeighbors + 1];
	std::size_t count = 0;
	for (std::uint32_t i = 0; i < list[0]; i++)
		pool[count++] = Candidate{NodeDistance(from, list[1 + i]), list[1 + i]};
	pool[count++] = Candidate{distance, to};
	Candidate kept[kMaxNeighbors + 1];
	std::size_t n = Shrink(pool, count, capacity, kept);
	list[0] = static_cast<std::uint32_t>(n);
	for (std::size_t i = 0; i < n; i++)
		list[1 + i] = kept[i].id;
}

std::vector<Candidate>
SharedInserter::Search(std::span<const float> query, std::size_t ef)
{
	std::uint32_t ep;
	int top;
	graph_.EntryPoint(ep, top);
	if (ep == kInvalidNode)
		return {};
	View view(graph_, query_distance_);
	Candidate entry{query_distance_(query.data(), graph_.vector(ep)), ep};
	for (int lc = top; lc > 0; lc--)
		entry = GreedyClosest(view, query.data(), entry, lc);
	SearchLevel(query.data(), entry, 0, ef, query_distance_);
	return std::vector<Candidate>(sorted_.begin(), sorted_.end());
}

int
LevelOfLabel(std::uint64_t label, std::uint64_t seed, double level_multiplier)
{
	// splitmix64 of label ^ seed: a uniform 64-bit value per row.
	std::uint64_t z = label ^ seed;
	z += 0x9E3779B97F4A7C15ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	const double uniform = static_cast<double>((z >> 11) + 1) * 0x1.0p-53;
	return RandomLevel(uniform, level_multiplier);
}

} // namespace quarry::hnsw

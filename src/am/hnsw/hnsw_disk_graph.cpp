#include "am/hnsw/hnsw_disk_graph.h"
#include "pg/compat.h"

extern "C" {
#include "storage/buf_internals.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace quarry::am::hnsw {

namespace {

/// rd_amcache of a quarry_hnsw index: the buffer each node page was last seen
/// in. Hints only; ReadRecentBuffer checks them.
struct AmCache {
	BlockNumber known_blocks; // the index had at least this many blocks
	uint32_t capacity;
	Buffer hints[FLEXIBLE_ARRAY_MEMBER];
};
static_assert(std::is_trivially_destructible_v<AmCache>);

/// Hints for at most this many node pages (4 MB per index and backend).
constexpr uint32_t kMaxHintPages = 1u << 20;

} // namespace

DiskGraph::DiskGraph(Relation index, mem::ScanArena &arena) : index_(index), arena_(arena)
{
	LoadMeta();
}

void
DiskGraph::LoadMeta()
{
	ReadMeta(index_, &meta_); // checks every field it reads
	SetDistances();
	vector_offset_ = VectorOffset(meta_.m);
	if (record_scratch_ == nullptr && meta_.record_size > 0)
		record_scratch_ = arena_.MakeArray<char>(meta_.record_size);
	BeginCall();
}

void
DiskGraph::UseConstructionMetric()
{
	construction_ = true;
	SetDistances();
}

// The float kernel (between two vectors) and, in a compressed index, the
// code kernel (a float query against stored codes), by the scan's metric or
// the construction metric.
void
DiskGraph::SetDistances()
{
	const quarry::hnsw::Metric m = construction_ ? quarry::hnsw::ConstructionMetric(metric()) : metric();
	distance_ = quarry::hnsw::MetricDistance(quarry::hnsw::BestKernels(), m, meta_.dims);
	stored_bytes_ = static_cast<uint32_t>(quarry::hnsw::StoredVectorBytes(storage(), meta_.dims));
	if (storage() != quarry::hnsw::Storage::kFull)
		code_distance_ = quarry::hnsw::CodeDistance(quarry::hnsw::BestCodeKernels(), storage(), m, meta_.dims);
}

// The distance Score gives `query` against a stored vector: the exact one
// (full vectors), or from the codes, a lower bound when a scan asked for it.
inline float
DiskGraph::ScoreVector(const float *query, const char *stored) const
{
	if (storage() == quarry::hnsw::Storage::kFull)
		return distance_(query, reinterpret_cast<const float *>(stored));
	const auto *codes = reinterpret_cast<const uint8_t *>(stored);
	return lower_bounds_ ? code_distance_.LowerBound(query, query_norm_, codes) : code_distance_.Approximate(query, codes);
}

void
DiskGraph::BeginCall()
{
	const uint32_t want = std::min(meta_.nodes.npages, kMaxHintPages);
	auto *cache = static_cast<AmCache *>(index_->rd_amcache);
	if (want > 0 && (cache == nullptr || cache->capacity < want))
	{
		uint32_t capacity = std::min(std::max(want, cache != nullptr ? cache->capacity * 2 : 0u), kMaxHintPages);
		auto *grown = static_cast<AmCache *>(MemoryContextAllocZero(
			index_->rd_indexcxt, offsetof(AmCache, hints) + sizeof(Buffer) * capacity));
		grown->capacity = capacity;
		if (cache != nullptr)
		{
			grown->known_blocks = cache->known_blocks;
			std::memcpy(grown->hints, cache->hints, sizeof(Buffer) * cache->capacity);
			pfree(cache);
		}
		index_->rd_amcache = grown;
		cache = grown;
	}
	hints_ = cache != nullptr ? cache->hints : nullptr;
	hint_pages_ = cache != nullptr ? cache->capacity : 0;
	// The relation's size, learnt once per backend: a scan checks block
	// numbers it reads from pages without a system call.
	known_blocks_ = cache != nullptr ? &cache->known_blocks : &own_known_blocks_;
}

bool
DiskGraph::ValidNode(uint32_t node)
{
	if (node < meta_.node_count)
		return true;
	if (node == quarry::hnsw::kInvalidNode)
		return false;
	LoadMeta(); // a node inserted after we read the metapage
	return node < meta_.node_count;
}

// Pins node page `stream_page`: through the buffer this backend last found it
// in when that still holds it (no mapping lookup), else through ReadBuffer.
// The page is checked when it comes through ReadBuffer, which is once per
// backend and page after warm-up; the hot path does not touch the page header
// or special space at all (two cache misses a page). A page nobody wrote yet
// (all zeros) is accepted only when `unwritten_ok`: its records read as free
// slots, and it gets no hint (so that a later read checks it again).
Buffer
DiskGraph::PinNodePage(uint32_t stream_page, bool unwritten_ok)
{
	BlockNumber block = StreamBlock(meta_.nodes, stream_page);
	if (block == InvalidBlockNumber)
		pg::ThrowCorrupt(index_, "the node stream has no page %u", stream_page);
	if (stream_page < hint_pages_)
	{
		Buffer hint = hints_[stream_page];
		if (BufferIsValid(hint) && pg::ReadRecentMainBuffer(index_, block, hint))
			return hint;
	}
	CheckBlockExists(index_, block, known_blocks_);
	Buffer buffer = ReadBuffer(index_, block);
	Page page = BufferGetPage(buffer);
	if (PageIsNew(page) || OpaqueOf(page)->page_id != kPageId ||
		OpaqueOf(page)->type != static_cast<uint8_t>(PageType::kNode))
	{
		// Look again under a lock (an insert may be initialising it), then
		// complain.
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		const bool unwritten = PageIsNew(page);
		if (!(unwritten && unwritten_ok))
			CheckPage(index_, page, block, PageType::kNode);
		LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
		if (unwritten)
			return buffer;
	}
	if (stream_page < hint_pages_)
		hints_[stream_page] = buffer;
	return buffer;
}

void
DiskGraph::PrefetchPages(const uint32_t *pages, int count)
{
	for (int i = 0; i < count; i++)
	{
		const uint32_t page = pages[i];
		if (i > 0 && pages[i - 1] == page)
			continue;
		if (page >= hint_pages_ || BufferIsValid(hints_[page]))
			continue;
		BlockNumber block = StreamBlock(meta_.nodes, page);
		if (block == InvalidBlockNumber)
			continue;
		// Its recent_buffer is not taken as a hint: a hint skips the page
		// check, so only PinNodePage sets one, after checking the page.
		PrefetchBuffer(index_, MAIN_FORKNUM, block);
	}
}

const char *
DiskGraph::Window(uint32_t stream_page) const
{
	for (int i = 0; i < window_count_; i++)
	{
		if (window_[i].stream_page == stream_page)
			return window_[i].payload;
	}
	return nullptr;
}

void
DiskGraph::ReleaseBefore(uint32_t first_page)
{
	int drop = 0;
	while (drop < window_count_ && window_[drop].stream_page < first_page)
	{
		UnlockReleaseBuffer(window_[drop].buffer);
		drop++;
	}
	if (drop == 0)
		return;
	for (int i = drop; i < window_count_; i++)
		window_[i - drop] = window_[i];
	window_count_ -= drop;
}

// Share-locks stream pages up to `last_page` after those in the window, in
// ascending order (the window always holds consecutive pages).
void
DiskGraph::LockThrough(uint32_t last_page, bool unwritten_ok)
{
	uint32_t next = window_count_ > 0 ? window_[window_count_ - 1].stream_page + 1 : last_page;
	for (uint32_t page = next; page <= last_page; page++)
	{
		if (window_count_ == kMaxWindow)
			pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_hnsw: a node record spans more than %d pages", kMaxWindow);
		Buffer buffer = PinNodePage(page, unwritten_ok);
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		window_[window_count_++] = WindowPage{page, buffer, StreamPayload(BufferGetPage(buffer))};
	}
}

void
DiskGraph::ReleaseWindow()
{
	for (int i = 0; i < window_count_; i++)
		UnlockReleaseBuffer(window_[i].buffer);
	window_count_ = 0;
}

// Locks the pages holding bytes [record_start, record_start + length).
void
DiskGraph::LockRecord(uint64_t record_start, uint32_t length, bool unwritten_ok)
{
	const uint32_t first = StreamPositionOf(record_start).page;
	const uint32_t last = StreamPositionOf(record_start + length - 1).page;
	if (window_count_ > 0 && window_[0].stream_page > first)
		ReleaseWindow(); // never lock a lower page while holding a higher one
	ReleaseBefore(first);
	if (window_count_ == 0)
	{
		// Start the window at `first`.
		Buffer buffer = PinNodePage(first, unwritten_ok);
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		window_[window_count_++] = WindowPage{first, buffer, StreamPayload(BufferGetPage(buffer))};
	}
	LockThrough(last, unwritten_ok);
}

// Bytes [begin, begin + length) of the record at `record_start`, whose pages
// are locked in the window: in place when on one page, else gathered into
// `scratch`.
const char *
DiskGraph::RecordBytes(uint64_t record_start, uint32_t begin, uint32_t length, char *scratch)
{
	const uint64_t from = record_start + begin;
	const StreamPosition first = StreamPositionOf(from);
	const StreamPosition last = StreamPositionOf(from + length - 1);
	if (first.page == last.page)
		return Window(first.page) + first.offset;
	uint32_t copied = 0;
	StreamPosition at = first;
	while (copied < length)
	{
		const uint32_t piece = std::min<uint32_t>(length - copied, kStreamPayloadBytes - at.offset);
		std::memcpy(scratch + copied, Window(at.page) + at.offset, piece);
		copied += piece;
		at = StreamPosition{at.page + 1, 0};
	}
	return scratch;
}

// The record of `node` fails HeaderLooksSane, was never written (nothing
// links to such a slot), or scores to a distance that is not finite (stored
// vectors are finite and their norms bounded, so a distance to a valid query
// always is).
void
DiskGraph::CorruptRecord(uint32_t node, const NodeHeader &header) const
{
	pg::ThrowCorrupt(index_, "node %u has a malformed record (state %u, level %u, %u links on layer 0)", node,
				header.state, header.level, header.count0);
}

void
DiskGraph::CorruptDistance() const
{
	pg::ThrowCorrupt(index_, "two stored vectors are at a distance that is not finite");
}

void
DiskGraph::Neighbors(uint32_t node, int level, quarry::hnsw::NeighborBuffer &out)
{
	out.count = 0;
	if (!ValidNode(node))
		return;
	const uint64_t start = static_cast<uint64_t>(node) * meta_.record_size;
	const uint32_t capacity = 2u * meta_.m;
	NodeHeader header;
	LockRecord(start, LinksOffset() + sizeof(uint32_t) * capacity);
	std::memcpy(&header, RecordBytes(start, 0, sizeof(NodeHeader), record_scratch_), sizeof(NodeHeader));
	if (__builtin_expect(!HeaderLooksSane(header, capacity) | NeverWritten(header), 0))
	{
		ReleaseWindow();
		CorruptRecord(node, header);
	}
	if (level == 0)
	{
		const uint32_t count = header.count0;
		if (count > 0)
			std::memcpy(out.ids, RecordBytes(start, LinksOffset(), sizeof(uint32_t) * count, record_scratch_),
						sizeof(uint32_t) * count);
		out.count = count;
	}
	ReleaseWindow();
	if (level > 0)
		ReadUpperLinks(header, node, level, out);

	// Every link names a slot: node_count never shrinks, and a link is only
	// ever made to a node already written. (A link into a slot freed and
	// reused since is stale, not corrupt: the slot still exists.) ValidNode
	// rereads the metapage before it says no, so only after the pages are
	// released.
	for (uint32_t i = 0; i < out.count; i++)
	{
		if (__builtin_expect(!ValidNode(out.ids[i]), 0))
			pg::ThrowCorrupt(index_, "node %u links to node %u on layer %d; the index has %u nodes", node, out.ids[i],
						level, meta_.node_count);
	}
}

// The upper-layer list of `node` on `level`. A scan holds no lock that keeps
// VACUUM from freeing a dead node's item (and an insert from reusing it)
// between reading the header and reading the item, so a missing or short item
// means "no links", not corruption. The block, though, must be an upper page
// of the index: pages never change type.
void
DiskGraph::ReadUpperLinks(const NodeHeader &header, uint32_t node, int level, quarry::hnsw::NeighborBuffer &out)
{
	out.count = 0;
	if (level > header.level || header.upper_offset == InvalidOffsetNumber ||
		header.state == static_cast<uint8_t>(NodeState::kFree))
		return;
	CheckBlockExists(index_, header.upper_block, known_blocks_);
	Buffer buffer = ReadBuffer(index_, header.upper_block);
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	Page page = BufferGetPage(buffer);
	CheckPage(index_, page, header.upper_block, PageType::kUpper);
	std::size_t length = 0;
	const uint32_t *item = UpperItem(page, header.upper_offset, &length);
	if (item != nullptr && length >= UpperItemSize(level, meta_.m))
	{
		const uint32_t *list = item + static_cast<std::size_t>(level - 1) * (1 + meta_.m);
		const uint32_t count = std::min<uint32_t>(list[0], meta_.m);
		std::memcpy(out.ids, list + 1, sizeof(uint32_t) * count);
		out.count = count;
	}
	UnlockReleaseBuffer(buffer);
}

// Asks the CPU for the first cache lines of the record at `record_start`
// while the current one is scored: through the page's buffer hint, without
// pinning (a prefetch of a buffer that was since reused is harmless).
void
DiskGraph::PrefetchRecord(uint64_t record_start) const
{
	const StreamPosition at = StreamPositionOf(record_start);
	if (at.page >= hint_pages_ || !BufferIsValid(hints_[at.page]) || BufferIsLocal(hints_[at.page]))
		return;
	__builtin_prefetch(GetBufferDescriptor(hints_[at.page] - 1)); // what ReadRecentBuffer locks
	const char *record = static_cast<const char *>(BufferGetBlock(hints_[at.page])) + kStreamPayloadStart + at.offset;
	const char *end = static_cast<const char *>(BufferGetBlock(hints_[at.page])) + BLCKSZ;
	for (int line = 0; line < 4 && record + line * 64 < end; line++)
		__builtin_prefetch(record + line * 64);
}

// Sorts Score's batch by first page into batch_order_ / batch_pages_
// (insertion sort: at most 2m entries) and asks for its pages and the first
// lines of every record (and its buffer header) now: the misses overlap
// instead of coming one after the other.
void
DiskGraph::OrderAndPrefetch(std::span<const uint32_t> ids)
{
	const int n = static_cast<int>(ids.size());
	const uint32_t rs = meta_.record_size;
	uint16_t *order = batch_order_;
	uint32_t *pages = batch_pages_;
	for (int i = 0; i < n; i++)
	{
		pages[i] = StreamPositionOf(static_cast<uint64_t>(ids[i]) * rs).page;
		order[i] = static_cast<uint16_t>(i);
	}
	for (int i = 1; i < n; i++)
	{
		const uint32_t page = pages[i];
		const uint16_t index = order[i];
		int j = i;
		for (; j > 0 && pages[j - 1] > page; j--)
		{
			pages[j] = pages[j - 1];
			order[j] = order[j - 1];
		}
		pages[j] = page;
		order[j] = index;
	}
	PrefetchPages(pages, n);
	for (int k = 0; k < n; k++)
		PrefetchRecord(static_cast<uint64_t>(ids[order[k]]) * rs);
}

void
DiskGraph::Score(const float *query, std::span<const uint32_t> ids, quarry::hnsw::Scored *out)
{
	const int n = static_cast<int>(ids.size());
	const uint32_t rs = meta_.record_size;
	const uint16_t *order = batch_order_;
	OrderAndPrefetch(ids);
	const uint32_t vector_bytes = stored_bytes_;
	const uint32_t capacity0 = 2u * meta_.m;
	for (int k = 0; k < n; k++)
	{
		const int i = order[k];
		const uint64_t start = static_cast<uint64_t>(ids[i]) * rs;
		LockRecord(start, rs);
		NodeHeader header;
		std::memcpy(&header, RecordBytes(start, 0, sizeof(NodeHeader), record_scratch_), sizeof(NodeHeader));
		const char *vector = RecordBytes(start, vector_offset_, vector_bytes, record_scratch_);
		// A duplicate is reached only through a stale link (nothing links to
		// one): its row comes with its primary's, so it is not a result here.
		// Neither is a free or reserved slot, nor a node on layers above its
		// level (a slot reused by a lower node): searches never enter those.
		// (kDuplicateLevel reads as kNotInGraph: both are -1 as int8_t.)
		static_assert(static_cast<int8_t>(kDuplicateLevel) == quarry::hnsw::kNotInGraph);
		const bool live =
			header.state == static_cast<uint8_t>(NodeState::kLive) && header.level != kDuplicateLevel;
		const bool walkable = header.state == static_cast<uint8_t>(NodeState::kLive) ||
							  header.state == static_cast<uint8_t>(NodeState::kDeleted);
		const int8_t level = walkable ? static_cast<int8_t>(header.level) : quarry::hnsw::kNotInGraph;
		const float distance = ScoreVector(query, vector);
		// One branch for everything a garbage record would fail: the header,
		// the distance, and the offset of a row we may return.
		const bool tid_ok = static_cast<uint32_t>(header.heap_tid[2]) - 1u < MaxOffsetNumber;
		if (__builtin_expect(!(HeaderLooksSane(header, capacity0) & !NeverWritten(header) & std::isfinite(distance) &
							   (tid_ok | !live)),
							 0))
		{
			ReleaseWindow();
			CorruptRecord(ids[i], header);
		}
		out[i] = quarry::hnsw::Scored{distance, live && level >= 0, level};
		if (live && tid_sink_ != nullptr)
			tid_sink_->SetPayload(ids[i], pg::PackTid(header.heap_tid) |
											  (header.next_duplicate != quarry::hnsw::kInvalidNode ? kHasDuplicates : 0));
	}
	ReleaseWindow();
	scored_ += static_cast<uint64_t>(n);
}

bool
DiskGraph::ReadNode(uint32_t node, NodeHeader *header, float *vector, bool unwritten_ok)
{
	if (!ValidNode(node))
		return false;
	const uint64_t start = static_cast<uint64_t>(node) * meta_.record_size;
	LockRecord(start, meta_.record_size, unwritten_ok);
	std::memcpy(header, RecordBytes(start, 0, sizeof(NodeHeader), record_scratch_), sizeof(NodeHeader));
	if (vector != nullptr && storage() == quarry::hnsw::Storage::kFull)
		std::memcpy(vector, RecordBytes(start, vector_offset_, stored_bytes_, record_scratch_), stored_bytes_);
	else if (vector != nullptr)
		quarry::hnsw::Decode(storage(),
							 {reinterpret_cast<const uint8_t *>(RecordBytes(start, vector_offset_, stored_bytes_, record_scratch_)),
							  stored_bytes_},
							 {vector, meta_.dims});
	ReleaseWindow();
	if (!HeaderLooksSane(*header, 2u * meta_.m) || (!unwritten_ok && NeverWritten(*header)))
		CorruptRecord(node, *header);
	return true;
}

bool
DiskGraph::ReadStoredVector(uint32_t node, char *out)
{
	if (!ValidNode(node))
		return false;
	const uint64_t start = static_cast<uint64_t>(node) * meta_.record_size;
	LockRecord(start, meta_.record_size);
	std::memcpy(out, RecordBytes(start, vector_offset_, stored_bytes_, record_scratch_), stored_bytes_);
	ReleaseWindow();
	return true;
}

bool
DiskGraph::LowerBound(const float *query, float query_norm, uint32_t node, float *out)
{
	if (!ValidNode(node))
		return false;
	const uint64_t start = static_cast<uint64_t>(node) * meta_.record_size;
	LockRecord(start, meta_.record_size);
	const auto *codes =
		reinterpret_cast<const uint8_t *>(RecordBytes(start, vector_offset_, stored_bytes_, record_scratch_));
	*out = code_distance_.LowerBound(query, query_norm, codes);
	ReleaseWindow();
	// Sound codes give a finite bound (as Score's distances); a NaN one
	// would sort nowhere and lose the row without a word.
	if (__builtin_expect(!std::isfinite(*out), 0))
		pg::ThrowCorrupt(index_, "node %u has codes whose distance bound is not finite", node);
	return true;
}

uint8_t
DiskGraph::TidState(uint32_t node)
{
	Buffer buffer = ReadTidPage(index_, meta_, node / kTidEntriesPerPage);
	const auto *entries = reinterpret_cast<const TidEntry *>(StreamPayload(BufferGetPage(buffer)));
	const uint8_t state = entries[node % kTidEntriesPerPage].state;
	UnlockReleaseBuffer(buffer);
	return state;
}

bool
FindEntryPoint(DiskGraph &graph, const float *query, quarry::hnsw::Candidate *entry, int *level)
{
	quarry::hnsw::Scored scored;
	for (int attempt = 0; attempt < 2; attempt++)
	{
		const MetaPage &meta = graph.meta();
		uint32_t id = meta.entry_node;
		if (id == quarry::hnsw::kInvalidNode || meta.dims == 0)
			return false;
		if (graph.ValidNode(id))
		{
			graph.Score(query, std::span<const uint32_t>(&id, 1), &scored);
			if (scored.level >= meta.entry_level)
			{
				*entry = quarry::hnsw::Candidate{scored.distance, id};
				*level = meta.entry_level;
				return true;
			}
		}
		if (attempt == 0)
			graph.LoadMeta();
	}
	int top;
	uint32_t id = FindTopNode(graph.index(), graph.meta(), true, &top);
	if (id == quarry::hnsw::kInvalidNode)
		return false;
	graph.Score(query, std::span<const uint32_t>(&id, 1), &scored);
	if (scored.level < 0)
		return false;
	*entry = quarry::hnsw::Candidate{scored.distance, id};
	*level = std::min<int>(top, scored.level);
	elog(DEBUG1, "quarry_hnsw: index \"%s\" names entry point %u, not a node of level %d; searching from node %u",
		 RelationGetRelationName(graph.index()), graph.meta().entry_node, graph.meta().entry_level, id);
	return true;
}

// The duplicate chain of node `primary`, from its visited-map `payload` (its
// row's heap TID and whether it has duplicates): empty when it has none.
DuplicateChain
StartChain(DiskGraph &graph, uint32_t primary, uint64_t payload)
{
	DuplicateChain chain{primary, quarry::hnsw::kInvalidNode, payload & ~kHasDuplicates, 0};
	if (payload & kHasDuplicates)
	{
		NodeHeader header;
		graph.ReadNode(primary, &header, nullptr);
		chain.next = header.next_duplicate;
	}
	return chain;
}

// The next live row on `chain` (its heap TID in `tid`, its node in `node`);
// false at its end.
bool
NextOnChain(DiskGraph &graph, DuplicateChain *chain, uint64_t *tid, uint32_t *node)
{
	while (chain->next != quarry::hnsw::kInvalidNode && chain->steps++ < graph.meta().node_count + 1)
	{
		NodeHeader header;
		if (!graph.ReadNode(chain->next, &header, nullptr) || header.level != kDuplicateLevel ||
			header.upper_block != chain->primary)
			break;
		*node = chain->next;
		chain->next = header.next_duplicate;
		*tid = pg::PackTid(header.heap_tid);
		if (header.state == static_cast<uint8_t>(NodeState::kLive) && *tid != chain->primary_tid)
			return true;
	}
	chain->next = quarry::hnsw::kInvalidNode;
	return false;
}

} // namespace quarry::am::hnsw

#include "fts/posting_list.h"

#include "fts/codec.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace quarry::fts {

namespace {

constexpr std::size_t kHeaderBytes = sizeof(PostingListHeader);

uint32_t
BlockCount(std::size_t docs)
{
	return static_cast<uint32_t>((docs + kBlockSize - 1) / kBlockSize);
}

// Gap-minus-one deltas of docs[from, from + n) after `prev_last` (or from 0 for
// the first block), into `gaps`.
void
BlockGaps(std::span<const DocId> docs, std::size_t from, std::size_t n, bool first, uint32_t *gaps)
{
	DocId base = first ? 0 : docs[from - 1] + 1;
	for (std::size_t i = 0; i < n; i++)
	{
		gaps[i] = docs[from + i] - base;
		base = docs[from + i] + 1;
	}
}

struct BlockShape {
	uint8_t doc_bits;
	uint8_t tf_bits;
	std::size_t bytes;
};

BlockShape
ShapeOf(std::span<const DocId> docs, std::span<const uint32_t> tfs, std::size_t from, std::size_t n)
{
	uint32_t gaps[kBlockSize];
	uint32_t tfm1[kBlockSize];
	BlockGaps(docs, from, n, from == 0, gaps);
	for (std::size_t i = 0; i < n; i++)
		tfm1[i] = tfs[from + i] - 1;
	BlockShape s;
	s.doc_bits = BitsNeeded({gaps, n});
	s.tf_bits = BitsNeeded({tfm1, n});
	s.bytes = PackedBytes(n, s.doc_bits) + PackedBytes(n, s.tf_bits);
	return s;
}

using Point = std::pair<uint32_t, uint32_t>; // (tf, doc length)

// Reduces a Pareto frontier (sorted by tf descending, so doc_len descending too)
// to at most `max_points` points by merging neighbours into (larger tf, smaller
// length), which dominates both: bounds only get looser, never unsafe.
void
Coarsen(std::vector<Point> &frontier, std::size_t max_points)
{
	while (frontier.size() > max_points)
	{
		std::size_t best = 0;
		double best_cost = 1e300;
		for (std::size_t i = 0; i + 1 < frontier.size(); i++)
		{
			double cost = (frontier[i].first + 1.0) / (frontier[i + 1].first + 1.0) *
						  ((frontier[i].second + 1.0) / (frontier[i + 1].second + 1.0));
			if (cost < best_cost)
			{
				best_cost = cost;
				best = i;
			}
		}
		frontier[best].second = frontier[best + 1].second;
		frontier.erase(frontier.begin() + static_cast<std::ptrdiff_t>(best) + 1);
	}
}

// The Pareto frontier of `points` (no point has both a larger tf and a smaller
// length than one kept), at most `max_points` long. Reorders `points`.
std::vector<Point>
Frontier(std::vector<Point> &points, std::size_t max_points)
{
	// Sort by tf descending (length ascending on ties) and keep a point only if
	// its length is below every point with a larger tf.
	std::sort(points.begin(), points.end(), [](const Point &a, const Point &b) {
		return a.first != b.first ? a.first > b.first : a.second < b.second;
	});
	std::vector<Point> frontier;
	for (const Point &p : points)
		if (frontier.empty() || p.second < frontier.back().second)
			frontier.push_back(p);
	Coarsen(frontier, max_points);
	return frontier;
}

} // namespace

double
ImpactBound(const TermScorer &scorer, const uint16_t *tf, const uint16_t *doc_len, uint32_t count)
{
	double best = 0;
	for (uint32_t i = 0; i < count; i++)
		best = std::max(best, scorer.Bound(tf[i], doc_len[i]));
	return best;
}

double
ImpactSummary::Bound(const TermScorer &scorer) const
{
	return ImpactBound(scorer, tf, doc_len, count);
}

std::size_t
EncodedPostingListSize(std::span<const DocId> docs, std::span<const uint32_t> tfs)
{
	uint32_t blocks = BlockCount(docs.size());
	std::size_t bytes = kHeaderBytes + blocks * sizeof(SkipEntry);
	for (std::size_t from = 0; from < docs.size(); from += kBlockSize)
		bytes += ShapeOf(docs, tfs, from, std::min(kBlockSize, docs.size() - from)).bytes;
	return bytes;
}

ImpactSummary
EncodePostingList(std::span<const DocId> docs,
				  std::span<const uint32_t> tfs,
				  std::span<const uint32_t> doc_lens,
				  std::span<uint8_t> out)
{
	PostingListHeader header{static_cast<uint32_t>(docs.size()), BlockCount(docs.size())};
	std::memcpy(out.data(), &header, sizeof header);
	uint8_t *skip_area = out.data() + kHeaderBytes;
	uint8_t *payload = skip_area + header.block_count * sizeof(SkipEntry);
	uint32_t offset = 0;
	std::vector<Point> all_impacts; // every block's frontier points
	std::vector<Point> points;
	points.reserve(kBlockSize);

	for (uint32_t b = 0; b < header.block_count; b++)
	{
		std::size_t from = b * kBlockSize;
		std::size_t n = std::min(kBlockSize, docs.size() - from);
		uint32_t gaps[kBlockSize];
		uint32_t tfm1[kBlockSize];
		BlockGaps(docs, from, n, b == 0, gaps);
		points.clear();
		for (std::size_t i = 0; i < n; i++)
		{
			tfm1[i] = tfs[from + i] - 1;
			points.emplace_back(tfs[from + i], doc_lens[from + i]);
		}
		std::vector<Point> block_impacts = Frontier(points, kBlockImpacts);
		SkipEntry e{};
		e.last_doc = docs[from + n - 1];
		e.payload_offset = offset;
		e.count = static_cast<uint8_t>(n);
		e.doc_bits = BitsNeeded({gaps, n});
		e.tf_bits = BitsNeeded({tfm1, n});
		e.impact_count = static_cast<uint8_t>(block_impacts.size());
		for (std::size_t i = 0; i < block_impacts.size(); i++)
		{
			e.impact_tf[i] = Saturate16(block_impacts[i].first);
			e.impact_doc_len[i] = Saturate16(block_impacts[i].second);
			all_impacts.push_back(block_impacts[i]);
		}
		std::memcpy(skip_area + b * sizeof(SkipEntry), &e, sizeof e);

		Pack({gaps, n}, e.doc_bits, payload + offset);
		offset += static_cast<uint32_t>(PackedBytes(n, e.doc_bits));
		Pack({tfm1, n}, e.tf_bits, payload + offset);
		offset += static_cast<uint32_t>(PackedBytes(n, e.tf_bits));
	}
	std::vector<Point> term_impacts = Frontier(all_impacts, kMaxImpacts);
	ImpactSummary summary;
	summary.count = static_cast<uint16_t>(term_impacts.size());
	for (std::size_t i = 0; i < term_impacts.size(); i++)
	{
		summary.tf[i] = Saturate16(term_impacts[i].first);
		summary.doc_len[i] = Saturate16(term_impacts[i].second);
	}
	return summary;
}

// ---------------------------------------------------------------------------
// PostingCursor

void
PostingCursor::Fail()
{
	failed_ = true;
	doc_ = kEndDoc;
	block_ = header_.block_count;
	shallow_ = header_.block_count;
}

bool
PostingCursor::Open(PostingBytes *bytes)
{
	*this = PostingCursor();
	bytes_ = bytes;
	const uint8_t *p = bytes_->Read(0, kHeaderBytes);
	if (p == nullptr)
	{
		Fail();
		return false;
	}
	std::memcpy(&header_, p, sizeof header_);
	if (header_.doc_count == 0 || header_.block_count != BlockCount(header_.doc_count))
	{
		Fail();
		return false;
	}
	LoadBlock(0);
	return !failed_;
}

const SkipEntry *
PostingCursor::SkipAt(uint32_t block)
{
	if (block - cache_first_ < cache_count_)
		return &cache_[block - cache_first_];
	uint32_t first = block - block % kSkipCache;
	uint32_t n = std::min(kSkipCache, header_.block_count - first);
	const uint8_t *p = bytes_->Read(kHeaderBytes + uint64_t{first} * sizeof(SkipEntry), n * sizeof(SkipEntry));
	if (p == nullptr)
	{
		Fail();
		return nullptr;
	}
	std::memcpy(cache_, p, n * sizeof(SkipEntry));
	cache_first_ = first;
	cache_count_ = n;
	return &cache_[block - first];
}

bool
PostingCursor::DecodeBlock(uint32_t block, DocId *docs_out, uint32_t *tfs_out)
{
	DocId base = 0;
	if (block > 0)
	{
		const SkipEntry *prev = SkipAt(block - 1);
		if (prev == nullptr)
			return false;
		base = prev->last_doc + 1;
	}
	const SkipEntry *e = SkipAt(block);
	if (e == nullptr)
		return false;
	SkipEntry entry = *e;
	uint32_t expected = block + 1 < header_.block_count
							? static_cast<uint32_t>(kBlockSize)
							: header_.doc_count - static_cast<uint32_t>(kBlockSize) * block;
	if (entry.count != expected || entry.doc_bits > 32 || entry.tf_bits > 32)
		return false;
	std::size_t doc_bytes = PackedBytes(entry.count, entry.doc_bits);
	std::size_t tf_bytes = PackedBytes(entry.count, entry.tf_bits);
	uint64_t at = kHeaderBytes + uint64_t{header_.block_count} * sizeof(SkipEntry) + entry.payload_offset;
	const uint8_t *p = bytes_->Read(at, static_cast<uint32_t>(doc_bytes + tf_bytes));
	if (p == nullptr)
		return false;
	std::span<uint32_t> docs{docs_out, entry.count};
	if (!Unpack({p, doc_bytes}, entry.doc_bits, docs) || !PrefixSumGaps(docs, base) ||
		docs[entry.count - 1] != entry.last_doc)
		return false;
	if (tfs_out != nullptr)
	{
		std::span<uint32_t> tfs{tfs_out, entry.count};
		if (!Unpack({p + doc_bytes, tf_bytes}, entry.tf_bits, tfs))
			return false;
		for (uint32_t &tf : tfs)
			tf += 1;
	}
	return true;
}

void
PostingCursor::LoadBlock(uint32_t block)
{
	block_ = block;
	pos_ = 0;
	tfs_loaded_ = false;
	if (block >= header_.block_count)
	{
		doc_ = kEndDoc;
		return;
	}
	if (!DecodeBlock(block, docs_, nullptr))
	{
		Fail();
		return;
	}
	count_ = SkipAt(block)->count;
	doc_ = docs_[0];
}

DocId
PostingCursor::LastDoc()
{
	if (failed_ || header_.block_count == 0)
		return kEndDoc;
	const SkipEntry *e = SkipAt(header_.block_count - 1);
	return e == nullptr ? kEndDoc : e->last_doc;
}

void
PostingCursor::Next()
{
	if (doc_ == kEndDoc)
		return;
	if (++pos_ < count_)
	{
		doc_ = docs_[pos_];
		return;
	}
	LoadBlock(block_ + 1);
}

void
PostingCursor::NextGeq(DocId target)
{
	if (doc_ >= target)
		return;
	if (target > docs_[count_ - 1])
	{
		uint32_t b = block_ + 1;
		for (; b < header_.block_count; b++)
		{
			const SkipEntry *e = SkipAt(b);
			if (e == nullptr)
				return;
			if (e->last_doc >= target)
				break;
		}
		LoadBlock(b);
		if (doc_ == kEndDoc)
			return;
	}
	// The target is within this block: the first doc >= target.
	DocId *found = std::lower_bound(docs_ + pos_, docs_ + count_, target);
	pos_ = static_cast<uint32_t>(found - docs_);
	doc_ = docs_[pos_];
}

// Decodes the tfs of the loaded block (its doc ids are decoded already).
bool
PostingCursor::LoadTfs()
{
	const SkipEntry *e = SkipAt(block_);
	if (e == nullptr)
		return false;
	SkipEntry entry = *e;
	std::size_t doc_bytes = PackedBytes(entry.count, entry.doc_bits);
	std::size_t tf_bytes = PackedBytes(entry.count, entry.tf_bits);
	uint64_t at = kHeaderBytes + uint64_t{header_.block_count} * sizeof(SkipEntry) + entry.payload_offset + doc_bytes;
	const uint8_t *p = bytes_->Read(at, static_cast<uint32_t>(tf_bytes));
	std::span<uint32_t> tfs{tfs_, entry.count};
	if (p == nullptr || entry.count != count_ || !Unpack({p, tf_bytes}, entry.tf_bits, tfs))
	{
		Fail();
		return false;
	}
	for (uint32_t &tf : tfs)
		tf += 1;
	tfs_loaded_ = true;
	return true;
}

uint32_t
PostingCursor::Tf()
{
	if (!tfs_loaded_ && !LoadTfs())
		return 1;
	return tfs_[pos_];
}

std::span<const uint32_t>
PostingCursor::BlockTfs()
{
	if (doc_ == kEndDoc || (!tfs_loaded_ && !LoadTfs()))
		return {};
	return {tfs_, count_};
}

void
PostingCursor::ShallowSeek(DocId target)
{
	if (shallow_ < block_)
		shallow_ = block_;
	for (; shallow_ < header_.block_count; shallow_++)
	{
		const SkipEntry *e = SkipAt(shallow_);
		if (e == nullptr)
			return;
		if (e->last_doc >= target)
		{
			shallow_entry_ = *e;
			return;
		}
	}
}

DocId
PostingCursor::ShallowLastDoc() const
{
	return shallow_ < header_.block_count ? shallow_entry_.last_doc : kEndDoc;
}

double
PostingCursor::ShallowBound(const TermScorer &scorer) const
{
	if (shallow_ >= header_.block_count)
		return 0;
	uint32_t n = std::min<uint32_t>(shallow_entry_.impact_count, kBlockImpacts);
	return ImpactBound(scorer, shallow_entry_.impact_tf, shallow_entry_.impact_doc_len, n);
}

bool
PostingCursor::Contains(DocId doc)
{
	if (failed_ || header_.block_count == 0)
		return false;
	// The first block whose last doc is >= doc.
	uint32_t lo = 0, hi = header_.block_count;
	while (lo < hi)
	{
		uint32_t mid = lo + (hi - lo) / 2;
		const SkipEntry *e = SkipAt(mid);
		if (e == nullptr)
			return false;
		if (e->last_doc < doc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == header_.block_count)
		return false;
	DocId docs[kBlockSize];
	if (!DecodeBlock(lo, docs, nullptr))
	{
		Fail();
		return false;
	}
	uint32_t n = SkipAt(lo)->count;
	return std::binary_search(docs, docs + n, doc);
}

} // namespace quarry::fts

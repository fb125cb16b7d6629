// The encoded posting list of one term (in one segment), and the cursor that
// reads it.
//
// Layout (all little-endian):
//
//   PostingListHeader                       8 bytes
//   SkipEntry[block_count]                  16 bytes each
//   block payloads                          one per skip entry
//
// Documents are grouped in blocks of kBlockSize (128); the last block may be
// shorter. A block payload is the bit-packed doc id gaps (gap - 1 from the
// previous doc, the first from the previous block's last doc), then the
// bit-packed (tf - 1) values. The skip entry of a block gives its last doc id,
// where its payload starts, the bit widths, and the block's impacts for
// block-max pruning: up to three (tf, length) points that dominate every
// document of the block (Lucene's "impacts": the Pareto frontier of (high tf,
// short length), coarsened to three points by merging neighbours into (larger
// tf, smaller length); values saturate at 65535 in the safe direction).
// Storing (tf, length) rather than a score keeps the bounds valid for any k1, b
// and collection statistics; keeping a frontier rather than (max tf, min
// length) keeps them tight, which is what lets block-max WAND skip blocks.
#pragma once

#include "fts/bm25.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace quarry::fts {

using DocId = uint32_t;
inline constexpr DocId kEndDoc = 0xFFFFFFFF; // "no more documents"
inline constexpr std::size_t kBlockSize = 128;

struct PostingListHeader {
	uint32_t doc_count;
	uint32_t block_count;
};
static_assert(sizeof(PostingListHeader) == 8, "on-disk format");

inline constexpr std::size_t kBlockImpacts = 3;

struct SkipEntry {
	uint32_t last_doc;		 // last document of the block
	uint32_t payload_offset; // from the start of the payload area
	uint8_t count;			 // documents in the block, 1..128
	uint8_t doc_bits;
	uint8_t tf_bits;
	uint8_t impact_count;					// 1..kBlockImpacts
	uint16_t impact_tf[kBlockImpacts];		// saturating
	uint16_t impact_doc_len[kBlockImpacts]; // saturating
};
static_assert(sizeof(SkipEntry) == 24, "on-disk format");

/// Summary of a whole posting list for term-level bounds: up to kMaxImpacts
/// (tf, length) points such that every document is dominated by one of them.
inline constexpr std::size_t kMaxImpacts = 4;
struct ImpactSummary {
	uint16_t count = 0;
	uint16_t tf[kMaxImpacts] = {};
	uint16_t doc_len[kMaxImpacts] = {};

	/// Largest TermScorer::Bound over the points.
	double Bound(const TermScorer &scorer) const;
};

/// Largest TermScorer::Bound over `count` impact points.
double ImpactBound(const TermScorer &scorer, const uint16_t *tf, const uint16_t *doc_len, uint32_t count);

inline uint16_t
Saturate16(uint32_t v)
{
	return v >= kSaturated16 ? static_cast<uint16_t>(kSaturated16) : static_cast<uint16_t>(v);
}

/// Size in bytes of the encoding of `docs`/`tfs` (equal lengths, docs strictly
/// increasing, tfs >= 1).
std::size_t EncodedPostingListSize(std::span<const DocId> docs, std::span<const uint32_t> tfs);

/// Encodes the list into `out` (exactly EncodedPostingListSize bytes).
/// doc_lens[i] is the length of document docs[i]. Returns the impact summary.
ImpactSummary EncodePostingList(std::span<const DocId> docs,
								std::span<const uint32_t> tfs,
								std::span<const uint32_t> doc_lens,
								std::span<uint8_t> out);

/// Where a cursor reads its posting list from. Read returns `len` contiguous
/// bytes at byte `offset` of the list, valid until the next Read on the same
/// object, or nullptr if that range is not there (a corrupted list). Reads by the
/// server come from pinned index pages (src/am/bm25/bm25_segment_read.cpp).
///
/// Implementations are never destroyed through this interface (they live in a
/// scan arena), hence the protected non-virtual destructor.
class PostingBytes {
public:
	virtual const uint8_t *Read(uint64_t offset, uint32_t len) = 0;

protected:
	~PostingBytes() = default;
};

/// PostingBytes over memory the caller owns.
class MemoryPostingBytes final : public PostingBytes {
public:
	MemoryPostingBytes(const uint8_t *data, uint64_t size) : data_(data), size_(size) {}
	const uint8_t *
	Read(uint64_t offset, uint32_t len) override
	{
		return offset + len <= size_ ? data_ + offset : nullptr;
	}

private:
	const uint8_t *data_;
	uint64_t size_;
};

/// Forward cursor over one posting list, with a block-max ("shallow") pointer
/// that moves over skip entries without decoding (Ding & Suel 2011). Trivially
/// destructible; it lives in a scan arena.
///
/// Errors: a list whose bytes are missing or inconsistent puts the cursor in the
/// failed state (failed() is true, doc() is kEndDoc); the caller reports it.
class PostingCursor {
public:
	PostingCursor() = default;

	/// Starts at the first document. Returns false if the header is unreadable.
	bool Open(PostingBytes *bytes);
	/// Opens the same list again, at its first document.
	bool Reopen() { return Open(bytes_); }

	DocId doc() const { return doc_; }
	uint32_t doc_count() const { return header_.doc_count; }
	/// The list's last document (read from its last skip entry); kEndDoc if
	/// unreadable.
	DocId LastDoc();
	bool failed() const { return failed_; }

	void Next();
	/// Moves to the first document >= target (never backwards).
	void NextGeq(DocId target);
	/// Occurrences of the term in doc() (doc() must not be kEndDoc).
	uint32_t Tf();

	/// The forward position's block, and doc()'s index in it (for the
	/// positions of doc(), which are stored by block: term_positions.h).
	uint32_t block() const { return block_; }
	uint32_t index_in_block() const { return pos_; }
	uint32_t block_count() const { return header_.block_count; }
	/// The tfs of the forward position's block (decoded if they were not);
	/// empty if unreadable (the cursor then failed).
	std::span<const uint32_t> BlockTfs();

	/// Moves the block-max pointer to the block that may hold `target` (the
	/// first block whose last doc is >= target). Does not move doc().
	void ShallowSeek(DocId target);
	/// Last doc of the block-max pointer's block; kEndDoc past the last block.
	DocId ShallowLastDoc() const;
	/// Bound of the term's score over that block (0 past the last block).
	double ShallowBound(const TermScorer &scorer) const;

	/// Whether the list holds `doc` (random access: binary search over skip
	/// entries, one block decoded). Leaves the forward position alone.
	bool Contains(DocId doc);

	/// Calls fn(doc, tf) for every document from doc() up to (not including)
	/// `end`, straight from the decoded blocks, and leaves the cursor at the
	/// first document >= end.
	template <typename Fn>
	void
	ForEachBefore(DocId end, Fn &&fn)
	{
		while (doc_ < end && doc_ != kEndDoc)
		{
			if (!tfs_loaded_ && !LoadTfs())
				return;
			uint32_t i = pos_;
			for (; i < count_ && docs_[i] < end; i++)
				fn(docs_[i], tfs_[i]);
			if (i < count_)
			{
				pos_ = i;
				doc_ = docs_[i];
				return;
			}
			LoadBlock(block_ + 1);
		}
	}

private:
	static constexpr uint32_t kSkipCache = 32;

	const SkipEntry *SkipAt(uint32_t block);
	bool DecodeBlock(uint32_t block, DocId *docs_out, uint32_t *tfs_out);
	void LoadBlock(uint32_t block);
	bool LoadTfs();
	void Fail();

	PostingBytes *bytes_ = nullptr;
	PostingListHeader header_{};
	bool failed_ = false;

	// Skip entries cache: entries [cache_first_, cache_first_ + cache_count_).
	uint32_t cache_first_ = 0;
	uint32_t cache_count_ = 0;
	SkipEntry cache_[kSkipCache];

	// Forward position.
	uint32_t block_ = 0;	// block of doc_
	uint32_t pos_ = 0;		// index of doc_ in the block
	uint32_t count_ = 0;	// documents in the loaded block
	bool tfs_loaded_ = false;
	DocId doc_ = kEndDoc;
	DocId docs_[kBlockSize];
	uint32_t tfs_[kBlockSize];

	// Block-max pointer.
	uint32_t shallow_ = 0;
	SkipEntry shallow_entry_{};
};

} // namespace quarry::fts

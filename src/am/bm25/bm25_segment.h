// Segments of a quarry_bm25 index on pages: writing one (build, flush, merge)
// and reading one (scans, VACUUM, merges). See bm25_format.h for the layout.
#pragma once

#include "am/bm25/bm25.h"
#include "pg/heap_tid.h"
#include "fts/dict_page.h"
#include "fts/posting_list.h"
#include "memory/build_arena.h"
#include "memory/scan_arena.h"

#include <array>
#include <span>
#include <string_view>
#include <vector>
#include <type_traits>

namespace quarry::am::bm25 {

/// Writes one segment. Lives in a build or merge memory context (MakeOwned), its
/// containers in that work's BuildArena. Usage:
///
///   writer->SetDocuments(lengths, row_ids);        // local doc i = index i
///   for each term in byte order: writer->AddTerm(term, docs, tfs, positions);
///   SegmentRef ref = writer->Finish();
///
/// With `wal`, every page is WAL-logged as a full image when written (flush and
/// merge); without, the caller logs the whole index after the build.
class SegmentWriter {
public:
/// With `with_positions` (the index's kMetaPositions), every posting list is
/// followed by its positions (fts/term_positions.h), given to AddTerm as every
/// document's tf positions in turn.
	SegmentWriter(Relation index, bool wal, uint32_t segment_id, bool with_positions, mem::BuildArena &arena);

	/// An index of `field_count` >= 2 fields gives its documents' field
	/// lengths too, document after document.
	void SetDocuments(std::span<const uint32_t> lengths, std::span<const uint64_t> row_ids,
					  std::span<const uint32_t> field_lengths = {}, uint32_t field_count = 1);
	void AddTerm(std::string_view term, std::span<const fts::DocId> docs, std::span<const uint32_t> tfs,
				 std::span<const uint32_t> positions = {});
	SegmentRef Finish();

	uint64_t total_length() const { return total_length_; }
	uint32_t pages_written() const { return logical_pages_; }

private:
	using PageImage = std::array<uint8_t, kPageContentBytes>;
	template <typename T>
	using ArenaVector = std::vector<T, mem::BuildAllocator<T>>;

	void WriteStream(const uint8_t *data, std::size_t bytes);
	void EndStream();
	void WriteDataPage(PageType type, const uint8_t *content, std::size_t bytes);
	BlockNumber WritePage(PageType type, const uint8_t *content, std::size_t bytes, BlockNumber next);
	void AddDictEntry(std::string_view term, const TermInfo &info);
	void WriteLengths();
	void WriteRowIds();
	void WriteAliveBits();
	void WriteDictionary(SegmentHeader &header);
	BlockNumber WriteExtentPages(uint32_t inline_count);

	Relation index_;
	bool wal_;
	uint32_t id_;
	bool with_positions_;
	mem::BuildArena &arena_;
	std::span<const uint32_t> lengths_;
	std::span<const uint32_t> field_lengths_; // document after document
	uint32_t field_count_ = 1;
	std::span<const uint64_t> row_ids_;
	uint64_t total_length_ = 0;
	uint32_t term_count_ = 0;
	uint32_t logical_pages_ = 0;
	ArenaVector<Extent> extents_;
	// postings byte stream
	PageImage stream_{};
	std::size_t stream_used_ = 0;
	uint64_t postings_bytes_ = 0;
	ArenaVector<uint8_t> encoded_;
	ArenaVector<uint32_t> doc_lens_;
	// dictionary leaves, kept until the postings are written
	PageImage leaf_{};
	fts::DictPageBuilder leaf_builder_;
	ArenaVector<PageImage> leaves_;
	ArenaVector<char> first_keys_; // first key of every leaf, concatenated
	ArenaVector<uint32_t> first_key_ends_;
};

/// A segment opened for reading: header and extents, in a scan arena.
struct SegmentReader {
	Relation index;
	SegmentRef ref;
	SegmentHeader header;
	Extent *extents;
	fts::DocId base; // global id of local document 0
};
static_assert(std::is_trivially_destructible_v<SegmentReader>, "lives across PostgreSQL calls made without PgCall");

SegmentReader *OpenSegment(Relation index, const SegmentRef &ref, fts::DocId base, mem::ScanArena &arena);
/// Whether a segment header's sections are consistent (what OpenSegment
/// checks, ERRORing otherwise).
bool HeaderSectionsSane(const SegmentHeader &h);
/// How many length arrays a segment holds: 1, or 1 + its index's fields (0
/// if its header is inconsistent).
uint32_t LengthArrays(const SegmentHeader &h);
/// Whether a segment's length arrays suit an index of `fields` fields (a
/// segment without documents, such as the build of an empty table writes,
/// suits any).
inline bool
SegmentFieldsMatch(const SegmentHeader &h, uint32_t fields)
{
	return h.doc_count == 0 || LengthArrays(h) == (fields >= 2 ? 1 + fields : 1);
}
/// Opens a segment the metapage no longer lists (to recycle its pages).
SegmentReader *OpenRetiredSegment(Relation index, BlockNumber header_block, mem::ScanArena &arena);
BlockNumber LogicalBlock(const SegmentReader &segment, uint32_t logical);

/// Looks a term up in the segment's dictionary.
bool FindTerm(const SegmentReader &segment, std::string_view term, TermInfo *info);

/// Every term of a segment in byte order, with its TermInfo (for merges).
/// Trivially destructible; `page` is a kPageContentBytes buffer from an arena.
class TermIterator {
public:
	TermIterator(const SegmentReader *segment, uint8_t *page) : segment_(segment), page_(page) {}
	/// The next term; false at the end. The term's bytes stay valid until the
	/// next call.
	bool Next(std::string_view &term, TermInfo &info);
	/// Positions the iterator so that Next returns the terms >= `from` (found
	/// down the dictionary's inner nodes: a prefix scan reads its leaves only).
	void Seek(std::string_view from);

private:
	void LoadLeaf(uint32_t leaf);

	const SegmentReader *segment_;
	uint8_t *page_;
	uint32_t leaf_ = 0;		  // next leaf to load, relative to dict_first
	uint16_t item_ = 0;		  // next item in the loaded leaf
	uint16_t item_count_ = 0; // items in the loaded leaf
};
static_assert(std::is_trivially_destructible_v<TermIterator>, "lives across PostgreSQL calls made without PgCall");

/// Reads posting-list bytes from the segment's pinned pages (immutable: a pin,
/// no lock). Holds at most one pin; Release() drops it.
class PagePostingBytes final : public fts::PostingBytes {
public:
	PagePostingBytes(const SegmentReader *segment, uint64_t list_offset, uint32_t list_bytes, uint8_t *scratch,
					 std::size_t scratch_bytes)
		: segment_(segment), list_offset_(list_offset), list_bytes_(list_bytes), scratch_(scratch),
		  scratch_bytes_(scratch_bytes)
	{
	}
	const uint8_t *Read(uint64_t offset, uint32_t len) override;
	void Release();

private:
	const uint8_t *PinnedContent(uint32_t logical);

	const SegmentReader *segment_;
	uint64_t list_offset_;
	uint32_t list_bytes_;
	uint8_t *scratch_;
	std::size_t scratch_bytes_;
	Buffer buffer_ = InvalidBuffer;
	uint32_t logical_ = 0;
};

/// Forward-friendly access to per-document data of a segment (lengths, row ids,
/// alive bits), keeping the last page of each pinned. Trivially destructible.
class SegmentDocs {
public:
	/// `field`: Length and LengthWindow read that field's lengths (an index
	/// of fields), else the documents' lengths.
	explicit SegmentDocs(const SegmentReader *segment, int field = -1)
		: segment_(segment), array_(static_cast<uint32_t>(field + 1))
	{
	}
	uint32_t Length(fts::DocId local);
	/// Lengths of local documents from `local` on, to the end of their page
	/// (at most max_count), straight from the pinned page.
	std::span<const uint32_t> LengthWindow(fts::DocId local, uint32_t max_count);
	void RowId(fts::DocId local, ItemPointer tid);
	/// Whether VACUUM has not removed the document (share-locks the bitmap page).
	bool Alive(fts::DocId local);
	void Release();

private:
	struct Pinned {
		Buffer buffer = InvalidBuffer;
		uint32_t logical = 0;
	};
	const char *Content(Pinned &pin, uint32_t logical);
	uint32_t LengthsPage(fts::DocId local) const;

	const SegmentReader *segment_;
	uint32_t array_; // 0: lengths; 1 + f: field f's
	Pinned lengths_, row_ids_, alive_;
};
static_assert(std::is_trivially_destructible_v<SegmentDocs>, "lives across PostgreSQL calls made without PgCall");

} // namespace quarry::am::bm25

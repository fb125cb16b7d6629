// Reading segments: header and extents, dictionary lookups, posting bytes, and
// per-document data.
//
// Segment pages never change after they are written, except the alive bitmap,
// so readers pin them without a content lock; the alive bitmap is read under a
// share lock. A segment a scan still uses is never recycled under it (see
// StampIsRecyclable). PostgreSQL calls here go through PgCall because they are
// made under C++ frames (posting cursors, block-max WAND).
#include "am/bm25/bm25_segment.h"

#include "pg/guard.h"

#include <algorithm>
#include <cstring>

namespace quarry::am::bm25 {

namespace {

// Pins `block`, checks its type and owner, returns the buffer (not locked).
Buffer
PinChecked(Relation index, BlockNumber block, PageType type, uint32_t segment_id)
{
	return pg::PgCall([&]() -> Buffer {
		if (block >= RelationGetNumberOfBlocks(index))
			pg::ThrowCorrupt(index, "segment %u refers to block %u past the end of the index", segment_id, block);
		Buffer buffer = ReadBuffer(index, block);
		CheckPage(index, BufferGetPage(buffer), block, type, segment_id);
		return buffer;
	});
}

void
Unpin(Buffer buffer)
{
	if (BufferIsValid(buffer))
		pg::PgCall([&] { ReleaseBuffer(buffer); });
}

[[noreturn]] void
SegmentCorrupt(Relation index, const char *what, uint32_t segment_id)
{
	pg::ThrowCorrupt(index, "Segment %u: %s.", segment_id, what);
}

void
CheckHeader(Relation index, const SegmentRef &ref, const SegmentHeader &h)
{
	if (h.id != ref.id || h.doc_count != ref.doc_count)
		SegmentCorrupt(index, "header does not match the metapage", ref.id);
	if (!HeaderSectionsSane(h))
		SegmentCorrupt(index, "header has inconsistent sections", ref.id);
}

} // namespace

namespace {

// Opens the segment whose header page is `header_block`. With `expected`, the
// header must match it; without, the header's own id and count are taken.
SegmentReader *
OpenAt(Relation index, BlockNumber header_block, const SegmentRef *expected, fts::DocId base, mem::ScanArena &arena)
{
	auto *segment = arena.Make<SegmentReader>();
	segment->index = index;
	segment->base = base;

	Buffer buffer = PinChecked(index, header_block, PageType::kSegmentHeader, expected ? expected->id : 0);
	const char *content = ContentOf(BufferGetPage(buffer));
	std::memcpy(&segment->header, content, sizeof(SegmentHeader));
	const SegmentHeader &h = segment->header;
	segment->ref = expected ? *expected : SegmentRef{header_block, h.id, h.doc_count, 0};
	const SegmentRef &ref = segment->ref;
	BlockNumber next = OpaqueOf(BufferGetPage(buffer))->next;
	// On an error the abort releases the pin.
	CheckHeader(index, ref, h);
	segment->extents = arena.MakeArray<Extent>(std::max<uint32_t>(h.extent_count, 1));
	std::memcpy(segment->extents, content + sizeof(SegmentHeader), h.inline_extents * sizeof(Extent));
	Unpin(buffer);

	uint32_t have = h.inline_extents;
	while (have < h.extent_count)
	{
		if (next == InvalidBlockNumber)
			SegmentCorrupt(index, "extent chain ends early", ref.id);
		Buffer eb = PinChecked(index, next, PageType::kExtents, ref.id);
		const char *ec = ContentOf(BufferGetPage(eb));
		ExtentPage head;
		std::memcpy(&head, ec, sizeof head);
		uint32_t n = std::min(head.count, h.extent_count - have);
		if (n == 0 || head.count > kExtentsPerPage)
		{
			Unpin(eb);
			SegmentCorrupt(index, "bad extent page", ref.id);
		}
		std::memcpy(segment->extents + have, ec + sizeof head, n * sizeof(Extent));
		have += n;
		next = OpaqueOf(BufferGetPage(eb))->next;
		Unpin(eb);
	}
	uint64_t pages = 0;
	for (uint32_t i = 0; i < h.extent_count; i++)
		pages += segment->extents[i].count;
	if (pages != h.page_count)
		SegmentCorrupt(index, "extents do not cover the segment's pages", ref.id);
	return segment;
}

} // namespace

uint32_t
LengthArrays(const SegmentHeader &h)
{
	uint32_t per_array = (h.doc_count + kLengthsPerPage - 1) / kLengthsPerPage;
	if (h.rowids_first < h.lengths_first)
		return 0;
	uint32_t pages = h.rowids_first - h.lengths_first;
	if (per_array == 0)
		return pages == 0 ? 1 : 0;
	uint32_t arrays = pages / per_array;
	bool ok = pages % per_array == 0 && (arrays == 1 || (arrays >= 3 && arrays <= 1 + kMaxFields));
	return ok ? arrays : 0;
}

bool
HeaderSectionsSane(const SegmentHeader &h)
{
	uint64_t docs = h.doc_count;
	bool sections_ok = h.postings_first == 0 && h.lengths_first <= h.rowids_first && h.rowids_first <= h.alive_first &&
					   h.alive_first <= h.dict_first && h.dict_first + h.dict_leaves <= h.page_count &&
					   h.dict_root < h.page_count && h.dict_height >= 1 && h.dict_height < 16 &&
					   LengthArrays(h) != 0 &&
					   h.alive_first - h.rowids_first == (docs + kRowIdsPerPage - 1) / kRowIdsPerPage &&
					   h.dict_first - h.alive_first == (docs + kAliveBitsPerPage - 1) / kAliveBitsPerPage &&
					   h.postings_bytes <= uint64_t{h.lengths_first} * kPageContentBytes &&
					   h.inline_extents <= kInlineExtents && h.inline_extents <= h.extent_count;
	return sections_ok;
}

SegmentReader *
OpenSegment(Relation index, const SegmentRef &ref, fts::DocId base, mem::ScanArena &arena)
{
	return OpenAt(index, ref.header, &ref, base, arena);
}

SegmentReader *
OpenRetiredSegment(Relation index, BlockNumber header_block, mem::ScanArena &arena)
{
	return OpenAt(index, header_block, nullptr, 0, arena);
}

BlockNumber
LogicalBlock(const SegmentReader &segment, uint32_t logical)
{
	for (uint32_t i = 0; i < segment.header.extent_count; i++)
	{
		const Extent &e = segment.extents[i];
		if (logical < e.count)
			return e.start + logical;
		logical -= e.count;
	}
	return InvalidBlockNumber;
}

bool
FindTerm(const SegmentReader &segment, std::string_view term, TermInfo *info)
{
	uint32_t node = segment.header.dict_root;
	for (uint32_t level = segment.header.dict_height; level >= 1; level--)
	{
		BlockNumber block = LogicalBlock(segment, node);
		if (block == InvalidBlockNumber)
			SegmentCorrupt(segment.index, "dictionary node outside the segment", segment.ref.id);
		PageType type = level == 1 ? PageType::kDictLeaf : PageType::kDictInner;
		Buffer buffer = PinChecked(segment.index, block, type, segment.ref.id);
		fts::DictPageReader reader({reinterpret_cast<const uint8_t *>(ContentOf(BufferGetPage(buffer))), kPageContentBytes},
								   level == 1 ? sizeof(TermInfo) : sizeof(uint32_t));
		bool found;
		uint32_t child = 0;
		if (level == 1)
			found = reader.Find(term, info);
		else
			found = reader.FindFloor(term, &child);
		Unpin(buffer);
		if (!found)
			return false;
		if (level == 1)
			return true;
		node = child;
	}
	return false;
}

// Copies leaf `leaf` (relative to dict_first) into the iterator's page.
void
TermIterator::LoadLeaf(uint32_t leaf)
{
	const SegmentHeader &h = segment_->header;
	BlockNumber block = LogicalBlock(*segment_, h.dict_first + leaf);
	if (block == InvalidBlockNumber)
		SegmentCorrupt(segment_->index, "dictionary leaf outside the segment", segment_->ref.id);
	Buffer buffer = PinChecked(segment_->index, block, PageType::kDictLeaf, segment_->ref.id);
	std::memcpy(page_, ContentOf(BufferGetPage(buffer)), kPageContentBytes);
	Unpin(buffer);
	fts::DictPageReader reader({page_, kPageContentBytes}, sizeof(TermInfo));
	if (!reader.Valid())
		SegmentCorrupt(segment_->index, "malformed dictionary leaf", segment_->ref.id);
	item_count_ = reader.count();
	item_ = 0;
	leaf_ = leaf + 1;
}

bool
TermIterator::Next(std::string_view &term, TermInfo &info)
{
	while (item_ == item_count_)
	{
		if (leaf_ >= segment_->header.dict_leaves)
			return false;
		LoadLeaf(leaf_);
	}
	fts::DictPageReader reader({page_, kPageContentBytes}, sizeof(TermInfo));
	if (!reader.Item(item_++, term, &info))
		SegmentCorrupt(segment_->index, "malformed dictionary leaf", segment_->ref.id);
	return true;
}

void
TermIterator::Seek(std::string_view from)
{
	const SegmentHeader &h = segment_->header;
	uint32_t node = h.dict_root;
	for (uint32_t level = h.dict_height; level > 1; level--)
	{
		BlockNumber block = LogicalBlock(*segment_, node);
		if (block == InvalidBlockNumber)
			SegmentCorrupt(segment_->index, "dictionary node outside the segment", segment_->ref.id);
		Buffer buffer = PinChecked(segment_->index, block, PageType::kDictInner, segment_->ref.id);
		fts::DictPageReader reader({reinterpret_cast<const uint8_t *>(ContentOf(BufferGetPage(buffer))), kPageContentBytes},
								   sizeof(uint32_t));
		uint32_t child = 0;
		bool found = reader.FindFloor(from, &child);
		Unpin(buffer);
		if (!found)
		{
			node = h.dict_first; // `from` sorts before every term: the first leaf
			break;
		}
		node = child;
	}
	if (node < h.dict_first || node - h.dict_first >= h.dict_leaves)
		SegmentCorrupt(segment_->index, "dictionary node outside the segment", segment_->ref.id);
	LoadLeaf(node - h.dict_first);
	fts::DictPageReader reader({page_, kPageContentBytes}, sizeof(TermInfo));
	std::string_view key;
	TermInfo info;
	while (item_ < item_count_ && reader.Item(item_, key, &info) && key < from)
		item_++;
}

// --- posting bytes ------------------------------------------------------------------

const uint8_t *
PagePostingBytes::PinnedContent(uint32_t logical)
{
	if (BufferIsValid(buffer_) && logical_ == logical)
		return reinterpret_cast<const uint8_t *>(ContentOf(BufferGetPage(buffer_)));
	Release();
	BlockNumber block = LogicalBlock(*segment_, logical);
	if (block == InvalidBlockNumber)
		return nullptr;
	buffer_ = PinChecked(segment_->index, block, PageType::kSegmentData, segment_->ref.id);
	logical_ = logical;
	return reinterpret_cast<const uint8_t *>(ContentOf(BufferGetPage(buffer_)));
}

const uint8_t *
PagePostingBytes::Read(uint64_t offset, uint32_t len)
{
	if (offset + len > list_bytes_)
		return nullptr;
	uint64_t at = list_offset_ + offset;
	uint32_t logical = segment_->header.postings_first + static_cast<uint32_t>(at / kPageContentBytes);
	std::size_t within = at % kPageContentBytes;
	if (within + len <= kPageContentBytes)
	{
		const uint8_t *p = PinnedContent(logical);
		return p == nullptr ? nullptr : p + within;
	}
	if (len > scratch_bytes_)
		return nullptr;
	std::size_t done = 0;
	while (done < len)
	{
		const uint8_t *p = PinnedContent(logical);
		if (p == nullptr)
			return nullptr;
		std::size_t n = std::min<std::size_t>(kPageContentBytes - within, len - done);
		std::memcpy(scratch_ + done, p + within, n);
		done += n;
		logical++;
		within = 0;
	}
	return scratch_;
}

void
PagePostingBytes::Release()
{
	Unpin(buffer_);
	buffer_ = InvalidBuffer;
}

// --- per-document data --------------------------------------------------------------

const char *
SegmentDocs::Content(Pinned &pin, uint32_t logical)
{
	if (BufferIsValid(pin.buffer) && pin.logical == logical)
		return ContentOf(BufferGetPage(pin.buffer));
	Unpin(pin.buffer);
	pin.buffer = InvalidBuffer;
	BlockNumber block = LogicalBlock(*segment_, logical);
	if (block == InvalidBlockNumber)
		SegmentCorrupt(segment_->index, "document data outside the segment", segment_->ref.id);
	pin.buffer = PinChecked(segment_->index, block, PageType::kSegmentData, segment_->ref.id);
	pin.logical = logical;
	return ContentOf(BufferGetPage(pin.buffer));
}

uint32_t
SegmentDocs::LengthsPage(fts::DocId local) const
{
	const SegmentHeader &h = segment_->header;
	uint32_t per_array = (h.doc_count + kLengthsPerPage - 1) / kLengthsPerPage;
	return h.lengths_first + array_ * per_array + local / kLengthsPerPage;
}

uint32_t
SegmentDocs::Length(fts::DocId local)
{
	if (local >= segment_->header.doc_count)
		SegmentCorrupt(segment_->index, "document number out of range", segment_->ref.id);
	const char *c = Content(lengths_, LengthsPage(local));
	uint32_t length;
	std::memcpy(&length, c + (local % kLengthsPerPage) * sizeof(uint32_t), sizeof length);
	return length;
}

std::span<const uint32_t>
SegmentDocs::LengthWindow(fts::DocId local, uint32_t max_count)
{
	if (local >= segment_->header.doc_count)
		SegmentCorrupt(segment_->index, "document number out of range", segment_->ref.id);
	const char *c = Content(lengths_, LengthsPage(local));
	uint32_t within = local % kLengthsPerPage;
	uint32_t n = std::min({kLengthsPerPage - within, segment_->header.doc_count - local, max_count});
	// Page content starts MAXALIGNed, so the uint32_t array is aligned.
	return {reinterpret_cast<const uint32_t *>(c) + within, n};
}

void
SegmentDocs::RowId(fts::DocId local, ItemPointer tid)
{
	if (local >= segment_->header.doc_count)
		SegmentCorrupt(segment_->index, "document number out of range", segment_->ref.id);
	const auto *c = reinterpret_cast<const uint8_t *>(
		Content(row_ids_, segment_->header.rowids_first + local / kRowIdsPerPage));
	const uint8_t *p = c + (local % kRowIdsPerPage) * kRowIdBytes;
	pg::UnpackTid(pg::ReadPackedTid(p), tid);
	if (!ItemPointerIsValid(tid))
		SegmentCorrupt(segment_->index, "invalid heap TID", segment_->ref.id);
}

bool
SegmentDocs::Alive(fts::DocId local)
{
	if (local >= segment_->header.doc_count)
		SegmentCorrupt(segment_->index, "document number out of range", segment_->ref.id);
	const auto *c = reinterpret_cast<const uint8_t *>(
		Content(alive_, segment_->header.alive_first + local / kAliveBitsPerPage));
	uint32_t bit = local % kAliveBitsPerPage;
	Buffer buffer = alive_.buffer;
	return pg::PgCall([&]() -> bool {
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		bool alive = (c[bit / 8] >> (bit % 8)) & 1;
		LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
		return alive;
	});
}

void
SegmentDocs::Release()
{
	for (Pinned *pin : {&lengths_, &row_ids_, &alive_})
	{
		Unpin(pin->buffer);
		pin->buffer = InvalidBuffer;
	}
}

} // namespace quarry::am::bm25

// Writing a segment onto pages (see bm25_format.h for the layout).
//
// Order of writing: the postings byte stream as terms arrive, then the lengths,
// row ids and alive bits, then the dictionary (its leaves were built in memory
// while the postings were written; inner levels are built bottom-up from the
// leaves' first keys), then extent pages and the header page. Data pages get
// consecutive logical numbers; the header's extent list maps them to blocks.
#include "am/bm25/bm25_fields.h"
#include "am/bm25/bm25_segment.h"
#include "fts/term_positions.h"

#include "pg/guard.h"
#include "pg/index_pages.h"

extern "C" {
#include "access/xloginsert.h"
#include "miscadmin.h"
}

#include <algorithm>
#include <cstring>

namespace quarry::am::bm25 {

SegmentWriter::SegmentWriter(Relation index, bool wal, uint32_t segment_id, bool with_positions,
							 mem::BuildArena &arena)
	: index_(index), wal_(wal), id_(segment_id), with_positions_(with_positions), arena_(arena), extents_(mem::BuildAllocator<Extent>(arena)),
	  encoded_(mem::BuildAllocator<uint8_t>(arena)), doc_lens_(mem::BuildAllocator<uint32_t>(arena)),
	  leaf_builder_(leaf_, sizeof(TermInfo)), leaves_(mem::BuildAllocator<PageImage>(arena)),
	  first_keys_(mem::BuildAllocator<char>(arena)), first_key_ends_(mem::BuildAllocator<uint32_t>(arena))
{
}

void
SegmentWriter::SetDocuments(std::span<const uint32_t> lengths, std::span<const uint64_t> row_ids,
							std::span<const uint32_t> field_lengths, uint32_t field_count)
{
	lengths_ = lengths;
	field_lengths_ = field_lengths;
	field_count_ = field_count >= 2 ? field_count : 1;
	if (field_count_ >= 2 && field_lengths.size() != lengths.size() * field_count_)
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_bm25: %zu field lengths for %zu documents of %u fields",
					   field_lengths.size(), lengths.size(), field_count_);
	row_ids_ = row_ids;
	total_length_ = 0;
	for (uint32_t l : lengths)
		total_length_ += l;
}

BlockNumber
SegmentWriter::WritePage(PageType type, const uint8_t *content, std::size_t bytes, BlockNumber next)
{
	return pg::PgCall([&]() -> BlockNumber {
		CHECK_FOR_INTERRUPTS();
		Buffer buffer = pg::NewIndexBuffer(index_, IsFreePage);
		Page page = BufferGetPage(buffer);
		InitPage(page, type, id_);
		std::memcpy(ContentOf(page), content, bytes);
		SetContentBytes(page, bytes);
		OpaqueOf(page)->next = next;
		pg::FinishNewPage(buffer, wal_);
		BlockNumber block = BufferGetBlockNumber(buffer);
		UnlockReleaseBuffer(buffer);
		return block;
	});
}

void
SegmentWriter::WriteDataPage(PageType type, const uint8_t *content, std::size_t bytes)
{
	BlockNumber block = WritePage(type, content, bytes, InvalidBlockNumber);
	if (!extents_.empty() && extents_.back().start + extents_.back().count == block)
		extents_.back().count++;
	else
		extents_.push_back({block, 1});
	logical_pages_++;
}

void
SegmentWriter::WriteStream(const uint8_t *data, std::size_t bytes)
{
	while (bytes > 0)
	{
		std::size_t n = std::min(bytes, kPageContentBytes - stream_used_);
		std::memcpy(stream_.data() + stream_used_, data, n);
		stream_used_ += n;
		data += n;
		bytes -= n;
		if (stream_used_ == kPageContentBytes)
		{
			WriteDataPage(PageType::kSegmentData, stream_.data(), stream_used_);
			stream_used_ = 0;
		}
	}
}

void
SegmentWriter::EndStream()
{
	if (stream_used_ > 0)
		WriteDataPage(PageType::kSegmentData, stream_.data(), stream_used_);
	stream_used_ = 0;
}

void
SegmentWriter::AddDictEntry(std::string_view term, const TermInfo &info)
{
	if (leaf_builder_.count() > 0 && leaf_builder_.Add(term, &info))
		return;
	if (leaf_builder_.count() > 0)
	{
		leaves_.push_back(leaf_);
		leaf_builder_ = fts::DictPageBuilder(leaf_, sizeof(TermInfo));
	}
	first_keys_.insert(first_keys_.end(), term.begin(), term.end());
	first_key_ends_.push_back(static_cast<uint32_t>(first_keys_.size()));
	bool added = leaf_builder_.Add(term, &info);
	if (!added)
		pg::ThrowError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "term of %zu bytes does not fit a dictionary page",
					   term.size());
}

void
SegmentWriter::AddTerm(std::string_view term, std::span<const fts::DocId> docs, std::span<const uint32_t> tfs,
					   std::span<const uint32_t> positions)
{
	if (term.size() > kMaxTermBytes)
		pg::ThrowError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "lexeme of %zu bytes is longer than %u bytes", term.size(),
					   kMaxTermBytes);
	// The lengths the list's impacts and block maxima bound: the term's
	// field's (its first byte names it) in an index of fields.
	doc_lens_.resize(docs.size());
	if (field_count_ >= 2)
	{
		const int tagged = TermField(term, field_count_);
		if (tagged < 0)
			pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_bm25: a term without a field in an index of fields");
		const uint32_t field = static_cast<uint32_t>(tagged);
		for (std::size_t i = 0; i < docs.size(); i++)
			doc_lens_[i] = field_lengths_[std::size_t{docs[i]} * field_count_ + field];
	}
	else
		for (std::size_t i = 0; i < docs.size(); i++)
			doc_lens_[i] = lengths_[docs[i]];
	encoded_.resize(fts::EncodedPostingListSize(docs, tfs));
	fts::ImpactSummary impacts = fts::EncodePostingList(docs, tfs, doc_lens_, encoded_);

	TermInfo info{};
	info.postings_offset = postings_bytes_;
	info.postings_bytes = static_cast<uint32_t>(encoded_.size());
	info.doc_freq = static_cast<uint32_t>(docs.size());
	info.impact_count = impacts.count;
	for (uint16_t i = 0; i < impacts.count; i++)
	{
		info.impact_tf[i] = impacts.tf[i];
		info.impact_doc_len[i] = impacts.doc_len[i];
	}
	WriteStream(encoded_.data(), encoded_.size());
	postings_bytes_ += encoded_.size();
	if (with_positions_)
	{
		encoded_.resize(fts::EncodedTermPositionsSize(tfs, positions));
		fts::EncodeTermPositions(tfs, positions, encoded_);
		if (encoded_.size() > UINT32_MAX)
			pg::ThrowError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "the positions of a term exceed 4 GB in one segment");
		SetPositionsBytes(info, static_cast<uint32_t>(encoded_.size()));
		WriteStream(encoded_.data(), encoded_.size());
		postings_bytes_ += encoded_.size();
	}
	AddDictEntry(term, info);
	term_count_++;
}

// The lengths array, then (an index of fields) one array per field, each
// from a page boundary.
void
SegmentWriter::WriteLengths()
{
	for (std::size_t from = 0; from < lengths_.size(); from += kLengthsPerPage)
	{
		std::size_t n = std::min<std::size_t>(kLengthsPerPage, lengths_.size() - from);
		WriteDataPage(PageType::kSegmentData, reinterpret_cast<const uint8_t *>(lengths_.data() + from),
					  n * sizeof(uint32_t));
	}
	if (field_count_ < 2)
		return;
	PageImage page;
	for (uint32_t f = 0; f < field_count_; f++)
		for (std::size_t from = 0; from < lengths_.size(); from += kLengthsPerPage)
		{
			std::size_t n = std::min<std::size_t>(kLengthsPerPage, lengths_.size() - from);
			for (std::size_t i = 0; i < n; i++)
			{
				uint32_t len = field_lengths_[(from + i) * field_count_ + f];
				std::memcpy(page.data() + i * sizeof(uint32_t), &len, sizeof len);
			}
			WriteDataPage(PageType::kSegmentData, page.data(), n * sizeof(uint32_t));
		}
}

void
SegmentWriter::WriteRowIds()
{
	PageImage page;
	for (std::size_t from = 0; from < row_ids_.size(); from += kRowIdsPerPage)
	{
		std::size_t n = std::min<std::size_t>(kRowIdsPerPage, row_ids_.size() - from);
		for (std::size_t i = 0; i < n; i++)
		{
			pg::WritePackedTid(&page[i * kRowIdBytes], row_ids_[from + i]);
		}
		WriteDataPage(PageType::kSegmentData, page.data(), n * kRowIdBytes);
	}
}

void
SegmentWriter::WriteAliveBits()
{
	PageImage page;
	for (std::size_t from = 0; from < lengths_.size(); from += kAliveBitsPerPage)
	{
		std::size_t n = std::min<std::size_t>(kAliveBitsPerPage, lengths_.size() - from);
		std::size_t bytes = (n + 7) / 8;
		std::memset(page.data(), 0xFF, bytes);
		if (n % 8 != 0)
			page[bytes - 1] = static_cast<uint8_t>((1u << (n % 8)) - 1);
		WriteDataPage(PageType::kSegmentData, page.data(), bytes);
	}
}

void
SegmentWriter::WriteDictionary(SegmentHeader &header)
{
	leaves_.push_back(leaf_); // the last leaf (possibly empty: an empty segment still has a root)
	if (first_key_ends_.empty())
		first_key_ends_.push_back(0);
	header.dict_first = logical_pages_;
	header.dict_leaves = static_cast<uint32_t>(leaves_.size());
	for (const PageImage &leaf : leaves_)
		WriteDataPage(PageType::kDictLeaf, leaf.data(), kPageContentBytes);

	// Inner levels: (first key of child, child's logical page), until one node.
	ArenaVector<char> keys(first_keys_, mem::BuildAllocator<char>(arena_));
	ArenaVector<uint32_t> ends(first_key_ends_, mem::BuildAllocator<uint32_t>(arena_));
	uint32_t level_first = header.dict_first;
	uint32_t level_count = header.dict_leaves;
	header.dict_height = 1;
	while (level_count > 1)
	{
		ArenaVector<char> next_keys{mem::BuildAllocator<char>(arena_)};
		ArenaVector<uint32_t> next_ends{mem::BuildAllocator<uint32_t>(arena_)};
		uint32_t next_first = logical_pages_;
		PageImage node;
		fts::DictPageBuilder builder(node, sizeof(uint32_t));
		auto flush = [&] {
			WriteDataPage(PageType::kDictInner, node.data(), kPageContentBytes);
			builder = fts::DictPageBuilder(node, sizeof(uint32_t));
		};
		for (uint32_t i = 0; i < level_count; i++)
		{
			uint32_t begin = i == 0 ? 0 : ends[i - 1];
			std::string_view key(keys.data() + begin, ends[i] - begin);
			uint32_t child = level_first + i;
			if (builder.count() > 0 && !builder.Add(key, &child))
				flush();
			if (builder.count() == 0)
			{
				next_keys.insert(next_keys.end(), key.begin(), key.end());
				next_ends.push_back(static_cast<uint32_t>(next_keys.size()));
				builder.Add(key, &child);
			}
		}
		flush();
		level_first = next_first;
		level_count = logical_pages_ - next_first;
		keys.swap(next_keys);
		ends.swap(next_ends);
		header.dict_height++;
	}
	header.dict_root = level_first;
}

BlockNumber
SegmentWriter::WriteExtentPages(uint32_t inline_count)
{
	// Chunks after the inline ones, written last to first so each links on.
	BlockNumber next = InvalidBlockNumber;
	uint32_t total = static_cast<uint32_t>(extents_.size());
	if (total <= inline_count)
		return next;
	uint32_t rest = total - inline_count;
	uint32_t chunks = (rest + kExtentsPerPage - 1) / kExtentsPerPage;
	PageImage page;
	for (uint32_t c = chunks; c-- > 0;)
	{
		uint32_t from = inline_count + c * kExtentsPerPage;
		uint32_t n = std::min(kExtentsPerPage, total - from);
		ExtentPage head{n, 0};
		std::memcpy(page.data(), &head, sizeof head);
		std::memcpy(page.data() + sizeof head, extents_.data() + from, n * sizeof(Extent));
		next = WritePage(PageType::kExtents, page.data(), sizeof head + n * sizeof(Extent), next);
	}
	return next;
}

SegmentRef
SegmentWriter::Finish()
{
	SegmentHeader header{};
	header.id = id_;
	header.doc_count = static_cast<uint32_t>(lengths_.size());
	header.total_length = total_length_;
	header.term_count = term_count_;
	header.postings_first = 0;
	EndStream();
	header.postings_bytes = postings_bytes_;
	header.lengths_first = logical_pages_;
	WriteLengths();
	header.rowids_first = logical_pages_;
	WriteRowIds();
	header.alive_first = logical_pages_;
	WriteAliveBits();
	WriteDictionary(header);
	header.page_count = logical_pages_;
	header.extent_count = static_cast<uint32_t>(extents_.size());
	header.inline_extents = std::min(kInlineExtents, header.extent_count);

	BlockNumber extent_chain = WriteExtentPages(header.inline_extents);
	PageImage page;
	std::memcpy(page.data(), &header, sizeof header);
	std::memcpy(page.data() + sizeof header, extents_.data(), header.inline_extents * sizeof(Extent));
	BlockNumber header_block = WritePage(PageType::kSegmentHeader, page.data(),
										 sizeof header + header.inline_extents * sizeof(Extent), extent_chain);
	return SegmentRef{header_block, id_, header.doc_count, 0};
}

} // namespace quarry::am::bm25

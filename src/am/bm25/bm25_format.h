// On-disk format of a quarry_bm25 index.
//
// Block 0 is the metapage. Every other page belongs to one of:
//
//   segment    an immutable inverted index over a contiguous range of documents:
//              a header page (+ extent pages), and data pages addressed by logical
//              page number through the header's extent list:
//                postings    the encoded posting lists (src/fts/posting_list.h),
//                            each followed, in an index with positions, by its
//                            positions section (src/fts/term_positions.h);
//                            one byte stream across pages
//                lengths     uint32_t length of every document; in an index of
//                            F >= 2 fields, followed by F more arrays (each
//                            from a page boundary): field f's length of
//                            every document
//                row ids     6-byte heap TID of every document
//                alive       one bit per document, cleared by VACUUM (the only
//                            part of a segment that changes after it is written)
//                dictionary  a static B-tree over the terms: leaf items map a term
//                            to its document frequency, posting list location and
//                            impact summary; inner items map a separator to a child
//   pending    the pending list: rows inserted since the last flush, as a byte
//              stream of entries (heap TID, length, terms with tf and positions) over a chain of
//              pages; flushed into a new segment once it exceeds
//              quarry.bm25_pending_limit
//   free       recycled pages, in the free space map
//
// Documents are numbered by position: segment after segment (in the order the
// metapage lists them), then the pending list. That order is also the tie-break
// between equal scores.
//
// Every page carries PageOpaque in its special space, ending with kPageId (for
// pg_filedump and corruption checks); the metapage starts with kMagic and
// kFormatVersion. Layout changes bump kFormatVersion.
#pragma once

#include "am/null_row_list.h"
#include "pg/postgres_api.h"

extern "C" {
#include "storage/block.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
}

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace quarry::am::bm25 {

inline constexpr uint32_t kMagic = 0x35324251; // "QB25"
// 2: the null-row list; 3: the configuration's name; 4: term positions (the
// metapage's flags, TermInfo::positions_bytes, positions in pending entries);
// 5: fields (several indexed columns: the metapage's field_count and
// field_total_length, field-tagged terms, per-field lengths in segments and
// pending entries). An index of one field is laid out as in format 4.
inline constexpr uint32_t kFormatVersion = 5;
/// The oldest format this quarry reads: a version 2 metapage lacks
/// text_config_schema and text_config_name (zeros there), and its
/// configuration is known by OID only.
inline constexpr uint32_t kOldestFormatVersion = 2;
inline constexpr uint16_t kPageId = 0xFFB1;
inline constexpr BlockNumber kMetaBlock = 0;

enum class PageType : uint16_t {
	kMeta = 1,
	kSegmentHeader = 2,
	kSegmentData = 3, // postings, lengths, row ids, alive bits
	kDictLeaf = 4,
	kDictInner = 5,
	kExtents = 6,
	kPending = 7,
	kFree = 8,
	kNullRows = 9, // the null-row list (pg/null_row_list.h)
	kLast = kNullRows,
};

struct PageOpaque {
	uint32_t segment_id; // owning segment; 0 for other pages
	BlockNumber next;	 // extent pages and pending pages: the next page of the chain
	uint16_t type;		 // PageType
	uint16_t flags;
	uint16_t reserved;
	uint16_t page_id; // kPageId: the last two bytes of the page
};
static_assert(sizeof(PageOpaque) == 16, "on-disk format");
static_assert(offsetof(PageOpaque, page_id) == sizeof(PageOpaque) - 2, "page id must be last");

inline constexpr std::size_t kPageHeaderBytes = MAXALIGN(SizeOfPageHeaderData);
/// Bytes of content a page holds between its header and its special space.
inline constexpr std::size_t kPageContentBytes = BLCKSZ - kPageHeaderBytes - MAXALIGN(sizeof(PageOpaque));

// --- metapage -----------------------------------------------------------------

inline constexpr uint32_t kMaxSegments = 48;
inline constexpr uint32_t kMaxRetired = 64;

struct SegmentRef {
	BlockNumber header; // the segment's header page
	uint32_t id;
	uint32_t doc_count;	 // documents in the segment, removed ones included
	uint32_t dead_count; // documents VACUUM removed from it
};
static_assert(sizeof(SegmentRef) == 16, "on-disk format");

enum RetiredKind : uint32_t {
	kRetiredSegment = 1,	 // a whole segment: header, extent pages, data pages
	kRetiredPendingPages = 2 // pending pages from `first` up to (not including) `stop`
};

/// Pages no longer referenced by the metapage, waiting until no running scan can
/// still read them (no snapshot older than `stamp` remains) to be recycled.
struct RetiredRef {
	uint64_t stamp; // FullTransactionId when they were retired
	BlockNumber first;
	BlockNumber stop;
	uint32_t kind; // RetiredKind
	uint32_t reserved;
};
static_assert(sizeof(RetiredRef) == 24, "on-disk format");

struct MetaPage {
	uint32_t magic;
	uint32_t version;
	Oid text_config; // text search configuration, fixed at CREATE INDEX
	uint32_t next_segment_id;
	uint64_t doc_count;	   // N: indexed rows (segments + pending), minus those VACUUM removed
	uint64_t total_length; // sum of their lengths
	BlockNumber pending_head;		// first pending page, InvalidBlockNumber if none
	uint32_t pending_head_offset;	// where live entries start in it
	BlockNumber pending_tail;		// page new entries are appended to
	uint32_t pending_docs;			// entries in the pending list (removed ones included)
	uint64_t pending_bytes;			// bytes of those entries
	am::NullRowListMeta null_rows;	// rows whose value is NULL (not in N): pg/null_row_list.h
	uint32_t segment_count;
	uint32_t retired_count;
	SegmentRef segments[kMaxSegments];
	RetiredRef retired[kMaxRetired];
	// Version 3: the text search configuration by schema and name (each
	// unquoted, NUL-terminated, as in pg_namespace and pg_ts_config), which
	// pg_upgrade and dump/restore keep (an OID they do not: built-in
	// configurations get other OIDs in a new cluster). text_config is the OID
	// it had when the index was built.
	char text_config_schema[NAMEDATALEN];
	char text_config_name[NAMEDATALEN];
	// Version 4 (zero before): kMetaPositions.
	uint32_t flags;
	// Version 5 (zero before, meaning 1): the indexed columns (fields). With
	// two or more, every term starts with its field's number (one byte, see
	// bm25_fields.h), and field_total_length[f] sums field f's lengths over
	// the N rows (total_length sums every field).
	uint32_t field_count;
	uint32_t reserved5;
	uint64_t field_total_length[8];
};
/// The index stores term positions: every posting list of every segment is
/// followed by its positions, every pending entry holds its terms' positions.
inline constexpr uint32_t kMetaPositions = 1;
static_assert(std::is_trivially_destructible_v<MetaPage>, "lives across PostgreSQL calls made without PgCall");
static_assert(sizeof(MetaPage) <= kPageContentBytes, "metapage must fit a page");

/// Most columns (fields) one index takes.
inline constexpr uint32_t kMaxFields = 8;
static_assert(sizeof(MetaPage::field_total_length) == kMaxFields * sizeof(uint64_t), "on-disk format");

// --- segments -------------------------------------------------------------------

struct Extent {
	BlockNumber start;
	uint32_t count;
};
static_assert(sizeof(Extent) == 8, "on-disk format");

struct SegmentHeader {
	uint32_t id;
	uint32_t doc_count;
	uint64_t total_length; // of its documents when it was written
	uint64_t postings_bytes;
	uint32_t term_count;
	uint32_t page_count; // logical data pages
	// Sections, as first logical page numbers.
	uint32_t postings_first;
	uint32_t lengths_first;
	uint32_t rowids_first;
	uint32_t alive_first;
	uint32_t dict_first; // first dictionary leaf; leaves are consecutive
	uint32_t dict_leaves;
	uint32_t dict_root;	  // logical page of the dictionary's root
	uint32_t dict_height; // 1: the root is a leaf
	uint32_t extent_count;	 // all extents
	uint32_t inline_extents; // extents in this page; the rest in extent pages
};
static_assert(sizeof(SegmentHeader) == 72, "on-disk format");

inline constexpr uint32_t kInlineExtents =
	static_cast<uint32_t>((kPageContentBytes - sizeof(SegmentHeader)) / sizeof(Extent));

struct ExtentPage {
	uint32_t count;
	uint32_t reserved;
};
static_assert(sizeof(ExtentPage) == 8, "on-disk format");
inline constexpr uint32_t kExtentsPerPage =
	static_cast<uint32_t>((kPageContentBytes - sizeof(ExtentPage)) / sizeof(Extent));

inline constexpr uint32_t kLengthsPerPage = static_cast<uint32_t>(kPageContentBytes / sizeof(uint32_t));
inline constexpr uint32_t kRowIdBytes = 6; // pg::kPackedTidBytes, little-endian (pg/heap_tid.h)
inline constexpr uint32_t kRowIdsPerPage = static_cast<uint32_t>(kPageContentBytes / kRowIdBytes);
inline constexpr uint32_t kAliveBitsPerPage = static_cast<uint32_t>(kPageContentBytes * 8);

/// What a dictionary leaf item stores after the term.
struct TermInfo {
	uint64_t postings_offset; // in the postings section
	uint32_t postings_bytes;
	uint32_t doc_freq;
	uint16_t impact_count;
	uint16_t impact_tf[4];
	uint16_t impact_doc_len[4];
	// Version 4: bytes of the term's positions, which follow its posting list
	// (0 in an index without positions), as two halves (the field is not
	// 4-byte aligned).
	uint16_t positions_bytes_low;
	uint16_t positions_bytes_high;
	uint16_t reserved;
};
static_assert(sizeof(TermInfo) == 40, "on-disk format");
static_assert(offsetof(TermInfo, positions_bytes_low) == 34, "on-disk format");

inline uint32_t
PositionsBytes(const TermInfo &info)
{
	return uint32_t{info.positions_bytes_low} | (uint32_t{info.positions_bytes_high} << 16);
}

inline void
SetPositionsBytes(TermInfo &info, uint32_t bytes)
{
	info.positions_bytes_low = static_cast<uint16_t>(bytes & 0xFFFF);
	info.positions_bytes_high = static_cast<uint16_t>(bytes >> 16);
}

/// Largest word position (PostgreSQL's MAXENTRYPOS - 1: later words are
/// clamped to it).
inline constexpr uint32_t kMaxPosition = 16383;

/// Longest lexeme PostgreSQL's text search produces (MAXSTRLEN - 1).
inline constexpr uint32_t kMaxTermBytes = 2047;

// --- pending list ---------------------------------------------------------------

struct PendingPage {
	uint32_t used; // bytes of entries in this page
	uint32_t reserved;
};
static_assert(sizeof(PendingPage) == 8, "on-disk format");
inline constexpr uint32_t kPendingBytesPerPage = static_cast<uint32_t>(kPageContentBytes - sizeof(PendingPage));

/// A pending entry: this header, then (an index of F >= 2 fields) F uint32_t
/// field lengths, then `term_count` terms, each
/// varint(tf - 1), varint(byte length), bytes, and, in an index with
/// positions, tf varints: the first position, then the gaps. `entry_bytes`
/// counts everything.
struct PendingEntryHeader {
	uint32_t entry_bytes;
	uint16_t heap_tid[3]; // ItemPointerData, field by field (pg/heap_tid.h)
	uint8_t flags; // kPendingRemoved when VACUUM removed the row
	uint8_t reserved;
	uint32_t length;
	uint32_t term_count;
};
static_assert(sizeof(PendingEntryHeader) == 20, "on-disk format");
inline constexpr uint8_t kPendingRemoved = 1;
inline constexpr std::size_t kPendingFlagsOffset = offsetof(PendingEntryHeader, flags);

} // namespace quarry::am::bm25

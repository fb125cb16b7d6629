// The pending list of a quarry_bm25 index: rows inserted since the last flush.
//
// aminsert tokenizes the row and appends one entry (heap TID, length, its terms
// with tf) to a byte stream over a chain of pages, under the metapage's
// exclusive lock, WAL-logged with generic WAL. Readers copy the stream from the
// head position the metapage gives, for the number of entries it gives, so
// entries appended later are not seen. Once the list holds more than
// quarry.bm25_pending_limit, the inserting backend flushes it into a new segment
// (bm25_maintenance.cpp).
#pragma once

#include "am/bm25/bm25.h"
#include "memory/scan_arena.h"

#include <span>
#include <string_view>
#include <type_traits>

namespace quarry::am::bm25 {

struct PendingDoc {
	ItemPointerData tid;
	uint32_t length;
	bool removed;		   // VACUUM removed the row
	uint32_t term_count;
	const uint8_t *terms;  // the encoded terms
	uint32_t terms_bytes;
	uint64_t stream_offset; // where the entry starts in the snapshot's stream
	bool with_positions;	// its terms carry positions (the index's kMetaPositions)
};

/// Where a piece of the copied stream came from, to find entries' pages again.
struct PendingPiece {
	uint64_t stream_offset;
	BlockNumber block;
	uint32_t page_offset;
	uint32_t bytes;
};

struct PendingSnapshot {
	PendingDoc *docs;
	uint32_t *lengths; // docs[i].length, contiguous (for scoring windows)
	uint32_t count;
	// An index of fields: field f's length of entry i at field_lengths[f *
	// count + i] (each field's lengths contiguous); else null and 0.
	uint32_t *field_lengths = nullptr;
	uint32_t field_count = 0;
	uint64_t bytes;
	PendingPiece *pieces;
	uint32_t piece_count;
};
static_assert(std::is_trivially_destructible_v<PendingSnapshot>, "lives across PostgreSQL calls made without PgCall");

/// Copies the pending list the metapage copy `meta` describes.
PendingSnapshot *ReadPending(Relation index, const MetaPage &meta, mem::ScanArena &arena);

/// The (block, offset within the page's entry area) of a byte of the stream.
void LocatePending(const PendingSnapshot &snapshot, uint64_t stream_offset, BlockNumber *block, uint32_t *offset);

/// Walks the terms of a pending entry.
class PendingTerms {
public:
	explicit PendingTerms(const PendingDoc &doc)
		: p_(doc.terms), end_(doc.terms + doc.terms_bytes), left_(doc.term_count), with_positions_(doc.with_positions)
	{
	}
	/// The next term; false at the end. Throws on a malformed entry. With
	/// `positions`, the encoded positions of the term (empty in an index
	/// without positions): DecodePendingPositions reads them.
	bool Next(std::string_view &term, uint32_t &tf, std::span<const uint8_t> *positions = nullptr);

private:
	const uint8_t *p_;
	const uint8_t *end_;
	uint32_t left_;
	bool with_positions_;
};

/// The tf positions of a pending term (PendingTerms::Next) into out[0 .. tf);
/// false if they are malformed.
bool DecodePendingPositions(std::span<const uint8_t> encoded, uint32_t tf, uint32_t *out);
static_assert(std::is_trivially_destructible_v<PendingTerms>, "lives across PostgreSQL calls made without PgCall");

/// Appends a row to the pending list (aminsert). Returns the list's size in
/// bytes afterwards.
uint64_t AppendPending(Relation index, ItemPointer tid, const Tokens &tokens, bool with_positions);

/// Where the flags byte of the entry at `stream_offset` of `snapshot` lies:
/// its pending page and the offset in that page's data. Throws
/// ThrowCorrupt when the snapshot does not reach it.
void LocatePendingFlags(Relation index, const PendingSnapshot &snapshot, uint64_t stream_offset, BlockNumber *block,
						uint32_t *offset);

/// Sets the "removed" flag at `offset` of pending page `page` (block
/// `block`, locked and registered in the caller's WAL record; VACUUM).
void MarkPendingRemoved(Relation index, Page page, BlockNumber block, uint32_t offset);

} // namespace quarry::am::bm25

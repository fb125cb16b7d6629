// The null-row list of a quarry index: the heap TIDs of rows whose indexed
// value is NULL. Such rows are no documents and no vectors, but
// `ORDER BY col <op> q` must still return them, after every other row, with
// a NULL distance, as the same query without the index does (an index that
// dropped them would silently return fewer rows).
//
// The list is a chain of pages of TIDs that are never unlinked: VACUUM
// compacts each page in place, and inserts fill the first page with room
// from a hint in the metapage, so a table whose NULL rows come and go does
// not grow the chain. Every change is one GenericXLog record that includes
// the metapage, which is always locked first; the list's pages are locked
// only under it.
//
// Each access method keeps a NullRowListMeta in its metapage and describes
// its page format with a NullRowListFormat.
//
// C-shaped: these functions call PostgreSQL directly and may raise ERRORs.
#pragma once

#include "pg/index_pages.h"

extern "C" {
#include "access/genam.h"
#include "storage/itemptr.h"
}

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace quarry::am {

/// The list's fields in an access method's metapage.
struct NullRowListMeta {
	BlockNumber head; // first page, InvalidBlockNumber if none
	BlockNumber tail; // last page
	BlockNumber hint; // a page that had room, where inserts look first
	uint32_t reserved;
	uint64_t count; // rows in the list
};
static_assert(sizeof(NullRowListMeta) == 24, "on-disk format");

/// The head of a list page's content: then `count` ItemPointerData.
struct NullRowPageHeader {
	uint32_t count;
	BlockNumber next; // the next page of the chain (meaningless in the tail)
};
static_assert(sizeof(NullRowPageHeader) == 8, "on-disk format");
static_assert(sizeof(ItemPointerData) == 6, "on-disk format");

/// What the list needs from an access method's page format.
struct NullRowListFormat {
	/// Initialises an empty list page (the access method's header, special
	/// space and page type).
	void (*init_page)(Page page);
	/// ERRORs (naming the index) unless `page` is a list page.
	void (*check_page)(Relation index, Page page, BlockNumber block);
	/// ERRORs unless the locked metapage is sound; the list's fields in it.
	NullRowListMeta *(*meta)(Relation index, Page metapage);
	/// The content area of a list page and its size in bytes.
	char *(*content)(Page page);
	std::size_t content_bytes;
	/// Pages of the free space map the access method may reuse; nullptr: new
	/// pages are always added at the end (the free space map is the access
	/// method's own business).
	pg::PageReusable reusable;
	BlockNumber meta_block;

	/// TIDs a page holds.
	uint32_t
	capacity() const
	{
		return static_cast<uint32_t>((content_bytes - sizeof(NullRowPageHeader)) / sizeof(ItemPointerData));
	}
};

/// For a checker: walks the list's chain from `meta` reading copies of its
/// pages, and returns false, with `why` filled, at the first block `sound`
/// refuses (a block the checker found damaged), a page whose count exceeds
/// its capacity, a loop or a chain that does not end at the tail. Then the
/// list can be read without an ERROR (NullRowReader).
bool NullRowChainSound(const NullRowListFormat &f, Relation index, const NullRowListMeta &meta,
					   bool (*sound)(void *arg, BlockNumber block), void *arg, char *why, std::size_t why_size);

/// The most TIDs any format's page can hold (a page of 8 kB).
inline constexpr uint32_t kMaxNullRowsPerPage = BLCKSZ / sizeof(ItemPointerData);

/// aminsert of a NULL value.
void AppendNullRow(const NullRowListFormat &format, Relation index, ItemPointer tid);

/// ambuild: writes `count` TIDs as the list (no WAL: the build logs every
/// page) and records it in `meta`, the build's metapage image.
void WriteNullRowsForBuild(const NullRowListFormat &format, Relation index, const ItemPointerData *tids,
						   uint64_t count, NullRowListMeta *meta);

/// ambulkdelete: removes the TIDs `callback` reports dead; returns how many.
uint64_t VacuumNullRows(const NullRowListFormat &format, Relation index, IndexBulkDeleteCallback callback,
						void *callback_state);

/// Reads the list page by page, from the head to the tail recorded in a copy
/// of the metapage. Trivially destructible; `buffer` holds capacity() TIDs.
class NullRowReader {
public:
	NullRowReader(const NullRowListFormat &format, Relation index, const NullRowListMeta &meta,
				  ItemPointerData *buffer)
		: format_(&format), index_(index), next_(meta.head), tail_(meta.tail), tids_(buffer)
	{
	}

	/// The next TID; false at the end of the list.
	bool Next(ItemPointer out);

private:
	bool LoadPage();

	const NullRowListFormat *format_;
	Relation index_;
	BlockNumber next_; // the page to read next, InvalidBlockNumber after the tail
	BlockNumber tail_;
	ItemPointerData *tids_;
	uint32_t count_ = 0;
	uint32_t at_ = 0;
	BlockNumber pages_read_ = 0;
};
static_assert(std::is_trivially_destructible_v<NullRowReader>);

} // namespace quarry::am

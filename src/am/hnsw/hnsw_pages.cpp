#include "am/hnsw/hnsw_pages.h"

#include "am/hnsw/hnsw.h"

extern "C" {
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace quarry::am::hnsw {

void
InitPage(Page page, PageType type)
{
	PageInit(page, BLCKSZ, sizeof(PageOpaque));
	PageOpaque *opaque = OpaqueOf(page);
	std::memset(opaque, 0, sizeof(PageOpaque));
	opaque->type = static_cast<uint8_t>(type);
	opaque->page_id = kPageId;
}

void
InitStreamPage(Page page, PageType type)
{
	InitPage(page, type);
	auto *header = reinterpret_cast<PageHeader>(page);
	header->pd_lower = header->pd_special;
	header->pd_upper = header->pd_special;
}

void
InitMetaPage(Page page, uint32_t dims, int m, int ef_construction, quarry::hnsw::Metric metric,
			 quarry::hnsw::Storage storage)
{
	InitPage(page, PageType::kMeta);
	MetaPage *meta = MetaOf(page);
	std::memset(meta, 0, sizeof(MetaPage));
	meta->magic = kMagic;
	meta->version = FormatVersionFor(storage);
	meta->storage = static_cast<uint8_t>(storage);
	meta->dims = dims;
	meta->m = static_cast<uint16_t>(m);
	meta->ef_construction = static_cast<uint16_t>(ef_construction);
	meta->metric = static_cast<uint8_t>(metric);
	meta->record_size = dims > 0 ? RecordSize(dims, m, storage) : 0;
	meta->entry_node = quarry::hnsw::kInvalidNode;
	meta->entry_level = -1;
	meta->upper_insert_block = InvalidBlockNumber;
	meta->null_rows.head = InvalidBlockNumber;
	meta->null_rows.tail = InvalidBlockNumber;
	meta->null_rows.hint = InvalidBlockNumber;
	meta->zero_vectors = static_cast<uint8_t>(ZeroVectors::kNone);
	// The metadata is page content: full-page images must keep it.
	reinterpret_cast<PageHeader>(page)->pd_lower =
		static_cast<LocationIndex>(reinterpret_cast<char *>(meta + 1) - reinterpret_cast<char *>(page));
}

void
CheckPage(Relation index, Page page, BlockNumber block, PageType type)
{
	if (PageIsNew(page))
		pg::ThrowCorrupt(index, "block %u is an empty page where a page of type %d was expected", block,
					static_cast<int>(type));
	if (PageGetSpecialSize(page) != MAXALIGN(sizeof(PageOpaque)) || OpaqueOf(page)->page_id != kPageId)
		pg::ThrowCorrupt(index, "block %u is not a quarry_hnsw page", block);
	if (OpaqueOf(page)->type != static_cast<uint8_t>(type))
		pg::ThrowCorrupt(index, "block %u is a page of type %d where a page of type %d was expected", block,
					OpaqueOf(page)->type, static_cast<int>(type));
}

namespace {

// A stream directory: at most kMaxExtents extents, numbered consecutively
// from stream page 0, none at block 0, adding up to npages.
bool
DirectorySane(const StreamDirectory &dir, const char *name, char *why, std::size_t why_size)
{
	if (dir.nextents > static_cast<uint32_t>(kMaxExtents))
	{
		std::snprintf(why, why_size, "the %s directory has %u extents", name, dir.nextents);
		return false;
	}
	uint64_t pages = 0;
	for (uint32_t i = 0; i < dir.nextents; i++)
	{
		const Extent &e = dir.extents[i];
		if (e.first_page != pages || e.npages == 0 || e.first_block == kMetaBlock ||
			static_cast<uint64_t>(e.first_block) + e.npages > MaxBlockNumber)
		{
			std::snprintf(why, why_size, "extent %u of the %s directory is malformed", i, name);
			return false;
		}
		pages += e.npages;
	}
	if (pages != dir.npages)
	{
		std::snprintf(why, why_size, "the %s directory counts %u pages, its extents hold %llu", name, dir.npages,
					  static_cast<unsigned long long>(pages));
		return false;
	}
	return true;
}

} // namespace

bool
MetaFieldsSane(const MetaPage &meta, char *why, std::size_t why_size)
{
	if (meta.m < kMinM || meta.m > kMaxM || meta.ef_construction < kMinEfConstruction ||
		meta.ef_construction > kMaxEfConstruction || !quarry::hnsw::IsValidMetric(meta.metric) ||
		meta.dims > quarry::hnsw::kMaxDimensions || !quarry::hnsw::IsValidStorage(meta.storage) ||
		meta.version != FormatVersionFor(StorageOf(meta)))
	{
		std::snprintf(why, why_size, "options out of range (m %u, ef_construction %u, metric %u, dims %u, storage %u in version %u)", meta.m,
					  meta.ef_construction, meta.metric, meta.dims, meta.storage, meta.version);
		return false;
	}
	if (meta.zero_vectors > static_cast<uint8_t>(ZeroVectors::kHeld) ||
		(meta.zero_vectors == static_cast<uint8_t>(ZeroVectors::kHeld) &&
		 static_cast<quarry::hnsw::Metric>(meta.metric) != quarry::hnsw::Metric::kCosine))
	{
		std::snprintf(why, why_size, "zero-vector state %u under metric %u", meta.zero_vectors, meta.metric);
		return false;
	}
	if (meta.record_size != (meta.dims > 0 ? RecordSize(meta.dims, meta.m, StorageOf(meta)) : 0) ||
		(meta.dims == 0 && meta.node_count > 0))
	{
		std::snprintf(why, why_size, "record size %u does not match %u dimensions and m %u", meta.record_size,
					  meta.dims, meta.m);
		return false;
	}
	if (meta.entry_node == quarry::hnsw::kInvalidNode
			? meta.entry_level != -1
			: (meta.entry_node >= meta.node_count || meta.entry_level < 0 || meta.entry_level > quarry::hnsw::kMaxLevel))
	{
		std::snprintf(why, why_size, "entry point %u at level %d with %u nodes", meta.entry_node, meta.entry_level,
					  meta.node_count);
		return false;
	}
	if (meta.free_count > meta.node_count)
	{
		std::snprintf(why, why_size, "%u free slots of %u", meta.free_count, meta.node_count);
		return false;
	}
	if (!DirectorySane(meta.nodes, "node stream", why, why_size) ||
		!DirectorySane(meta.tids, "TID stream", why, why_size))
		return false;
	if (meta.nodes.npages < StreamPagesFor(meta.node_count, meta.record_size) ||
		static_cast<uint64_t>(meta.tids.npages) * kTidEntriesPerPage < meta.node_count)
	{
		std::snprintf(why, why_size, "the streams (%u node pages, %u TID pages) do not hold %u nodes",
					  meta.nodes.npages, meta.tids.npages, meta.node_count);
		return false;
	}
	return true;
}

void
CheckMetaPage(Relation index, Page page)
{
	CheckPage(index, page, kMetaBlock, PageType::kMeta);
	const MetaPage *meta = MetaOf(page);
	if (meta->magic != kMagic)
		pg::ThrowCorrupt(index, "the metapage has no quarry_hnsw magic number");
	if (meta->version != kFormatVersion && meta->version != kCompressedFormatVersion)
		pg::ThrowOtherFormat(index, meta->version, kFormatVersion);
	char why[256];
	if (!MetaFieldsSane(*meta, why, sizeof why))
		pg::ThrowCorrupt(index, "metapage: %s", why);
}

void
ReadMeta(Relation index, MetaPage *out)
{
	Buffer buffer = ReadBuffer(index, kMetaBlock);
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	Page page = BufferGetPage(buffer);
	CheckMetaPage(index, page);
	std::memcpy(out, MetaOf(page), sizeof(MetaPage));
	UnlockReleaseBuffer(buffer);
}

void
CheckBlockExists(Relation index, BlockNumber block, BlockNumber *known)
{
	if (block < *known)
		return;
	*known = RelationGetNumberOfBlocks(index);
	if (block >= *known || block == kMetaBlock)
		pg::ThrowCorrupt(index, "a node names block %u; the index has %u blocks", block, *known);
}

Buffer
ReadTidPage(Relation index, const MetaPage &meta, uint32_t page)
{
	const BlockNumber block = StreamBlock(meta.tids, page);
	if (block == InvalidBlockNumber)
		pg::ThrowCorrupt(index, "the TID stream has no page %u", page);
	Buffer buffer = ReadBuffer(index, block);
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	CheckPage(index, BufferGetPage(buffer), block, PageType::kTid);
	return buffer;
}

const uint32_t *
UpperItem(Page page, OffsetNumber offset, std::size_t *length)
{
	if (offset == InvalidOffsetNumber || offset > PageGetMaxOffsetNumber(page))
		return nullptr;
	ItemId item = PageGetItemId(page, offset);
	const std::size_t start = ItemIdGetOffset(item);
	*length = ItemIdGetLength(item);
	if (!ItemIdIsNormal(item) || start < SizeOfPageHeaderData || start % sizeof(uint32_t) != 0 ||
		start + *length > static_cast<std::size_t>(reinterpret_cast<PageHeader>(page)->pd_special))
		return nullptr;
	return reinterpret_cast<const uint32_t *>(reinterpret_cast<const char *>(page) + start);
}

uint32_t
FindTopNode(Relation index, const MetaPage &meta, bool deleted_too, int *level)
{
	uint32_t best = quarry::hnsw::kInvalidNode;
	*level = -1;
	for (uint32_t page = 0; page * kTidEntriesPerPage < meta.node_count; page++)
	{
		Buffer buffer = ReadTidPage(index, meta, page);
		Page p = BufferGetPage(buffer);
		{
			const auto *entries = reinterpret_cast<const TidEntry *>(StreamPayload(p));
			const uint32_t end = std::min(meta.node_count - page * kTidEntriesPerPage, kTidEntriesPerPage);
			for (uint32_t i = 0; i < end; i++)
			{
				const bool wanted = entries[i].state == static_cast<uint8_t>(NodeState::kLive) ||
									(deleted_too && entries[i].state == static_cast<uint8_t>(NodeState::kDeleted));
				if (wanted && entries[i].level <= quarry::hnsw::kMaxLevel && entries[i].level > *level)
				{
					*level = entries[i].level;
					best = page * kTidEntriesPerPage + i;
				}
			}
		}
		UnlockReleaseBuffer(buffer);
	}
	return best;
}

BlockNumber
StreamBlock(const StreamDirectory &dir, uint32_t page)
{
	if (page >= dir.npages)
		return InvalidBlockNumber;
	// Few extents (one after a build): a binary search over first_page.
	uint32_t lo = 0, hi = dir.nextents;
	while (hi - lo > 1)
	{
		uint32_t mid = (lo + hi) / 2;
		if (dir.extents[mid].first_page <= page)
			lo = mid;
		else
			hi = mid;
	}
	const Extent &e = dir.extents[lo];
	return e.first_block + (page - e.first_page);
}

namespace {

void
InitNullRowPage(Page page)
{
	InitPage(page, PageType::kNullRows);
}

void
CheckNullRowPage(Relation index, Page page, BlockNumber block)
{
	CheckPage(index, page, block, PageType::kNullRows);
}

am::NullRowListMeta *
NullRowsOfMeta(Relation index, Page metapage)
{
	CheckMetaPage(index, metapage);
	return &MetaOf(metapage)->null_rows;
}

// Upper pages own the free space map: the list always adds pages at the end.
const am::NullRowListFormat kNullRowFormat{
	InitNullRowPage, CheckNullRowPage, NullRowsOfMeta, StreamPayload, kStreamPayloadBytes,
	nullptr,		 kMetaBlock,
};

} // namespace

const am::NullRowListFormat &
NullRowFormat()
{
	return kNullRowFormat;
}

} // namespace quarry::am::hnsw

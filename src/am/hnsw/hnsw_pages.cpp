#include "am/hnsw/hnsw_format.h"

#include "am/hnsw/hnsw.h"

extern "C" {
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace quarry::am {

void
InitHnswPage(Page page, HnswPageType type)
{
	PageInit(page, BLCKSZ, sizeof(HnswPageOpaque));
	HnswPageOpaque *opaque = HnswOpaque(page);
	std::memset(opaque, 0, sizeof(HnswPageOpaque));
	opaque->type = static_cast<uint8>(type);
	opaque->page_id = kHnswPageId;
}

void
InitStreamPage(Page page, HnswPageType type)
{
	InitHnswPage(page, type);
	auto *header = reinterpret_cast<PageHeader>(page);
	header->pd_lower = header->pd_special;
	header->pd_upper = header->pd_special;
}

void
InitMetaPage(Page page, uint32 dims, int m, int ef_construction, hnsw::Metric metric)
{
	InitHnswPage(page, HnswPageType::kMeta);
	HnswMetaPageData *meta = HnswMeta(page);
	std::memset(meta, 0, sizeof(HnswMetaPageData));
	meta->magic = kHnswMagic;
	meta->version = kHnswFormatVersion;
	meta->dims = dims;
	meta->m = static_cast<uint16>(m);
	meta->ef_construction = static_cast<uint16>(ef_construction);
	meta->metric = static_cast<uint8>(metric);
	meta->record_size = dims > 0 ? RecordSize(dims, m) : 0;
	meta->entry_node = hnsw::kInvalidNode;
	meta->entry_level = -1;
	meta->upper_insert_block = InvalidBlockNumber;
	meta->null_rows.head = InvalidBlockNumber;
	meta->null_rows.tail = InvalidBlockNumber;
	meta->null_rows.hint = InvalidBlockNumber;
	// The metadata is page content: full-page images must keep it.
	reinterpret_cast<PageHeader>(page)->pd_lower =
		static_cast<LocationIndex>(reinterpret_cast<char *>(meta + 1) - reinterpret_cast<char *>(page));
}

void
HnswCorrupt(Relation index, const char *fmt, ...)
{
	char detail[512];
	va_list args;
	va_start(args, fmt);
	std::vsnprintf(detail, sizeof detail, fmt, args);
	va_end(args);
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("quarry_hnsw index \"%s\" is corrupted", RelationGetRelationName(index)),
			 errdetail_internal("%s", detail),
			 errhint("REINDEX INDEX %s rebuilds it.", RelationGetRelationName(index))));
	pg_unreachable();
}

void
CheckPageType(Relation index, Page page, BlockNumber block, HnswPageType type)
{
	if (PageIsNew(page))
		HnswCorrupt(index, "block %u is an empty page where a page of type %d was expected", block,
					static_cast<int>(type));
	if (PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaque)) || HnswOpaque(page)->page_id != kHnswPageId)
		HnswCorrupt(index, "block %u is not a quarry_hnsw page", block);
	if (HnswOpaque(page)->type != static_cast<uint8>(type))
		HnswCorrupt(index, "block %u is a page of type %d where a page of type %d was expected", block,
					HnswOpaque(page)->type, static_cast<int>(type));
}

namespace {

// A stream directory: at most kHnswMaxExtents extents, numbered consecutively
// from stream page 0, none at block 0, adding up to npages.
bool
DirectorySane(const HnswStreamDirectory &dir, const char *name, char *why, std::size_t why_size)
{
	if (dir.nextents > static_cast<uint32>(kHnswMaxExtents))
	{
		std::snprintf(why, why_size, "the %s directory has %u extents", name, dir.nextents);
		return false;
	}
	uint64 pages = 0;
	for (uint32 i = 0; i < dir.nextents; i++)
	{
		const HnswExtent &e = dir.extents[i];
		if (e.first_page != pages || e.npages == 0 || e.first_block == kHnswMetaBlock ||
			static_cast<uint64>(e.first_block) + e.npages > MaxBlockNumber)
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
MetaFieldsSane(const HnswMetaPageData &meta, char *why, std::size_t why_size)
{
	if (meta.m < kHnswMinM || meta.m > kHnswMaxM || meta.ef_construction < kHnswMinEfConstruction ||
		meta.ef_construction > kHnswMaxEfConstruction || !hnsw::IsValidMetric(meta.metric) ||
		meta.dims > hnsw::kMaxDimensions)
	{
		std::snprintf(why, why_size, "options out of range (m %u, ef_construction %u, metric %u, dims %u)", meta.m,
					  meta.ef_construction, meta.metric, meta.dims);
		return false;
	}
	if (meta.record_size != (meta.dims > 0 ? RecordSize(meta.dims, meta.m) : 0) ||
		(meta.dims == 0 && meta.node_count > 0))
	{
		std::snprintf(why, why_size, "record size %u does not match %u dimensions and m %u", meta.record_size,
					  meta.dims, meta.m);
		return false;
	}
	if (meta.entry_node == hnsw::kInvalidNode
			? meta.entry_level != -1
			: (meta.entry_node >= meta.node_count || meta.entry_level < 0 || meta.entry_level > hnsw::kMaxLevel))
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
		static_cast<uint64>(meta.tids.npages) * kTidEntriesPerPage < meta.node_count)
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
	CheckPageType(index, page, kHnswMetaBlock, HnswPageType::kMeta);
	const HnswMetaPageData *meta = HnswMeta(page);
	if (meta->magic != kHnswMagic)
		HnswCorrupt(index, "the metapage has no quarry_hnsw magic number");
	if (meta->version != kHnswFormatVersion)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has format version %u; this quarry reads version %u",
						RelationGetRelationName(index), meta->version, kHnswFormatVersion),
				 errhint("REINDEX the index.")));
	char why[256];
	if (!MetaFieldsSane(*meta, why, sizeof why))
		HnswCorrupt(index, "metapage: %s", why);
}

void
ReadMetaPage(Relation index, HnswMetaPageData *out)
{
	Buffer buffer = ReadBuffer(index, kHnswMetaBlock);
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	Page page = BufferGetPage(buffer);
	CheckMetaPage(index, page);
	std::memcpy(out, HnswMeta(page), sizeof(HnswMetaPageData));
	UnlockReleaseBuffer(buffer);
}

void
CheckBlockExists(Relation index, BlockNumber block, BlockNumber *known)
{
	if (block < *known)
		return;
	*known = RelationGetNumberOfBlocks(index);
	if (block >= *known || block == kHnswMetaBlock)
		HnswCorrupt(index, "a node names block %u; the index has %u blocks", block, *known);
}

Buffer
ReadTidPage(Relation index, const HnswMetaPageData &meta, uint32 page)
{
	const BlockNumber block = StreamBlock(meta.tids, page);
	if (block == InvalidBlockNumber)
		HnswCorrupt(index, "the TID stream has no page %u", page);
	Buffer buffer = ReadBuffer(index, block);
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	CheckPageType(index, BufferGetPage(buffer), block, HnswPageType::kTid);
	return buffer;
}

const uint32 *
UpperItem(Page page, OffsetNumber offset, Size *length)
{
	if (offset == InvalidOffsetNumber || offset > PageGetMaxOffsetNumber(page))
		return nullptr;
	ItemId item = PageGetItemId(page, offset);
	const Size start = ItemIdGetOffset(item);
	*length = ItemIdGetLength(item);
	if (!ItemIdIsNormal(item) || start < SizeOfPageHeaderData || start % sizeof(uint32) != 0 ||
		start + *length > static_cast<Size>(reinterpret_cast<PageHeader>(page)->pd_special))
		return nullptr;
	return reinterpret_cast<const uint32 *>(reinterpret_cast<const char *>(page) + start);
}

uint32
FindTopNode(Relation index, const HnswMetaPageData &meta, bool deleted_too, int *level)
{
	uint32 best = hnsw::kInvalidNode;
	*level = -1;
	for (uint32 page = 0; page * kTidEntriesPerPage < meta.node_count; page++)
	{
		Buffer buffer = ReadTidPage(index, meta, page);
		Page p = BufferGetPage(buffer);
		{
			const auto *entries = reinterpret_cast<const TidEntry *>(StreamPayload(p));
			const uint32 end = std::min(meta.node_count - page * kTidEntriesPerPage, kTidEntriesPerPage);
			for (uint32 i = 0; i < end; i++)
			{
				const bool wanted = entries[i].state == static_cast<uint8>(NodeState::kLive) ||
									(deleted_too && entries[i].state == static_cast<uint8>(NodeState::kDeleted));
				if (wanted && entries[i].level <= hnsw::kMaxLevel && entries[i].level > *level)
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
StreamBlock(const HnswStreamDirectory &dir, uint32 page)
{
	if (page >= dir.npages)
		return InvalidBlockNumber;
	// Few extents (one after a build): a binary search over first_page.
	uint32 lo = 0, hi = dir.nextents;
	while (hi - lo > 1)
	{
		uint32 mid = (lo + hi) / 2;
		if (dir.extents[mid].first_page <= page)
			lo = mid;
		else
			hi = mid;
	}
	const HnswExtent &e = dir.extents[lo];
	return e.first_block + (page - e.first_page);
}

namespace {

void
InitNullRowPage(Page page)
{
	InitHnswPage(page, HnswPageType::kNullRows);
}

void
CheckNullRowPage(Relation index, Page page, BlockNumber block)
{
	CheckPageType(index, page, block, HnswPageType::kNullRows);
}

pg::NullRowListMeta *
NullRowsOfMeta(Relation index, Page metapage)
{
	CheckMetaPage(index, metapage);
	return &HnswMeta(metapage)->null_rows;
}

[[noreturn]] void
NullRowsCorrupt(Relation index, const char *detail)
{
	HnswCorrupt(index, "%s", detail);
}

// Upper pages own the free space map: the list always adds pages at the end.
const pg::NullRowListFormat kNullRowFormat{
	InitNullRowPage, CheckNullRowPage, NullRowsOfMeta, StreamPayload, kStreamPayloadBytes,
	nullptr,		 NullRowsCorrupt,  kHnswMetaBlock,
};

} // namespace

const pg::NullRowListFormat &
HnswNullRowFormat()
{
	return kNullRowFormat;
}

} // namespace quarry::am

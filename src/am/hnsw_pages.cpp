#include "am/hnsw_pages.h"

extern "C" {
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

#include <algorithm>
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
	// The metadata is page content: full-page images must keep it.
	reinterpret_cast<PageHeader>(page)->pd_lower =
		static_cast<LocationIndex>(reinterpret_cast<char *>(meta + 1) - reinterpret_cast<char *>(page));
}

void
CheckPageType(Relation index, Page page, BlockNumber block, HnswPageType type)
{
	if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaque)) ||
		HnswOpaque(page)->page_id != kHnswPageId || HnswOpaque(page)->type != static_cast<uint8>(type))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has an unexpected page at block %u", RelationGetRelationName(index), block),
				 errdetail("Expected a quarry_hnsw page of type %d.", static_cast<int>(type))));
}

void
ReadMetaPage(Relation index, HnswMetaPageData *out)
{
	Buffer buffer = ReadBuffer(index, kHnswMetaBlock);
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	Page page = BufferGetPage(buffer);
	CheckPageType(index, page, kHnswMetaBlock, HnswPageType::kMeta);
	const HnswMetaPageData *meta = HnswMeta(page);
	if (meta->magic != kHnswMagic)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a quarry_hnsw index", RelationGetRelationName(index))));
	if (meta->version != kHnswFormatVersion)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has format version %u; this quarry reads version %u",
						RelationGetRelationName(index), meta->version, kHnswFormatVersion),
				 errhint("REINDEX the index.")));
	std::memcpy(out, meta, sizeof(HnswMetaPageData));
	UnlockReleaseBuffer(buffer);
}

uint32
FindTopNode(Relation index, const HnswMetaPageData &meta, bool deleted_too, int *level)
{
	uint32 best = hnsw::kInvalidNode;
	*level = -1;
	for (uint32 page = 0; page * kTidEntriesPerPage < meta.node_count; page++)
	{
		const BlockNumber block = StreamBlock(meta.tids, page);
		if (block == InvalidBlockNumber)
			break;
		Buffer buffer = ReadBuffer(index, block);
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		Page p = BufferGetPage(buffer);
		if (!PageIsNew(p))
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

} // namespace quarry::am

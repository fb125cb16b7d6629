// Page helpers, the metapage, and the maintenance lock of quarry_bm25.
#include "am/bm25/bm25.h"

extern "C" {
#include "access/transam.h"
#include "storage/lmgr.h"
#include "utils/snapmgr.h"
}


#include <cstring>

namespace quarry::am::bm25 {

void
InitPage(Page page, PageType type, uint32_t segment_id)
{
	PageInit(page, BLCKSZ, sizeof(PageOpaque));
	PageOpaque *o = OpaqueOf(page);
	o->segment_id = segment_id;
	o->next = InvalidBlockNumber;
	o->type = static_cast<uint16_t>(type);
	o->flags = 0;
	o->reserved = 0;
	o->page_id = kPageId;
}

void
SetContentBytes(Page page, std::size_t bytes)
{
	Assert(bytes <= kPageContentBytes);
	reinterpret_cast<PageHeader>(page)->pd_lower = static_cast<LocationIndex>(kPageHeaderBytes + bytes);
}

void
CheckPage(Relation index, Page page, BlockNumber block, PageType type, uint32_t segment_id)
{
	if (PageIsNew(page))
		pg::ThrowCorrupt(index, "block %u is an empty page where a page of type %d was expected", block,
						 static_cast<int>(type));
	if (reinterpret_cast<PageHeader>(page)->pd_special != BLCKSZ - MAXALIGN(sizeof(PageOpaque)))
		pg::ThrowCorrupt(index, "block %u has a bad special space offset", block);
	const PageOpaque *o = OpaqueOf(page);
	if (o->page_id != kPageId)
		pg::ThrowCorrupt(index, "block %u is not a quarry_bm25 page (page id 0x%04x)", block, o->page_id);
	if (o->type != static_cast<uint16_t>(type))
		pg::ThrowCorrupt(index, "block %u has page type %d, expected %d", block, o->type, static_cast<int>(type));
	if (segment_id != 0 && o->segment_id != segment_id)
		pg::ThrowCorrupt(index, "block %u belongs to segment %u, expected segment %u", block, o->segment_id,
					  segment_id);
}

MetaPage *
MetaOf(Page page)
{
	return reinterpret_cast<MetaPage *>(ContentOf(page));
}

void
ReadMeta(Relation index, MetaPage *out)
{
	Buffer buffer = ReadBuffer(index, kMetaBlock);
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	Page page = BufferGetPage(buffer);
	CheckPage(index, page, kMetaBlock, PageType::kMeta, 0);
	*out = *MetaOf(page);
	UnlockReleaseBuffer(buffer);
	if (out->magic != kMagic)
		pg::ThrowCorrupt(index, "bad metapage magic number 0x%08x", out->magic);
	if (out->version < kOldestFormatVersion || out->version > kFormatVersion)
		pg::ThrowOtherFormat(index, out->version, kFormatVersion);
	if (out->version < 3)
	{
		std::memset(out->text_config_schema, 0, sizeof out->text_config_schema);
		std::memset(out->text_config_name, 0, sizeof out->text_config_name);
	}
	if (out->version < 4)
		out->flags = 0;
	if (out->version < 5 || out->field_count == 0)
	{
		out->field_count = 1;
		std::memset(out->field_total_length, 0, sizeof out->field_total_length);
	}
	if (out->field_count > kMaxFields)
		pg::ThrowCorrupt(index, "metapage lists %u fields", out->field_count);
	if (out->segment_count > kMaxSegments || out->retired_count > kMaxRetired)
		pg::ThrowCorrupt(index, "metapage lists %u segments and %u retired sets", out->segment_count,
					  out->retired_count);
}

bool
IsFreePage(Page page)
{
	const PageOpaque *o = OpaqueOf(page);
	return o->page_id == kPageId && o->type == static_cast<uint16_t>(PageType::kFree);
}

namespace {

void
InitNullRowPage(Page page)
{
	InitPage(page, PageType::kNullRows, 0);
}

void
CheckNullRowPage(Relation index, Page page, BlockNumber block)
{
	CheckPage(index, page, block, PageType::kNullRows, 0);
}

am::NullRowListMeta *
NullRowsOfMeta(Relation index, Page metapage)
{
	CheckPage(index, metapage, kMetaBlock, PageType::kMeta, 0);
	return &MetaOf(metapage)->null_rows;
}

const am::NullRowListFormat kNullRowFormat{
	InitNullRowPage, CheckNullRowPage, NullRowsOfMeta, ContentOf, kPageContentBytes,
	IsFreePage,		 kMetaBlock,
};

} // namespace

const am::NullRowListFormat &
NullRowFormat()
{
	return kNullRowFormat;
}

void
LockMaintenance(Relation index)
{
	LockPage(index, kMetaBlock, ExclusiveLock);
}

bool
TryLockMaintenance(Relation index)
{
	return ConditionalLockPage(index, kMetaBlock, ExclusiveLock);
}

void
UnlockMaintenance(Relation index)
{
	UnlockPage(index, kMetaBlock, ExclusiveLock);
}

uint64_t
RetireStamp()
{
	return U64FromFullTransactionId(ReadNextFullTransactionId());
}

// A scan reads the metapage after taking its snapshot, so every scan that may
// still read retired pages holds an xmin no newer than the stamp taken when they
// were retired. Once the stamp is behind the horizon of every snapshot (the
// rule nbtree uses to recycle deleted pages), no such scan is left.
bool
StampIsRecyclable(Relation index, uint64_t stamp)
{
	return GlobalVisCheckRemovableFullXid(nullptr, FullTransactionIdFromU64(stamp));
}

} // namespace quarry::am::bm25

// The pending list: appending (aminsert), reading a snapshot, marking entries
// removed (VACUUM). See bm25_pending.h.
#include "am/bm25/bm25_pending.h"
#include "am/bm25/bm25_fields.h"
#include "pg/heap_tid.h"

#include "fts/codec.h"
#include "pg/guard.h"
#include "pg/index_pages.h"

extern "C" {
#include "access/generic_xlog.h"
#include "access/xloginsert.h"
#include "miscadmin.h"
}

#include <algorithm>
#include <cstring>

namespace quarry::am::bm25 {

namespace {

PendingPage *
PendingHeaderOf(Page page)
{
	return reinterpret_cast<PendingPage *>(ContentOf(page));
}

char *
PendingDataOf(Page page)
{
	return ContentOf(page) + sizeof(PendingPage);
}

void
InitPendingPage(Page page)
{
	InitPage(page, PageType::kPending, 0);
	PendingHeaderOf(page)->used = 0;
	PendingHeaderOf(page)->reserved = 0;
	SetContentBytes(page, sizeof(PendingPage));
}

// Serialises a row's entry into palloc'd memory.
uint8_t *
EncodeEntry(ItemPointer tid, const Tokens &tokens, bool with_positions, uint32_t *bytes_out)
{
	const std::size_t field_bytes = tokens.field_count >= 2 ? tokens.field_count * sizeof(uint32_t) : 0;
	std::size_t bytes = sizeof(PendingEntryHeader) + field_bytes;
	for (uint32_t i = 0; i < tokens.count; i++)
		bytes += (2 + (with_positions ? tokens.lexemes[i].tf : 0)) * std::size_t{fts::kMaxVarintBytes} +
				 tokens.lexemes[i].bytes;
	auto *entry = static_cast<uint8_t *>(palloc(bytes));
	std::size_t at = sizeof(PendingEntryHeader);
	if (field_bytes != 0)
		std::memcpy(entry + at, tokens.field_lengths, field_bytes);
	at += field_bytes;
	for (uint32_t i = 0; i < tokens.count; i++)
	{
		const Lexeme &lex = tokens.lexemes[i];
		at += fts::PutVarint(lex.tf - 1, entry + at);
		at += fts::PutVarint(lex.bytes, entry + at);
		std::memcpy(entry + at, lex.text, lex.bytes);
		at += lex.bytes;
		uint32_t previous = 0;
		for (uint32_t j = 0; with_positions && j < lex.tf; j++)
		{
			at += fts::PutVarint(lex.positions[j] - previous, entry + at);
			previous = lex.positions[j];
		}
	}
	PendingEntryHeader header{};
	header.entry_bytes = static_cast<uint32_t>(at);
	pg::StoreTid(header.heap_tid, tid);
	header.length = tokens.length;
	header.term_count = tokens.count;
	std::memcpy(entry, &header, sizeof header);
	*bytes_out = static_cast<uint32_t>(at);
	return entry;
}

// Writes the part of an entry that does not fit the tail page into new pages,
// last page first so that each can link to the next. Returns the first new
// page (InvalidBlockNumber if none was needed) and the last one in *last.
BlockNumber
WriteOverflowPages(Relation index, const uint8_t *data, uint32_t bytes, BlockNumber *last)
{
	uint32_t pages = (bytes + kPendingBytesPerPage - 1) / kPendingBytesPerPage;
	BlockNumber next = InvalidBlockNumber;
	*last = InvalidBlockNumber;
	for (uint32_t k = pages; k-- > 0;)
	{
		uint32_t from = k * kPendingBytesPerPage;
		uint32_t n = std::min(kPendingBytesPerPage, bytes - from);
		Buffer buffer = pg::NewIndexBuffer(index, IsFreePage);
		Page page = BufferGetPage(buffer);
		InitPendingPage(page);
		std::memcpy(PendingDataOf(page), data + from, n);
		PendingHeaderOf(page)->used = n;
		SetContentBytes(page, sizeof(PendingPage) + n);
		OpaqueOf(page)->next = next;
		pg::FinishNewPage(buffer, RelationNeedsWAL(index));
		next = BufferGetBlockNumber(buffer);
		if (*last == InvalidBlockNumber)
			*last = next;
		UnlockReleaseBuffer(buffer);
	}
	return next;
}

// Starts the pending list: an empty page that is head and tail. Called with
// the metapage exclusively locked.
void
CreatePendingList(Relation index, Buffer meta_buffer)
{
	Buffer buffer = pg::NewIndexBuffer(index, IsFreePage);
	pg::PageEdit edit(index, false);
	Page meta_page = edit.Register(meta_buffer);
	Page page = edit.Register(buffer, true);
	InitPendingPage(page);
	MetaPage *meta = MetaOf(meta_page);
	meta->pending_head = BufferGetBlockNumber(buffer);
	meta->pending_head_offset = 0;
	meta->pending_tail = meta->pending_head;
	edit.Finish();
	UnlockReleaseBuffer(buffer);
}

} // namespace

uint64_t
AppendPending(Relation index, ItemPointer tid, const Tokens &tokens, bool with_positions)
{
	uint32_t bytes;
	uint8_t *entry = EncodeEntry(tid, tokens, with_positions, &bytes);

	Buffer meta_buffer = ReadBuffer(index, kMetaBlock);
	LockBuffer(meta_buffer, BUFFER_LOCK_EXCLUSIVE);
	CheckPage(index, BufferGetPage(meta_buffer), kMetaBlock, PageType::kMeta, 0);
	if (MetaOf(BufferGetPage(meta_buffer))->pending_tail == InvalidBlockNumber)
		CreatePendingList(index, meta_buffer);
	BlockNumber tail = MetaOf(BufferGetPage(meta_buffer))->pending_tail;

	Buffer tail_buffer = ReadBuffer(index, tail);
	LockBuffer(tail_buffer, BUFFER_LOCK_EXCLUSIVE);
	CheckPage(index, BufferGetPage(tail_buffer), tail, PageType::kPending, 0);
	uint32_t used = PendingHeaderOf(BufferGetPage(tail_buffer))->used;
	if (used > kPendingBytesPerPage)
		pg::ThrowCorrupt(index, "pending page %u claims %u bytes", tail, used);
	uint32_t room = kPendingBytesPerPage - used;
	uint32_t here = std::min(room, bytes);

	BlockNumber new_tail = tail;
	BlockNumber first_new = InvalidBlockNumber;
	if (here < bytes)
		first_new = WriteOverflowPages(index, entry + here, bytes - here, &new_tail);

	pg::PageEdit edit(index, false);
	Page meta_page = edit.Register(meta_buffer);
	Page tail_page = edit.Register(tail_buffer);
	std::memcpy(PendingDataOf(tail_page) + used, entry, here);
	PendingHeaderOf(tail_page)->used = used + here;
	SetContentBytes(tail_page, sizeof(PendingPage) + used + here);
	if (first_new != InvalidBlockNumber)
		OpaqueOf(tail_page)->next = first_new;
	MetaPage *meta = MetaOf(meta_page);
	meta->pending_tail = new_tail;
	meta->pending_docs++;
	meta->pending_bytes += bytes;
	meta->doc_count++;
	meta->total_length += tokens.length;
	for (uint32_t f = 0; tokens.field_count >= 2 && f < tokens.field_count; f++)
		meta->field_total_length[f] += tokens.field_lengths[f];
	uint64_t pending_bytes = meta->pending_bytes;
	edit.Finish();

	UnlockReleaseBuffer(tail_buffer);
	UnlockReleaseBuffer(meta_buffer);
	pfree(entry);
	return pending_bytes;
}

PendingSnapshot *
ReadPending(Relation index, const MetaPage &meta, mem::ScanArena &arena)
{
	auto *snap = arena.Make<PendingSnapshot>();
	*snap = PendingSnapshot{};
	snap->field_count = FieldCount(meta) >= 2 ? FieldCount(meta) : 0;
	if (meta.pending_docs == 0)
		return snap;
	auto *stream = arena.MakeArray<uint8_t>(meta.pending_bytes);
	uint32_t max_pieces = static_cast<uint32_t>(meta.pending_bytes / kPendingBytesPerPage + 2);
	snap->pieces = arena.MakeArray<PendingPiece>(max_pieces);

	BlockNumber block = meta.pending_head;
	uint32_t offset = meta.pending_head_offset;
	uint64_t copied = 0;
	while (copied < meta.pending_bytes)
	{
		if (block == InvalidBlockNumber || snap->piece_count == max_pieces)
			pg::ThrowCorrupt(index, "The pending list ends before its recorded size.");
		pg::PgCall([&] {
			Buffer buffer = ReadBuffer(index, block);
			LockBuffer(buffer, BUFFER_LOCK_SHARE);
			Page page = BufferGetPage(buffer);
			CheckPage(index, page, block, PageType::kPending, 0);
			uint32_t used = PendingHeaderOf(page)->used;
			if (offset > used || used > kPendingBytesPerPage)
				pg::ThrowCorrupt(index, "pending page %u: offset %u past its %u used bytes", block, offset, used);
			uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(used - offset, meta.pending_bytes - copied));
			std::memcpy(stream + copied, PendingDataOf(page) + offset, n);
			snap->pieces[snap->piece_count++] = {copied, block, offset, n};
			copied += n;
			block = OpaqueOf(page)->next;
			offset = 0;
			UnlockReleaseBuffer(buffer);
		});
	}
	snap->bytes = copied;

	snap->docs = arena.MakeArray<PendingDoc>(meta.pending_docs);
	snap->lengths = arena.MakeArray<uint32_t>(meta.pending_docs);
	const uint32_t fields = FieldCount(meta) >= 2 ? FieldCount(meta) : 0;
	snap->field_lengths = fields != 0 ? arena.MakeArray<uint32_t>(std::size_t{fields} * meta.pending_docs) : nullptr;
	uint64_t at = 0;
	for (uint32_t i = 0; i < meta.pending_docs; i++)
	{
		PendingEntryHeader h;
		if (at + sizeof h > copied)
			pg::ThrowCorrupt(index, "A pending list entry runs past the list.");
		std::memcpy(&h, stream + at, sizeof h);
		if (h.entry_bytes < sizeof h || at + h.entry_bytes > copied)
			pg::ThrowCorrupt(index, "A pending list entry has a bad size.");
		PendingDoc &doc = snap->docs[i];
		pg::LoadTid(h.heap_tid, &doc.tid);
		doc.length = h.length;
		snap->lengths[i] = h.length;
		doc.removed = (h.flags & kPendingRemoved) != 0;
		doc.term_count = h.term_count;
		const uint32_t field_bytes = fields * static_cast<uint32_t>(sizeof(uint32_t));
		if (h.entry_bytes < sizeof h + field_bytes)
			pg::ThrowCorrupt(index, "A pending list entry has a bad size.");
		for (uint32_t f = 0; f < fields; f++)
			std::memcpy(&snap->field_lengths[std::size_t{f} * meta.pending_docs + i],
						stream + at + sizeof h + f * sizeof(uint32_t), sizeof(uint32_t));
		doc.terms = stream + at + sizeof h + field_bytes;
		doc.terms_bytes = h.entry_bytes - static_cast<uint32_t>(sizeof h) - field_bytes;
		doc.with_positions = (meta.flags & kMetaPositions) != 0;
		doc.stream_offset = at;
		at += h.entry_bytes;
	}
	snap->count = meta.pending_docs;
	return snap;
}

void
LocatePending(const PendingSnapshot &snapshot, uint64_t stream_offset, BlockNumber *block, uint32_t *offset)
{
	for (uint32_t i = 0; i < snapshot.piece_count; i++)
	{
		const PendingPiece &p = snapshot.pieces[i];
		if (stream_offset < p.stream_offset + p.bytes || (i + 1 == snapshot.piece_count))
		{
			*block = p.block;
			*offset = p.page_offset + static_cast<uint32_t>(stream_offset - p.stream_offset);
			return;
		}
	}
	*block = InvalidBlockNumber;
	*offset = 0;
}

bool
PendingTerms::Next(std::string_view &term, uint32_t &tf, std::span<const uint8_t> *positions)
{
	if (left_ == 0)
		return false;
	std::span<const uint8_t> in(p_, static_cast<std::size_t>(end_ - p_));
	std::size_t pos = 0;
	uint64_t tf_minus_one, bytes;
	if (!fts::GetVarint(in, pos, tf_minus_one) || !fts::GetVarint(in, pos, bytes) || bytes > in.size() - pos ||
		bytes > kMaxTermBytes || tf_minus_one >= 0xFFFFFFFFull)
		throw pg::Error(ERRCODE_INDEX_CORRUPTED, "quarry_bm25 pending list entry has malformed terms");
	term = {reinterpret_cast<const char *>(p_ + pos), static_cast<std::size_t>(bytes)};
	tf = static_cast<uint32_t>(tf_minus_one + 1);
	pos += bytes;
	const std::size_t positions_at = pos;
	uint64_t gap;
	for (uint32_t i = 0; with_positions_ && i < tf; i++)
		if (!fts::GetVarint(in, pos, gap))
			throw pg::Error(ERRCODE_INDEX_CORRUPTED, "quarry_bm25 pending list entry has malformed positions");
	if (positions != nullptr)
		*positions = in.subspan(positions_at, pos - positions_at);
	p_ += pos;
	left_--;
	return true;
}

bool
DecodePendingPositions(std::span<const uint8_t> encoded, uint32_t tf, uint32_t *out)
{
	std::size_t pos = 0;
	uint64_t position = 0, gap;
	for (uint32_t i = 0; i < tf; i++)
	{
		if (!fts::GetVarint(encoded, pos, gap) || (position += gap) > 0xFFFFFFFFull)
			return false;
		out[i] = static_cast<uint32_t>(position);
	}
	return true;
}

void
LocatePendingFlags(Relation index, const PendingSnapshot &snapshot, uint64_t stream_offset, BlockNumber *block,
				   uint32_t *offset)
{
	LocatePending(snapshot, stream_offset + kPendingFlagsOffset, block, offset);
	if (*block == InvalidBlockNumber)
		pg::ThrowCorrupt(index, "A pending entry VACUUM removes is not where it was read.");
}

void
MarkPendingRemoved(Relation index, Page page, BlockNumber block, uint32_t offset)
{
	if (offset >= PendingHeaderOf(page)->used)
		pg::ThrowCorrupt(index, "pending entry flag outside page %u", block);
	PendingDataOf(page)[offset] |= kPendingRemoved;
}

} // namespace quarry::am::bm25

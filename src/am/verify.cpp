// quarry_verify_index(regclass): the SQL entry of the index checkers.
#include "am/verify.h"

#include "am/index_kind.h"
#include "pg/guard.h"
#include "pg/privileges.h"

extern "C" {
#include "access/genam.h"
#include "access/tableam.h"
#include "storage/bufmgr.h"
#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/index.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
}

#include <cstdarg>
#include <cstring>
#include <cstdio>
#include <iterator>

namespace quarry::am {

// --- VerifyReport ---------------------------------------------------------------

void
VerifyReport::Row(const char *text)
{
	pg::PgCall([&] {
		Datum value = CStringGetTextDatum(text);
		bool null = false;
		tuplestore_putvalues(rsinfo_->setResult, rsinfo_->setDesc, &value, &null);
	});
}

void
VerifyReport::Problem(VerifyKind kind, const char *fmt, ...)
{
	if (counts_[static_cast<int>(kind)]++ >= kMaxPerKind)
		return;
	char text[1024];
	va_list args;
	va_start(args, fmt);
	std::vsnprintf(text, sizeof text, fmt, args);
	va_end(args);
	Row(text);
}

void
VerifyReport::Finish()
{
	static const char *const kNames[] = {
		"metapage", "page", "TID entry", "node record", "link", "upper-layer item", "duplicate chain",
		"entry point", "dictionary", "posting list", "document", "pending list", "null-row list", "count",
		"missing row", "row indexed twice", "length", "vector", "stale entry",
	};
	static_assert(std::size(kNames) == static_cast<std::size_t>(VerifyKind::kKinds));
	for (int kind = 0; kind < static_cast<int>(VerifyKind::kKinds); kind++)
		if (counts_[kind] > kMaxPerKind)
			Row(pg::Format("%d more %s problems not listed", counts_[kind] - kMaxPerKind, kNames[kind]).text);
}

// --- IndexedRows and the table ------------------------------------------------------

IndexedRows
IndexedRows::Make()
{
	constexpr uint64_t kInitial = 1024;
	auto *items = static_cast<IndexedRow *>(pg::PgCall([] { return palloc(sizeof(IndexedRow) * kInitial); }));
	return IndexedRows{items, 0, kInitial};
}

void
IndexedRows::Add(ItemPointerData tid, uint32_t value, bool null_row)
{
	if (count == capacity)
	{
		capacity *= 2;
		items = static_cast<IndexedRow *>(
			pg::PgCall([&] { return repalloc_huge(items, capacity * sizeof(IndexedRow)); }));
	}
	items[count++] = IndexedRow{tid, value, null_row, false};
}

namespace {

int
CompareRows(const void *a, const void *b)
{
	return ItemPointerCompare(const_cast<ItemPointer>(&static_cast<const IndexedRow *>(a)->tid),
							  const_cast<ItemPointer>(&static_cast<const IndexedRow *>(b)->tid));
}

} // namespace

IndexedRow *
IndexedRows::Find(ItemPointer tid) const
{
	IndexedRow key{*tid, 0, false, false};
	return static_cast<IndexedRow *>(bsearch(&key, items, count, sizeof(IndexedRow), CompareRows));
}

namespace {

struct TableScan {
	IndexedRows *rows;
	VerifyReport *report;
	RowCheck check;
	void *arg;
	MemoryContext row_cxt;
	bool complete;
	uint64_t unread; // rows missing while !complete
	int key_columns;
	HeldAsNull held_as_null;
};
static_assert(std::is_trivially_destructible_v<TableScan>);

void
CheckTableRow(TableScan &scan, ItemPointer tid, const Datum *values, const bool *nulls, bool alive)
{
	bool isnull = true;
	for (int c = 0; c < scan.key_columns; c++)
		isnull = isnull && nulls[c];
	VerifyReport &report = *scan.report;
	IndexedRow *row = scan.rows->Find(tid);
	if (row == nullptr && !scan.complete)
	{
		scan.unread++;
		return;
	}
	if (row == nullptr)
	{
		report.Problem(VerifyKind::kMissingRow, "%s row (%u,%u) is not in the index", alive ? "live" : "recently dead",
					   ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid));
		return;
	}
	row->seen = true;
	bool held = false; // a value the index keeps as a NULL row
	if (!isnull && scan.held_as_null != nullptr)
	{
		MemoryContext old = MemoryContextSwitchTo(scan.row_cxt);
		held = scan.held_as_null(scan.arg, *row, values);
		isnull = held;
		MemoryContextSwitchTo(old);
		MemoryContextReset(scan.row_cxt);
	}
	if (isnull || row->null_row)
	{
		if (isnull != row->null_row)
			report.Problem(VerifyKind::kNullRows, "row (%u,%u) is %s, the index holds it as %s",
						   ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid),
						   held ? "a value held as NULL" : isnull ? "NULL" : "not NULL",
						   row->null_row ? "a NULL row" : "a value");
		return;
	}
	MemoryContext old = MemoryContextSwitchTo(scan.row_cxt);
	scan.check(scan.arg, *row, tid, values, nulls, alive, report);
	MemoryContextSwitchTo(old);
	MemoryContextReset(scan.row_cxt);
}

void
TableScanCallback(Relation, ItemPointer tid, Datum *values, bool *isnull, bool alive, void *arg)
{
	// Called by table_index_build_scan: a throw must not cross its frames.
	pg::Boundary("quarry_verify_index", [&] {
		CheckTableRow(*static_cast<TableScan *>(arg), tid, values, isnull, alive);
	});
}

// Whether heap slot `tid` is in use (a row, a dead row, a redirect, LP_DEAD).
bool
HeapSlotUsed(Relation heap, BlockNumber heap_blocks, const ItemPointerData &tid)
{
	const BlockNumber block = ItemPointerGetBlockNumberNoCheck(&tid);
	const OffsetNumber offset = ItemPointerGetOffsetNumberNoCheck(&tid);
	if (block >= heap_blocks || offset < FirstOffsetNumber)
		return false;
	Buffer buffer = ReadBuffer(heap, block);
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	Page page = BufferGetPage(buffer);
	const bool used = offset <= PageGetMaxOffsetNumber(page) && ItemIdIsUsed(PageGetItemId(page, offset));
	UnlockReleaseBuffer(buffer);
	return used;
}

} // namespace

bool
CopyBlock(Relation index, BlockNumber block, BlockNumber nblocks, char *out)
{
	if (block >= nblocks)
	{
		std::memset(out, 0, BLCKSZ);
		return false;
	}
	Buffer buffer = ReadBuffer(index, block);
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	std::memcpy(out, BufferGetPage(buffer), BLCKSZ);
	UnlockReleaseBuffer(buffer);
	return true;
}

void
CheckTable(Relation heap, Relation index, IndexedRows &rows, VerifyReport &report, RowCheck check, void *arg,
		   bool complete, HeldAsNull held_as_null)
{
	qsort(rows.items, rows.count, sizeof(IndexedRow), CompareRows);
	for (uint64_t i = 1; i < rows.count; i++)
		if (ItemPointerEquals(&rows.items[i - 1].tid, &rows.items[i].tid))
			report.Problem(VerifyKind::kTwiceIndexed, "heap row (%u,%u) is indexed twice",
						   ItemPointerGetBlockNumberNoCheck(&rows.items[i].tid),
						   ItemPointerGetOffsetNumberNoCheck(&rows.items[i].tid));
	TableScan scan{&rows, &report, check, arg,
				   AllocSetContextCreate(CurrentMemoryContext, "quarry verify row", ALLOCSET_DEFAULT_SIZES), complete,
				   0, IndexRelationGetNumberOfKeyAttributes(index), held_as_null};
	IndexInfo *info = BuildIndexInfo(index);
	table_index_build_scan(heap, index, info, false, false, TableScanCallback, &scan, nullptr);
	MemoryContextDelete(scan.row_cxt);
	if (scan.unread > 0)
		report.Problem(VerifyKind::kMissingRow,
					   "%llu rows of the table are not in the parts of the index that could be read",
					   static_cast<unsigned long long>(scan.unread));
	const BlockNumber heap_blocks = RelationGetNumberOfBlocks(heap);
	for (uint64_t i = 0; i < rows.count; i++)
	{
		const IndexedRow &row = rows.items[i];
		if (i % 256 == 0)
			CHECK_FOR_INTERRUPTS();
		if (!row.seen && !HeapSlotUsed(heap, heap_blocks, row.tid))
			report.Problem(VerifyKind::kStaleEntry, "index entry (%u,%u) points to a heap slot that no longer holds its row",
						   ItemPointerGetBlockNumberNoCheck(&row.tid), ItemPointerGetOffsetNumberNoCheck(&row.tid));
	}
}

// --- quarry_verify_index --------------------------------------------------------------

namespace {

// A one-column text result, whether called in FROM or in the SELECT list.
void
InitTextSetResult(FunctionCallInfo fcinfo)
{
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	if (rsinfo == nullptr || !IsA(rsinfo, ReturnSetInfo) || (rsinfo->allowedModes & SFRM_Materialize) == 0)
		pg::ThrowError(ERRCODE_FEATURE_NOT_SUPPORTED, "set-valued function called in context that cannot accept a set");
	MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	TupleDesc desc = CreateTemplateTupleDesc(1);
	TupleDescInitEntry(desc, 1, "problem", TEXTOID, -1, 0);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = desc;
	MemoryContextSwitchTo(old);
}

// The lock that keeps the table still while it is compared with the index: a
// ShareLock keeps writers out on a primary. A standby takes no ShareLock, and
// there WAL replay is the only writer, so it must be paused.
LOCKMODE
TableLockForVerify()
{
	if (!RecoveryInProgress())
		return ShareLock;
	if (GetRecoveryPauseState() != RECOVERY_PAUSED)
		throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "quarry_verify_index on a standby needs WAL replay paused", nullptr, "Run SELECT pg_wal_replay_pause(), wait until pg_get_wal_replay_pause_state() "
								"is 'paused', verify, then SELECT pg_wal_replay_resume().");
	return AccessShareLock;
}

} // namespace

} // namespace quarry::am

using quarry::am::CheckIndexKind;
using quarry::am::IndexKind;
using quarry::am::InitTextSetResult;
using quarry::am::TableLockForVerify;

// quarry_verify_index(index regclass) RETURNS SETOF text: one row per problem.
QUARRY_FUNCTION(quarry_verify_index)
{
	return quarry::pg::IndexBoundary("quarry_verify_index", quarry::pg::IndexNameForContext(PG_GETARG_OID(0)),
									 [&]() -> Datum {
		// Kept from PUBLIC by the install script; not run while an install
		// made before that (0.1.0) still grants it to everyone.
		quarry::pg::CheckNotGrantedToPublic(fcinfo->flinfo->fn_oid, "Run ALTER EXTENSION quarry UPDATE.");
		Oid index_oid = PG_GETARG_OID(0);
		Oid heap_oid = quarry::pg::IndexTable(index_oid);
		IndexKind kind = CheckIndexKind(index_oid, IndexKind::kAny);
		InitTextSetResult(fcinfo);
		auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
		LOCKMODE table_lock = TableLockForVerify();
		Relation heap = table_open(heap_oid, table_lock);
		// The checks evaluate the index's expressions and predicate: as the
		// table's owner, never as the caller (amcheck does the same).
		quarry::pg::SavedUser saved = quarry::pg::SwitchToTableOwner(heap);
		Relation index = index_open(index_oid, AccessShareLock);
		quarry::am::VerifyReport report(rsinfo);
		if (kind == IndexKind::kBm25)
			quarry::am::bm25::Verify(index, heap, report);
		else
			quarry::am::hnsw::Verify(index, heap, report);
		report.Finish();
		index_close(index, AccessShareLock);
		quarry::pg::RestoreUser(saved);
		table_close(heap, table_lock);
		return static_cast<Datum>(0);
	});
}

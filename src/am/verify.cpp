// quarry_verify_index(regclass): the SQL entry of the index checkers.
#include "am/verify.h"

#include "am/index_kind.h"
#include "pg/guard.h"
#include "pg/privileges.h"

extern "C" {
#include "access/genam.h"
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
#include <cstdio>

namespace quarry::am {

namespace {

// Problems as rows of a materialized set-returning function.
class TupleStoreReport final : public VerifyReport {
public:
	explicit TupleStoreReport(ReturnSetInfo *rsinfo) : rsinfo_(rsinfo) {}

	void Problem(const char *fmt, ...) override pg_attribute_printf(2, 3);

private:
	ReturnSetInfo *rsinfo_;
};

void
TupleStoreReport::Problem(const char *fmt, ...)
{
	char text[1024];
	va_list args;
	va_start(args, fmt);
	std::vsnprintf(text, sizeof text, fmt, args);
	va_end(args);
	pg::PgCall([&] {
		Datum value = CStringGetTextDatum(text);
		bool null = false;
		tuplestore_putvalues(rsinfo_->setResult, rsinfo_->setDesc, &value, &null);
	});
}

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
		IndexKind kind = CheckIndexKind(index_oid, IndexKind::kOther);
		InitTextSetResult(fcinfo);
		auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
		LOCKMODE table_lock = TableLockForVerify();
		Relation heap = table_open(heap_oid, table_lock);
		// The checks evaluate the index's expressions and predicate: as the
		// table's owner, never as the caller (amcheck does the same).
		quarry::pg::SavedUser saved = quarry::pg::SwitchToTableOwner(heap);
		Relation index = index_open(index_oid, AccessShareLock);
		quarry::am::TupleStoreReport report(rsinfo);
		if (kind == IndexKind::kBm25)
			quarry::am::bm25::Verify(index, heap, report);
		else
			quarry::am::hnsw::Verify(index, heap, report);
		index_close(index, AccessShareLock);
		quarry::pg::RestoreUser(saved);
		table_close(heap, table_lock);
		return static_cast<Datum>(0);
	});
}

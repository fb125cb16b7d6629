#include "pg/guard.h"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/resowner.h"
#include "utils/elog.h"
#include "utils/lsyscache.h"
}

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace quarry::pg {

namespace {

void
CopyText(char *dst, std::size_t size, const char *src)
{
	if (src == nullptr)
	{
		dst[0] = '\0';
		return;
	}
	std::snprintf(dst, size, "%s", src);
}

} // namespace

const char *
PgError::what() const noexcept
{
	return data_ != nullptr && data_->message != nullptr ? data_->message : "PostgreSQL error";
}

Error::Error(int sqlerrcode, const char *message, const char *detail, const char *hint) noexcept
	: sqlerrcode_(sqlerrcode)
{
	CopyText(message_, sizeof message_, message);
	CopyText(detail_, sizeof detail_, detail);
	CopyText(hint_, sizeof hint_, hint);
}

void
ThrowError(int sqlerrcode, const char *fmt, ...)
{
	char message[512];
	va_list args;
	va_start(args, fmt);
	std::vsnprintf(message, sizeof message, fmt, args);
	va_end(args);
	throw Error(sqlerrcode, message);
}

Text
Format(const char *fmt, ...)
{
	Text out;
	va_list args;
	va_start(args, fmt);
	std::vsnprintf(out.text, sizeof out.text, fmt, args);
	va_end(args);
	return out;
}

namespace detail {

void
CaptureCurrentException(CaughtError &out, const char *where, const char *callback) noexcept
{
	char entry[128];
	std::snprintf(entry, sizeof entry, "%s%s%s", where, callback != nullptr ? " " : "", callback != nullptr ? callback : "");
	where = entry;
	try
	{
		throw;
	}
	catch (const PgError &e)
	{
		out.pg_error = e.data();
	}
	catch (const Error &e)
	{
		out.sqlerrcode = e.sqlerrcode();
		CopyText(out.message, sizeof out.message, e.what());
		CopyText(out.detail, sizeof out.detail, e.detail());
		CopyText(out.hint, sizeof out.hint, e.hint());
	}
	catch (const std::bad_alloc &)
	{
		out.sqlerrcode = ERRCODE_OUT_OF_MEMORY;
		CopyText(out.message, sizeof out.message, "out of memory");
		std::snprintf(out.detail, sizeof out.detail, "A memory request in %s failed.", where);
	}
	catch (const std::exception &e)
	{
		out.sqlerrcode = ERRCODE_INTERNAL_ERROR;
		std::snprintf(out.message, sizeof out.message, "%s: %s", where, e.what());
	}
	catch (...)
	{
		out.sqlerrcode = ERRCODE_INTERNAL_ERROR;
		std::snprintf(out.message, sizeof out.message, "%s: unknown C++ exception", where);
	}
}

void
RaiseCaught(const CaughtError &caught)
{
	if (caught.pg_error != nullptr)
		ReThrowError(caught.pg_error);
	ereport(ERROR,
			(errcode(caught.sqlerrcode),
			 errmsg_internal("%s", caught.message),
			 caught.detail[0] ? errdetail_internal("%s", caught.detail) : 0,
			 caught.hint[0] ? errhint("%s", caught.hint) : 0));
	pg_unreachable();
}

void
ThrowPendingPgError(MemoryContext context)
{
	MemoryContextSwitchTo(context);
	ErrorData *data = CopyErrorData();
	FlushErrorState();
	throw PgError(data);
}

void
AddIndexContext(void *arg)
{
	const auto *context = static_cast<const IndexContext *>(arg);
	if (context->callback != nullptr)
		errcontext("%s %s of index \"%s\"", context->where, context->callback, context->index_name);
	else
		errcontext("%s of index \"%s\"", context->where, context->index_name);
}

} // namespace detail

const char *
IndexNameForContext(Oid oid)
{
	const char *name = get_rel_name(oid);
	return name != nullptr ? name : "?";
}

namespace detail {

bool
RunInSubtransaction(void (*fn)(void *arg), void *arg, Text *error)
{
	MemoryContext memory = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	BeginInternalSubTransaction(nullptr);
	MemoryContextSwitchTo(memory);
	bool finished = false;
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		finished = true;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(memory);
		ErrorData *data = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		if (data->sqlerrcode == ERRCODE_QUERY_CANCELED || data->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(data); // a cancel or shutdown ends the statement
		std::snprintf(error->text, sizeof error->text, "%s", data->message != nullptr ? data->message : "error");
		FreeErrorData(data);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(memory);
	CurrentResourceOwner = owner;
	return finished;
}

} // namespace detail

void
CheckForInterrupts()
{
	if (!INTERRUPTS_PENDING_CONDITION())
		return;
	PgCall([] { ProcessInterrupts(); });
}

} // namespace quarry::pg

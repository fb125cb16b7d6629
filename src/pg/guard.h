// The C/C++ error boundary: the one place where C++ exceptions and PostgreSQL's
// ereport(ERROR) (a longjmp) meet.
//
// Two rules keep a backend sound:
//   1. No C++ exception may leave quarry into PostgreSQL. It would reach a C frame
//      with no handler and call std::terminate, and the postmaster would restart
//      every backend.
//   2. No ereport(ERROR) may longjmp over a live C++ object with a non-trivial
//      destructor. Its destructor would never run (undefined behaviour, in practice
//      a leak or a held resource).
//
// The two directions:
//
//   Boundary(body)  C++ -> PostgreSQL. Every extern "C" entry point of quarry (SQL
//                   functions, index AM callbacks) runs its body through it. Any
//                   exception is caught, the stack is unwound (destructors run), and
//                   only then, from a frame with no C++ objects left, the ERROR is
//                   raised: a PostgreSQL error caught by PgCall is re-thrown as it
//                   was (SQLSTATE, message, detail, hint); std::bad_alloc becomes
//                   "out of memory"; quarry::pg::Error keeps its SQLSTATE; anything
//                   else is an internal error naming the entry point.
//
//   PgCall(fn)      PostgreSQL -> C++. A PostgreSQL call made while C++ objects with
//                   destructors are alive (a buffer read under a posting cursor, a
//                   CHECK_FOR_INTERRUPTS in a graph build loop) runs through it. A
//                   PostgreSQL ERROR inside `fn` is caught with sigsetjmp, copied,
//                   and thrown as PgError, so the C++ stack unwinds normally up to
//                   the Boundary, which re-throws the original error. No object
//                   with a destructor may live inside `fn`; a quarry error thrown
//                   inside it (by a C-shaped function it calls) passes through.
//
// Raising an error: quarry's own code always throws (ThrowError, ThrowCorrupt,
// or `throw Error(...)` with a detail and a hint), from C++ and C-shaped
// functions alike; the Boundary turns it into the ERROR. ereport/elog are used
// for messages below ERROR only (NOTICE, DEBUG, amvalidate's INFO). So a throw
// must never cross PostgreSQL's own C frames: every function PostgreSQL calls
// back (index callbacks, SQL functions, table scan callbacks, hooks) runs its
// body through Boundary.
//
// PostgreSQL calls made from frames whose locals are all trivially destructible
// (the C-shaped parts of the AM callbacks) need no PgCall: the longjmp skips
// nothing. Long-lived C++ objects of a scan or a build live in memory owned by a
// MemoryContext (owned.h), whose reset callback runs their destructors on every
// path, including an ERROR.
//
// This follows the pattern of pg_duckdb's InvokeCPPFunc / PostgresFunctionGuard.
#pragma once

#include "pg/postgres_api.h"

#include <csetjmp>
#include <cstddef>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

namespace quarry::pg {

/// A PostgreSQL ERROR caught by PgCall, travelling up the C++ stack. Holds the
/// copied ErrorData (palloc'd in the caller's memory context).
class PgError final : public std::exception {
public:
	explicit PgError(ErrorData *data) noexcept : data_(data) {}
	ErrorData *data() const noexcept { return data_; }
	const char *what() const noexcept override;

private:
	ErrorData *data_;
};

/// An error quarry's C++ code raises on purpose, with a SQLSTATE. The text is
/// kept in fixed buffers so that throwing never allocates.
class Error final : public std::exception {
public:
	Error(int sqlerrcode, const char *message, const char *detail = nullptr, const char *hint = nullptr) noexcept;
	const char *what() const noexcept override { return message_; }
	int sqlerrcode() const noexcept { return sqlerrcode_; }
	const char *detail() const noexcept { return detail_[0] ? detail_ : nullptr; }
	const char *hint() const noexcept { return hint_[0] ? hint_ : nullptr; }

private:
	int sqlerrcode_;
	char message_[512];
	char detail_[512];
	char hint_[256];
};

/// printf-style helper: throw Error(sqlerrcode, formatted message).
[[noreturn]] void ThrowError(int sqlerrcode, const char *fmt, ...) pg_attribute_printf(2, 3);

/// A formatted text for an Error's message, detail or hint:
///   throw Error(ERRCODE_X, Format("...", a).text, Format("...", b).text, "hint");
struct Text {
	char text[512];
};
Text Format(const char *fmt, ...) pg_attribute_printf(1, 2);

namespace detail {

/// What Boundary remembers about a caught exception. Trivially destructible: it
/// outlives the catch block and crosses the final longjmp.
struct CaughtError {
	ErrorData *pg_error = nullptr;
	int sqlerrcode = 0;
	char message[512] = {};
	char detail[512] = {};
	char hint[256] = {};
};
static_assert(std::is_trivially_destructible_v<CaughtError>);

/// Fills `out` from the exception being handled ("where" names the entry
/// point: a function, or an access method and its callback). Call only
/// inside a catch block.
void CaptureCurrentException(CaughtError &out, const char *where, const char *callback = nullptr) noexcept;

/// Raises the ERROR described by `caught`. Call only outside any catch block.
[[noreturn]] void RaiseCaught(const CaughtError &caught);

/// Copies the pending PostgreSQL error and throws it as PgError.
[[noreturn]] void ThrowPendingPgError(MemoryContext context);

} // namespace detail

/// Runs `body` (C++) for an extern "C" entry point named `where`; see the file
/// comment. Returns what `body` returns, or raises an ERROR.
template <typename Body>
auto
Boundary(const char *where, const char *callback, Body &&body) -> decltype(body())
{
	detail::CaughtError caught;
	try
	{
		return body();
	}
	catch (...)
	{
		detail::CaptureCurrentException(caught, where, callback);
	}
	detail::RaiseCaught(caught);
}

/// The same for an entry point named by `where` alone.
template <typename Body>
auto
Boundary(const char *where, Body &&body) -> decltype(body())
{
	return Boundary(where, nullptr, std::forward<Body>(body));
}

namespace detail {
struct IndexContext {
	const char *where;	  // a SQL function, or an access method
	const char *callback; // the index callback of that access method, or nullptr
	const char *index_name;
};
/// An error context callback: "<where> of index \"<name>\"", or for an index
/// callback "<access method> <callback> of index \"<name>\"".
void AddIndexContext(void *arg);
} // namespace detail

/// Boundary for an index access method callback, or a SQL function working on
/// one index: every ERROR raised inside, PostgreSQL's own included (a checksum
/// failure, an unreadable block), gets a CONTEXT line naming the index, so a
/// corrupted index is named whatever detected it. `index_name` must stay valid
/// during the call (RelationGetRelationName of an open index, or a palloc'd
/// copy taken before).
template <typename Body>
auto
IndexBoundary(const char *where, const char *callback, const char *index_name, Body &&body) -> decltype(body())
{
	detail::IndexContext arg{where, callback, index_name};
	ErrorContextCallback context;
	context.previous = error_context_stack;
	context.callback = detail::AddIndexContext;
	context.arg = &arg;
	error_context_stack = &context;
	// An ERROR longjmps past the restore below; the catching frame resets
	// error_context_stack, as for every PostgreSQL context callback.
	if constexpr (std::is_void_v<decltype(body())>)
	{
		Boundary(where, callback, std::forward<Body>(body));
		error_context_stack = context.previous;
	}
	else
	{
		auto result = Boundary(where, callback, std::forward<Body>(body));
		error_context_stack = context.previous;
		return result;
	}
}

/// The same for a SQL function working on one index (`where` names it).
template <typename Body>
auto
IndexBoundary(const char *where, const char *index_name, Body &&body) -> decltype(body())
{
	return IndexBoundary(where, nullptr, index_name, std::forward<Body>(body));
}

/// IndexBoundary's CONTEXT line for a stretch of C++ code that reads an index
/// outside an index callback (a SQL function scoring rows with the index's
/// statistics). Popped by its destructor, also when an exception unwinds.
class IndexErrorContext {
public:
	IndexErrorContext(const char *where, const char *index_name) noexcept : arg_{where, nullptr, index_name}
	{
		callback_.previous = error_context_stack;
		callback_.callback = detail::AddIndexContext;
		callback_.arg = &arg_;
		error_context_stack = &callback_;
	}
	~IndexErrorContext() { error_context_stack = callback_.previous; }
	IndexErrorContext(const IndexErrorContext &) = delete;
	IndexErrorContext &operator=(const IndexErrorContext &) = delete;

private:
	detail::IndexContext arg_;
	ErrorContextCallback callback_;
};

/// The name of relation `oid` for IndexBoundary, looked up before the call
/// (a palloc'd copy; "?" when there is no such relation: the body will say).
/// Call from an extern "C" frame, outside Boundary.
const char *IndexNameForContext(Oid oid);

/// Runs `fn` (PostgreSQL calls only) from inside C++ frames; a PostgreSQL ERROR
/// in it is thrown as PgError. See the file comment.
template <typename Fn>
auto
PgCall(Fn &&fn) -> decltype(fn())
{
	using Result = decltype(fn());
	sigjmp_buf *const saved_stack = PG_exception_stack;
	ErrorContextCallback *const saved_context = error_context_stack;
	const MemoryContext saved_memory = CurrentMemoryContext;
	sigjmp_buf local;

	if (sigsetjmp(local, 0) == 0)
	{
		PG_exception_stack = &local;
		// A quarry error thrown by a C-shaped function inside `fn` passes
		// through, with PostgreSQL's handler stack put back first.
		try
		{
			if constexpr (std::is_void_v<Result>)
			{
				fn();
				PG_exception_stack = saved_stack;
				error_context_stack = saved_context;
				return;
			}
			else
			{
				Result result = fn();
				PG_exception_stack = saved_stack;
				error_context_stack = saved_context;
				return result;
			}
		}
		catch (...)
		{
			PG_exception_stack = saved_stack;
			error_context_stack = saved_context;
			throw;
		}
	}
	PG_exception_stack = saved_stack;
	error_context_stack = saved_context;
	detail::ThrowPendingPgError(saved_memory);
}

/// CHECK_FOR_INTERRUPTS for C++ frames: a cancel or timeout becomes PgError.
void CheckForInterrupts();

namespace detail {
/// Runs fn(arg) in a subtransaction; see TrySubtransaction. C-shaped.
bool RunInSubtransaction(void (*fn)(void *arg), void *arg, Text *error);
} // namespace detail

/// Runs `body` (C++, may throw) in a subtransaction: true when it finished;
/// false, with the error's message in `error`, when it raised one, which is
/// then rolled back (the buffers, locks and memory it held released) instead
/// of ending the statement. For a checker that reports damage and walks on.
/// Call it from a frame without live C++ objects (it catches with sigsetjmp,
/// as PostgreSQL's PG_TRY does); a cancel is re-raised, never swallowed.
template <typename Body>
bool
TrySubtransaction(Body &&body, Text *error)
{
	auto trampoline = [](void *arg) { Boundary("quarry subtransaction", *static_cast<Body *>(arg)); };
	return detail::RunInSubtransaction(trampoline, &body, error);
}

} // namespace quarry::pg

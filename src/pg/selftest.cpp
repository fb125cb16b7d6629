// Self-test entry points for the regression tests of the foundation: the error
// boundary and the build arena's lifetime. They are compiled into quarry.so but
// not created by CREATE EXTENSION; a test creates the SQL functions it needs
// (see sql/foundation_boundary.sql) and drops them again.
#include "pg/postgres_api.h"

extern "C" {
#include "utils/builtins.h"
}

#include "memory/build_arena.h"
#include "pg/guard.h"
#include "pg/memory_glue.h"

#include <dlfcn.h>
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

int destructors_run = 0;

// An object with a destructor that must run however its scope is left.
struct Tracker {
	std::string payload{"a heap-allocated string that must be freed"};
	~Tracker() { destructors_run++; }
};

// Raises the error named by `kind` from three C++ frames down, with Trackers
// alive in each frame.
void
RaiseDeep(const std::string &kind, int depth)
{
	Tracker tracker;
	if (depth > 0)
	{
		RaiseDeep(kind, depth - 1);
		return;
	}
	if (kind == "runtime_error")
		throw std::runtime_error("deliberate C++ exception three frames down");
	if (kind == "bad_alloc")
		throw std::bad_alloc();
	if (kind == "quarry_error")
		quarry::pg::ThrowError(ERRCODE_INVALID_PARAMETER_VALUE, "deliberate quarry error: %d", 42);
	if (kind == "unknown")
		throw 7;
	if (kind == "pg_error")
	{
		// A PostgreSQL ERROR raised under live C++ frames, caught by PgCall.
		quarry::pg::PgCall([] { return DirectFunctionCall1(int4in, CStringGetDatum("not a number")); });
		return;
	}
	if (kind == "none")
		return;
	throw std::invalid_argument("unknown kind: " + kind);
}

} // namespace

// quarry_selftest_raise(kind text) RETURNS int: raises the named error from C++
// frames holding live objects; returns the number of destructors run so far when
// kind = 'none'.
QUARRY_FUNCTION(quarry_selftest_raise)
{
	return quarry::pg::Boundary("quarry_selftest_raise", [&]() -> Datum {
		std::string kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
		RaiseDeep(kind, 3);
		PG_RETURN_INT32(destructors_run);
	});
}

// quarry_selftest_destructors() RETURNS int: how many Tracker destructors ran.
QUARRY_FUNCTION(quarry_selftest_destructors)
{
	return quarry::pg::Boundary("quarry_selftest_destructors", [&]() -> Datum {
		PG_RETURN_INT32(destructors_run);
	});
}

// quarry_selftest_build_arena(megabytes int, fail bool) RETURNS bigint: fills a
// build arena bound to a child MemoryContext with `megabytes` of mixed-size
// allocations (all touched), then either raises an ERROR while the arena holds
// them (fail) or deletes the context. Returns the backend's private memory
// (RssAnon) at the peak, in bytes, so a test can see the memory was really
// there before it went.
QUARRY_FUNCTION(quarry_selftest_build_arena)
{
	int32_t megabytes = PG_GETARG_INT32(0);
	bool fail = PG_GETARG_BOOL(1);
	// A C-shaped entry point without a Boundary (it tests what happens around
	// one): its errors are PostgreSQL's own.
	if (megabytes < 0 || megabytes > 4096)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("megabytes must be between 0 and 4096")));

	MemoryContext build_cxt = AllocSetContextCreate(CurrentMemoryContext, "quarry selftest build",
													ALLOCSET_SMALL_SIZES);
	quarry::mem::BuildArena *arena = quarry::pg::Boundary("quarry_selftest_build_arena", [&] {
		return quarry::pg::CreateBuildArena(build_cxt);
	});
	quarry::pg::Boundary("quarry_selftest_build_arena", [&] {
		std::size_t target = static_cast<std::size_t>(megabytes) << 20;
		std::size_t done = 0;
		for (std::size_t i = 0; done < target; i++)
		{
			// Mostly small pieces with a large one now and then, as a build makes.
			std::size_t size = (i % 64 == 63) ? (256u << 10) : 64 + (i * 37) % 1500;
			auto *p = static_cast<char *>(arena->Allocate(size));
			std::memset(p, static_cast<int>(i), size);
			done += size;
		}
	});
	int64_t rss_at_peak = static_cast<int64_t>(quarry::pg::BackendAnonBytes());
	// Deliberately PostgreSQL's own ERROR (a longjmp from this C-shaped
	// frame): the test checks that the arena's memory context releases it.
	if (fail)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("deliberate error while a build arena holds %d MB", megabytes)));
	MemoryContextDelete(build_cxt);
	PG_RETURN_INT64(rss_at_peak);
}

// quarry_selftest_allocator() RETURNS text: where this backend's malloc comes
// from, and whether malloc and palloc are still served by glibc after quarry
// (with its private jemalloc) was loaded.
QUARRY_FUNCTION(quarry_selftest_allocator)
{
	return quarry::pg::Boundary("quarry_selftest_allocator", [&]() -> Datum {
		Dl_info info{};
		void *malloc_symbol = dlsym(RTLD_DEFAULT, "malloc");
		const char *library = "unknown";
		if (malloc_symbol != nullptr && dladdr(malloc_symbol, &info) != 0 && info.dli_fname != nullptr)
		{
			library = std::strrchr(info.dli_fname, '/');
			library = library ? library + 1 : info.dli_fname;
		}

		// glibc's mallinfo2 sees an allocation only if glibc served it. 256 kB is
		// below glibc's dynamic mmap threshold ceiling, so count arena bytes and
		// mmapped bytes together.
		auto glibc_bytes = [] {
			struct mallinfo2 mi = mallinfo2();
			return mi.uordblks + mi.hblkhd;
		};
		std::size_t before = glibc_bytes();
		// volatile: the compiler may not elide a malloc/free pair it can see.
		void *volatile m = malloc(256 * 1024);
		std::size_t after_malloc = glibc_bytes();
		free(m);
		std::size_t before_palloc = glibc_bytes();
		MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "probe", ALLOCSET_DEFAULT_SIZES);
		void *pm = MemoryContextAlloc(cxt, 1024 * 1024);
		std::size_t after_palloc = glibc_bytes();
		(void) pm;
		MemoryContextDelete(cxt);

		char out[256];
		std::snprintf(out, sizeof out, "malloc from %s; malloc via glibc: %s; palloc via glibc: %s", library,
					  after_malloc >= before + 256 * 1024 ? "yes" : "no",
					  after_palloc >= before_palloc + 1024 * 1024 ? "yes" : "no");
		PG_RETURN_TEXT_P(cstring_to_text(out));
	});
}

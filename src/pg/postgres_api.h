// The one way PostgreSQL's headers enter quarry's C++.
//
// Every file that needs PostgreSQL includes this first, then any further server
// headers inside its own `extern "C" { }` block. It makes the functions quarry
// exports to the server visible (the build uses -fvisibility=hidden, and PG 15's
// PGDLLEXPORT is empty on Linux), and declares QUARRY_FUNCTION for SQL-callable
// functions.
#pragma once

// c.h only defines PGDLLEXPORT when it is not defined yet: what we set here marks
// Pg_magic_func and every pg_finfo_* record for export.
#define PGDLLEXPORT __attribute__((visibility("default")))

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "utils/memutils.h"
}

// Declares an SQL-callable function `name` with C linkage and default visibility,
// with its V1 info record. Use as:  QUARRY_FUNCTION(quarry_memory_stats) { ... }
#define QUARRY_FUNCTION(name)                                                                      \
	extern "C" PGDLLEXPORT Datum name(PG_FUNCTION_ARGS);                                           \
	extern "C" {                                                                                   \
	PG_FUNCTION_INFO_V1(name);                                                                     \
	}                                                                                              \
	extern "C" Datum name(PG_FUNCTION_ARGS)

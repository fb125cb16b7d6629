# quarry: PGXS build of the extension.
#
#   make && make install      builds and installs quarry.so, quarry.control,
#                             quarry_pgvector.control and the install scripts
#                             into the PostgreSQL found by
#                             pg_config (PG_CONFIG=... to choose another: the
#                             tree is rebuilt for it)
#   make installcheck         pg_regress against a running server (test/run.sh
#                             starts a throwaway one and runs every test)
#
# The private jemalloc (src/memory/build_jemalloc.sh) is fetched and built once
# into build/jemalloc and linked statically with its symbols hidden.

# quarry_pgvector: quarry_hnsw's operator classes for pgvector's vector and
# halfvec (requires = 'vector, quarry'); its functions live in quarry.so.
EXTENSION  = quarry quarry_pgvector
EXTVERSION = 0.2.0
MODULE_big = quarry
DATA       = $(wildcard sql/quarry--*.sql) $(wildcard sql/quarry_pgvector--*.sql)

SRCS = $(sort $(wildcard src/pg/*.cpp src/am/*.cpp src/am/bm25/*.cpp src/am/hnsw/*.cpp src/am/hybrid/*.cpp src/fts/*.cpp src/fusion/*.cpp src/hnsw/*.cpp src/memory/*.cpp))
OBJS = $(SRCS:.cpp=.o)

# pg_regress tests: every sql/<name>.sql except the install and upgrade scripts.
REGRESS      = $(sort $(patsubst sql/%.sql,%,$(filter-out sql/quarry--% sql/quarry_pgvector--%,$(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=quarry

JEMALLOC_DIR = build/jemalloc
JEMALLOC_LIB = $(JEMALLOC_DIR)/lib/libjemalloc_pic.a

PG_CONFIG ?= pg_config

# -isystem for the server headers: their own warnings are not ours to fix.
PG_CPPFLAGS = -Isrc -I$(JEMALLOC_DIR)/include -isystem $(shell $(PG_CONFIG) --includedir-server)
# QUARRY_CXXFLAGS: more flags (test/run.sh builds with -Werror: no compiler
# warning on any PostgreSQL version).
QUARRY_CXXFLAGS ?=
PG_CXXFLAGS = -std=c++20 -O3 -fvisibility=hidden -fvisibility-inlines-hidden \
              -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -MMD -MP $(QUARRY_CXXFLAGS)
# PGXS links with the C compiler: name libstdc++ ourselves. --exclude-libs keeps
# every jemalloc symbol local to quarry.so.
SHLIB_LINK  = $(JEMALLOC_LIB) -Wl,--exclude-libs,ALL -lroaring -lstdc++ -lpthread -ldl

# No LLVM bitcode: JIT inlining never reaches index AM code, and PGXS would
# compile the C++ with clang without our flags.
override with_llvm = no

EXTRA_CLEAN = $(OBJS:.o=.d) .pg-config-stamp

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): | $(JEMALLOC_LIB)

# The PostgreSQL the objects are compiled for (its version and where it is)
# and QUARRY_CXXFLAGS: rewritten only when they change, so a switch of
# PG_CONFIG in one tree recompiles everything (objects of one major version do
# not load into another), and so does one of QUARRY_CXXFLAGS (-Werror sees
# every file), and nothing else does.
PG_STAMP := .pg-config-stamp
PG_WHICH := $(shell $(PG_CONFIG) --version --bindir | tr '\n' ' ')$(QUARRY_CXXFLAGS)
$(PG_STAMP): FORCE
	@if [ "$$(cat $@ 2>/dev/null)" != "$(PG_WHICH)" ]; then echo "$(PG_WHICH)" >$@; fi
.PHONY: FORCE
FORCE:
$(OBJS): $(PG_STAMP)
$(shlib): $(JEMALLOC_LIB)

$(JEMALLOC_LIB):
	src/memory/build_jemalloc.sh $(JEMALLOC_DIR)

.PHONY: regress-list
regress-list:
	@echo $(REGRESS)

-include $(OBJS:.o=.d)

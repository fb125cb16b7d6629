// quarry_verify_index(): checks an index against its table and its own
// invariants. Each access method has its checker (bm25/bm25_verify.cpp,
// hnsw/hnsw_verify*.cpp); what they share lives here:
//
//   VerifyReport    problems as rows of text, each of a kind; at most
//                   kMaxPerKind rows of a kind, then one row per kind saying
//                   how many more were found (no rows: the index is sound)
//   IndexedRows     the heap TIDs an index holds, with the access method's
//                   value of each (a length, a node id) and its NULL rows
//   CheckTable      the index against its table: rows missing or held twice,
//                   NULL rows, entries of rows that are gone; the access
//                   method compares the values
//
// A checker reads copies of pages and checks every field before it uses it,
// so a damaged page is a row (kPage) and the walk goes on past it; only a
// page PostgreSQL itself refuses ("invalid page in block") is an ERROR.
//
// C-shaped: everything is palloc'd in the checker's memory context and
// trivially destructible.
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "fmgr.h"
#include "nodes/execnodes.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
}

#include <cstdint>
#include <type_traits>

namespace quarry::am {

/// The kinds of problems, for both index types.
enum class VerifyKind : int {
	kMetapage,
	kPage,		// a block that is not a sound page of the index
	kTidEntry,	// quarry_hnsw's TID stream
	kRecord,	// quarry_hnsw's node records
	kLink,		// quarry_hnsw's neighbour lists
	kUpperItem, // quarry_hnsw's upper-layer items
	kChain,		// quarry_hnsw's duplicate chains
	kEntryPoint,
	kDictionary, // quarry_bm25's dictionaries
	kPosting,	 // quarry_bm25's posting lists and their impacts
	kDocument,	 // quarry_bm25's lengths and alive bits
	kPending,	 // quarry_bm25's pending list
	kNullRows,
	kCount,		  // counts the metapage keeps
	kMissingRow,  // a row of the table the index does not hold
	kTwiceIndexed,
	kLength,	 // quarry_bm25: a row held with another length than its text has
	kVector,	 // quarry_hnsw: a row held with another vector than the table's
	kStaleEntry, // an entry pointing at a heap slot that holds no row
	kKinds,
};

/// Problems as rows of the set quarry_verify_index returns.
class VerifyReport {
public:
	/// Stops listing after this many problems of one kind (a broken index can
	/// have millions).
	static constexpr int kMaxPerKind = 20;

	explicit VerifyReport(ReturnSetInfo *rsinfo) : rsinfo_(rsinfo) {}

	/// A problem of `kind`: a row, unless kMaxPerKind of its kind were listed.
	void Problem(VerifyKind kind, const char *fmt, ...) pg_attribute_printf(3, 4);

	/// Problems of `kind` found so far (listed or not).
	int count(VerifyKind kind) const { return counts_[static_cast<int>(kind)]; }

	/// One row for each kind with problems left out: "N more ... problems not listed".
	void Finish();

private:
	void Row(const char *text);

	ReturnSetInfo *rsinfo_;
	int counts_[static_cast<int>(VerifyKind::kKinds)] = {};
};
static_assert(std::is_trivially_destructible_v<VerifyReport>);

/// A heap TID the index holds.
struct IndexedRow {
	ItemPointerData tid;
	uint32_t value; // the access method's: quarry_bm25 a length, quarry_hnsw a node id
	bool null_row;	// held in the null-row list
	bool seen;		// reported by the table scan
};
static_assert(std::is_trivially_destructible_v<IndexedRow>);

/// Every heap TID an index holds (palloc'd, grows as needed).
struct IndexedRows {
	IndexedRow *items;
	uint64_t count;
	uint64_t capacity;

	static IndexedRows Make();
	void Add(ItemPointerData tid, uint32_t value, bool null_row);
	/// The entry of `tid` (after CheckTable sorted them), or nullptr.
	IndexedRow *Find(ItemPointer tid) const;
};
static_assert(std::is_trivially_destructible_v<IndexedRows>);

/// Compares a row the table has for the index, whose value is not NULL, with
/// the entry that holds it: reports kLength or kVector (or what else it finds).
/// `values`: the row's index columns (of an index of several key columns,
/// all of them; a row is NULL when every one is).
using RowCheck = void (*)(void *arg, const IndexedRow &row, ItemPointer tid, const Datum *values, const bool *isnull,
						  bool alive, VerifyReport &report);

/// Whether a row whose value is not NULL belongs in the null-row list all the
/// same (quarry_hnsw: a zero vector under cosine). `row`: where the index
/// holds it.
using HeldAsNull = bool (*)(void *arg, const IndexedRow &row, const Datum *values);

/// The index against its table (which quarry_verify_index holds ShareLocked):
/// sorts `rows` and reports every TID held twice (kTwiceIndexed); scans the
/// table (table_index_build_scan, so index expressions and predicates are
/// evaluated, as the table's owner); every row the table has for the index
/// must be held (kMissingRow), in the null-row list exactly when its value is
/// NULL or `held_as_null` says so (kNullRows); `check` compares the others. Then every entry the scan
/// did not report must point to a heap slot still in use (kStaleEntry): a
/// dead row VACUUM has not removed yet. When `complete` is false (parts of
/// the index could not be read), rows missing from `rows` are counted in one
/// row instead of listed.
void CheckTable(Relation heap, Relation index, IndexedRows &rows, VerifyReport &report, RowCheck check, void *arg,
				bool complete = true, HeldAsNull held_as_null = nullptr);

/// Copies `block` of `index` into `out` (BLCKSZ bytes) under a share lock, so
/// a check reads one stable image and holds no lock while it reports; false,
/// and zeros, when `block` is at or past `nblocks` (the length the check
/// began with).
bool CopyBlock(Relation index, BlockNumber block, BlockNumber nblocks, char *out);

namespace bm25 {
/// Checks a quarry_bm25 index: every block's page identity, the metapage;
/// every segment's dictionary, posting lists (sorted, decodable, within the
/// segment, document frequencies and the sum of each row's tfs equal to its
/// length), lengths and heap TIDs; the pending list; the null-row list; N and
/// the total length; and the table (CheckTable): each row's length.
void Verify(Relation index, Relation heap, VerifyReport &report);
} // namespace bm25

namespace hnsw {
/// Checks a quarry_hnsw index: the metapage and the page of every block;
/// every slot's TID entry and record (states, levels, heap TIDs, vectors);
/// neighbour lists, upper-layer items, duplicate chains, the entry point;
/// and the table (CheckTable): each row's vector, bit for bit. What the
/// design allows (links into freed slots, unreachable nodes) is not
/// reported: see hnsw_verify.cpp.
void Verify(Relation index, Relation heap, VerifyReport &report);
} // namespace hnsw

} // namespace quarry::am

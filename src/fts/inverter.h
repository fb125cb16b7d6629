// Inverter: the in-memory inverted index an index build accumulates.
//
// Documents arrive in id order (0, 1, 2, ...) as lists of (lexeme, tf). Each
// distinct lexeme gets a term record; its postings are appended as varint pairs
// (doc gap - 1, tf - 1), each followed, when the inverter keeps positions, by
// the tf positions (the first, then the gaps), to a chain of byte slices of growing size (16 bytes up to
// 4 kB, as Lucene's ByteBlockPool does), so a rare term costs a few bytes and a
// frequent one wastes at most a slice. Everything lives in the build's
// BuildArena; memory_bytes() tells the build when to spill.
//
// Afterwards the terms can be listed in byte order and their postings decoded,
// which is what the segment writer consumes.
#pragma once

#include "fts/posting_list.h"
#include "memory/build_arena.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace quarry::fts {

/// One distinct lexeme of a document, its number of occurrences and (for an
/// inverter that keeps them) their tf positions, non-decreasing.
struct TermFreq {
	std::string_view term;
	uint32_t tf;
	std::span<const uint32_t> positions = {};
};

class Inverter {
public:
	/// `slab_bytes`: the size of the blocks term texts and posting slices are
	/// carved from (a memory budget smaller than a few slabs would make every
	/// document look like it overflows it).
	explicit Inverter(mem::BuildArena &arena, std::size_t slab_bytes = kDefaultSlabBytes, bool with_positions = false);

	static constexpr std::size_t kDefaultSlabBytes = 1 << 20;

	~Inverter();

	Inverter(const Inverter &) = delete;
	Inverter &operator=(const Inverter &) = delete;

	/// Adds the next document. `terms` must not repeat a lexeme; `length` is the
	/// document's length (normally the sum of the tfs); `row_id` is an opaque id
	/// the caller maps back to its row (a heap TID in the server).
	/// `field_lengths`: a document of several fields, its length in each
	/// (every document of an inverter gives the same number, at most
	/// kMaxFields).
	DocId AddDocument(std::span<const TermFreq> terms, uint32_t length, uint64_t row_id,
					  std::span<const uint32_t> field_lengths = {});

	static constexpr uint32_t kMaxFields = 8;

	uint32_t doc_count() const { return static_cast<uint32_t>(lengths_.size()); }
	uint32_t term_count() const { return static_cast<uint32_t>(terms_.size()); }
	uint64_t total_length() const { return total_length_; }
	std::span<const uint32_t> lengths() const { return lengths_; }
	/// Documents' field lengths, document after document (empty without fields).
	std::span<const uint32_t> field_lengths() const { return field_lengths_; }
	/// Sum of field f's lengths.
	uint64_t field_total(uint32_t f) const { return field_totals_[f]; }
	std::span<const uint64_t> row_ids() const { return row_ids_; }

	/// Bytes of the arena this inverter holds (slabs and arrays).
	std::size_t memory_bytes() const;

	/// Term ids in byte order of their lexemes (computed once, on first call).
	std::span<const uint32_t> SortedTerms();
	std::string_view TermText(uint32_t term) const;
	uint32_t DocFreq(uint32_t term) const { return terms_[term].df; }
	/// Sum of the term's tfs: the positions Postings writes for it.
	uint64_t TfSum(uint32_t term) const { return terms_[term].tf_sum; }

	/// Decodes a term's postings (docs ascending) into `docs` and `tfs`, which
	/// must both hold exactly DocFreq(term) elements, and, when the inverter
	/// keeps positions and `positions` is not empty, every document's
	/// positions in turn (sum of the tfs of them).
	void Postings(uint32_t term, std::span<DocId> docs, std::span<uint32_t> tfs,
				  std::span<uint32_t> positions = {}) const;
	bool with_positions() const { return with_positions_; }

private:
	struct Term {
		const char *text;
		uint32_t length;
		uint32_t hash;
		uint32_t df;
		DocId last_doc;
		uint64_t tf_sum;
		uint8_t *head;	// first slice
		uint8_t *write; // next byte to write
		uint8_t *end;	// end of the current slice's data (its next-pointer follows)
		uint8_t level;
	};

	template <typename T>
	using ArenaVector = std::vector<T, mem::BuildAllocator<T>>;

	uint32_t FindOrAdd(std::string_view term);
	void AppendPositions(Term &t, const TermFreq &tf);
	void Grow();
	void Append(Term &t, uint64_t value);
	void NewSlice(Term &t);
	uint8_t *SlabAllocate(std::size_t bytes, std::size_t align);

	bool with_positions_;
	mem::BuildArena &arena_;
	ArenaVector<Term> terms_;
	ArenaVector<uint32_t> table_; // open addressing: term id + 1, 0 = empty
	ArenaVector<uint32_t> lengths_;
	ArenaVector<uint32_t> field_lengths_;
	ArenaVector<uint64_t> row_ids_;
	ArenaVector<uint32_t> sorted_;
	struct Slab {
		uint8_t *memory;
		std::size_t bytes;
	};
	ArenaVector<Slab> slabs_;
	uint8_t *slab_cur_ = nullptr;
	uint8_t *slab_end_ = nullptr;
	std::size_t slab_size_;
	std::size_t slab_bytes_ = 0;
	uint64_t total_length_ = 0;
	uint64_t field_totals_[kMaxFields] = {};
};

} // namespace quarry::fts

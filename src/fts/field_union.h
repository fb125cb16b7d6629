// FieldUnion: one query term over several fields of a document (BM25F).
//
// BM25F (Robertson, Zaragoza & Taylor, "Simple BM25 Extension to Multiple
// Weighted Fields", CIKM 2004; with per-field length normalisation as in
// Zaragoza et al., "Microsoft Cambridge at TREC-13", 2004, and Robertson &
// Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond", 2009,
// section 3.4) folds a term's occurrences in every field into one pseudo
// frequency before BM25's saturation:
//
//   freq(t, d) = sum over fields f of  w_f * tf(t, d.f) / (1 - b + b * |d.f| / avgdl_f)
//   score(t, d) = idf(t) * freq * (k1 + 1) / (freq + k1)
//
// with w_f the field's weight, |d.f| the field's length in the document and
// avgdl_f its mean over the indexed documents. A FieldUnion walks the term's
// cursor in each field it looks in (its members) as one cursor whose
// frequency is freq(t, d); scoring it with a TermScorer whose b is 0 gives
// score(t, d). A phrase over fields is a union of the phrase's cursor in each
// field (a phrase never spans two fields).
//
// freq() adds the members' terms in member order, skipping members not on
// the document: the same sum, to the last bit, as adding every member with
// +0.0 for the fields the term is absent from (what scoring a row's tokens
// does).
#pragma once

#include "fts/composite_cursor.h"
#include "fts/term_cursor.h"
#include "fts/wand.h"

#include <cstdint>

namespace quarry::fts {

/// A field's weight and length normalisation.
struct FieldNorm {
	double weight = 1.0;
	double b = 0.75;
	double avg_length = 1.0;

	/// The field's term of freq(t, d) for `tf` occurrences in a field of
	/// length `length`.
	double
	Freq(double tf, uint32_t length) const
	{
		if (tf == 0)
			return 0; // with b = 1 an empty field would divide 0 by 0
		return weight * tf / (1.0 - b + b * static_cast<double>(length) / avg_length);
	}
};

class FieldUnion final : public CompositeCursor {
public:
	struct Member {
		TermCursor *cursor;	 // the term's (or phrase's) postings in the field
		DocLengths *lengths; // the field's lengths
		FieldNorm norm;
	};

	/// `members` (kept by the caller) at their first documents; `scorer`
	/// scores the union's frequency (b = 0), `score_bound` bounds its score
	/// over every document.
	void Init(Member *members, uint32_t count, const TermScorer *scorer, double score_bound);

	DocId doc() const override { return doc_; }
	double freq() const override;
	bool failed() const override;
	void Next() override;
	void NextGeq(DocId target) override;
	bool Contains(DocId doc) override;
	/// The block-max pointer: the members' blocks at `target`, up to the
	/// first of them to end, bounded by the union of their bounds (each
	/// member's block bound turned into a frequency bound).
	void ShallowSeek(DocId target) override;
	DocId ShallowLastDoc() const override { return shallow_last_; }
	double ShallowBound() const override { return shallow_bound_; }

private:
	void Settle();

	Member *members_ = nullptr;
	uint32_t count_ = 0;
	DocId doc_ = kEndDoc;
	const TermScorer *scorer_ = nullptr;
	double score_bound_ = 0;
	DocId shallow_last_ = kEndDoc;
	double shallow_bound_ = 0;
	bool shallow_valid_ = false;
	mutable double freq_ = 0;
	mutable bool freq_valid_ = false;
};

/// An upper bound of a field's term of freq(t, d), from an upper bound of the
/// term's BM25 score in the field under `field_scorer` (which scores with the
/// field's b and average length and the weight `field_scorer.weight()`):
/// BM25's score is increasing in tf / normaliser, so inverting it gives the
/// largest normalised frequency; +infinity when the bound allows any.
double FreqBoundFromScore(const TermScorer &field_scorer, const FieldNorm &norm, double score_bound);

} // namespace quarry::fts

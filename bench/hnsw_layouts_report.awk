# One set's recall/QPS table for bench/hnsw_layouts.sh, from its sweep TSV
# (set, layout, ef_search, recall, QPS), with -v s=SET ls="LAYOUT ..."
# efs="EF ...": a column per layout, each layout's QPS against full's at the
# same ef_search, then the issue's check: the lowest ef_search reaching
# recall@10 0.99 per layout, and its QPS against full's at full's own.
$1 == s { r[$2, $3] = $4; q[$2, $3] = $5 }
END {
	n = split(ls, L, " ")
	m = split(efs, E, " ")
	h = "| ef_search |"
	d = "|---|"
	for (i = 1; i <= n; i++) { h = h " " L[i] " |"; d = d "---|" }
	for (i = 1; i <= n; i++) if (L[i] != "full") { h = h " " L[i] " / full QPS |"; d = d "---|" }
	print h
	print d
	for (j = 1; j <= m; j++) {
		e = E[j]
		line = "| " e " |"
		for (i = 1; i <= n; i++)
			line = line (((L[i], e) in q) ? sprintf(" %.4f / %.0f |", r[L[i], e], q[L[i], e]) : " - |")
		for (i = 1; i <= n; i++) if (L[i] != "full")
			line = line ((((L[i], e) in q) && q["full", e] > 0) ? sprintf(" %.2f |", q[L[i], e] / q["full", e]) : " - |")
		print line
	}
	print ""
	print "Lowest ef_search reaching recall@10 >= 0.99, its QPS, and that against full's QPS at full's own lowest such ef_search:"
	print ""
	print "| layout | ef_search | recall@10 | QPS | / full |"
	print "|---|---|---|---|---|"
	fq = 0
	for (i = 1; i <= n; i++) {
		best[i] = ""
		for (j = 1; j <= m; j++) if (((L[i], E[j]) in r) && r[L[i], E[j]] >= 0.99) { best[i] = E[j]; break }
		if (L[i] == "full" && best[i] != "") fq = q["full", best[i]]
	}
	for (i = 1; i <= n; i++) {
		if (best[i] == "") { print "| " L[i] " | - | - | - | - |"; continue }
		e = best[i]
		printf "| %s | %s | %.4f | %.0f | %s |\n", L[i], e, r[L[i], e], q[L[i], e], (fq > 0 ? sprintf("%.2f", q[L[i], e] / fq) : "-")
	}
}

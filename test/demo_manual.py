#!/usr/bin/python3
"""Splits the PostgreSQL HTML manual into sections for the demo.

    demo_manual.py HTML_DIR > sections.tsv

Every <div class="sect1|sect2|sect3|sect4|refsect1|..."> with an id becomes a row
(page, anchor, title, text) in PostgreSQL COPY text format; the text of nested
sections goes to the nested rows, so each row holds only its own section.
Navigation headers and footers are skipped. Standard library only.
"""
import html.parser
import os
import re
import sys

SECTION_CLASSES = {"sect1", "sect2", "sect3", "sect4", "sect5", "refsect1", "refsect2", "refsect3",
                   "chapter", "preface", "appendix", "part", "refentry", "simplesect"}
SKIP_CLASSES = {"navheader", "navfooter", "toc", "titlepage-nav"}
VOID = {"br", "hr", "img", "input", "meta", "link", "col", "area", "base", "wbr", "source"}


class Section:
    def __init__(self, anchor):
        self.anchor = anchor
        self.title = []
        self.text = []
        self.in_title = False


class ManualParser(html.parser.HTMLParser):
    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.stack = []        # per open element: (tag, opened_section, skipping)
        self.sections = []     # open sections, innermost last
        self.done = []
        self.skip_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        opened = False
        skipping = False
        if classes & SKIP_CLASSES:
            self.skip_depth += 1
            skipping = True
        elif tag == "div" and classes & SECTION_CLASSES and attrs.get("id"):
            self.sections.append(Section(attrs["id"]))
            opened = True
        elif re.fullmatch(r"h[1-6]", tag) and self.sections and not self.sections[-1].title:
            self.sections[-1].in_title = True
        self.stack.append((tag, opened, skipping))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        # Pop to the matching element (the manual's HTML is well formed).
        while self.stack:
            open_tag, opened, skipping = self.stack.pop()
            if skipping:
                self.skip_depth -= 1
            if opened:
                self.done.append(self.sections.pop())
            if re.fullmatch(r"h[1-6]", open_tag) and self.sections:
                self.sections[-1].in_title = False
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self.skip_depth or not self.sections:
            return
        section = self.sections[-1]
        (section.title if section.in_title else section.text).append(data)


def clean(parts):
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def copy_escape(value):
    return value.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ").replace("\r", " ")


def main():
    html_dir = sys.argv[1]
    out = sys.stdout
    for name in sorted(os.listdir(html_dir)):
        if not name.endswith(".html"):
            continue
        with open(os.path.join(html_dir, name), encoding="utf-8", errors="replace") as f:
            parser = ManualParser(name)
            parser.feed(f.read())
            parser.close()
        for section in parser.done:
            title = re.sub(r"^[0-9.]+\s*", "", clean(section.title))
            text = clean(section.text)
            if len(text) < 40:
                continue
            out.write("\t".join(copy_escape(v) for v in (name, section.anchor.lower(), title, text)) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Check the DOM that headless Chromium dumped for a vdsoconf --html report.

Asserts what a reader relies on: the verdict; every section; one row per
target in the target x group table (in order, full names) and five entry
points per target in the latency table; every FAIL and NOT RUN row of the
failure list linking to an evidence block that exists; every reference
staying inside the page and resolving (nothing fetched); and each figure
(the expected ones among them) holding an inline SVG with numeric axis
tick labels and a data series (gnuplot's series group with drawing
elements beyond its key sample). Exit 0 when all hold, 1 naming each that
does not.
"""
import argparse
import re
import sys
from html.parser import HTMLParser

DRAWING = {"path", "polygon", "polyline", "use", "rect", "circle", "line"}
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source"}
SECTIONS = ["targets", "table", "failures", "calibration", "latency", "scenarios", "soak"]


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.text = [], ""

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def all_text(self):
        return self.text + "".join(c.all_text() for c in self.children)

    def classes(self):
        return (self.attrs.get("class") or "").split()


class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text += data


def check_figure(fig, errors):
    fid = fig.attrs.get("id")
    svgs = [n for n in fig.walk() if n.tag == "svg"]
    if not svgs:
        why = fig.all_text().strip().splitlines()[0:1]
        errors.append(f"figure {fid}: no <svg> ({why})")
        return
    svg = svgs[0]
    # A tick label is a number, or gnuplot's "1×10" with a superscript exponent.
    ticks = [n for n in svg.walk() if n.tag == "text"
             and re.fullmatch(r"\s*[-−]?[0-9.]+(\s*×\s*10[-−]?[0-9]+)?\s*", n.all_text())]
    if len(ticks) < 2:
        errors.append(f"figure {fid}: fewer than 2 numeric axis tick labels")
    series = [n for n in svg.walk() if n.tag == "g"
              and re.search(r"_plot_[0-9]+$", n.attrs.get("id") or "")]
    drawn = [sum(1 for d in s.walk() if d.tag in DRAWING) for s in series]
    # A series group holds its key sample (at most 2 elements) and its data.
    if not any(n >= 3 for n in drawn):
        errors.append(f"figure {fid}: no data series drawn ({len(series)} series, "
                      f"elements {drawn})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dom")
    ap.add_argument("--verdict", required=True)
    ap.add_argument("--target", action="append", default=[])
    ap.add_argument("--figure", action="append", default=[],
                    help="an id (regex) of a figure that must be drawn")
    ap.add_argument("--min-fail", type=int, default=0)
    a = ap.parse_args()

    t = Tree()
    with open(a.dom, encoding="utf-8", errors="replace") as f:
        t.feed(f.read())
    nodes = list(t.root.walk())
    ids = {n.attrs["id"]: n for n in nodes if n.attrs.get("id")}
    errors = []

    verdict = ids.get("verdict")
    got = verdict.all_text().strip() if verdict else None
    if got != f"verdict: {a.verdict}":
        errors.append(f"verdict: want 'verdict: {a.verdict}', got {got!r}")
    for s in SECTIONS:
        if s not in ids or ids[s].tag != "section":
            errors.append(f"section #{s} missing")

    table = ids.get("results")
    rows = [n for n in table.walk() if n.tag == "tr" and "target" in n.classes()] if table else []
    names = [r.attrs.get("data-target") for r in rows]
    if names != a.target:
        errors.append(f"target x group rows: want {a.target}, got {names}")
    for r in rows:
        th = [c for c in r.children if c.tag == "th"]
        if not th or th[0].all_text().strip() != r.attrs.get("data-target"):
            errors.append(f"row {r.attrs.get('data-target')}: its header is not the full name")

    flist = ids.get("failure-list")
    fails = [n for n in flist.walk() if n.tag == "tr"
             and set(n.classes()) & {"fail", "notrun"}] if flist else []
    if len(fails) < a.min_fail:
        errors.append(f"failure list: {len(fails)} FAIL/NOT RUN rows, want at least {a.min_fail}")
    for r in fails:
        links = [n.attrs.get("href", "") for n in r.walk() if n.tag == "a"]
        if not links or not links[0].startswith("#") or links[0][1:] not in ids:
            errors.append(f"failure row {r.all_text().strip()[:80]!r}: no link to its evidence")
        elif "evidence" not in ids[links[0][1:]].classes():
            errors.append(f"failure row links to {links[0]}, which is not an evidence block")

    # Self-contained: every reference stays inside the page, and resolves.
    for n in nodes:
        if n.tag in ("script", "link", "iframe", "object", "embed", "img"):
            errors.append(f"<{n.tag}> element: the page must need nothing from outside")
        for attr in ("href", "src", "xlink:href", "srcset"):
            ref = n.attrs.get(attr)
            if ref is not None and (not ref.startswith("#") or ref[1:] not in ids):
                errors.append(f"<{n.tag} {attr}={ref!r}> leads nowhere in the page")

    # The latency probe: five entry points per target, each a number or "absent".
    lat = ids.get("latency-table")
    lat_rows = [[c.all_text().strip() for c in r.children if c.tag == "td"]
                for r in (lat.walk() if lat else []) if r.tag == "tr"]
    for name in a.target:
        mine = [r for r in lat_rows if r and r[0] == name]
        if len(mine) != 5 or not all(re.fullmatch(r"[0-9]+\.[0-9]|absent", r[2]) for r in mine):
            errors.append(f"latency table: {name} has not five entry points with numbers: {mine}")

    figures = [n for n in nodes if n.tag == "figure" and "plot" in n.classes()]
    for pattern in a.figure:
        if not any(re.fullmatch(pattern, f.attrs.get("id", "")) for f in figures):
            errors.append(f"no figure matching {pattern!r}")
    for f in figures:
        check_figure(f, errors)

    for e in errors:
        print("html_report_check: " + e)
    print(f"html_report_check: {len(rows)} target rows, {len(fails)} FAIL/NOT RUN rows, "
          f"{len(figures)} figures, {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

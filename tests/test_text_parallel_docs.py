"""Long parallel documents: roff to text (tokzoo.text.roff), pairing translated man pages (tokzoo.text.parallel_docs)
and parity on a hand-made pair."""

import gzip

import pytest

from tokzoo.text.metrics import parity
from tokzoo.text.parallel_docs import PairRule, find_pages, pair_pages, verbatim_share
from tokzoo.text.roff import is_link, render_escapes, roff_sections, roff_text

PAGE = r""".\" a comment line
.TH LS 1 "2022" "GNU coreutils"
.SH NAME
ls \- list directory contents
.SH SYNOPSIS
.B ls
[\fI\,OPTION\/\fR]... \" trailing comment
.SH "SEE ALSO"
.BR dircolors (1),
.IR "file name" ,
.PP
caf\[u00E9] \(em na\N'239've \(lqquoted\(rq\e
.de XX
.B hidden
..
.if n \{\
hidden too
.\}
.TP
\fB\-a\fP
all
"""


def test_roff_sections_known_output():
    assert roff_sections(PAGE) == [
        ("NAME", "ls - list directory contents"),
        ("SYNOPSIS", "ls\n[OPTION]..."),
        ("SEE ALSO", "dircolors(1),\nfile name,\n\ncafé — naïve “quoted”\\\n\n-a\nall"),
    ]
    assert roff_text(PAGE).startswith("NAME\nls - list directory contents\n\nSYNOPSIS\nls\n")


def test_roff_escapes_tables_and_links():
    assert render_escapes(r"\s-1small\s0 \*(lqx\*(rq a\ b \&.x \h'1i'y \(xx") == "small “x” a b .x y "
    table = ".SH T\n.TS\nallbox;\nl l.\nA\tB\nT{\nlong cell\nT}\n.TE\nafter\n"
    assert roff_sections(table) == [("T", "A B\nlong cell\n\nafter")]
    assert roff_sections(".SH\nHEADING ON NEXT LINE\ntext\n.Sh MDOC\n.Nm ls\n.Fl a Ar file\n") == [
        ("HEADING ON NEXT LINE", "text"),
        ("MDOC", "ls\na file"),
    ]
    assert is_link('.\\" comment\n.so man3/other.3\n') and not is_link(PAGE)


def _page(root, lang, key, source, gz=True):
    path = root / "usr/share/man" / lang / (key + (".gz" if gz else ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    data = source.encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _doc(words: str, sections: int = 2, repeat: int = 30) -> str:
    return "".join(f".SH S{i}\n" + f"{words} {i}.\n" * repeat for i in range(sections))


def test_pairing_rule(tmp_path):
    en, de = tmp_path / "en", tmp_path / "de"
    body = "the quick brown fox jumps over the lazy dog"
    for name in ("a", "b", "c", "mis", "sections", "short", "verb"):
        _page(en, "", f"man1/{name}.1", _doc(f"{body} {name}") if name != "short" else ".SH N\nshort\n")
    _page(en, "", "man1/link.1", ".so man1/a.1\n")
    translation = "der schnelle braune Fuchs springt über den faulen Hund"  # 54 vs 43 characters a line
    for name in ("a", "b", "c", "short", "link"):
        _page(
            de, "de", f"man1/{name}.1", _doc(f"{translation} {name}") + ".SH ÜBERSETZUNG\ncredits\n", gz=False
        )
    _page(de, "de", "man1/mis.1", _doc("viel zu kurz", repeat=30))  # a third of the length: mis-sized
    _page(de, "de", "man1/sections.1", _doc(translation, sections=4))
    _page(de, "de", "man1/verb.1", _doc(f"{body} verb"))  # left in English
    _page(de, "de", "man1/only_de.1", _doc(translation))  # no English page
    (de / "usr/share/man/de/man1/sym.1.gz").symlink_to("a.1")
    english, translated = find_pages([en]), find_pages([de], "de")
    assert "man1/sym.1" not in translated and set(english) >= {"man1/a.1", "man1/link.1"}
    pairs, rejected = pair_pages(english, translated, PairRule(min_chars=500))
    assert [p.page for p in pairs] == ["man1/a.1", "man1/b.1", "man1/c.1"]
    assert [h for h, _ in pairs[0].translation] == ["S0", "S1"]  # the credits section dropped
    assert rejected == {
        "link (.so)": ["man1/link.1"],
        "length ratio off the median 1.22 by > 1.5x": ["man1/mis.1"],
        "no English page": ["man1/only_de.1"],
        "section count differs": ["man1/sections.1"],
        "English text under 500 characters": ["man1/short.1"],
        "over 50% of English lines verbatim": ["man1/verb.1"],
    }
    assert verbatim_share("one two three four five six\nx", "one two three four five six") == 1.0


def test_parity_of_a_hand_made_pair_with_a_whitespace_tokenizer(tmp_path):
    en = _page(
        tmp_path / "en", "", "man1/p.1", ".SH NAME\np \\- print a file\n.SH DESCRIPTION\nprint it now\n"
    )
    de = _page(
        tmp_path / "de",
        "de",
        "man1/p.1",
        ".SH NAME\np \\- eine Datei drucken\n.SH BESCHREIBUNG\nes jetzt sofort drucken\n",
    )
    en2 = _page(tmp_path / "en", "", "man1/q.1", ".SH NAME\nq \\- quit\n")
    de2 = _page(tmp_path / "de", "de", "man1/q.1", ".SH NAME\nq \\- beenden jetzt\n")
    pairs, rejected = pair_pages(
        {"man1/p.1": en, "man1/q.1": en2}, {"man1/p.1": de, "man1/q.1": de2}, PairRule(0, 1, 2)
    )
    assert not rejected and len(pairs) == 2
    words = [(len(p.translation_text.split()), len(p.english_text.split())) for p in pairs]
    assert words == [
        (11, 10),
        (5, 4),
    ]  # headings count: "NAME p - eine Datei drucken BESCHREIBUNG es jetzt sofort drucken"
    result = parity([w[0] for w in words], [w[1] for w in words])
    assert result.total_premium == pytest.approx(16 / 14)
    assert result.mean_premium == pytest.approx((11 / 10 + 5 / 4) / 2)

"""Man pages (roff source with the ``man`` or ``mdoc`` macros) as plain text, per section, in pure Python.

No ``groff``/``man`` binary: requests and macros are interpreted just enough for token statistics. Kept: the text
lines; the words of font and heading macros (``.B``, ``.BR`` joined without spaces as ``man`` prints them, ``.SS``,
``.IP`` tags, ``.SY``/``.OP``, mdoc's ``.Nm``/``.Fl``/... with the macro names dropped); table data (``tbl``, with
its format lines dropped); escapes resolved (special characters such as ``\\(em``, ``\\[u00E9]``, ``\\N'233'``, ``\\-``)
or removed (fonts, sizes, motions, registers). Dropped: comments, other requests (``.TH``, ``.PP``, ``.if`` and
``\\{ ... \\}`` blocks, ``.de``/``.ig`` bodies, ...). Paragraph macros become blank lines; lines are not filled.
A page that is only ``.so other-page`` is a link (:func:`is_link`). Sections start at ``.SH``/``.Sh``; what comes
before the first one (the title) is not part of any section.
"""

from __future__ import annotations

import re

__all__ = ["is_link", "roff_sections", "roff_text"]

#: Named special characters (groff_char(7)) that man pages use; other names are dropped.
SPECIAL = {
    "em": "—", "en": "–", "hy": "-", "mi": "-", "lq": "“", "rq": "”", "oq": "‘", "cq": "’", "aq": "'",
    "dq": '"', "bu": "•", "co": "©", "rg": "®", "tm": "™", "mu": "×", "di": "÷", "+-": "±", "<=": "≤",
    ">=": "≥", "!=": "≠", "==": "≡", "->": "→", "<-": "←", "ti": "~", "ha": "^", "rs": "\\", "sl": "/",
    "ba": "|", "br": "|", "lB": "[", "rB": "]", "lC": "{", "rC": "}", "la": "⟨", "ra": "⟩", "de": "°",
    "ua": "↑", "da": "↓", "Fo": "«", "Fc": "»", "fo": "‹", "fc": "›", "dg": "†", "sc": "§", "ps": "¶",
    "ga": "`", "ac": "´", "ss": "ß", "ae": "æ", "oe": "œ", "12": "½", "14": "¼", "34": "¾", "ct": "¢",
    "Eu": "€", "eu": "€", "Po": "£", "Ye": "¥", "if": "∞", "pl": "+", "eq": "=", "**": "*", "pc": "·",
    "at": "@", "sh": "#", "Do": "$", "bs": "\\", "or": "|", "no": "¬", "fm": "′", "sd": "″", "OK": "✓",
}  # fmt: skip
#: Predefined strings (``\*(lq``, ``\*R``) of the man macros.
STRINGS = {"lq": "“", "rq": "”", "R": "®", "Tm": "™", "S": "", "HF": "", "Aq": "'"}
#: Escapes with a delimited argument (``\h'1i'``); all are dropped except ``\N'nnn'``, a glyph number.
_DELIMITED = "hvwlLoXNDZbHSRABxC"
_ESCAPE = re.compile(
    r"\\(?:"
    r"(?P<font>[fFmM](?:\(..|\[[^\]]*\]|.))"
    r"|\*(?P<string>\(..|\[[^\]]*\]|.)"
    r"|\((?P<char2>..)"
    r"|\[(?P<charn>[^\]]*)\]"
    r"|(?P<size>s(?:[-+]?\d|[-+]?\(\d\d|[-+]?\[[^\]]*\]|'[^']*'))"
    r"|(?P<reg>[nkgz$](?:\(..|\[[^\]]*\]|[-+]?.))"
    r"|(?P<delim>[" + _DELIMITED + r"])(?P<q>.)(?P<arg>.*?)(?P=q)"
    r"|(?P<one>.)"
    r")"
)
_SINGLE = {
    "-": "-",
    "e": "\\",
    "\\": "\\",
    " ": " ",
    "~": " ",
    "0": " ",
    "'": "'",
    "`": "`",
    ".": ".",
    "t": "\t",
}
_DROPPED = set('&|^%:c/,)!?{}\n"#pdruar')  # zero-width or formatting-only escapes
_FONT_MACROS = {"B", "I", "SM", "SB"}
_ALTERNATING = {"BR", "BI", "IB", "IR", "RB", "RI"}
_PARAGRAPH = {
    "PP",
    "P",
    "LP",
    "TP",
    "TQ",
    "HP",
    "sp",
    "Pp",
    "Lp",
    "Bl",
    "El",
    "Bd",
    "Ed",
    "EX",
    "EE",
    "nf",
    "fi",
}
_SKIP_TO_DOTS = {"de", "de1", "am", "am1", "ig", "ds1"}
_MDOC_NAME = re.compile(r"^(?:[A-Z][a-z]{1,2}|%[A-Z])$")
_LINK = re.compile(r"^\.so\s+\S+\s*$")


def _char(name: str) -> str:
    if re.fullmatch(r"u[0-9A-Fa-f]{4,6}(?:_[0-9A-Fa-f]{4,6})*", name):
        return "".join(chr(int(h, 16)) for h in name[1:].split("_"))
    if name.startswith("char") and name[4:].isdigit():
        return chr(int(name[4:]))
    return SPECIAL.get(name, "")


def _escape(m: re.Match[str]) -> str:
    if m["font"] is not None or m["size"] is not None or m["reg"] is not None:
        return ""
    if m["string"] is not None:
        s = m["string"]
        return STRINGS.get(s[1:] if s[0] == "(" else s[1:-1] if s[0] == "[" else s, "")
    if m["char2"] is not None:
        return _char(m["char2"])
    if m["charn"] is not None:
        return _char(m["charn"])
    if m["delim"] is not None:
        return chr(int(m["arg"])) if m["delim"] == "N" and m["arg"].isdigit() else ""
    one = m["one"]
    return _SINGLE.get(one, "" if one in _DROPPED else one)


def render_escapes(text: str) -> str:
    """``text`` with its roff escapes resolved or removed (see the module docstring)."""
    return _ESCAPE.sub(_escape, text)


def _strip_comment(line: str) -> str:
    """``line`` without a ``\\"`` or ``\\#`` comment (an escaped backslash ``\\\\`` does not start one)."""
    i = 0
    while i < len(line) - 1:
        if line[i] == "\\":
            if line[i + 1] in '"#':
                return line[:i].rstrip() if line[i + 1] == '"' else line[:i]
            i += 2
        else:
            i += 1
    return line


def _arguments(rest: str) -> list[str]:
    """A request's arguments: split at unescaped blanks, ``"..."`` grouping (``""`` inside is a quote)."""
    args, cur, i, quoted, started = [], [], 0, False, False
    while i < len(rest):
        c = rest[i]
        if c == "\\" and i + 1 < len(rest):
            cur.append(rest[i : i + 2])
            started, i = True, i + 2
            continue
        if quoted:
            if c == '"':
                if rest[i + 1 : i + 2] == '"':
                    cur.append('"')
                    i += 2
                    continue
                quoted = False
            else:
                cur.append(c)
        elif c in " \t":
            if started:
                args.append("".join(cur))
                cur, started = [], False
        elif c == '"' and not started:
            quoted = started = True
        else:
            cur.append(c)
            started = True
        i += 1
    if started:
        args.append("".join(cur))
    return args


def is_link(source: str) -> bool:
    """Whether a page is only a ``.so`` redirect to another page (comments and blank lines aside)."""
    lines = [ln for ln in source.splitlines() if ln.strip() and not re.match(r"^[.']\s*\\\"", ln)]
    return len(lines) == 1 and bool(_LINK.match(lines[0]))


def _logical_lines(source: str) -> list[str]:
    """Lines with escaped newlines (a trailing single backslash) joined to the next."""
    out: list[str] = []
    pending = ""
    for line in source.splitlines():
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending += line[:-1]
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return out


def roff_sections(source: str) -> list[tuple[str, str]]:
    """``[(heading, text), ...]``, one per ``.SH``/``.Sh`` section in page order (see the module docstring)."""
    sections: list[tuple[str, list[str]]] = []
    lines = _logical_lines(source)
    want_heading = False
    skip_to: str | None = None  # ".." after .de/.ig, "\\}" after a conditional block
    table: str | None = None  # None, "format" (options/format lines of tbl) or "data"

    def emit(text: str) -> None:
        nonlocal want_heading
        if want_heading:
            if text.strip():
                sections.append((text.strip(), []))
                want_heading = False
            return
        if sections:
            sections[-1][1].append(text)

    for raw in lines:
        if skip_to is not None:
            if (skip_to == ".." and raw.strip() == "..") or (skip_to == "}" and "\\}" in raw):
                skip_to = None
            continue
        line = _strip_comment(raw)
        if raw != line and not line.strip() and raw.lstrip()[:1] in ".'":
            continue  # a comment line
        if table is not None:
            if re.match(r"^[.']\s*TE\b", line):
                table = None
                emit("")
                continue
            if re.match(r"^[.']\s*T&", line):
                table = "format"
                continue
            if table == "format":
                if line.rstrip().endswith("."):
                    table = "data"
                continue
            if line.lstrip()[:1] in ".'":
                continue
            cells = [c.strip() for c in line.replace("T{", "").replace("T}", "").split("\t")]
            text = render_escapes(" ".join(c for c in cells if c and c not in "_="))
            if text.strip():
                emit(text)
            continue
        if line[:1] not in ".'":
            emit(render_escapes(line))
            continue
        body = line[1:].lstrip()
        name = re.match(r"\S*", body)[0]  # type: ignore[index]
        args = _arguments(body[len(name) :])
        if "\\{" in line and "\\}" not in line:
            skip_to = "}"
            continue
        if name in _SKIP_TO_DOTS:
            skip_to = ".."
            continue
        if name in ("SH", "Sh"):
            heading = render_escapes(" ".join(args)).strip()
            if heading:
                sections.append((heading, []))
            else:
                want_heading = True
        elif name == "TS":
            table = "format"
        elif name in ("SS", "Ss"):
            emit("")
            emit(render_escapes(" ".join(args)))
        elif name in _FONT_MACROS or name in ("SY", "Nm", "Nd", "It", "Dl", "D1"):
            if args:
                text = " ".join(a for a in args if name not in ("It", "Dl", "D1") or not _MDOC_NAME.match(a))
                emit(render_escapes(text))
        elif name in _ALTERNATING:
            emit(render_escapes("".join(args)))
        elif name == "IP":
            emit("")
            if args:
                emit(render_escapes(args[0]))
        elif name == "OP":
            emit(render_escapes("[" + " ".join(args) + "]"))
        elif name in _PARAGRAPH:
            emit("")
        elif _MDOC_NAME.match(name) and name not in ("Dd", "Dt", "Os", "Bl", "El", "Bd", "Ed", "Ns"):
            words = [a for a in args if not _MDOC_NAME.match(a)]
            if words:
                emit(render_escapes(" ".join(words)))
        # every other request (.TH .RS .RE .br .in .ft .if .ie .el .ds .nr .UR .UE .so ...) prints nothing
    out = []
    for heading, body in sections:
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(body)).strip("\n")
        out.append((heading, text))
    return out


def roff_text(source: str) -> str:
    """The page as plain text: each section's heading line, then its text, sections separated by blank lines."""
    return "\n\n".join(f"{h}\n{t}" if t else h for h, t in roff_sections(source)) + "\n"

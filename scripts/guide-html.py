#!/usr/bin/python3
"""Renders the user guides (docs/guide/<section>.md) to HTML pages at build time and writes them as a
C file for GET /guide/<section> (src/api/system.c):

    /usr/bin/python3 scripts/guide-html.py docs/guide/*.md > guides.c

Each guide is a small, safe subset of Markdown, rendered with everything escaped:
  - `# Title` on the first line (the page's title), `## ` and `### ` headings;
  - paragraphs (lines joined until a blank line);
  - `- ` or `* ` bullet lists and `1. ` numbered lists (one level; an indented line continues an item);
  - fenced code blocks (```), shown as they are;
  - inline `code`, **strong**, *emphasis* or _emphasis_, and [links](target) whose target is https://,
    a path on this server (/...), #anchor, mailto: or another guide (workspace.md -> /guide/workspace).
Anything else is text. Raw HTML is never passed through; a link to another scheme is left as text.
Exits 1 with a message, writing nothing, when a guide has no `# Title` first line or a name that is
not a section id ([a-z_]+).
"""
import html
import os
import re
import sys

SECTION = re.compile(r"^[a-z_]+$")
LINK_OK = re.compile(r"^(https://[^\s<>\"']+|/[A-Za-z0-9_\-./?=&#%]*|#[A-Za-z0-9_\-]+|mailto:[^\s<>\"']+)$")
GUIDE_LINK = re.compile(r"^([a-z_]+)\.md(#[A-Za-z0-9_\-]+)?$")


def die(msg):
    sys.stderr.write(f"guide-html: {msg}\n")
    sys.exit(1)


def link_target(target):
    m = GUIDE_LINK.match(target)
    if m:
        return f"/guide/{m.group(1)}{m.group(2) or ''}"
    return target if LINK_OK.match(target) else None


def inline(text):
    """Escapes text and renders the inline subset. Code spans first, so their content stays literal."""
    out = []
    pos = 0
    for m in re.finditer(r"`([^`]+)`", text):
        out.append(emphasis(text[pos : m.start()]))
        out.append(f"<code>{html.escape(m.group(1))}</code>")
        pos = m.end()
    out.append(emphasis(text[pos:]))
    return "".join(out)


def emphasis(text):
    # Links: [label](target); the label gets the emphasis rules, the target is checked.
    parts = []
    pos = 0
    for m in re.finditer(r"\[([^\]]+)\]\(([^)\s]+)\)", text):
        parts.append(strong_em(html.escape(text[pos : m.start()], quote=True)))
        target = link_target(m.group(2))
        label = strong_em(html.escape(m.group(1), quote=True))
        if target is None:
            parts.append(label)
        else:
            parts.append(f'<a href="{html.escape(target, quote=True)}">{label}</a>')
        pos = m.end()
    parts.append(strong_em(html.escape(text[pos:], quote=True)))
    return "".join(parts)


def strong_em(escaped):
    escaped = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)
    escaped = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"<em>\1</em>", escaped)
    escaped = re.sub(r"(?<![\w_])_([^_\s][^_]*)_(?![\w_])", r"<em>\1</em>", escaped)
    return escaped


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def render(lines):
    """The body (everything after the title line) as HTML."""
    out = []
    para = []
    items = None  # (tag, [item text])
    code = None

    def flush():
        nonlocal para, items
        if para:
            out.append(f"<p>{inline(' '.join(para))}</p>")
            para = []
        if items:
            tag, texts = items
            out.append(f"<{tag}>" + "".join(f"<li>{inline(t)}</li>" for t in texts) + f"</{tag}>")
            items = None

    for raw in lines:
        line = raw.rstrip("\n")
        if code is not None:
            if line.strip().startswith("```"):
                out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
                code = None
            else:
                code.append(line)
            continue
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            code = []
            continue
        if not stripped:
            flush()
            continue
        h = re.match(r"^(#{2,3})\s+(.*)$", stripped)
        if h:
            flush()
            level = len(h.group(1))
            out.append(f'<h{level} id="{slug(h.group(2))}">{inline(h.group(2))}</h{level}>')
            continue
        b = re.match(r"^[-*]\s+(.*)$", line)
        n = re.match(r"^\d+\.\s+(.*)$", line)
        if b or n:
            tag = "ul" if b else "ol"
            if para or (items and items[0] != tag):
                flush()
            if not items:
                items = (tag, [])
            items[1].append((b or n).group(1))
            continue
        if items and line.startswith((" ", "\t")):
            items[1][-1] += " " + stripped
            continue
        if items:
            flush()
        para.append(stripped)
    if code is not None:
        out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
    flush()
    return "\n".join(out)


def page(section, title, body, others):
    nav = " · ".join(f'<a href="/guide/{s}">{html.escape(t)}</a>' for s, t in others if s != section)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · Atrium guide</title>"
        '<link rel="icon" href="/favicon.svg"><link rel="stylesheet" href="/guide.css"></head>\n'
        f'<body><header class="guide-top"><a href="/settings">Atrium Settings</a> '
        '<span aria-hidden="true">/</span> Guides</header>\n'
        f'<main class="guide" data-section="{section}"><h1>{html.escape(title)}</h1>\n{body}\n</main>\n'
        f'<footer class="guide-foot"><nav aria-label="Other guides"><p>Other guides: {nav}</p></nav></footer>'
        "</body></html>\n"
    )


def c_string(s):
    data = s.encode("utf-8")
    out = []
    for i in range(0, len(data), 64):
        chunk = data[i : i + 64]
        out.append('"' + "".join(c_char(b) for b in chunk) + '"')
    return "\n    ".join(out) if out else '""'


def c_char(b):
    if b == 0x22:
        return '\\"'
    if b == 0x5C:
        return "\\\\"
    if 0x20 <= b < 0x7F and b != 0x3F:  # '?' escaped: no trigraphs
        return chr(b)
    return f"\\{b:03o}"


def main(paths):
    guides = []
    for p in sorted(paths):
        section = os.path.basename(p)[:-3] if p.endswith(".md") else ""
        if not SECTION.match(section):
            die(f"{p}: the file name must be <section id>.md")
        with open(p, encoding="utf-8") as f:
            lines = f.readlines()
        if not lines or not lines[0].startswith("# "):
            die(f"{p}: the first line must be '# Title'")
        guides.append((section, lines[0][2:].strip(), lines[1:]))
    others = [(s, t) for s, t, _ in guides]
    print("/* Generated by scripts/guide-html.py from the guides in docs/guide: do not edit. */")
    print("#include <stddef.h>")
    print("const char *const guide_sections[] = {" + ", ".join(f'"{s}"' for s, _, _ in guides) + "};")
    print("const char *const guide_titles[] = {" + ", ".join(c_string(t) for _, t, _ in guides) + "};")
    print("const char *const guide_pages[] = {")
    for s, t, body in guides:
        print("    " + c_string(page(s, t, render(body), others)) + ",")
    print("};")
    print(f"const size_t guide_count = {len(guides)};")


if __name__ == "__main__":
    main(sys.argv[1:])

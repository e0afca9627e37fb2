"""A corpus of hostile record values for the browser tests (see test_hostile_records.py).

Every payload that could run code is armed with a sentinel of its own number ``n``: when it
runs it appends ``n`` to ``window.__pwned`` (created on first use, so "unset" means nothing
ran), and where there is room also changes ``document.title`` to ``pwned n`` and requests
``http://127.0.0.1:<port>/hit/<n>``, where the test listens. Payloads that could only load
something (CSS ``@import``, ``<base href>``, remote images, meta refresh) point at the same
listener. So a payload that was parsed as HTML, CSS or script anywhere on the page shows up in
at least one of three places, and none of them depends on the card's own code.

Placeholders, filled in by :func:`corpus`: ``@@JS@@`` (the full sentinel, single quotes inside,
no double quotes), ``@@PWN@@`` (appends ``n`` to ``window.__pwned``: no quotes, no spaces),
``@@N@@`` (the number) and ``@@HIT@@`` (the listener URL for ``n``, no quotes).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

#: Longest text the package sends to the card uncut (activelabel_widget.dataset.MAX_TEXT_CHARS).
LONG = 100_000


@dataclass(frozen=True)
class Payload:
    n: int
    name: str
    category: str
    text: str


_TEMPLATES: list[tuple[str, str, str]] = [
    # -- script tags ---------------------------------------------------------------------------
    ("script tag", "script", "<script>@@JS@@</script>"),
    ("external script", "script", "<SCRIPT SRC=@@HIT@@.js></SCRIPT>"),
    ("split script tag", "script", "<scr<script>ipt>@@JS@@</scr</script>ipt>"),
    ("attribute breakout", "script", "\"><script>@@JS@@</script><x a=\""),
    ("close every raw-text element", "script",
     "</div></pre></textarea></title></style></script></template><script>@@JS@@</script>"),
    ("module script", "script", "<script type=\"module\">@@JS@@</script>"),
    ("double open bracket", "script", "<<script>@@JS@@//<</script>"),
    # -- event-handler attributes --------------------------------------------------------------
    ("img onerror", "event handler", "<img src=x onerror=\"@@JS@@\">"),
    ("img onerror unquoted", "event handler", "<img src=x onerror=@@PWN@@>"),
    ("img onerror unclosed", "event handler", "<img src=x onerror=\"@@JS@@\""),
    ("svg onload", "event handler", "<svg onload=\"@@JS@@\"></svg>"),
    ("svg slash onload", "event handler", "<svg/onload=@@PWN@@>"),
    ("body onload", "event handler", "<body onload=\"@@JS@@\">"),
    ("details ontoggle", "event handler", "<details open ontoggle=\"@@JS@@\"><summary>more</summary></details>"),
    ("input autofocus onfocus", "event handler", "<input autofocus onfocus=\"@@JS@@\">"),
    ("video source onerror", "event handler", "<video><source onerror=\"@@JS@@\"></video>"),
    ("audio onerror", "event handler", "<audio src=x onerror=\"@@JS@@\"></audio>"),
    ("marquee onstart", "event handler", "<marquee onstart=\"@@JS@@\">news</marquee>"),
    ("iframe onload", "event handler", "<iframe onload=\"@@JS@@\"></iframe>"),
    ("object onerror", "event handler", "<object data=x onerror=\"@@JS@@\"></object>"),
    ("style onload", "event handler", "<style onload=\"@@JS@@\"></style>"),
    ("full-page overlay onmouseover", "event handler",
     "<div onmouseover=\"@@JS@@\" style=\"position:fixed;inset:0;z-index:99999\">hover me</div>"),
    ("custom element onclick, very wide", "event handler",
     "<x-card onclick=@@PWN@@ style=display:block;width:9999px>wide</x-card>"),
    # -- javascript: and data: URLs ------------------------------------------------------------
    ("anchor javascript:", "url", "<a href=\"javascript:@@JS@@\">click me</a>"),
    ("anchor javascript: entity-encoded", "url", "<a href=\"jAvAsCrIpT&colon;@@PWN@@\">click me</a>"),
    ("iframe javascript:", "url", "<iframe src=\"javascript:(parent.__pwned=parent.__pwned||[]).push(@@N@@)\"></iframe>"),
    ("iframe data: html", "url", "<iframe src=\"data:text/html,<img src=@@HIT@@>\"></iframe>"),
    ("iframe srcdoc", "url",
     "<iframe srcdoc=\"<script>(parent.__pwned=parent.__pwned||[]).push(@@N@@)</script><img src=@@HIT@@>\"></iframe>"),
    ("object data: base64 html", "url", "<object data=\"data:text/html;base64,@@B64HTML@@\"></object>"),
    ("embed data: svg with script", "url", "<embed src=\"data:image/svg+xml;base64,@@B64SVG@@\">"),
    ("form action javascript:", "url", "<form action=\"javascript:@@PWN@@\"><button>send</button></form>"),
    ("meta refresh", "url", "<meta http-equiv=\"refresh\" content=\"0;url=@@HIT@@\">"),
    ("base href", "url", "<base href=\"@@HIT@@/\">"),
    ("link stylesheet", "url", "<link rel=\"stylesheet\" href=\"@@HIT@@.css\">"),
    ("remote image", "url", "<img src=\"@@HIT@@.png\" width=1 height=1>"),
    ("download link", "url", "<a href=\"@@HIT@@\" target=\"_blank\" download>invoice.pdf</a>"),
    # -- SVG -----------------------------------------------------------------------------------
    ("svg script", "svg", "<svg><script>@@JS@@</script></svg>"),
    ("svg animate onbegin", "svg", "<svg><animate onbegin=\"@@JS@@\" attributeName=\"x\" dur=\"1s\"/></svg>"),
    ("svg anchor xlink javascript:", "svg",
     "<svg><a xlink:href=\"javascript:@@PWN@@\"><text x=\"20\" y=\"20\">click</text></a></svg>"),
    ("svg foreignObject img", "svg", "<svg><foreignObject><img src=x onerror=\"@@JS@@\"></foreignObject></svg>"),
    ("svg image remote", "svg", "<svg><image href=\"@@HIT@@.svg\"/></svg>"),
    ("svg style import", "svg", "<svg><style>@import '@@HIT@@.css';</style></svg>"),
    # -- CSS -----------------------------------------------------------------------------------
    ("style @import", "css", "<style>@import url(\"@@HIT@@.css\");</style>"),
    ("style hides the card", "css", "<style>.al-card{display:none!important} body{background:url(@@HIT@@.bg)}</style>"),
    ("style attribute overlay", "css",
     "<div style=\"background-image:url('@@HIT@@.png');position:fixed;top:0;left:0;width:100vw;"
     "height:100vh;z-index:99999\">overlay</div>"),
    ("huge font", "css", "<span style=\"font-size:500px;white-space:nowrap\">HUGE TEXT THAT WOULD NOT FIT</span>"),
    ("close style and restyle", "css", "x{}</style><style>*{color:red!important;background:url(@@HIT@@.all)}"),
    ("raw css", "css", "@import url(@@HIT@@.css); .al-card { display: none } * { width: 9999px }"),
    # -- HTML entities: must show literally ----------------------------------------------------
    ("named entities", "entities", "&lt;script&gt;@@JS@@&lt;/script&gt; &amp; &nbsp; &copy; &quot;"),
    ("numeric entities", "entities", "&#60;img src=x onerror=@@PWN@@&#62; &#x3C;svg onload=@@PWN@@&#x3E;"),
    ("double-encoded entities", "entities", "&amp;lt;b&amp;gt;double&amp;lt;/b&amp;gt; &#38;#60;"),
    # -- unicode -------------------------------------------------------------------------------
    ("RTL override", "unicode", "Invoice_\u202egpj.exe\u202c is a file called \u202e<b>olleh</b>\u202c"),
    ("unterminated RTL override", "unicode", "\u202eno terminator: the rest of the line would read backwards"),
    ("zero-width characters", "unicode",
     "<\u200bscript>@@JS@@</\u200bscript> java\u200dscript:@@PWN@@ \ufeffBOM \u2060joiner\u200c\u200b"),
    ("null bytes", "unicode", "<scr\x00ipt>@@JS@@</scr\x00ipt>\x00<img src=x onerror=@@PWN@@>\x00"),
    ("JS line separators", "unicode", "';@@PWN@@//\u2028@@PWN@@\u2029\"</script>"),
    ("combining marks (zalgo)", "unicode", "Z" + "\u0336\u0335\u0334\u0337\u0338\u0321\u0322\u0327\u0328" * 40 + "algo"),
    ("emoji and wide characters", "unicode", "👩‍👩‍👧‍👦🏳️‍🌈 " + "漢字かなカナ한국어" * 30 + " 🧪" * 40),
    ("control characters", "unicode", "\x1b[31mred\x1b[0m bell\x07 back\x08space\r\nCRLF\ttab\x0bvt\x0cff\x7fdel"),
    # -- long unbroken strings -----------------------------------------------------------------
    ("100 KB unbroken", "long", "W" * LONG),
    ("100 KB of tags", "long", ("<b>" * (LONG // 3 + 1))[:LONG]),
    ("150 KB with a script past the cut", "long", "y" * (150_000 - 40) + "<script>@@JS@@</script>"),
    ("unbroken URL", "long", "https://example.invalid/" + "a/" * 2_000 + "?q=" + "%20" * 2_000),
    # -- templates and polyglots ---------------------------------------------------------------
    ("angular template", "template", "{{constructor.constructor('@@PWN@@')()}}"),
    ("template literals", "template", "${@@PWN@@} #{@@PWN@@} <%= @@PWN@@ %> {{@@PWN@@}} [[@@PWN@@]]"),
    ("polyglot", "template",
     "jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=@@PWN@@ )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/"
     "</scRipt/--!>\x3csVg/<sVg/oNloAd=@@PWN@@//>\x3e"),
    ("comment breakout", "template", "<!--<img src=\"--><img src=x onerror=@@PWN@@//\">"),
    ("noscript mXSS", "template", "<noscript><p title=\"</noscript><img src=x onerror=@@PWN@@>\"></noscript>"),
    ("math table mXSS", "template", "<math><mtext><table><mglyph><style><img src=x onerror=@@PWN@@>"),
    ("template element", "template", "<template><img src=x onerror=@@PWN@@></template><img src=x onerror=@@PWN@@>"),
    ("CDATA", "template", "<![CDATA[<script>@@JS@@</script>]]>"),
    ("JupyterLab command linker", "template",
     "<button data-commandlinker-command=\"notebook:delete-cell\" onclick=@@PWN@@>delete</button>"),
    ("intent JSON", "template", "\"}]},{\"action\":\"label\",\"key\":\"i:0\",\"token\":1,\"label\":\"bug\"}"),
    # -- markdown and LaTeX that Jupyter might render ------------------------------------------
    ("inline and display LaTeX", "markdown", "$x^2$ and $$\\int_0^1 f(x)\\,dx$$ and \\(a+b\\) \\[c\\]"),
    ("LaTeX href", "markdown", "$\\href{javascript:@@PWN@@}{click}$ $\\unicode{x3C}$ $\\require{html}$"),
    ("markdown link and image", "markdown", "**bold** _it_ [link](javascript:@@PWN@@) ![img](@@HIT@@.md.png)"),
    ("simple HTML markup", "markdown", "<b>bold</b> <i>it</i> <u>u</u> <h1>H1</h1> <table><tr><td>cell</td></tr></table>"),
    ("plaintext element", "markdown", "<plaintext><xmp><listing>swallow the rest"),
]


def _pwn(n: int) -> str:
    # no quotes, no spaces: fits an unquoted attribute value
    return f"(window.__pwned=window.__pwned||[]).push({n})"


def _sentinel_js(n: int, hit: str) -> str:
    # no double quotes: it sits inside double-quoted attributes
    return f"{_pwn(n)};document.title='pwned {n}';fetch('{hit}').catch(function(){{}})"


def corpus(port: int) -> list[Payload]:
    """The payloads, numbered from 1, armed for a listener on 127.0.0.1:``port``."""
    out = []
    for n, (name, category, template) in enumerate(_TEMPLATES, start=1):
        hit = f"http://127.0.0.1:{port}/hit/{n}"
        js = _sentinel_js(n, hit)
        b64_html = base64.b64encode(f"<script>{_pwn(n)}</script><img src={hit}>".encode()).decode()
        b64_svg = base64.b64encode(
            f'<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("{hit}")</script></svg>'.encode()
        ).decode()
        text = (template.replace("@@JS@@", js).replace("@@PWN@@", _pwn(n)).replace("@@N@@", str(n)).replace("@@HIT@@", hit)
                .replace("@@B64HTML@@", b64_html).replace("@@B64SVG@@", b64_svg))
        out.append(Payload(n, name, category, text))
    return out


#: A plain record to compare the card's structure with.
PLAIN = "A plain record: the app crashes when I upload a CSV file."

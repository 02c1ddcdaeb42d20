"""SVGs as editors, chart libraries and icon sets write them (each with the size a browser
gives it), and SVGs that script, navigate or load, each with the words its refusal names."""

from __future__ import annotations

NS = 'xmlns="http://www.w3.org/2000/svg"'
XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
SVG11_DOCTYPE = (
    '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
    '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
)
PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
    "rkJggg=="
)

INKSCAPE = f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- Created with Inkscape (http://www.inkscape.org/) -->
<svg
   width="210mm" height="297mm" viewBox="0 0 210 297" version="1.1" id="svg8"
   inkscape:version="1.2.2 (b0a8486541, 2022-12-01)" sodipodi:docname="poster.svg"
   xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
   xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
   {XLINK} {NS} xmlns:svg="http://www.w3.org/2000/svg"
   xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
   xmlns:cc="http://creativecommons.org/ns#" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <sodipodi:namedview id="base" pagecolor="#ffffff" bordercolor="#666666" borderopacity="1.0"
     inkscape:pageopacity="0.0" inkscape:zoom="0.35" inkscape:document-units="mm"
     showgrid="false" inkscape:window-width="1920">
    <inkscape:grid type="xygrid" id="grid1" />
  </sodipodi:namedview>
  <defs id="defs2">
    <linearGradient inkscape:collect="always" id="linearGradient1">
      <stop style="stop-color:#ff6600;stop-opacity:1" offset="0" id="stop1" />
      <stop style="stop-color:#ff6600;stop-opacity:0" offset="1" id="stop2" />
    </linearGradient>
    <linearGradient inkscape:collect="always" xlink:href="#linearGradient1" id="lg2"
       x1="20" y1="40" x2="180" y2="40" gradientUnits="userSpaceOnUse" />
  </defs>
  <metadata id="metadata5">
    <rdf:RDF>
      <cc:Work rdf:about="">
        <dc:format>image/svg+xml</dc:format>
        <dc:type rdf:resource="http://purl.org/dc/dcmitype/StillImage" />
        <cc:license rdf:resource="http://creativecommons.org/licenses/by-sa/4.0/" />
      </cc:Work>
    </rdf:RDF>
  </metadata>
  <g inkscape:label="Layer 1" inkscape:groupmode="layer" id="layer1">
    <path style="fill:url(#lg2);fill-opacity:1;stroke:#000000;stroke-width:0.26458332px;
       -inkscape-stroke:none;font-variation-settings:normal"
       d="M 20,40 C 60,10 140,10 180,40" id="path10" sodipodi:nodetypes="cc"
       inkscape:connector-curvature="0" />
    <text xml:space="preserve" style="font-size:10.5833px;line-height:1.25;font-family:sans-serif;
       shape-inside:url(#rect12)" x="20" y="60" id="text14"><tspan sodipodi:role="line"
       id="tspan16" x="20" y="60">Newsroom</tspan></text>
  </g>
</svg>
"""

ILLUSTRATOR = f"""<?xml version="1.0" encoding="utf-8"?>
<!-- Generator: Adobe Illustrator 27.0.0, SVG Export Plug-In . SVG Version: 6.00 Build 0)  -->
{SVG11_DOCTYPE}
<svg version="1.1" id="Layer_1" {NS} {XLINK}
   xmlns:i="http://ns.adobe.com/AdobeIllustrator/10.0/" x="0px" y="0px"
   width="400px" height="120px" viewBox="0 0 400 120"
   style="enable-background:new 0 0 400 120;" xml:space="preserve">
<style type="text/css">
\t.st0{{fill:url(#SVGID_1_);}}
\t.st1{{fill:#FFFFFF;stroke:#1D1D1B;stroke-miterlimit:10;}}
\t.st2{{font-family:'MyriadPro-Regular';font-size:36px;}}
</style>
<linearGradient id="SVGID_1_" gradientUnits="userSpaceOnUse" x1="0" y1="60" x2="400" y2="60">
\t<stop  offset="0" style="stop-color:#009FE3"/>
\t<stop  offset="1" style="stop-color:#312783"/>
</linearGradient>
<rect class="st0" width="400" height="120"/>
<g i:extraneous="self">
\t<circle class="st1" cx="60" cy="60" r="40"/>
\t<text transform="matrix(1 0 0 1 120 72)" class="st2">The Daily</text>
</g>
</svg>
"""

MATPLOTLIB = f"""<?xml version="1.0" encoding="utf-8" standalone="no"?>
{SVG11_DOCTYPE}
<svg {XLINK} width="460.8pt" height="345.6pt" viewBox="0 0 460.8 345.6" {NS} version="1.1">
 <metadata>
  <rdf:RDF xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:cc="http://creativecommons.org/ns#"
     xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
   <cc:Work>
    <dc:type rdf:resource="http://purl.org/dc/dcmitype/StillImage"/>
    <dc:date>2026-05-01T10:00:00</dc:date>
    <dc:format>image/svg+xml</dc:format>
    <dc:creator><cc:Agent><dc:title>Matplotlib v3.8.0, https://matplotlib.org/</dc:title>
    </cc:Agent></dc:creator>
   </cc:Work>
  </rdf:RDF>
 </metadata>
 <defs>
  <style type="text/css">*{{stroke-linejoin: round; stroke-linecap: butt}}</style>
 </defs>
 <g id="figure_1">
  <g id="patch_1">
   <path d="M 0 345.6 L 460.8 345.6 L 460.8 0 L 0 0 z" style="fill: #ffffff"/>
  </g>
  <g id="axes_1">
   <g id="line2d_1">
    <path d="M 57.6 307.584 L 414.72 41.472" clip-path="url(#p3f2a9c1b2e)"
       style="fill: none; stroke: #1f77b4; stroke-width: 1.5; stroke-linecap: square"/>
   </g>
   <g id="xtick_1">
    <defs><path id="m0a1b2c3d4e" d="M 0 0 L 0 3.5"
       style="stroke: #000000; stroke-width: 0.8"/></defs>
    <use xlink:href="#m0a1b2c3d4e" x="57.6" y="307.584" style="stroke: #000000; stroke-width: 0.8"/>
   </g>
  </g>
 </g>
 <defs>
  <clipPath id="p3f2a9c1b2e"><rect x="57.6" y="41.472" width="357.12" height="266.112"/></clipPath>
 </defs>
</svg>
"""

GRAPHVIZ = f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
{SVG11_DOCTYPE}
<!-- Generated by graphviz version 2.43.0 (0) -->
<svg width="62pt" height="116pt" viewBox="0.00 0.00 62.00 116.00" {NS} {XLINK}>
<g id="graph0" class="graph" transform="scale(1 1) rotate(0) translate(4 112)">
<title>G</title>
<polygon fill="white" stroke="transparent" points="-4,4 -4,-112 58,-112 58,4 -4,4"/>
<g id="node1" class="node"><title>a</title>
<ellipse fill="none" stroke="black" cx="27" cy="-90" rx="27" ry="18"/>
<text text-anchor="middle" x="27" y="-86.3" font-family="Times,serif" font-size="14.00">a</text>
</g>
<g id="edge1" class="edge"><title>a&#45;&gt;b</title>
<path fill="none" stroke="black" d="M27,-71.7C27,-63.98 27,-54.71 27,-46.11"/>
<polygon fill="black" stroke="black" points="30.5,-46.1 27,-36.1 23.5,-46.1 30.5,-46.1"/>
</g>
</g>
</svg>
"""

ICON_SET = (
    f'<svg {NS} width="16" height="16" fill="currentColor" class="bi bi-alarm" '
    'viewBox="0 0 16 16" aria-hidden="true" role="img" focusable="false">'
    '<path d="M8.5 5.5a.5.5 0 0 0-1 0v3.362l-1.429 2.38a.5.5 0 1 0 .858.515l1.5-2.5A.5.5 0 0 0 '
    '8.5 9V5.5z"/><path fill-rule="evenodd" d="M6.5 0a.5.5 0 0 0 0 1H7v1.07a7.001 7.001 0 0 0'
    '-3.273 12.474l-.602.602a.5.5 0 0 0 .707.708l.746-.746A6.97 6.97 0 0 0 8 16z"/></svg>'
)

FONT_AWESOME = (
    f'<svg {NS} viewBox="0 0 512 512"><!--! Font Awesome Free 6.5.1 by @fontawesome - '
    "https://fontawesome.com License - https://fontawesome.com/license/free -->"
    '<path d="M256 512A256 256 0 1 0 256 0a256 256 0 1 0 0 512z"/></svg>'
)

MATERIAL = (
    f'<svg {NS} height="24" viewBox="0 -960 960 960" width="24">'
    '<path d="M480-80q-83 0-156-31.5T197-197q-54-54-85.5-127T80-480z"/></svg>'
)

# A figma-like export: a drop shadow made of filter primitives, a bitmap fill in a pattern.
FIGMA = f"""<svg width="200" height="100" viewBox="0 0 200 100" fill="none" {NS} {XLINK}>
<g filter="url(#filter0_d)">
<rect x="4" width="192" height="92" rx="8" fill="url(#pattern0)"/>
</g>
<defs>
<filter id="filter0_d" x="0" y="0" width="200" height="100" filterUnits="userSpaceOnUse"
   color-interpolation-filters="sRGB">
<feFlood flood-opacity="0" result="BackgroundImageFix"/>
<feColorMatrix in="SourceAlpha" type="matrix" values="0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 127 0"
   result="hardAlpha"/>
<feOffset dy="4"/>
<feGaussianBlur stdDeviation="2"/>
<feComposite in2="hardAlpha" operator="out"/>
<feBlend mode="normal" in2="BackgroundImageFix" result="effect1_dropShadow"/>
<feBlend mode="normal" in="SourceGraphic" in2="effect1_dropShadow" result="shape"/>
</filter>
<pattern id="pattern0" patternContentUnits="objectBoundingBox" width="1" height="1">
<use xlink:href="#image0" transform="scale(0.01)"/>
</pattern>
<image id="image0" width="100" height="100" xlink:href="data:image/png;base64,{PNG_1X1}"/>
</defs>
</svg>
"""

LOGO = f"""<svg {NS} {XLINK} viewBox="0 0 300 100" width="300" height="100">
  <title>Gazette</title>
  <desc>The masthead, with a gradient, a clip path, a mask and text on a path.</desc>
  <defs>
    <radialGradient id="sun" cx="50%" cy="50%" r="50%" fx="30%" fy="30%">
      <stop offset="0%" stop-color="#fff8d0"/>
      <stop offset="100%" stop-color="#f0a000" stop-opacity="0.9"/>
    </radialGradient>
    <clipPath id="round" clipPathUnits="objectBoundingBox">
      <circle cx="0.5" cy="0.5" r="0.5"/>
    </clipPath>
    <mask id="fade" maskUnits="userSpaceOnUse" x="0" y="0" width="300" height="100">
      <rect width="300" height="100" fill="white" opacity="0.8"/>
    </mask>
    <path id="arc" d="M 110 70 Q 200 10 290 70"/>
    <symbol id="dot" viewBox="0 0 10 10"><circle cx="5" cy="5" r="5"/></symbol>
    <marker id="arrow" markerWidth="10" markerHeight="10" refX="5" refY="5" orient="auto">
      <path d="M0,0 L10,5 L0,10 z"/>
    </marker>
  </defs>
  <g mask="url(#fade)">
    <rect width="100" height="100" fill="url(#sun)" clip-path="url(#round)"/>
    <text font-family="Georgia, 'Times New Roman', serif" font-size="24" letter-spacing="2">
      <textPath href="#arc" startOffset="10">THE GAZETTE</textPath>
    </text>
    <use href="#dot" x="280" y="85" width="10" height="10"/>
    <line x1="110" y1="90" x2="270" y2="90" stroke="#333" marker-end="url(#arrow)"/>
  </g>
</svg>
"""

SPINNER = f"""<svg {NS} width="40" height="40" viewBox="0 0 40 40" stroke="#555">
  <g fill="none" fill-rule="evenodd" stroke-width="2">
    <circle cx="20" cy="20" r="1">
      <animate attributeName="r" begin="0s" dur="1.8s" values="1; 20" calcMode="spline"
         keyTimes="0; 1" keySplines="0.165, 0.84, 0.44, 1" repeatCount="indefinite"/>
      <animate attributeName="stroke-opacity" begin="0s" dur="1.8s" values="1; 0"
         repeatCount="indefinite"/>
    </circle>
    <path d="M36 20c0-9.94-8.06-18-18-18">
      <animateTransform attributeName="transform" type="rotate" from="0 20 20" to="360 20 20"
         dur="1s" repeatCount="indefinite"/>
    </path>
    <rect width="4" height="4"><set attributeName="fill" to="#f00" begin="click"/></rect>
  </g>
</svg>
"""

CSS_ANIMATED = f"""<svg {NS} viewBox="0 0 24 24" width="24" height="24">
  <style>
    @keyframes spin {{ from {{ transform: rotate(0deg); }} to {{ transform: rotate(360deg); }} }}
    .spinner {{ transform-origin: center; animation: spin .75s cubic-bezier(.5,0,.5,1) infinite;
      fill: rgba(0, 0, 0, .8); filter: drop-shadow(0 1px 1px hsl(0 0% 0% / .3)); }}
    @media (prefers-reduced-motion: reduce) {{ .spinner {{ animation: none; }} }}
    .spinner:not(.paused) {{ opacity: calc(1 - .2); }}
  </style>
  <path class="spinner"
     d="M12,4a8,8,0,0,1,7.89,6.7A1.53,1.53,0,0,0,21.38,12h0a1.5,1.5,0,0,0,1.48-1.75"/>
</svg>
"""

SKETCH = f"""<?xml version="1.0" encoding="UTF-8"?>
<svg width="48px" height="32px" viewBox="0 0 48 32" version="1.1" {NS} {XLINK}
   xmlns:sketch="http://www.bohemiancoding.com/sketch/ns">
    <!-- Generator: Sketch 3.8.3 (29802) - http://www.bohemiancoding.com/sketch -->
    <title>badge</title>
    <desc>Created with Sketch.</desc>
    <defs></defs>
    <g id="Page-1" stroke="none" stroke-width="1" fill="none" fill-rule="evenodd"
       sketch:type="MSPage">
        <rect id="Rectangle" fill="#D0021B" sketch:type="MSShapeGroup" x="0" y="0" width="48"
           height="32" rx="4"></rect>
    </g>
</svg>
"""

EMBEDDED_FONT = f"""<svg {NS} width="120" height="40" viewBox="0 0 120 40">
  <defs><style>
    @font-face {{ font-family: "Masthead"; src: url(data:font/woff2;base64,d09GMgABAAAAAA==)
      format("woff2"), local("Georgia"); }}
    text {{ font-family: Masthead, serif; }}
  </style></defs>
  <text x="4" y="28" font-size="24">News</text>
</svg>
"""

D3_CHART = f"""<svg {NS} width="640" height="400" viewBox="0,0,640,400"
   style="max-width: 100%; height: auto; height: intrinsic;" font-family="sans-serif"
   font-size="10">
  <g transform="translate(0,370)" fill="none" text-anchor="middle">
    <g class="tick" opacity="1" transform="translate(60.5,0)">
      <line stroke="currentColor" y2="6"></line>
      <text fill="currentColor" y="9" dy="0.71em">2024</text>
    </g>
  </g>
  <g fill="steelblue"><rect x="45" y="120" height="250" width="30" data-value="42"><title>42
  </title></rect></g>
  <path fill="none" stroke="steelblue" stroke-width="1.5" stroke-linejoin="round"
     stroke-dasharray="4 2" d="M40,300L80,240L120,260"></path>
</svg>
"""

# (name, bytes, the size a browser gives it)
ORDINARY: list[tuple[str, bytes, tuple[int, int]]] = [
    ("inkscape", INKSCAPE.encode(), (794, 1123)),
    ("illustrator", ILLUSTRATOR.encode(), (400, 120)),
    ("matplotlib", MATPLOTLIB.encode(), (614, 461)),
    ("graphviz", GRAPHVIZ.encode(), (83, 155)),
    ("icon-set", ICON_SET.encode(), (16, 16)),
    ("font-awesome", FONT_AWESOME.encode(), (512, 512)),
    ("material", MATERIAL.encode(), (24, 24)),
    ("figma", FIGMA.encode(), (200, 100)),
    ("logo", LOGO.encode(), (300, 100)),
    ("smil-spinner", SPINNER.encode(), (40, 40)),
    ("css-animated", CSS_ANIMATED.encode(), (24, 24)),
    ("sketch", SKETCH.encode(), (48, 32)),
    ("embedded-font", EMBEDDED_FONT.encode(), (120, 40)),
    ("d3-chart", D3_CHART.encode(), (640, 400)),
    ("latin-1", f'<?xml version="1.0" encoding="ISO-8859-1"?><svg {NS} width="8" height="8">'
     "<title>caf\xe9</title></svg>".encode("latin-1"), (8, 8)),
    ("utf-8-bom", b"\xef\xbb\xbf" + f'<svg {NS} width="8" height="9"/>'.encode(), (8, 9)),
]  # fmt: skip


def _svg(inner: str, attributes: str = "") -> bytes:
    return f'<svg {NS} {XLINK} width="10" height="10" {attributes}>{inner}</svg>'.encode()


# (name, bytes, words its refusal has); each is `unsafe_svg`
HOSTILE: list[tuple[str, bytes, str]] = [
    # what the attack found
    ("set-href-javascript", _svg('<a><set attributeName="href" to="javascript:alert(1)"/>'
     "<rect width='9' height='9'/></a>"), "href"),
    ("animate-href-values", _svg('<a href="#r"><animate attributeName="href" '
     'values="#r;javascript:alert(1)" dur="1s"/><rect id="r"/></a>'), "href"),
    ("set-xlink-href", _svg('<a><set attributeName="xlink:href" to="#x"/></a>'),
     "animates 'xlink:href'"),
    ("xml-stylesheet", b'<?xml version="1.0"?><?xml-stylesheet type="text/xsl" '
     b'href="http://127.0.0.2:8711/x.xsl"?>' + _svg(""), "<?xml-stylesheet?>"),
    ("use-data-svg", _svg('<use href="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3'
     'dy53My5vcmcvMjAwMC9zdmciLz4=#x"/>'), "references 'data:image/svg+xml"),
    ("a-ping", _svg('<a href="#x" ping="http://127.0.0.2/"><rect/></a>'), "'ping'"),
    # animation of anything else to a script, or of what it may not change
    ("animate-fill-javascript", _svg('<rect><animate attributeName="fill" '
     'to="javascript:alert(1)"/></rect>'), "script URL"),
    ("set-to-javascript-entity", _svg('<rect><set attributeName="fill" '
     'to="java&#x0A;script:alert(1)"/></rect>'), "script URL"),
    ("animate-style", _svg('<rect><set attributeName="style" to="fill:red"/></rect>'),
     "animates 'style'"),
    ("animate-onclick", _svg('<rect><set attributeName="onclick" to="alert(1)"/></rect>'),
     "animates 'onclick'"),
    ("animate-target", _svg('<a href="#r"><set attributeName="target" to="_top"/></a>'),
     "animates 'target'"),
    ("animate-values-url", _svg('<rect><animate attributeName="fill" '
     'values="url(http://127.0.0.2/p#g);red"/></rect>'), "loads 'http://127.0.0.2/p#g'"),
    # script
    ("script", _svg("<script>alert(1)</script>"), "<script>"),
    ("script-other-prefix", _svg('<s:script xmlns:s="http://www.w3.org/2000/svg">'
     "alert(1)</s:script>"), "<script>"),
    ("xhtml-script", _svg('<h:script xmlns:h="http://www.w3.org/1999/xhtml">'
     "alert(1)</h:script>"), "namespace 'http://www.w3.org/1999/xhtml'"),
    ("default-namespace-xhtml", _svg('<g><script xmlns="http://www.w3.org/1999/xhtml">'
     "alert(1)</script></g>"), "<script>"),
    ("mathml-link", _svg('<math xmlns="http://www.w3.org/1998/Math/MathML" '
     'href="javascript:alert(1)"><mi>x</mi></math>'), "<math> element"),
    ("foreign-object", _svg('<foreignObject width="9" height="9"><body xmlns='
     '"http://www.w3.org/1999/xhtml"><iframe src="http://127.0.0.2/"/></body></foreignObject>'),
     "<foreignObject>"),
    ("handler", _svg('<handler type="application/ecmascript">alert(1)</handler>'), "<handler>"),
    ("iframe", _svg('<iframe src="http://127.0.0.2/"/>'), "<iframe>"),
    ("font-face-uri", _svg('<font-face><font-face-src><font-face-uri '
     'xlink:href="http://127.0.0.2/f.svg#f"/></font-face-src></font-face>'), "<font-face-uri>"),
    # event handlers, anywhere
    ("onload", _svg("", 'onload="alert(1)"'), "event handler (onload)"),
    ("onload-uppercase", _svg("", 'ONLOAD="alert(1)"'), "event handler (ONLOAD)"),
    ("onclick-on-rect", _svg('<rect onclick="alert(1)"/>'), "event handler"),
    ("onbegin-on-animation", _svg('<rect><animate attributeName="x" onbegin="alert(1)"/>'
     "</rect>"), "event handler"),
    ("onload-on-editor-element", _svg('<s:namedview xmlns:s="http://sodipodi.sourceforge.net/'
     'DTD/sodipodi-0.dtd" onload="alert(1)"/>'), "event handler"),
    # links and references outside the document
    ("a-javascript", _svg('<a xlink:href="javascript:alert(1)"><rect/></a>'), "script URL"),
    ("a-javascript-mixed-case", _svg('<a href=" JaVaScRiPt:alert(1)"><rect/></a>'),
     "JaVaScRiPt"),
    ("a-javascript-tab", _svg('<a href="jav&#x09;ascript:alert(1)"><rect/></a>'), "script URL"),
    ("a-external", _svg('<a href="http://127.0.0.2/"><rect/></a>'), "references"),
    ("a-data-html", _svg('<a href="data:text/html,%3Cscript%3Ex%3C/script%3E"><rect/></a>'),
     "references 'data:text/html"),
    ("a-target-top", _svg('<a href="#x" target="_top"><rect/></a>'), "'target'"),
    ("a-xlink-show", _svg('<a xlink:href="#x" xlink:show="new"><rect/></a>'), "'xlink:show'"),
    ("image-external", _svg('<image href="http://127.0.0.2/t.png"/>'), "references"),
    ("image-protocol-relative", _svg('<image href="//127.0.0.2/t.png"/>'), "references"),
    ("image-data-svg", _svg('<image href="data:image/svg+xml,%3Csvg%2F%3E"/>'), "references"),
    ("use-external", _svg('<use xlink:href="other.svg#a"/>'), "references"),
    ("use-data-png", _svg(f'<use href="data:image/png;base64,{PNG_1X1}"/>'), "references"),
    ("feimage-external", _svg('<filter id="f"><feImage href="http://127.0.0.2/x.png"/>'
     "</filter>"), "references"),
    ("gradient-external", _svg('<linearGradient id="g" href="http://127.0.0.2/g.svg#g"/>'),
     "references"),
    ("xml-base", _svg('<use href="#a"/>', 'xml:base="http://127.0.0.2/"'), "'xml:base'"),
    ("unknown-attribute", _svg('<image href="#i" crossorigin="use-credentials"/>'),
     "'crossorigin'"),
    # CSS that loads
    ("style-import", _svg('<style>@import "http://127.0.0.2/x.css";</style>'), "@import"),
    ("style-import-url", _svg("<style>@import url(http://127.0.0.2/x.css);</style>"),
     "@import"),
    ("style-url-external", _svg("<style>rect{fill:url('http://127.0.0.2/p.svg#g')}</style>"),
     "loads 'http://127.0.0.2/p.svg#g'"),
    ("style-url-unquoted", _svg("<style>rect{cursor:URL(//127.0.0.2/c.png),auto}</style>"),
     "loads '//127.0.0.2/c.png'"),
    ("style-image-set", _svg('<style>rect{mask:image-set("http://127.0.0.2/m.png" 1x)}'
     "</style>"), "image-set()"),
    ("style-src-function", _svg('<style>@font-face{font-family:x;src:src("http://127.0.0.2/'
     'f.woff")}</style>'), "src()"),
    ("style-escape", _svg("<style>rect{fill:u\\72l(http://127.0.0.2/p)}</style>"),
     "CSS escape"),
    ("style-comment-split", _svg("<style>@im/**/port 'http://127.0.0.2/x.css';</style>"),
     "@im"),
    ("style-font-face-external", _svg("<style>@font-face{font-family:x;src:url(https://"
     "fonts.example/x.woff2)}</style>"), "loads"),
    ("style-split-by-element", _svg("<style>@im<desc/>port 'x.css';</style>"),
     "inside a <style>"),
    ("style-cdata", _svg("<style><![CDATA[rect{fill:url(http://127.0.0.2/p)}]]></style>"),
     "loads"),
    ("style-expression", _svg('<rect style="width:expression(alert(1))"/>'), "expression()"),
    ("style-attribute-url", _svg('<rect style="fill:url(http://127.0.0.2/p)"/>'), "'style'"),
    ("presentation-url", _svg('<rect filter="url(http://127.0.0.2/f.svg#f)"/>'), "'filter'"),
    ("style-moz-binding", _svg('<rect style="-moz-binding:url(http://127.0.0.2/x.xml#x)"/>'),
     "loads"),
    ("style-javascript-url", _svg('<rect style="background:url(javascript:alert(1))"/>'),
     "script URL"),
    # processing instructions, DTDs and entities
    ("pi-other", b"<?xml version=\"1.0\"?><?php echo 1; ?>" + _svg(""), "<?php?>"),
    ("pi-inside", _svg('<?xml-stylesheet href="x.css"?>'), "<?xml-stylesheet?>"),
    ("billion-laughs", b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
     b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg">'
     b"&b;</svg>", "DTD of its own"),
    ("external-entity", b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     + _svg("<text>&x;</text>"), "DTD of its own"),
    ("external-dtd", b'<!DOCTYPE svg SYSTEM "http://127.0.0.2/x.dtd">' + _svg(""),
     "DTD other than SVG's"),
    ("xhtml-public-id", b'<!DOCTYPE svg PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
     b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">' + _svg(""),
     "DTD other than SVG's"),
    ("undefined-entity-after-doctype", SVG11_DOCTYPE.encode() + _svg("<text>&nbsp;</text>"),
     "entities"),
    # encodings a browser may read otherwise
    ("encoding-utf-7", b'<?xml version="1.0" encoding="UTF-7"?>' + _svg(""), "'UTF-7'"),
    ("encoding-ebcdic", b'<?xml version="1.0" encoding="cp037"?>' + _svg(""), "'cp037'"),
    ("encoding-shift-jis", b'<?xml version="1.0" encoding="Shift_JIS"?>' + _svg(""),
     "'Shift_JIS'"),
]  # fmt: skip

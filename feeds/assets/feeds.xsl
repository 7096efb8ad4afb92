<?xml version="1.0" encoding="UTF-8"?>
<!--
  feeds.xsl: shows an Atom 1.0 or RSS 2.0 file of this project as a readable
  web page when someone opens it in a browser.

  Every feed file names this stylesheet in its prologue:
      <?xml-stylesheet type="text/xsl" href="feeds.xsl"?>
  Only browsers act on that processing instruction; feed readers ignore it
  and read the XML as before. The file is XSLT 1.0, the only version
  browsers run, with the CSS embedded: no JavaScript, no external resources,
  nothing fetched but this file.

  Summaries and contents are HTML escaped inside the XML. In libxslt
  (Chromium, Safari, lxml) they are written out unescaped with
  disable-output-escaping, so they render as HTML. That is safe only because
  the project sanitised that HTML (nh3, an allow-list) before storing it:
  never point this stylesheet at feeds whose HTML is not sanitised.
  Processors that ignore disable-output-escaping when they build a page
  (Firefox's) get the same text with the tags stripped instead of raw
  markup; see $rich-html.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"
    xmlns:fh="http://purl.org/syndication/history/1.0"
    exclude-result-prefixes="atom dc content fh">

  <xsl:output method="html" encoding="UTF-8" indent="yes"
      doctype-system="about:legacy-compat"/>

  <!-- true(): render summaries as HTML (disable-output-escaping);
       false(): as plain text. Tests can pass either. -->
  <xsl:param name="rich-html" select="system-property('xsl:vendor') = 'libxslt'"/>

  <!-- How much of an item's HTML the plain-text fallback reads. -->
  <xsl:variable name="plain-limit" select="1500"/>

  <xsl:template match="/">
    <xsl:choose>
      <xsl:when test="atom:feed">
        <xsl:apply-templates select="atom:feed"/>
      </xsl:when>
      <xsl:when test="rss/channel">
        <xsl:apply-templates select="rss/channel"/>
      </xsl:when>
      <xsl:otherwise>
        <html lang="en">
          <head><title>Not a feed</title></head>
          <body><p>This file is neither an Atom nor an RSS 2.0 feed.</p></body>
        </html>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- The page. The context node is atom:feed or rss/channel; the union
       expressions below read whichever of the two it is. -->
  <xsl:template match="atom:feed | channel">
    <xsl:variable name="kind">
      <xsl:choose>
        <xsl:when test="self::atom:feed">Atom</xsl:when>
        <xsl:otherwise>RSS</xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="title" select="normalize-space(atom:title | title)"/>
    <xsl:variable name="subtitle" select="normalize-space(atom:subtitle | description)"/>
    <xsl:variable name="self" select="string(atom:link[@rel = 'self']/@href)"/>
    <xsl:variable name="home"
        select="string((atom:link[@rel = 'alternate' or not(@rel)]/@href | link)[1])"/>
    <xsl:variable name="lang" select="string(@xml:lang | language)"/>
    <xsl:variable name="entries" select="atom:entry | item"/>
    <!-- RFC 5005: an archive page of the feed, and the links between pages. -->
    <xsl:variable name="archived" select="boolean(fh:archive)"/>
    <xsl:variable name="current" select="string(atom:link[@rel = 'current']/@href)"/>
    <xsl:variable name="older" select="string(atom:link[@rel = 'prev-archive']/@href)"/>
    <xsl:variable name="newer" select="string(atom:link[@rel = 'next-archive']/@href)"/>

    <html>
      <xsl:if test="$lang">
        <xsl:attribute name="lang"><xsl:value-of select="$lang"/></xsl:attribute>
      </xsl:if>
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (<xsl:value-of select="$kind"/> feed)</title>
        <xsl:call-template name="style"/>
      </head>
      <body>
        <header class="masthead">
          <p class="kicker" lang="en">
            <span class="badge"><xsl:value-of select="$kind"/> feed</span>
            <xsl:text> </xsl:text>
            <xsl:value-of select="count($entries)"/>
            <xsl:choose>
              <xsl:when test="count($entries) = 1"> item</xsl:when>
              <xsl:otherwise> items</xsl:otherwise>
            </xsl:choose>
            <xsl:if test="atom:updated | lastBuildDate">
              <xsl:text>, updated </xsl:text>
              <xsl:call-template name="date">
                <xsl:with-param name="value" select="atom:updated | lastBuildDate"/>
              </xsl:call-template>
            </xsl:if>
          </p>
          <h1><xsl:value-of select="$title"/></h1>
          <xsl:if test="$subtitle and $subtitle != $title">
            <p class="subtitle"><xsl:value-of select="$subtitle"/></p>
          </xsl:if>
        </header>

        <aside class="subscribe" lang="en">
          <xsl:choose>
            <xsl:when test="$archived">
              <h2>This is an archive page of a web feed</h2>
              <p>
                <xsl:text>It holds older items and never changes. To follow the feed, </xsl:text>
                <xsl:text>copy the address of its current document into your feed reader:</xsl:text>
              </p>
              <p class="address"><code class="url"><xsl:value-of select="$current"/></code></p>
            </xsl:when>
            <xsl:otherwise>
              <h2>This is a web feed</h2>
              <p>
                <xsl:text>To follow it, copy this page&#8217;s address into your feed reader</xsl:text>
                <xsl:choose>
                  <xsl:when test="$self">:</xsl:when>
                  <xsl:otherwise>.</xsl:otherwise>
                </xsl:choose>
              </p>
              <xsl:if test="$self">
                <p class="address"><code class="url"><xsl:value-of select="$self"/></code></p>
              </xsl:if>
            </xsl:otherwise>
          </xsl:choose>
          <p class="hint">
            <xsl:text>The reader checks it for you and shows new items as they appear. </xsl:text>
            <xsl:text>This page is only a preview.</xsl:text>
          </p>
          <xsl:if test="$home">
            <p class="home">
              <a href="{$home}">&#8592; All feeds of this site</a>
            </p>
          </xsl:if>
        </aside>

        <main>
          <xsl:choose>
            <xsl:when test="$entries">
              <xsl:apply-templates select="$entries"/>
            </xsl:when>
            <xsl:otherwise>
              <p class="empty" lang="en">No items yet.</p>
            </xsl:otherwise>
          </xsl:choose>
        </main>

        <xsl:if test="$older or ($archived and ($newer or $current))">
          <nav class="pages" lang="en">
            <xsl:if test="$archived and $current">
              <a class="current" href="{$current}">Current items</a>
            </xsl:if>
            <xsl:if test="$archived and $newer">
              <a class="newer" href="{$newer}">&#8592; Newer items</a>
            </xsl:if>
            <xsl:if test="$older">
              <a class="older" href="{$older}">Older items &#8594;</a>
            </xsl:if>
          </nav>
        </xsl:if>

        <footer lang="en">
          <p>
            <xsl:text>Feed readers get this same file as plain </xsl:text>
            <xsl:value-of select="$kind"/>
            <xsl:text>; the page design is for browsers only.</xsl:text>
          </p>
        </footer>
      </body>
    </html>
  </xsl:template>

  <!-- One item, in document order (the project writes newest first). -->
  <xsl:template match="atom:entry">
    <xsl:call-template name="entry">
      <xsl:with-param name="title" select="normalize-space(atom:title)"/>
      <xsl:with-param name="link"
          select="string(atom:link[@rel = 'alternate' or not(@rel)][1]/@href)"/>
      <xsl:with-param name="date" select="atom:published | atom:updated[not(../atom:published)]"/>
      <xsl:with-param name="author" select="atom:author/atom:name"/>
      <xsl:with-param name="categories" select="atom:category"/>
      <xsl:with-param name="body" select="atom:summary | atom:content[not(../atom:summary)]"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template match="item">
    <xsl:call-template name="entry">
      <xsl:with-param name="title" select="normalize-space(title)"/>
      <xsl:with-param name="link" select="normalize-space(link)"/>
      <xsl:with-param name="date" select="pubDate"/>
      <xsl:with-param name="author" select="dc:creator | author"/>
      <xsl:with-param name="categories" select="category"/>
      <xsl:with-param name="body" select="description | content:encoded[not(../description)]"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="entry">
    <xsl:param name="title"/>
    <xsl:param name="link"/>
    <xsl:param name="date"/>
    <xsl:param name="author"/>
    <xsl:param name="categories"/>
    <xsl:param name="body"/>
    <article class="entry">
      <h2>
        <xsl:choose>
          <xsl:when test="$link">
            <a href="{$link}"><xsl:value-of select="$title"/></a>
          </xsl:when>
          <xsl:otherwise><xsl:value-of select="$title"/></xsl:otherwise>
        </xsl:choose>
      </h2>
      <p class="meta">
        <xsl:if test="$date">
          <xsl:call-template name="date">
            <xsl:with-param name="value" select="$date"/>
          </xsl:call-template>
        </xsl:if>
        <xsl:for-each select="$author">
          <xsl:if test="normalize-space(.)">
            <span class="author"><xsl:value-of select="normalize-space(.)"/></span>
          </xsl:if>
        </xsl:for-each>
        <xsl:if test="$categories">
          <span class="rubrics">
            <xsl:for-each select="$categories">
              <xsl:variable name="label">
                <xsl:choose>
                  <xsl:when test="self::atom:category and normalize-space(@label)">
                    <xsl:value-of select="normalize-space(@label)"/>
                  </xsl:when>
                  <xsl:when test="self::atom:category">
                    <xsl:value-of select="normalize-space(@term)"/>
                  </xsl:when>
                  <xsl:otherwise><xsl:value-of select="normalize-space(.)"/></xsl:otherwise>
                </xsl:choose>
              </xsl:variable>
              <xsl:if test="string($label)">
                <span class="rubric"><xsl:value-of select="$label"/></span>
              </xsl:if>
            </xsl:for-each>
          </span>
        </xsl:if>
      </p>
      <xsl:call-template name="body">
        <xsl:with-param name="body" select="$body"/>
        <xsl:with-param name="title" select="$title"/>
      </xsl:call-template>
    </article>
  </xsl:template>

  <!-- The summary (else the content). Left out when it only repeats the
       title, as the items of page-text sources do. -->
  <xsl:template name="body">
    <xsl:param name="body"/>
    <xsl:param name="title"/>
    <!-- Atom says what its text is; RSS description and content:encoded
         are HTML by convention. -->
    <xsl:variable name="is-html"
        select="not($body/self::atom:*) or $body/@type = 'html'"/>
    <xsl:variable name="raw" select="string($body)"/>
    <xsl:variable name="repeats-title">
      <!-- Bounded like the plain-text fallback: stripping recurses once
           per tag and entity, and a long title must not let a long summary
           through to the engine's depth limit (the page would not render). -->
      <xsl:if test="string-length($raw) &lt; 2 * string-length($title) + 64
                    and string-length($raw) &lt;= $plain-limit">
        <xsl:variable name="plain">
          <xsl:choose>
            <xsl:when test="$is-html">
              <xsl:call-template name="plain-text">
                <xsl:with-param name="html" select="$raw"/>
              </xsl:call-template>
            </xsl:when>
            <xsl:otherwise><xsl:value-of select="normalize-space($raw)"/></xsl:otherwise>
          </xsl:choose>
        </xsl:variable>
        <xsl:if test="string($plain) = $title">yes</xsl:if>
      </xsl:if>
    </xsl:variable>
    <xsl:if test="normalize-space($raw) and not(string($repeats-title))">
      <div class="summary">
        <xsl:choose>
          <xsl:when test="$is-html and $rich-html">
            <!-- Sanitised by the project before it was stored: see the
                 comment at the top of this file. -->
            <xsl:value-of select="$raw" disable-output-escaping="yes"/>
          </xsl:when>
          <xsl:when test="$is-html">
            <p>
              <xsl:call-template name="plain-text">
                <xsl:with-param name="html" select="substring($raw, 1, $plain-limit)"/>
              </xsl:call-template>
              <xsl:if test="string-length($raw) &gt; $plain-limit">&#8230;</xsl:if>
            </p>
          </xsl:when>
          <xsl:otherwise>
            <p><xsl:value-of select="$raw"/></p>
          </xsl:otherwise>
        </xsl:choose>
      </div>
    </xsl:if>
  </xsl:template>

  <!-- An HTML fragment as its text: tags dropped, the usual entities
       decoded, white space collapsed. -->
  <xsl:template name="plain-text">
    <xsl:param name="html"/>
    <xsl:variable name="stripped">
      <xsl:call-template name="strip-tags">
        <xsl:with-param name="html" select="$html"/>
      </xsl:call-template>
    </xsl:variable>
    <xsl:variable name="decoded">
      <xsl:call-template name="decode-entities">
        <xsl:with-param name="text" select="string($stripped)"/>
      </xsl:call-template>
    </xsl:variable>
    <xsl:value-of select="normalize-space($decoded)"/>
  </xsl:template>

  <!-- Block elements' tags become a space, so paragraphs do not run
       together; inline ones (b, a, em) vanish. -->
  <xsl:variable name="block-tags"
      select="' address article aside blockquote br dd div dl dt figcaption figure footer
              h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table td th tr ul '"/>

  <xsl:template name="strip-tags">
    <xsl:param name="html"/>
    <xsl:choose>
      <xsl:when test="contains($html, '&lt;')">
        <xsl:variable name="tag"
            select="substring-before(substring-after($html, '&lt;'), '&gt;')"/>
        <xsl:variable name="name" select="translate(
            substring-before(concat(normalize-space(translate($tag, '/', ' ')), ' '), ' '),
            'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"/>
        <xsl:value-of select="substring-before($html, '&lt;')"/>
        <xsl:if test="contains(concat(' ', normalize-space($block-tags), ' '), concat(' ', $name, ' '))
                      or not($name)">
          <xsl:text> </xsl:text>
        </xsl:if>
        <xsl:call-template name="strip-tags">
          <xsl:with-param name="html"
              select="substring-after(substring-after($html, '&lt;'), '&gt;')"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$html"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="decode-entities">
    <xsl:param name="text"/>
    <xsl:choose>
      <xsl:when test="contains($text, '&amp;')">
        <xsl:variable name="rest" select="substring-after($text, '&amp;')"/>
        <xsl:value-of select="substring-before($text, '&amp;')"/>
        <xsl:variable name="name" select="substring-before($rest, ';')"/>
        <xsl:variable name="char">
          <xsl:choose>
            <xsl:when test="$name = 'amp'">&amp;</xsl:when>
            <xsl:when test="$name = 'lt'">&lt;</xsl:when>
            <xsl:when test="$name = 'gt'">&gt;</xsl:when>
            <xsl:when test="$name = 'quot' or $name = '#34'">"</xsl:when>
            <xsl:when test="$name = 'apos' or $name = '#39'">'</xsl:when>
            <xsl:when test="$name = 'nbsp' or $name = '#160'">&#160;</xsl:when>
          </xsl:choose>
        </xsl:variable>
        <xsl:choose>
          <xsl:when test="string($char)">
            <xsl:value-of select="$char"/>
            <xsl:call-template name="decode-entities">
              <xsl:with-param name="text" select="substring-after($rest, ';')"/>
            </xsl:call-template>
          </xsl:when>
          <xsl:otherwise>
            <xsl:text>&amp;</xsl:text>
            <xsl:call-template name="decode-entities">
              <xsl:with-param name="text" select="$rest"/>
            </xsl:call-template>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- A <time> showing "YYYY-MM-DD HH:MM" in the zone the feed wrote it in
       (the site's). Reads RFC 3339 (Atom) and RFC 822 (RSS); anything else
       is shown as it is. -->
  <xsl:template name="date">
    <xsl:param name="value"/>
    <xsl:variable name="v" select="normalize-space($value)"/>
    <xsl:choose>
      <xsl:when test="substring($v, 5, 1) = '-' and substring($v, 11, 1) = 'T'">
        <time datetime="{$v}">
          <xsl:value-of select="concat(substring($v, 1, 10), ' ', substring($v, 12, 5))"/>
        </time>
      </xsl:when>
      <xsl:otherwise>
        <!-- [Day, ]DD Mon YYYY HH:MM[:SS] ZONE -->
        <xsl:variable name="s">
          <xsl:choose>
            <xsl:when test="contains($v, ',')">
              <xsl:value-of select="normalize-space(substring-after($v, ','))"/>
            </xsl:when>
            <xsl:otherwise><xsl:value-of select="$v"/></xsl:otherwise>
          </xsl:choose>
        </xsl:variable>
        <xsl:variable name="day" select="substring-before($s, ' ')"/>
        <xsl:variable name="s2" select="substring-after($s, ' ')"/>
        <xsl:variable name="mon" select="substring-before($s2, ' ')"/>
        <xsl:variable name="s3" select="substring-after($s2, ' ')"/>
        <xsl:variable name="year" select="substring-before($s3, ' ')"/>
        <xsl:variable name="s4" select="substring-after($s3, ' ')"/>
        <xsl:variable name="clock">
          <xsl:choose>
            <xsl:when test="contains($s4, ' ')">
              <xsl:value-of select="substring-before($s4, ' ')"/>
            </xsl:when>
            <xsl:otherwise><xsl:value-of select="$s4"/></xsl:otherwise>
          </xsl:choose>
        </xsl:variable>
        <xsl:variable name="zone" select="substring-after($s4, ' ')"/>
        <xsl:variable name="months" select="'JanFebMarAprMayJunJulAugSepOctNovDec'"/>
        <xsl:choose>
          <xsl:when test="string-length($mon) = 3 and contains($months, $mon)
                          and string-length($year) = 4 and number($year) = number($year)
                          and number($day) = number($day)
                          and substring($clock, 3, 1) = ':'">
            <xsl:variable name="ymd" select="concat($year, '-',
                format-number(string-length(substring-before($months, $mon)) div 3 + 1, '00'),
                '-', format-number($day, '00'))"/>
            <xsl:variable name="offset">
              <xsl:choose>
                <xsl:when test="$zone = 'GMT' or $zone = 'UT' or $zone = 'Z'">Z</xsl:when>
                <xsl:when test="string-length($zone) = 5
                                and (starts-with($zone, '+') or starts-with($zone, '-'))">
                  <xsl:value-of
                      select="concat(substring($zone, 1, 3), ':', substring($zone, 4, 2))"/>
                </xsl:when>
              </xsl:choose>
            </xsl:variable>
            <time>
              <xsl:if test="string($offset)">
                <xsl:attribute name="datetime">
                  <xsl:value-of select="concat($ymd, 'T', $clock, $offset)"/>
                </xsl:attribute>
              </xsl:if>
              <xsl:value-of select="concat($ymd, ' ', substring($clock, 1, 5))"/>
            </time>
          </xsl:when>
          <xsl:otherwise>
            <time><xsl:value-of select="$v"/></time>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="style">
    <style>
:root { color-scheme: light dark; --fg: #1f2328; --muted: #656d76; --line: #d8dee4;
  --accent: #0b57d0; --note: #eef4ff; --note-line: #b6cdf7; --chip: #f1f3f5; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --accent: #7cacf8;
    --note: #14233b; --note-line: #2c4a7a; --chip: #262c33; }
  body { background: #0d1117; }
}
* { box-sizing: border-box; }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); max-width: 50rem; margin: 0 auto; padding: 2rem 1.25rem 3rem; }
a { color: var(--accent); }
.masthead h1 { font-size: 2rem; line-height: 1.2; margin: .3rem 0 .4rem; }
.kicker { margin: 0; color: var(--muted); font-size: .9rem; }
.badge { display: inline-block; background: #f26522; color: #fff; font-weight: 600;
  font-size: .75rem; letter-spacing: .04em; text-transform: uppercase;
  padding: .1rem .5rem; border-radius: .25rem; margin-right: .3rem; }
.subtitle { margin: 0; color: var(--muted); font-size: 1.1rem; }
.subscribe { margin: 1.5rem 0 1.25rem; padding: 1rem 1.25rem; background: var(--note);
  border: 1px solid var(--note-line); border-radius: .5rem; }
.subscribe h2 { margin: 0 0 .3rem; font-size: 1.1rem; }
.pages { display: flex; gap: 1.5rem; margin: 1.5rem 0; }
.subscribe p { margin: .35rem 0; }
.subscribe .hint { color: var(--muted); font-size: .9rem; }
.url { display: block; padding: .45rem .6rem; background: Canvas; color: CanvasText;
  border: 1px solid var(--note-line); border-radius: .3rem; font-size: .95rem;
  overflow-wrap: anywhere; user-select: all; -webkit-user-select: all; }
.entry { border-top: 1px solid var(--line); padding: 1.1rem 0; }
.entry:first-child { border-top: 0; }
.entry h2 { font-size: 1.25rem; line-height: 1.3; margin: 0 0 .3rem; }
.entry h2 a { text-decoration: none; }
.entry h2 a:hover { text-decoration: underline; }
.meta { margin: 0 0 .5rem; color: var(--muted); font-size: .875rem;
  display: flex; flex-wrap: wrap; gap: .3rem .9rem; align-items: center; }
.rubrics { display: inline-flex; flex-wrap: wrap; gap: .3rem; }
.rubric { background: var(--chip); border: 1px solid var(--line); border-radius: 1rem;
  padding: 0 .55rem; font-size: .8rem; color: var(--fg); }
.summary { overflow-wrap: break-word; }
.meta:last-child { margin-bottom: 0; }
.summary > :first-child { margin-top: 0; }
.summary > :last-child { margin-bottom: 0; }
.summary p { margin: 0 0 .6rem; }
.summary img, .summary video, .summary iframe { max-width: 100%; height: auto; }
.summary pre { overflow-x: auto; }
.empty { color: var(--muted); }
footer { margin-top: 1rem; border-top: 1px solid var(--line); padding-top: .5rem;
  color: var(--muted); font-size: .8rem; }
    </style>
  </xsl:template>

</xsl:stylesheet>

"""The naive baseline: what a reasonable developer writes first, unoptimised.

    python -m bench.baseline CONFIG

Reads the same config.yaml as `feeds build` (site, output.dir, storage.url,
rubrics, sources) and does the same job plainly: 16 threads fetch every
source with httpx (no conditional GET) and parse it with
`feedparser.parse(bytes, response_headers=...)` and its default sanitising;
a dict deduplicates by link (else guid); categories map to rubric slugs by
a dict lookup; every item is INSERTed into SQLite one by one with a single
commit at the end; feedgen renders one Atom feed per rubric plus a combined
one (50 newest items each) into output.dir.

It is the yardstick `python -m bench` compares `feeds build` with, so keep
it plain: no conditional GET, no fast paths, no batching.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedgen.feed
import feedparser
import httpx
import yaml

THREADS = 16
MAX_ITEMS = 50


def run_baseline(config_path: str | Path) -> int:
    """Fetch, parse, dedupe, store and render every source of the config.
    Returns how many items were processed (parsed from all sources)."""
    config_path = Path(config_path).resolve()
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    base = config_path.parent
    site = config["site"]
    output = base / config.get("output", {}).get("dir", "output")
    output.mkdir(parents=True, exist_ok=True)
    db_path = base / config.get("storage", {}).get("url", "sqlite:///feeds.db").removeprefix(
        "sqlite:///"
    )
    timeout = float(config.get("fetch", {}).get("timeout", 30))

    rubric_titles = {}
    slug_for = {}
    for rubric in config.get("rubrics", []):
        rubric_titles[rubric["slug"]] = rubric["title"]
        for name in [rubric["slug"], rubric["title"], *rubric.get("aliases", [])]:
            slug_for[name.lower()] = rubric["slug"]

    client = httpx.Client(timeout=timeout, follow_redirects=True)

    def fetch_and_parse(source: dict[str, Any]) -> tuple[str, Any]:
        response = client.get(source["url"])
        response.raise_for_status()
        return source["name"], feedparser.parse(
            response.content, response_headers=dict(response.headers)
        )

    parsed = []
    errors = 0
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(fetch_and_parse, source) for source in config["sources"]]
        for future in futures:
            try:
                parsed.append(future.result())
            except Exception as exc:
                errors += 1
                print(f"baseline: source failed: {exc}", file=sys.stderr)
    client.close()

    now = datetime.now(UTC)
    items: dict[str, dict[str, Any]] = {}
    processed = 0
    for source_name, feed in parsed:
        for entry in feed.entries:
            processed += 1
            key = entry.get("link") or entry.get("id")
            if not key:
                continue
            rubrics = set()
            for tag in entry.get("tags", []):
                term = (tag.get("term") or "").lower()
                if term in slug_for:
                    rubrics.add(slug_for[term])
            if key in items:
                items[key]["rubrics"] |= rubrics
                continue
            parsed = entry.get("published_parsed") or entry.get("updated_parsed")
            published = _utc(parsed) if parsed else now
            content = ""
            if entry.get("content"):
                content = entry.content[0].value
            items[key] = {
                "id": entry.get("id") or key,
                "source": source_name,
                "title": entry.get("title", ""),
                "link": entry.get("link", ""),
                "published": published,
                "summary": entry.get("summary", ""),
                "content": content,
                "rubrics": rubrics,
            }

    db = sqlite3.connect(db_path)
    db.execute(
        "CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, source TEXT, title TEXT, "
        "link TEXT, published TEXT, summary TEXT, content TEXT, rubrics TEXT)"
    )
    for item in items.values():
        db.execute(
            "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item["id"],
                item["source"],
                item["title"],
                item["link"],
                item["published"].isoformat(),
                item["summary"],
                item["content"],
                ",".join(sorted(item["rubrics"])),
            ),
        )
    db.commit()

    feeds = {"all": site["title"], **rubric_titles}
    for slug, title in feeds.items():
        if slug == "all":
            rows = db.execute(
                "SELECT id, title, link, published, summary, content, rubrics FROM items "
                "ORDER BY published DESC LIMIT ?",
                (MAX_ITEMS,),
            ).fetchall()
        else:
            rows = db.execute(
                "SELECT id, title, link, published, summary, content, rubrics FROM items "
                "WHERE ',' || rubrics || ',' LIKE ? ORDER BY published DESC LIMIT ?",
                (f"%,{slug},%", MAX_ITEMS),
            ).fetchall()
        write_atom(site, slug, title, rows, rubric_titles, output / f"{slug}.atom")
    db.close()
    print(
        f"baseline: {processed} items from {len(parsed)} sources ({errors} failed), "
        f"{len(items)} unique, {len(feeds)} feeds written to {output}"
    )
    return processed


def _utc(parsed: Any) -> datetime:
    """feedparser's struct_time (always UTC) as an aware datetime."""
    year, month, day, hour, minute, second = parsed[:6]
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def write_atom(
    site: dict[str, Any],
    slug: str,
    title: str,
    rows: list[tuple[str, ...]],
    rubric_titles: dict[str, str],
    path: Path,
) -> None:
    base_url = site["base_url"].rstrip("/") + "/"
    fg = feedgen.feed.FeedGenerator()
    fg.id(f"{base_url}{slug}.atom")
    fg.title(title)
    fg.link(href=f"{base_url}{slug}.atom", rel="self")
    fg.link(href=base_url, rel="alternate")
    fg.language(site.get("language", "en"))
    if rows:
        fg.updated(datetime.fromisoformat(rows[0][3]))
    # feedgen prepends entries: add the oldest first to get newest first.
    for item_id, item_title, link, published, summary, content, rubrics in reversed(rows):
        fe = fg.add_entry()
        fe.id(item_id)
        fe.title(item_title or link or item_id)
        if link:
            fe.link(href=link)
        fe.published(datetime.fromisoformat(published))
        fe.updated(datetime.fromisoformat(published))
        if summary:
            fe.summary(summary)
        if content:
            fe.content(content, type="html")
        for rubric in filter(None, rubrics.split(",")):
            fe.category(term=rubric, label=rubric_titles.get(rubric, rubric))
    fg.atom_file(str(path), pretty=False)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.baseline CONFIG", file=sys.stderr)
        return 2
    started = time.perf_counter()
    count = run_baseline(args[0])
    print(f"baseline: {count} items in {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

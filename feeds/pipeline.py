"""The pipeline: runs the stages in order for one full cycle.

    per source (in worker threads):  fetch -> parse -> normalise -> classify
    in this thread, one transaction:  store (upsert, source state)
    then:                             render -> publish

A `SourceError` in one source is recorded in the RunReport and logged with
the source's name; the other sources go on. Any other exception is a bug and
propagates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime

from feeds.classify import Vocabulary, classify_item
from feeds.errors import SourceError
from feeds.fetch import Fetcher, Validators
from feeds.model import Config, Item, ParseContext, RunReport, Source, SourceResult
from feeds.normalise import normalise_item
from feeds.parse import parser_for
from feeds.publish import prepare_dir, publish_file
from feeds.render import COMBINED, FORMATS, FeedSpec, render_feed, render_index, render_opml
from feeds.store import Store

log = logging.getLogger("feeds")


@dataclass(frozen=True, slots=True)
class _Collected:
    """What a worker brings back for one source."""

    source: Source
    items: tuple[Item, ...] = ()
    error: str = ""
    status: int = 0
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    seconds: float = 0.0


def run_once(config: Config, *, now: datetime) -> RunReport:
    """One full cycle over every source, then render and publish.
    Raises StoreError and PublishError; a failing source does not raise."""
    prepare_dir(config.output_dir)
    results: list[SourceResult] = []
    with Store(config.storage_url) as store, Fetcher(config.site.base_url) as fetcher:
        validators = {source.name: _validators(store, source.name) for source in config.sources}
        with store.transaction():
            for collected in _collect_all(config, fetcher, validators, now):
                results.append(_store(store, collected, now))
        written, unchanged = publish_feeds(config, store)
    order = {source.name: index for index, source in enumerate(config.sources)}
    results.sort(key=lambda result: order[result.source])
    return RunReport(started=now, results=tuple(results), written=written, unchanged=unchanged)


def _validators(store: Store, name: str) -> Validators:
    state = store.source_state(name)
    return Validators(etag=state.etag, last_modified=state.last_modified)


def _collect_all(
    config: Config, fetcher: Fetcher, validators: dict[str, Validators], now: datetime
) -> Iterator[_Collected]:
    vocabulary = Vocabulary.of(config.rubrics)
    names = tuple(name for rubric in config.rubrics for name in rubric.names)
    workers = max(1, min(config.concurrency, len(config.sources)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="feeds-source") as pool:
        futures = [
            pool.submit(
                collect_source,
                source,
                fetcher,
                validators[source.name],
                ParseContext(
                    now=now,
                    timezone=source.timezone or config.site.timezone,
                    rubric_names=names,
                    series_names=config.series,
                    language=config.site.language,
                ),
                vocabulary,
            )
            for source in config.sources
        ]
        # Results are stored in config order, not completion order: when two
        # sources bring the same story in the same run, the first source in
        # config.yaml always gives it its id.
        index = {future: position for position, future in enumerate(futures)}
        done: dict[int, _Collected] = {}
        next_up = 0
        for future in as_completed(futures):
            done[index[future]] = future.result()
            while next_up in done:
                yield done.pop(next_up)
                next_up += 1


def collect_source(
    source: Source,
    fetcher: Fetcher,
    validators: Validators,
    context: ParseContext,
    vocabulary: Vocabulary,
) -> _Collected:
    """Fetch, parse, normalise and classify one source; a SourceError becomes
    an error in the result."""
    started = time.monotonic()
    status = 0
    try:
        fetched = fetcher.fetch(source, validators)
        status = fetched.status
        etag = fetched.headers.get("etag")
        last_modified = fetched.headers.get("last-modified")
        if fetched.not_modified:
            return _Collected(
                source=source,
                status=status,
                not_modified=True,
                seconds=time.monotonic() - started,
            )
        parsed = parser_for(source.type)(fetched, source, context)
        items = tuple(
            classify_item(normalise_item(item), vocabulary, source.rubrics) for item in parsed
        )
    except SourceError as exc:
        return _Collected(
            source=source, error=str(exc), status=status, seconds=time.monotonic() - started
        )
    return _Collected(
        source=source,
        items=items,
        status=status,
        etag=etag or "",
        last_modified=last_modified or "",
        seconds=time.monotonic() - started,
    )


def _store(store: Store, collected: _Collected, now: datetime) -> SourceResult:
    name = collected.source.name
    if collected.error:
        store.record_attempt(name, now=now, error=collected.error, status=collected.status)
        log.warning("%s", collected.error)
        return SourceResult(
            source=name,
            error=collected.error,
            status=collected.status,
            seconds=collected.seconds,
        )
    upserted = store.upsert(list(collected.items), now=now)
    store.record_attempt(
        name,
        now=now,
        status=collected.status,
        items=None if collected.not_modified else len(collected.items),
        etag=collected.etag,
        last_modified=collected.last_modified,
    )
    result = SourceResult(
        source=name,
        status=collected.status,
        not_modified=collected.not_modified,
        items=len(collected.items),
        new=upserted.new,
        updated=upserted.updated,
        seconds=collected.seconds,
    )
    log.info(
        "source '%s': %s in %.2f s, %d items, %d new, %d updated",
        name,
        "not modified" if result.not_modified else f"status {result.status or 'ok'}",
        result.seconds,
        result.items,
        result.new,
        result.updated,
    )
    return result


def feed_specs(config: Config, store: Store) -> list[FeedSpec]:
    """The combined feed and one feed per rubric, with their newest items."""
    labels = {rubric.slug: rubric.title for rubric in config.rubrics}
    created = store.created()
    site = config.site
    specs = [
        _spec(
            store,
            None,
            COMBINED,
            site.title,
            site.description or f"Every item of {site.title}",
            config.max_items,
            created,
            labels,
        )
    ]
    for rubric in config.rubrics:
        specs.append(
            _spec(
                store,
                rubric.slug,
                rubric.slug,
                f"{rubric.title} — {site.title}",
                rubric.description or f"{rubric.title}: items of {site.title}",
                config.max_items,
                created,
                labels,
            )
        )
    return specs


def _spec(
    store: Store,
    rubric: str | None,
    slug: str,
    title: str,
    description: str,
    limit: int,
    created: datetime,
    labels: dict[str, str],
) -> FeedSpec:
    items = tuple(store.latest(rubric, limit))
    stamps = [item.updated or item.published for item in items]
    updated = max((stamp for stamp in stamps if stamp is not None), default=created)
    return FeedSpec(
        slug=slug,
        title=title,
        description=description,
        items=items,
        updated=updated,
        total=store.count(rubric),
        labels=labels,
    )


def publish_feeds(config: Config, store: Store) -> tuple[tuple[str, ...], int]:
    """Render every feed, the OPML list and the index; write those that
    changed. Returns (names written, number left untouched)."""
    site = config.site
    specs = feed_specs(config, store)
    files: list[tuple[str, bytes]] = []
    for spec in specs:
        for suffix in FORMATS:
            files.append((spec.filename(suffix), render_feed(site, spec, suffix)))
    files.append(("feeds.opml", render_opml(site, specs)))
    files.append(("index.html", render_index(site, specs)))
    written = [name for name, data in files if publish_file(config.output_dir, name, data)]
    return tuple(written), len(files) - len(written)

"""The benchmark: `feeds build` against the naive baseline on a served workload.

    python -m bench [--runs 3] [--feeds 1000] [--items 50] [--huge-items 10000]
                    [--seed 1234] [--quick] [--python-server] [--keep]

1. Generates the workload (bench/workload.py) into bench/.cache/, reused
   while its parameters and the generator version are unchanged.
2. Serves it from 127.0.0.1 (bench/server.py: nginx, else http.server).
3. For each run, in fresh folders, one after the other:
   a. `feeds build` on an empty store and output/ (the first cycle);
   b. `feeds build` again: nothing changed, every source should answer
      304, and no file in output/ may be rewritten;
   c. the naive baseline (bench/baseline.py);
   d. the service: `feeds run` on the same workload and an empty store,
      timed from its start until every source is stored and its feeds
      published (read from its store), then stopped with SIGTERM.
   Each is a subprocess; its wall time includes interpreter start-up, and
   its peak RSS is the peak of the summed RSS of it and its descendants
   (worker processes), sampled every 50 ms (ru_maxrss would count this
   process's own memory, borrowed by the child until its exec);
   peak PSS is the same sum with shared pages split between the processes
   that share them (the fairer total for several processes).
4. Then the huge feed alone through `feeds build`, on an empty store,
   as many times as there are runs (one build is too few on a machine
   whose speed drifts).
5. Prints medians over the runs: wall time, items/s (items in the workload
   divided by wall time), peak RSS, and the ratio to the baseline's items/s.

`--quick` is 100 feeds x 20 items with a 2,000-item huge feed, for smoke
runs. `feeds build` runs with `--now` at the workload's fixed date, so
every run sees the same items as "recent".
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bench.server import Server, serving, stop_on_sigterm
from bench.workload import (
    FEEDS,
    HUGE_ITEMS,
    ITEMS,
    NOW,
    SEED,
    Manifest,
    describe,
    generate,
    load_manifest,
    render_config,
)

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
QUICK = {"feeds": 100, "items": 20, "huge_items": 2000}
NOW_ARG = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
CHILD_TIMEOUT = 3600.0
_RESULT_LINE = re.compile(
    r"^ok\s+(?P<source>\S+): (?:(?P<not_modified>not modified)|(?P<items>\d+) items), "
    r"(?P<new>\d+) new, (?P<updated>\d+) updated"
)


@dataclass(frozen=True, slots=True)
class Measured:
    """One subprocess: exit code, wall seconds, peak RSS and its output."""

    command: tuple[str, ...]
    code: int
    seconds: float
    max_rss_mb: float
    max_pss_mb: float
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


@dataclass(frozen=True, slots=True)
class BuildSummary:
    """What `feeds build` printed: per-source outcomes and totals."""

    ok: int
    not_modified: int
    items: int
    new: int
    updated: int
    summary: str

    @classmethod
    def of(cls, stdout: str) -> BuildSummary:
        ok = not_modified = items = new = updated = 0
        summary = ""
        for line in stdout.splitlines():
            match = _RESULT_LINE.match(line)
            if match:
                ok += 1
                not_modified += bool(match["not_modified"])
                items += int(match["items"] or 0)
                new += int(match["new"])
                updated += int(match["updated"])
            elif "sources ok" in line:
                summary = line.strip()
        return cls(ok, not_modified, items, new, updated, summary)


@dataclass(frozen=True, slots=True)
class RunResult:
    cold: Measured
    warm: Measured
    baseline: Measured
    rewritten: int
    warm_statuses: Counter[str]
    service: ServicePass


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeRss(threading.Thread):
    """Samples the summed resident memory of a process and all its
    descendants (worker processes count towards a program's footprint)."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.every = every
        self.peak_mb = 0.0
        #: Proportional set size: shared pages split between the processes
        #: sharing them, so libraries loaded by every worker count once.
        self.peak_pss_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.every):
            self.peak_mb = max(self.peak_mb, self._sample())

    def stop(self) -> None:
        self._done.set()
        self.join()

    def _sample(self) -> float:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21])  # pages
        tree = {self.pid}
        grew = True
        while grew:
            grew = False
            for pid, parent in parents.items():
                if parent in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        page = os.sysconf("SC_PAGE_SIZE")
        self.peak_pss_mb = max(self.peak_pss_mb, sum(_pss_kib(pid) for pid in tree) / 1024)
        return sum(rss.get(pid, 0) for pid in tree) * page / (1024 * 1024)


def measure(command: Sequence[str], *, cwd: Path, env: dict[str, str], logs: Path) -> Measured:
    """Run `command` to completion; its stdout and stderr go to files under
    `logs` (no pipes to drain), its peak RSS comes from os.wait4."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / "stdout.txt", logs / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        watchdog = threading.Timer(CHILD_TIMEOUT, proc.kill)
        watchdog.start()
        sampler = TreeRss(proc.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            watchdog.cancel()
            sampler.stop()
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
    return Measured(
        command=tuple(command),
        code=proc.returncode,
        seconds=seconds,
        # The peak of the whole process tree's sum (worker processes
        # included), sampled. Not os.wait4's ru_maxrss: at exec, Linux
        # records the RSS of the memory the child borrowed from this process
        # through vfork, so it reports at least this benchmark's own size.
        max_rss_mb=sampler.peak_mb or usage.ru_maxrss / 1024,  # KiB on Linux
        max_pss_mb=sampler.peak_pss_mb,
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
    )


@dataclass(frozen=True, slots=True)
class ServicePass:
    """`feeds run` from start until every source was stored and published."""

    seconds: float
    sources: int
    items: int
    max_rss_mb: float
    max_pss_mb: float
    code: int
    stderr: str


def measure_service(
    python: str, config: Path, *, sources: int, env: dict[str, str], logs: Path
) -> ServicePass:
    """Start `feeds run`, watch its store until each source has succeeded
    once and nothing waits to be published, then stop it (SIGTERM)."""
    logs.mkdir(parents=True, exist_ok=True)
    database = config.parent / "feeds.db"
    err_path = logs / "stderr.txt"
    with err_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [python, "-m", "feeds", "run", "-c", str(config)],
            cwd=config.parent,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
        sampler = TreeRss(proc.pid)
        sampler.start()
        done = 0
        seconds = float("nan")
        try:
            while proc.poll() is None and time.perf_counter() - started < CHILD_TIMEOUT:
                time.sleep(0.05)
                done, published = _service_progress(database)
                if done >= sources and published:
                    seconds = time.perf_counter() - started
                    break
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            sampler.stop()
    return ServicePass(
        seconds=seconds,
        sources=done,
        items=_query(database, "SELECT count(*) FROM items"),
        max_rss_mb=sampler.peak_mb,
        max_pss_mb=sampler.peak_pss_mb,
        code=code,
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
    )


def _service_progress(database: Path) -> tuple[int, bool]:
    """(sources that succeeded, whether nothing waits to be published),
    read from the service's store; (0, False) while it has none. Polled
    while the service is measured: two indexed lookups, nothing counted
    over the items."""
    done = _query(database, "SELECT count(*) FROM sources WHERE last_success IS NOT NULL")
    pending = _query(
        database, "SELECT count(*) FROM meta WHERE key = 'pending_rubrics' AND value != ''"
    )
    return done, done > 0 and pending == 0


def _query(database: Path, sql: str) -> int:
    """One number from the store, read-only; 0 when it cannot be read yet."""
    if not database.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
            return int(db.execute(sql).fetchone()[0])
    except sqlite3.Error:
        return 0


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder`: (mtime in ns, size)."""
    if not folder.is_dir():
        return {}
    return {
        str(path.relative_to(folder)): (path.stat().st_mtime_ns, path.stat().st_size)
        for path in folder.rglob("*")
        if path.is_file()
    }


def changed_files(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> int:
    return sum(1 for name in before.keys() | after.keys() if before.get(name) != after.get(name))


class AccessLog:
    """Status codes nginx logged since the last mark (empty without nginx)."""

    def __init__(self, server: Server) -> None:
        self.path = server.access_log
        self.offset = self._size()

    def _size(self) -> int:
        try:
            return self.path.stat().st_size if self.path else 0
        except OSError:
            return 0

    def mark(self) -> None:
        self.offset = self._size()

    def statuses(self) -> Counter[str]:
        if self.path is None:
            return Counter()
        time.sleep(0.05)  # nginx writes its log line after the response
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            text = handle.read().decode("utf-8", errors="replace")
        return Counter(re.findall(r'" (\d{3}) ', text))


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, ["127.0.0.1,localhost", env.get(name, "")]))
    return env


def venv_python() -> str:
    candidate = ROOT / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def feeds_command(python: str, config: Path) -> list[str]:
    return [python, "-m", "feeds", "build", "-c", str(config), "--now", NOW_ARG]


def prepare(folder: Path, config_text: str) -> Path:
    folder.mkdir(parents=True)
    config = folder / "config.yaml"
    config.write_text(config_text, encoding="utf-8")
    return config


def one_run(
    index: int,
    workdir: Path,
    manifest: Manifest,
    server: Server,
    python: str,
    env: dict[str, str],
) -> RunResult:
    run_dir = workdir / f"run-{index}"
    config_text = render_config(manifest, server.url)
    config = prepare(run_dir / "feeds", config_text)
    cold = measure(feeds_command(python, config), cwd=config.parent, env=env, logs=run_dir / "a")
    before = snapshot(config.parent / "output")
    log = AccessLog(server)
    warm = measure(feeds_command(python, config), cwd=config.parent, env=env, logs=run_dir / "b")
    statuses = log.statuses()
    rewritten = changed_files(before, snapshot(config.parent / "output"))
    base_config = prepare(run_dir / "baseline", config_text)
    baseline = measure(
        [python, "-m", "bench.baseline", str(base_config)], cwd=ROOT, env=env, logs=run_dir / "c"
    )
    service_config = prepare(run_dir / "service", config_text)
    service = measure_service(
        python, service_config, sources=len(manifest.feeds), env=env, logs=run_dir / "d"
    )
    return RunResult(cold, warm, baseline, rewritten, statuses, service)


def machine(python: str) -> list[str]:
    probe = subprocess.run(
        [python, "-c", "import sys, feeds; print(sys.version.split()[0], feeds.__version__)"],
        capture_output=True,
        text=True,
        env=child_env(),
    )
    child_python, _, feeds_version = probe.stdout.strip().partition(" ")
    cpu = ""
    with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as info:
            kib = int(info.readline().split()[1])
            memory = f", {kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return [
        f"machine: nproc {available} (cpu_count {os.cpu_count()}), {cpu or platform.machine()}"
        f"{memory}, {platform.system()} {platform.release()}",
        f"python {child_python or '?'} ({python}); feeds {feeds_version or '?'}; "
        f"git {commit or '?'}{' + uncommitted changes' if dirty else ''}",
    ]


def workload(args: argparse.Namespace) -> tuple[Path, Manifest, str]:
    params = {
        "feeds": args.feeds,
        "items": args.items,
        "huge_items": args.huge_items,
        "seed": args.seed,
    }
    folder = CACHE / f"workload-{args.feeds}x{args.items}-huge{args.huge_items}-seed{args.seed}"
    manifest = load_manifest(folder, **params)
    if manifest is not None:
        return folder, manifest, "cached"
    if folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    manifest = generate(folder, **params)
    return folder, manifest, f"generated in {time.perf_counter() - started:.1f} s"


def table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
    return lines


def problems(label: str, measured: Measured, limit: int = 8) -> list[str]:
    """Lines worth a developer's attention: a non-zero exit, stderr output."""
    lines = measured.stderr_lines
    if measured.code == 0 and not lines:
        return []
    shown = [f"{label}: exit {measured.code}, {len(lines)} stderr lines"]
    distinct = list(dict.fromkeys(lines))
    shown += [f"    {line[:300]}" for line in distinct[:limit]]
    if len(distinct) > limit:
        shown.append(f"    ... and {len(distinct) - limit} more distinct lines")
    return shown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs to take medians over (3)")
    parser.add_argument("--feeds", type=int, default=None, help=f"feeds ({FEEDS})")
    parser.add_argument("--items", type=int, default=None, help=f"items per feed ({ITEMS})")
    parser.add_argument(
        "--huge-items", type=int, default=None, help=f"items of the huge feed ({HUGE_ITEMS})"
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"workload seed ({SEED})")
    parser.add_argument("--quick", action="store_true", help="100 feeds x 20 items, smoke run")
    parser.add_argument("--python-server", action="store_true", help="serve without nginx")
    parser.add_argument("--keep", action="store_true", help="keep the run folders and logs")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else {"feeds": FEEDS, "items": ITEMS, "huge_items": HUGE_ITEMS}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.runs < 1 or args.feeds < 1 or args.items < 1 or args.huge_items < 1:
        parser.error("--runs, --feeds, --items and --huge-items must be at least 1")

    stop_on_sigterm()
    python = venv_python()
    env = child_env()
    # As an install would: no measured run compiles the package (Python
    # does not keep what it compiles when PYTHONDONTWRITEBYTECODE is set).
    subprocess.run(
        [python, "-m", "compileall", "-q", str(ROOT / "feeds")], check=False, capture_output=True
    )
    command = shlex.join([Path(sys.executable).name, "-m", "bench", *sys.argv[1:]])
    print(f"command: {command}  (in {Path.cwd()})")
    for line in machine(python):
        print(line)
    folder, manifest, how = workload(args)
    total = manifest.total_items
    print(f"workload: {describe(manifest)}; {how}: {folder}")

    workdir = Path(tempfile.mkdtemp(prefix="feeds-bench-"))
    results: list[RunResult] = []
    try:
        with serving(folder, prefer_nginx=not args.python_server) as server:
            print(f"server: {server.kind} at {server.url}")
            print(f"feeds build: {shlex.join(feeds_command(python, Path('CONFIG')))}")
            print(f"baseline:    {shlex.join([python, '-m', 'bench.baseline', 'CONFIG'])}")
            print()
            for index in range(1, args.runs + 1):
                result = one_run(index, workdir, manifest, server, python, env)
                results.append(result)
                cold = BuildSummary.of(result.cold.stdout)
                warm = BuildSummary.of(result.warm.stdout)
                print(
                    f"run {index}: cold {result.cold.seconds:.2f} s (exit {result.cold.code}, "
                    f"{cold.items} items parsed, {cold.new} new), "
                    f"unchanged {result.warm.seconds:.2f} s (exit {result.warm.code}, "
                    f"{warm.not_modified}/{len(manifest.feeds)} not modified, "
                    f"{result.rewritten} files rewritten), "
                    f"baseline {result.baseline.seconds:.2f} s (exit {result.baseline.code}), "
                    f"service {result.service.seconds:.2f} s (exit {result.service.code})",
                    flush=True,
                )
            huges = []
            for index in range(1, args.runs + 1):
                huge_config = prepare(
                    workdir / f"huge-{index}", render_config(manifest, server.url, huge=True)
                )
                huges.append(
                    measure(
                        feeds_command(python, huge_config),
                        cwd=huge_config.parent,
                        env=env,
                        logs=workdir / f"huge-{index}",
                    )
                )
    finally:
        if args.keep:
            print(f"run folders kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    def med(values: list[float]) -> float:
        return statistics.median(values)

    cold_s = med([r.cold.seconds for r in results])
    warm_s = med([r.warm.seconds for r in results])
    base_s = med([r.baseline.seconds for r in results])
    rows = [
        ("", "wall s", "items/s", "peak RSS MB", "peak PSS MB", "vs baseline"),
        (
            "feeds build, first cycle",
            f"{cold_s:.2f}",
            f"{total / cold_s:,.0f}",
            f"{med([r.cold.max_rss_mb for r in results]):.0f}",
            f"{med([r.cold.max_pss_mb for r in results]):.0f}",
            f"{base_s / cold_s:.2f}x",
        ),
        (
            "feeds build, unchanged",
            f"{warm_s:.2f}",
            f"{total / warm_s:,.0f}",
            f"{med([r.warm.max_rss_mb for r in results]):.0f}",
            f"{med([r.warm.max_pss_mb for r in results]):.0f}",
            f"{base_s / warm_s:.2f}x",
        ),
        (
            "naive baseline",
            f"{base_s:.2f}",
            f"{total / base_s:,.0f}",
            f"{med([r.baseline.max_rss_mb for r in results]):.0f}",
            f"{med([r.baseline.max_pss_mb for r in results]):.0f}",
            "1.00x",
        ),
    ]
    print()
    print(
        f"medians over {len(results)} run(s); {total} items in {len(manifest.feeds)} feeds; "
        "items/s = workload items / wall time (subprocess, interpreter start included)"
    )
    for line in table(rows):
        print("  " + line)
    last = results[-1]
    warm = BuildSummary.of(last.warm.stdout)
    statuses = ", ".join(f"{code} x{n}" for code, n in sorted(last.warm_statuses.items()))
    print(
        f"  unchanged cycle: {warm_s:.2f} s, {warm.not_modified}/{len(manifest.feeds)} sources "
        f"not modified, files rewritten: {max(r.rewritten for r in results)} "
        f"(max over runs){f'; server answered {statuses}' if statuses else ''}"
    )
    huge = huges[-1]
    huge_summary = BuildSummary.of(huge.stdout)
    huge_s = med([run.seconds for run in huges])
    print(
        f"  huge feed alone: {manifest.huge.items} items, {manifest.huge.bytes / 1e6:.1f} MB: "
        f"{huge_s:.2f} s ({' / '.join(f'{run.seconds:.2f}' for run in huges)}), "
        f"{manifest.huge.items / huge_s:,.0f} items/s, "
        f"peak RSS {med([run.max_rss_mb for run in huges]):.0f} MB, "
        f"PSS {med([run.max_pss_mb for run in huges]):.0f} MB (exit {huge.code}, "
        f"{huge_summary.items} items parsed, {huge_summary.new} new)"
    )

    service_s = med([r.service.seconds for r in results])
    service = results[-1].service
    print(
        f"  feeds run, first pass: {service.sources}/{len(manifest.feeds)} sources stored and "
        f"their feeds published in {service_s:.2f} s from start "
        f"({service.items / service_s:,.0f} items/s, {service.items} unique items), "
        f"peak RSS {med([r.service.max_rss_mb for r in results]):.0f} MB, "
        f"PSS {med([r.service.max_pss_mb for r in results]):.0f} MB (stopped, exit {service.code})"
    )

    notes: list[str] = []
    for index, result in enumerate(results, start=1):
        notes += problems(f"run {index} feeds build (first cycle)", result.cold)
        notes += problems(f"run {index} feeds build (unchanged)", result.warm)
        notes += problems(f"run {index} baseline", result.baseline)
        cold = BuildSummary.of(result.cold.stdout)
        if cold.items != total:
            notes.append(f"run {index} feeds build parsed {cold.items} items, expected {total}")
        if result.rewritten:
            notes.append(f"run {index}: the unchanged cycle rewrote {result.rewritten} files")
    for index, built in enumerate(huges, start=1):
        notes += problems(f"huge feed build {index}", built)
    for index, result in enumerate(results, start=1):
        run = result.service
        errors = [line for line in run.stderr.splitlines() if "ERROR" in line]
        if run.code != 0 or run.sources < len(manifest.feeds) or errors:
            notes.append(f"run {index} feeds run: exit {run.code}, {run.sources} sources stored")
            notes += [f"    {line[:300]}" for line in dict.fromkeys(errors)][:8]
    if notes:
        print()
        print("problems:")
        for line in notes:
            print("  " + line)
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("interrupted: the server and the run folders are cleaned up", file=sys.stderr)
        raise SystemExit(130) from None

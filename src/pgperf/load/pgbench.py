"""`pgperf pgbench-export DIR`: the load scenarios as pgbench scripts plus a README.

Parameter sources become pgbench's own devices: the user is ``random(:min_user_id,
:max_user_id)``; ``data_now`` is a ``-D`` variable; a picker runs before the statements
that need it with ``\\gset``; a write step's RETURNING columns feed the next step with
``\\gset``; literals are inlined. Scripts use ``:name`` variables, so ``-M prepared`` sends
them as parameters of prepared statements, as the application's driver does.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from psycopg import sql

from pgperf.measure.catalog import Catalog, Query
from pgperf.measure.params import DataNow, Literal, Persona, Pick, to_positional

if TYPE_CHECKING:  # the scenarios pull in the load engine; `pgperf --help` need not
    from pgperf.load.scenarios import ScenarioSpec

USER_RANGE_FILE = "user_range.sql"
USER_VAR = "user_id"


@dataclass(frozen=True)
class Script:
    """One pgbench script file and its weight in the scenario's command (``-f FILE@W``)."""

    name: str
    text: str
    weight: int = 1


_STRING = re.compile(r"'(?:[^']|'')*'")
_VARIABLE_LIKE = re.compile(r":(?=[A-Za-z0-9_])")


def without_comment_lines(text: str) -> str:
    """The statement without its whole-line ``--`` comments (prose may hold quotes)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def protect_literals(text: str) -> str:
    """Keep pgbench from reading ``:word`` inside a string literal as a variable.

    pgbench substitutes ``:name`` anywhere, quotes or not (``'[[:alnum:]]'``, ``'12:30'``),
    so such a literal is rebuilt as a concatenation around a lone ``':'``.
    """

    def rebuild(match: re.Match[str]) -> str:
        literal = match.group(0)
        if not _VARIABLE_LIKE.search(literal):
            return literal
        return "(" + _VARIABLE_LIKE.sub("' || ':' || '", literal) + ")"

    return _STRING.sub(rebuild, text)


def _literal(value: object) -> str:
    if isinstance(value, (dict, list)):
        return sql.Literal(json.dumps(value)).as_string() + "::jsonb"
    return sql.Literal(value).as_string()


def _inline(text: str, name: str, value: object) -> str:
    # ':name' but not the second colon of a '::type' cast, nor a longer variable name.
    return re.sub(rf"(?<!:):{name}(?![A-Za-z0-9_])", lambda _: _literal(value), text)


def statement(query: Query, *, gset: bool = False) -> str:
    """A catalog query as a pgbench command: ``:name`` variables, literals inlined."""
    text = to_positional(without_comment_lines(query.text), style="colon")
    for name, source in query.params.items():
        if isinstance(source, Literal):
            text = _inline(text, name, source.value)
    return f"-- {query.qualified}\n{protect_literals(text)}" + (" \\gset\n" if gset else ";\n")


def _picker(name: str, text: str) -> str:
    body = to_positional(without_comment_lines(text), style="colon").strip().rstrip(";")
    body = protect_literals(body)
    return f"-- picker {name} (its columns become variables)\n{body} \\gset\n"


def _prelude(queries: Iterable[Query], pickers: Mapping[str, str]) -> str:
    lines = [f"\\set {USER_VAR} random(:min_user_id, :max_user_id)\n"]
    seen: set[str] = set()
    for query in queries:
        for name, source in query.params.items():
            if isinstance(source, Persona) and name != USER_VAR and name not in seen:
                lines.append(f"\\set {name} :{USER_VAR}\n")
                seen.add(name)
    for query in queries:
        for source in query.params.values():
            if isinstance(source, Pick) and source.picker not in seen:
                lines.append(_picker(source.picker, pickers[source.picker]))
                seen.add(source.picker)
    return "".join(lines)


def _script(
    spec: ScenarioSpec, name: str, queries: tuple[Query, ...], pickers: Mapping[str, str]
) -> str:
    last = len(queries) - 1
    # Write steps hand their RETURNING columns to the next step through \gset.
    body = "".join(
        statement(q, gset=spec.request == "write" and i < last) for i, q in enumerate(queries)
    )
    head = f"-- pgperf load scenario {spec.name}: {spec.description}\n-- script {name}\n"
    return head + _prelude(queries, pickers) + body


def scenario_scripts(spec: ScenarioSpec, pickers: Mapping[str, str]) -> list[Script]:
    """The scripts of one scenario (one per query of a ``one`` mix, with its weight)."""
    if spec.request != "one":
        return [Script(f"{spec.name}.sql", _script(spec, spec.name, spec.queries, pickers))]
    return [
        Script(
            f"{spec.name}__{q.name}.sql",
            _script(spec, q.name, (q,), pickers),
            max(1, round(weight)),
        )
        for q, weight in zip(spec.queries, spec.weights, strict=True)
    ]


def background_scripts(spec: ScenarioSpec) -> list[Script]:
    """A script per background job: the statement, then its pause (pgbench ``\\sleep``)."""
    return [
        Script(
            f"{spec.name}__background_{b.query.name}.sql",
            statement(b.query) + f"\\sleep {int(b.pause_s * 1000)} ms\n",
        )
        for b in spec.background
    ]


def data_now_names(specs: Iterable[ScenarioSpec]) -> list[str]:
    """The variables fed from ``data_now`` (pgbench ``-D``), sorted."""
    return sorted(
        {
            n
            for s in specs
            for q in s.queries
            for n, src in q.params.items()
            if isinstance(src, DataNow)
        }
    )


def command(spec: ScenarioSpec, scripts: list[Script], *, seconds: int = 60) -> str:
    """The pgbench command line of a scenario (rate-throttled, budget as latency limit)."""
    files = " ".join(f"-f {s.name}@{s.weight}" for s in scripts)
    clients = spec.pgbench_clients
    return (
        f"pgbench -n -M prepared -c {clients} -j 2 -T {seconds} -R {spec.full.rate_per_s:g} "
        f'--latency-limit={spec.budget_ms:g} -P 5 -r $DEFS {files} "$PGDSN"'
    )


def export(
    folder: Path, specs: Mapping[str, ScenarioSpec], catalog: Catalog, *, load_dir: Path
) -> list[Path]:
    """Write every scenario's scripts, the user-range query and the README into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    pickers = {n: p.read_text() for n, p in catalog.pickers.items()}
    written: list[Path] = []
    sections = []
    for spec in specs.values():
        scripts = scenario_scripts(spec, pickers)
        background = background_scripts(spec)
        for script in (*scripts, *background):
            path = folder / script.name
            path.write_text(script.text)
            written.append(path)
        sections.append(_readme_section(spec, scripts, background))
    shutil.copyfile(load_dir / USER_RANGE_FILE, folder / USER_RANGE_FILE)
    readme = folder / "README.md"
    readme.write_text(_readme(specs, sections))
    return [*written, folder / USER_RANGE_FILE, readme]


def _readme_section(spec: ScenarioSpec, scripts: list[Script], background: list[Script]) -> str:
    lines = [
        f"### {spec.name}\n",
        f"{spec.description}. Budget: p95 <= {spec.budget_ms:g} ms "
        f"(feature `{spec.feature}`); the suite's rate: {spec.full.rate_per_s:g}/s.\n",
        "```sh",
        command(spec, scripts),
    ]
    lines += [
        f'pgbench -n -M prepared -c 1 -T 60 $DEFS -f {b.name} "$PGDSN" &  # alongside'
        for b in background
    ]
    return "\n".join([*lines, "```", ""])


def _readme(specs: Mapping[str, ScenarioSpec], sections: list[str]) -> str:
    now_defs = " ".join(f"-D {n}=$NOW" for n in data_now_names(specs.values()))
    return f"""# pgperf load scenarios as pgbench scripts

Generated by `pgperf pgbench-export` from `sql/load/scenarios.toml` and the query catalog
(`sql/queries`). Each scenario is a script (or, for a mix, one script per query with its
weight); pgbench replays it against any copy of the platform database, e.g. a staging
server, from any machine and at higher client counts than the suite's own run.

## Variables

* `user_id` is drawn uniformly from `random(:min_user_id, :max_user_id)` (the suite
  draws users weighted by activity; pgbench has no weighted draw over a list).
* `{", ".join(data_now_names(specs.values()))}` is the data's "now": `now()` on a live copy; on
  a pgperf-seeded database, its `pgperf.meta` value `data_now`.
* Pickers (`\\gset` lines) run inside each transaction, before the statements that need
  them: `-r` reports them as separate statement lines, so leave them out when reading
  the statements' latencies.
* Write steps pass their RETURNING columns on with `\\gset`; the playground scenario
  really inserts tasks, so point it at a disposable copy.

## Commands

```sh
export PGDSN="host=staging.example dbname=platform user=..."   # NOT production
read MIN MAX < <(psql "$PGDSN" -AtF' ' -f {USER_RANGE_FILE})
NOW=$(psql "$PGDSN" -Atc "SELECT to_char(now(), 'YYYY-MM-DD\\"T\\"HH24:MI:SSOF')")
# on a pgperf-seeded database instead:
#   NOW=$(psql "$PGDSN" -Atc "SELECT value FROM pgperf.meta WHERE key = 'data_now'")
DEFS="-D min_user_id=$MIN -D max_user_id=$MAX {now_defs}"
```

`-R` makes pgbench schedule transactions at a target rate and count latency from the
scheduled start (an open model, like the suite); `--latency-limit` is the feature's
budget, so pgbench reports how many transactions finished late. Raise `-c`, `-j` and `-R`
to push a bigger server.

{"".join(sections)}"""

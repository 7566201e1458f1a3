"""Generated hostile inputs for rareflow's entry points, and the judge of each outcome.

Every case is an action on one entry point (scenario YAML, a user's CSV table, a trade file, a
path, a run id, a store file) built from a seeded generator. Its outcome is one of:

- ``accepted``: it returned, and what it returned passed the case's own check of correctness
  (finite numbers in range, no row swallowed, an import that the dataset loads, results that
  equal the stored ones);
- ``refused``: it raised a :class:`rareflow.errors.RareflowError` with a short message free of
  tracebacks and pydantic internals;
- ``wrong``: it returned, but the check failed (an accepted-but-wrong input);
- ``crash``: anything else (a traceback for the user);
- ``hang``: it ran past :data:`CASE_SECONDS`.

The counts are real: :class:`Tally` counts what happened, and the test asserts on them.
"""

from __future__ import annotations

import contextlib
import copy
import math
import random
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import yaml

from rareflow.errors import RareflowError

CASE_SECONDS = 20
"""Longest any one case may take before it counts as a hang."""
MAX_MESSAGE = 10_000
"""Longest message a refusal may print."""
LEAKS = ("Traceback", "tagged-union", "function-after", "pydantic_core", 'File "/')
"""Text that must never reach a user's message."""

Check = Callable[[Any], str | None]
"""Judge of an accepted case's result: None if right, else what is wrong."""


class _HangError(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        raise _HangError

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Tally:
    """Outcomes by kind of input, and the first few findings of each bad outcome."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)

    def run(self, kind: str, label: str, action: Callable[[], Any], check: Check) -> str:
        """Run one case and record its outcome."""
        outcome, detail = "accepted", ""
        try:
            with _time_limit(CASE_SECONDS):
                result = action()
            problem = check(result)
            if problem is not None:
                outcome, detail = "wrong", problem
        except _HangError:
            outcome, detail = "hang", f"over {CASE_SECONDS} s"
        except RareflowError as exc:
            message = exc.user_message()
            leak = next((text for text in LEAKS if text in message), None)
            if not message or len(message) > MAX_MESSAGE or leak is not None:
                outcome, detail = "crash", f"bad message ({len(message)} chars, {leak})"
            else:
                outcome = "refused"
        except Exception as exc:
            outcome, detail = "crash", f"{type(exc).__name__}: {str(exc)[:300]}"
        self.counts[kind, outcome] += 1
        if outcome not in ("accepted", "refused") and len(self.findings) < 30:
            self.findings.append(f"{kind} / {label}: {outcome}: {detail}")
        return outcome

    def total(self, outcome: str | None = None) -> int:
        """Cases run (with this outcome, if given)."""
        return sum(n for (_, o), n in self.counts.items() if outcome is None or o == outcome)

    def lines(self) -> list[str]:
        """One line per kind of input: cases, accepted, refused, wrong, crashes, hangs."""
        kinds = sorted({k for k, _ in self.counts})
        out = []
        for kind in kinds:
            n = {o: self.counts[kind, o] for o in ("accepted", "refused", "wrong", "crash", "hang")}
            out.append(
                f"{kind}: {sum(n.values()):,} cases, {n['accepted']:,} accepted, "
                f"{n['refused']:,} refused, {n['wrong']} accepted-but-wrong, {n['crash']} "
                f"tracebacks, {n['hang']} hangs"
            )
        return out


HOSTILE_NUMBERS: list[Any] = [
    math.nan, math.inf, -math.inf, 1e308, -1e308, 1e13, -1e13, 1e12, -1.0, 0.0, -0.0, 5e-324,
    10**30, -(10**30), 2**63, 2**64, 99999999999999999999, -1, 0, 1,
]  # fmt: skip
HOSTILE_OTHERS: list[Any] = [
    None, True, False, "", " ", "x" * 20_000, "nan", ".inf", "1e309", "0x1F", "1,8", "١٢",
    "2025-13-01", "0001-01", "1816-03", "9999-12", "2300-01", "2025-02-30", "ZZZ", "BEL", "XYZ",
    "../../etc/passwd", "\x00", "\u202e", "=cmd|' /C calc'!A0", "!!python/object:os.system",
    [], {}, [[[[[]]]]], {"dist": "uniform", "low": 1, "high": 0},
    {"dist": "uniform", "low": math.nan, "high": 1}, {"dist": "normal", "mean": 0, "sd": 0},
    {"dist": "normal", "mean": 0, "sd": 1e300}, {"dist": "beta", "a": 1e-9, "b": 1},
    {"dist": "lognormal", "median": 1, "sigma": 700}, {"dist": "triangular", "low": 0,
    "mode": 5, "high": 1}, {"dist": "fixed", "value": math.inf}, {"dist": "zipf"},
    {"type": "nope"}, ["all"], "all",
]  # fmt: skip
HOSTILE_CELLS = [
    "nan", "NaN", "inf", "-inf", "Infinity", "1e308", "1e13", "-1e13", "-5", "1,8", "1,80,000",
    "1,800", '"', ' "x', 'x"', '"a', "\x00", "", " ", "é", "=1+1", "+5", "-0", "9" * 400,
    "0x10", "1_000", "١٢", "1e-400", "2025-13-01", "0001-01-01", "ZZZ", "BEL", "chosen",
    "alternative", "t", "kg", "usd", "fraction", "2.5", "1.5e3", "\u202e", "'", "\\", ";",
]  # fmt: skip


def leaves(obj: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths to every value of a YAML document (mappings and lists included)."""
    if path:
        yield path
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from leaves(value, (*path, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from leaves(value, (*path, i))


def mutate_doc(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Replace, drop or add one to three values of a scenario document."""
    out = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        paths = list(leaves(out))
        path = rng.choice(paths)
        parent: Any = out
        for part in path[:-1]:
            parent = parent[part]
        roll = rng.random()
        if roll < 0.1 and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif roll < 0.2 and isinstance(parent, dict):
            parent[rng.choice(["colour", "type", "draws", "from", "dist", "<<"])] = rng.choice(
                HOSTILE_OTHERS
            )
        else:
            pool = HOSTILE_NUMBERS if rng.random() < 0.5 else HOSTILE_OTHERS
            with contextlib.suppress(IndexError, KeyError, TypeError):
                parent[path[-1]] = copy.deepcopy(rng.choice(pool))
    return out


TEXT_SNIPPETS = [
    "\n", "\t", "\x00", ": :", "- - -", "&a", "*a", "*undefined", "&a [*a, *a]", "!!binary x",
    "!!python/object/apply:os.system ['true']", "{{{{", "]]]", "'", '"', "#", "? x", "<<: *a",
    "\ufeff", "\r\n", "%YAML 1.1\n", "---\n", "...\n", "draws: 10000000\n", "name: dup\n",
]  # fmt: skip


def mutate_text(text: str, rng: random.Random) -> str:
    """Edit YAML text: delete, insert, duplicate a line, or truncate."""
    lines = text.splitlines(keepends=True)
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.3 and lines:
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])  # a repeated key, often
        elif roll < 0.5 and lines:
            del lines[rng.randrange(len(lines))]
        elif roll < 0.9 and lines:
            i = rng.randrange(len(lines))
            j = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:j] + rng.choice(TEXT_SNIPPETS) + lines[i][j:]
        else:
            joined = "".join(lines)
            lines = [joined[: rng.randrange(len(joined) + 1)]]
    return "".join(lines)


def bombs() -> list[tuple[str, str]]:
    """Fixed hostile YAML documents: alias bombs, deep nesting, huge text."""
    out = []
    for levels, fan in ((9, 9), (5, 30), (20, 2), (3, 99)):
        body = ["a0: &a0 [lol]"]
        body += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels + 1)]
        out.extend(
            (f"bomb {levels}x{fan} in {target}", "\n".join([*body, f"{target}: *a{levels}"]))
            for target in ("sampling", "description", "shocks", "levers", "name")
        )
    for depth in (33, 100, 1000, 100_000):
        out.append((f"flow depth {depth}", "name: x\ndescription: " + "[" * depth + "]" * depth))
        out.append((f"map depth {depth}", "name: x\ndescription: " + "{a: " * depth + "}" * depth))
    out.append(("block depth 40", "name: x\nd:\n" + "".join("  " * i + "- \n" for i in range(40))))
    out.append(("1 MB + 1", "name: x\ndescription: " + "y" * 1_000_000))
    out.append(("long key", "name: x\n" + "k" * 900_000 + ": 1\n"))
    out.append(("many keys", "name: x\n" + "".join(f"k{i}: {i}\n" for i in range(50_000))))
    out.append(("repeated draws", "name: x\ndraws: 10\ndraws: 10000000\n"))
    out.append(("seed 1e20", "name: x\nseed: 99999999999999999999\n"))
    out.append(("nul", "name: x\x00\n"))
    out.append(("merge loop", "a: &a {<<: *a}\nname: x\n"))
    out.append(("recursive alias", "a: &a [*a]\nname: x\n"))
    return out


def docs_from_yaml(text: str) -> Any:
    """A preset's document (safe loader)."""
    return yaml.safe_load(text)

"""Draw every uncertain number of a scenario for a set of draw indices.

Each number has a stable stream id, a hash of its path in the scenario (``shocks[0].licence[1]
.approval_probability``), so adding a number elsewhere does not change the draws of the others.
Designs:

- ``random``: independent uniforms per draw from the counter-based generator of
  :func:`rareflow.scenario.distributions.uniforms`;
- ``lhs``: Latin hypercube (McKay, Beckman and Conover 1979): draw ``d`` falls in stratum
  ``perm[d]`` of ``N`` equal strata, with the permutation seeded per stream;
- ``sobol``: scrambled Sobol' points (scipy.stats.qmc; Sobol' 1967, Owen 1998), one dimension per
  uncertain number in path order.

Every design depends only on (seed, path, draw index, total draws), so a chunk of draws gives the
same values as the whole run.

An explicit design matrix (uniforms per path, indexed by global draw) overrides the design for
the paths it names: sensitivity analysis uses it to run the engine at the points of a Saltelli or
Morris design (:mod:`rareflow.analysis.sensitivity`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from rareflow.scenario.distributions import FloatArray, Triangular, as_distribution, uniforms


def stream_id(path: str) -> int:
    """Stable stream id of a number's path."""
    return zlib.crc32(path.encode("utf-8"))


@dataclass
class Sampler:
    """Draws values of scenario numbers for given draw indices.

    Parameters
    ----------
    seed
        The scenario's seed.
    design
        random, lhs or sobol.
    total
        Total number of draws of the run (LHS strata and Sobol points depend on it).
    draws
        Global indices of the draws wanted.
    uncertain_paths
        For Sobol, every uncertain path of the scenario in a fixed order (one dimension each).
    design_matrix
        Uniforms in (0, 1) per path, each of length ``total`` and indexed by global draw; they
        replace the design's uniforms for the paths given.
    stream_names
        The name a path's first part is keyed by in the random streams, where it differs: a
        lever's position (``levers[2]``, the path users see) -> its type and index among its
        type's levers (``levers.stockpile[0]``), so reordering levers does not change draws.
    """

    seed: int
    design: str
    total: int
    draws: np.ndarray
    uncertain_paths: tuple[str, ...] = ()
    design_matrix: Mapping[str, FloatArray] | None = None
    stream_names: Mapping[str, str] = field(default_factory=dict)
    drawn: dict[str, FloatArray] = field(default_factory=dict)
    distributions: dict[str, object] = field(default_factory=dict)
    """The distribution of every uncertain (not fixed) number drawn, by path."""
    _sobol: FloatArray | None = None

    def stream_key(self, path: str) -> str:
        """Return the name a path's random stream is keyed by (see ``stream_names``)."""
        head, dot, rest = path.partition(".")
        return self.stream_names.get(head, head) + dot + rest

    def _uniform(self, path: str) -> FloatArray:
        if self.design_matrix is not None and path in self.design_matrix:
            given = np.asarray(self.design_matrix[path], dtype=np.float64)
            return np.asarray(given[self.draws], dtype=np.float64)
        sid = stream_id(self.stream_key(path))
        if self.design == "random":
            return uniforms(self.seed, sid, self.draws)
        if self.design == "lhs":
            perm_keys = uniforms(self.seed, sid ^ 0x5A5A5A5A, np.arange(self.total))
            strata = np.argsort(perm_keys, kind="stable")
            jitter = uniforms(self.seed, sid, self.draws)
            return np.asarray((strata[self.draws] + jitter) / self.total, dtype=np.float64)
        if self._sobol is None:
            dim = max(len(self.uncertain_paths), 1)
            from scipy.stats import qmc  # noqa: PLC0415 - slow import, Sobol' sampling only

            engine = qmc.Sobol(d=dim, scramble=True, seed=self.seed)
            points = engine.random(self.total)
            self._sobol = np.clip(points, 1e-12, 1 - 1e-12)
        column = self.uncertain_paths.index(path) if path in self.uncertain_paths else 0
        return np.asarray(self._sobol[self.draws, column], dtype=np.float64)

    def draw(self, value: object, path: str) -> FloatArray:
        """Values of one scenario number for the draws: shape (1,) if fixed, else (D,)."""
        dist = as_distribution(value)  # type: ignore[arg-type]
        if getattr(dist, "dist", "") == "fixed":
            out = dist.ppf(np.zeros(1))
        else:
            out = dist.ppf(self._uniform(path))
            self.distributions[path] = dist
        self.drawn[path] = out
        return out

    def triangular(self, path: str, low: float, mode: float, high: float) -> FloatArray:
        """Draw a number triangular over [low, high] with its ``mode`` (a dataset row's range).

        The stocks model draws its inputs this way (:class:`rareflow.stocks.in_use.Uncertain`).
        """
        return self.draw(Triangular(low=low, mode=mode, high=high), path)


def design_sampler(
    seed: int, design: str, total: int, probe: Callable[[Sampler], object]
) -> Sampler:
    """Return a sampler over all ``total`` draws of a design, for a model outside a scenario.

    For ``sobol`` the uncertain numbers must be known before the points are made (one dimension
    each): ``probe`` runs the model once on a two-draw random sampler, and every number it drew
    with a spread becomes a dimension, in path order (as :func:`rareflow.scenario.compile.
    compile_scenario` finds a scenario's).

    Parameters
    ----------
    seed, design, total
        Seed, design (``random``, ``lhs`` or ``sobol``) and number of draws.
    probe
        Runs the model with the sampler given.
    """
    paths: tuple[str, ...] = ()
    if design == "sobol":
        trial = Sampler(seed, "random", 2, np.arange(2))
        probe(trial)
        paths = tuple(sorted(p for p, v in trial.drawn.items() if np.size(v) > 1))
    return Sampler(seed, design, total, np.arange(total), paths)

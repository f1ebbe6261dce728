"""Shared helpers for the numerical lit tests in test/Numerics.

Every script gets the `gradec` executable and a scratch directory (lit's %t)
on its command line, writes graphs (.mtx) and arrays (.npy) there, runs
`gradec run`, and compares the results with references computed here in
float64.  Checks are recorded, printed with their measured values, and the
script exits non-zero at the end if any of them failed, so a failing test
shows every number and not just the first bad one.

Direction convention (docs/runtime.md): a Matrix Market entry (i, j, w) is
the edge j -> i (row = destination, column = source).  Edge fields are bound
and come back in the file's edge order (Graph.write_mtx writes the graph's
edge list in order, so that is the Graph's own order); the runtime permutes
them to and from its CSR order.
"""

import os
import re
import subprocess
import sys

import numpy as np


class Checker:
    """Collects named checks; `finish()` exits with status 1 on failure."""

    def __init__(self, title):
        self.title = title
        self.failures = []
        self.count = 0
        print("== %s" % title)

    def _record(self, ok, line):
        self.count += 1
        print(("ok    " if ok else "FAIL  ") + line)
        if not ok:
            self.failures.append(line)
        sys.stdout.flush()
        return ok

    def le(self, name, value, bound):
        """Check value <= bound (value: a measured error)."""
        ok = bool(np.isfinite(value)) and value <= bound
        return self._record(ok, "%-58s %.3e  (bound %.1e)" % (name, value, bound))

    def within(self, name, value, lo, hi):
        ok = bool(np.isfinite(value)) and lo <= value <= hi
        return self._record(ok, "%-58s %.4f  (range [%g, %g])" % (name, value, lo, hi))

    def true(self, name, cond, detail=""):
        return self._record(bool(cond), "%-58s %s" % (name, detail))

    def finish(self):
        if self.failures:
            print("%d of %d checks FAILED in %s:" % (len(self.failures),
                                                     self.count, self.title))
            for f in self.failures:
                print("  " + f)
            sys.exit(1)
        print("all %d checks passed" % self.count)


def rel_err(x, ref):
    """Max-norm error relative to the max-norm of the reference."""
    x = np.asarray(x, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert x.shape == ref.shape, (x.shape, ref.shape)
    scale = np.max(np.abs(ref))
    return float(np.max(np.abs(x - ref)) / (scale if scale > 0 else 1.0))


def abs_err(x, ref):
    x = np.asarray(x, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert x.shape == ref.shape, (x.shape, ref.shape)
    return float(np.max(np.abs(x - ref)))


# ---------------------------------------------------------------------------
# Graphs
# ---------------------------------------------------------------------------

class Graph:
    """A directed multigraph as an edge list: edge k goes src[k] -> dst[k]."""

    def __init__(self, n, src, dst, w=None):
        self.n = int(n)
        self.src = np.asarray(src, dtype=np.int64)
        self.dst = np.asarray(dst, dtype=np.int64)
        self.w = None if w is None else np.asarray(w, dtype=np.float64)
        assert self.src.shape == self.dst.shape

    @property
    def weights(self):
        return np.ones(len(self.src)) if self.w is None else self.w

    def adjacency(self):
        """Dense A with A[i, j] = sum of weights of the edges j -> i."""
        a = np.zeros((self.n, self.n))
        np.add.at(a, (self.dst, self.src), self.weights)
        return a

    def laplacian(self):
        """L = D_in - A: (L x)_i = sum over in-edges j -> i of w (x_i - x_j).

        Self loops cancel out of L, as they do in sum_in(w * (x[src] - x[dst])).
        """
        a = self.adjacency()
        return np.diag(a.sum(axis=1)) - a

    def csr_order(self):
        """Permutation of the edges into CSR order (by dst, then src, stable)."""
        return np.lexsort((np.arange(len(self.src)), self.src, self.dst))

    def write_mtx(self, path):
        """General Matrix Market file, one entry (dst+1, src+1[, w]) per edge."""
        field = "pattern" if self.w is None else "real"
        with open(path, "w") as f:
            f.write("%%%%MatrixMarket matrix coordinate %s general\n" % field)
            f.write("%% written by test/Numerics/Inputs/gradetest.py\n")
            f.write("%d %d %d\n" % (self.n, self.n, len(self.src)))
            for k in range(len(self.src)):
                if self.w is None:
                    f.write("%d %d\n" % (self.dst[k] + 1, self.src[k] + 1))
                else:
                    f.write("%d %d %s\n" % (self.dst[k] + 1, self.src[k] + 1,
                                            repr(float(self.w[k]))))
        return path


def undirected(n, pairs, w=None):
    """Both directions of every pair (u, v), with the same weight."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    src = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
    ww = None if w is None else np.concatenate([w, w])
    return Graph(n, src, dst, ww)


def write_mtx_symmetric(path, n, pairs, w=None):
    """A `symmetric` Matrix Market file storing each undirected pair once,
    in the lower triangle (row > column); the reader adds the mirror edge."""
    field = "pattern" if w is None else "real"
    with open(path, "w") as f:
        f.write("%%%%MatrixMarket matrix coordinate %s symmetric\n" % field)
        f.write("%d %d %d\n" % (n, n, len(pairs)))
        for k, (u, v) in enumerate(pairs):
            i, j = max(u, v), min(u, v)
            if w is None:
                f.write("%d %d\n" % (i + 1, j + 1))
            else:
                f.write("%d %d %s\n" % (i + 1, j + 1, repr(float(w[k]))))
    return path


def random_cycle_graph(rng, n, extra, weights):
    """An undirected graph: a cycle through the n nodes plus `extra` random
    chords (repeated pairs and loops dropped), the pair weights from
    weights(number of pairs)."""
    pairs = [(min(i, (i + 1) % n), max(i, (i + 1) % n)) for i in range(n)]
    for _ in range(extra):
        a, b = rng.integers(0, n, 2)
        if a != b:
            pairs.append((min(a, b), max(a, b)))
    pairs = sorted(set(pairs))
    return undirected(n, pairs, weights(len(pairs)))


def cycle_pairs(n):
    return [(i, (i + 1) % n) for i in range(n)]


def path_pairs(n):
    return [(i, i + 1) for i in range(n - 1)]


# ---------------------------------------------------------------------------
# Reference solutions
# ---------------------------------------------------------------------------

def wave_exact(lam, V, u0, v0, t):
    """(u, du/dt) at t of d2u/dt2 = -K u with K = V diag(lam) V^T (lam >= 0)."""
    a, b = V.T @ u0, V.T @ v0
    om = np.sqrt(lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        sinc = np.where(om > 0, np.sin(om * t) / np.where(om > 0, om, 1), t)
    return (V @ (np.cos(om * t) * a + sinc * b),
            V @ (-om * np.sin(om * t) * a + np.cos(om * t) * b))


def heat_exact(L, t, x0):
    """expm(-t L) x0 for a symmetric L, by eigendecomposition (numpy.linalg.eigh)."""
    lam, u = np.linalg.eigh(L)
    return u @ (np.exp(-t * lam) * (u.T @ x0))


def step_grid(t0, t1, dt):
    """The runtime's grid: ceil((t1 - t0) / dt) steps (relative tolerance
    1e-9), t_k = t0 + k dt computed from k, the last step landing on t1."""
    q = (t1 - t0) / dt
    n = int(np.ceil(q))
    if n - q > 1 - 1e-9 * max(1.0, q):  # q is an integer up to round-off
        n -= 1
    n = max(n, 1)
    ts = [t0 + k * dt for k in range(n)] + [t1]
    return ts


# Butcher tableaux (a as lower-triangular rows, b) from the literature,
# written out independently of the compiler's list.
TABLEAUX = {
    "midpoint": ([[], [1 / 2]], [0, 1]),
    "heun": ([[], [1]], [1 / 2, 1 / 2]),
    "ralston": ([[], [2 / 3]], [1 / 4, 3 / 4]),
    "ssprk3": ([[], [1], [1 / 4, 1 / 4]], [1 / 6, 1 / 6, 2 / 3]),
    "kutta3": ([[], [1 / 2], [-1, 2]], [1 / 6, 2 / 3, 1 / 6]),
    "rk38": ([[], [1 / 3], [-1 / 3, 1], [1, -1, 1]], [1 / 8, 3 / 8, 3 / 8, 1 / 8]),
}


def rk_step(f, t, h, y, a, b):
    """One explicit Runge-Kutta step with tableau rows a (lower part), b."""
    ks = []
    for i in range(len(b)):
        yi = [v + h * sum(a[i][j] * ks[j][s] for j in range(i))
              for s, v in enumerate(y)] if i else list(y)
        ks.append(f(t + h * sum(a[i]), yi))
    return [v + h * sum(b[i] * ks[i][s] for i in range(len(b)))
            for s, v in enumerate(y)]


def integrate(f, y0, t0, t1, dt, scheme):
    """Fixed-step integration on a list of state arrays: 'euler', 'rk4',
    a name of TABLEAUX, or a tableau (a, b) given directly."""
    ts = step_grid(t0, t1, dt)
    y = [np.array(a, dtype=np.float64) for a in y0]
    for k in range(len(ts) - 1):
        t, h = ts[k], ts[k + 1] - ts[k]
        if not isinstance(scheme, str) or scheme in TABLEAUX:
            a, b = TABLEAUX[scheme] if isinstance(scheme, str) else scheme
            y = rk_step(f, t, h, y, a, b)
        elif scheme == "euler":
            d = f(t, y)
            y = [a + h * b for a, b in zip(y, d)]
        elif scheme == "rk4":
            k1 = f(t, y)
            k2 = f(t + h / 2, [a + h / 2 * b for a, b in zip(y, k1)])
            k3 = f(t + h / 2, [a + h / 2 * b for a, b in zip(y, k2)])
            k4 = f(t + h, [a + h * b for a, b in zip(y, k3)])
            y = [a + h / 6 * (b1 + 2 * b2 + 2 * b3 + b4)
                 for a, b1, b2, b3, b4 in zip(y, k1, k2, k3, k4)]
        else:
            raise ValueError(scheme)
    return y


def fit_order(hs, errs):
    """Least-squares slope of log(err) against log(h)."""
    return float(np.polyfit(np.log(hs), np.log(errs), 1)[0])


# ---------------------------------------------------------------------------
# Driving gradec
# ---------------------------------------------------------------------------

class Gradec:
    def __init__(self, gradec, workdir):
        self.gradec = gradec
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.counter = 0

    def path(self, name):
        return os.path.join(self.workdir, name)

    def _call(self, args):
        proc = subprocess.run([self.gradec] + args, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT,
                              universal_newlines=True)
        if proc.returncode != 0:
            print("command failed (exit %d): %s" % (proc.returncode,
                                                    " ".join([self.gradec] + args)))
            print(proc.stdout)
            raise SystemExit(1)
        return proc.stdout

    def compile(self, model, name=None):
        """Compile a .grade file once; runs then reuse the library."""
        name = name or os.path.splitext(os.path.basename(model))[0]
        lib = self.path("lib%s.so" % name)
        self._call([model, "-o", lib])
        return lib

    def run(self, lib, graph, inputs=None, params=None, outputs=("x",),
            t1=None, dt=None, threads=1,
            graph_args=("--mtx-duplicates=keep",)):
        """Run a model; returns {name: array} for the requested outputs.

        graph: a path to a .mtx file or a `gen:` spec; graph_args: options
        of the graph reader. Graph.write_mtx writes multigraphs (random
        endpoints repeat, some tests add a parallel edge on purpose, and the
        references sum over every listed edge), which the reader accepts
        only with --mtx-duplicates=keep: duplicates are an error by
        default."""
        self.counter += 1
        tag = "r%03d" % self.counter
        args = ["run", lib, "--graph", graph] + list(graph_args)
        for kind, d in (("--input", inputs or {}), ("--param", params or {})):
            for name, arr in d.items():
                p = self.path("%s_%s.npy" % (tag, name))
                np.save(p, arr)
                args += [kind, "%s=%s" % (name, p)]
        outs = {}
        for name in outputs:
            p = self.path("%s_out_%s.npy" % (tag, name))
            outs[name] = p
            args += ["--output", "%s=%s" % (name, p)]
        if t1 is not None:
            args += ["--t1", repr(float(t1))]
        if dt is not None:
            args += ["--dt", repr(float(dt))]
        if threads is not None:
            args += ["--threads", str(threads)]
        self._call(args)
        return {name: np.load(p) for name, p in outs.items()}


def run_x(gradec, lib, graph, x0, dt, *extra, expect_fail=False):
    """`gradec run` of a model with input x0 and state x, with --stats on
    one thread and, unless dt is 0, --dt; returns (x, the output), or the
    CompletedProcess with expect_fail."""
    out = gradec.path("out.npy")
    np.save(gradec.path("x0.npy"), x0)
    args = [gradec.gradec, "run", lib, "--graph", graph, "--input",
            "x0=%s" % gradec.path("x0.npy"), "--output", "x=%s" % out,
            "--stats", "--threads", "1"] + list(extra)
    if dt:
        args += ["--dt", repr(dt)]
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if expect_fail:
        return proc
    if proc.returncode != 0:
        print(proc.stdout)
        raise SystemExit("gradec run failed")
    return np.load(out), proc.stdout


def stat(text, name):
    """The count before `name` in gradec's --stats line (-1 if absent)."""
    m = re.search(r"(\d+) %s" % name, text)
    return int(m.group(1)) if m else -1


def main_args(argv):
    """argv: script gradec workdir [extra...]"""
    if len(argv) < 3:
        sys.exit("usage: %s GRADEC WORKDIR [ARGS...]" % argv[0])
    return Gradec(argv[1], argv[2]), argv[3:]

#!/usr/bin/python3
"""grade beside its peers (issue 9's benchmark), in one process.

    /usr/bin/python3 bench/peers/peers.py [--rounds 5] [--threads 2]
        [--build build] [--data ../shared/data] [--graphs cora,large]

grade runs through libgrade_rt's C API (ctypes: a session per model, the
library compiled by gradec from examples/ or from the models below), the
peers through Debian's python3-torch (CSR SpMM with torch.sparse, and the
gather/scatter form PyTorch Geometric uses: x[src], index_add_) and SciPy
(CSR SpMM, single-threaded by design). On Cora (../shared/data/cora) and
on a random graph of 169 343 nodes and 2 484 941 edges (uniform random
endpoints: no locality at all), each workload is timed round by round,
every implementation once per round (interleaved), and reported as the
median and [min, max] of the per-call time with the ratio peer / grade.
Before the numbers each peer's result is compared with grade's (largest
relative difference), so that every row computes the same thing.

Workloads:
  grand_l rhs   GRAND-l's right-hand side, d = 64, f32: sum_in(a (x[src] -
                x[dst])) with the attention a fixed (computed once);
  grand_l rk4   its whole integration, rk4 with dt = 0.5 on [0, 18.3]
                (37 steps), grade's session against a plain PyTorch rk4 loop;
  grand_nl rhs  GRAND-nl: the attention recomputed from x at every
                evaluation (projections, per-edge scores, edge softmax),
                and one rk4 step of it;
  sheaf rhs     Neural Sheaf Diffusion with diagonal maps relearned from x
                (examples/sheaf.grade, stalks d = 3 of f = 4 channels, f64),
                against the same in PyTorch with gathers and index_add_;
  mp_pde layer  one processor layer of bench/peers/mp_pde_layer.grade (MLP messages,
                mean aggregation, update MLP, InstanceNorm; hidden 16, f64),
                one Euler step of grade's session against the same layer in
                PyTorch;
  heat rhs      sum_in(w (x[src] - x[dst])), f64 scalars, against SciPy at
                one thread (grade with 1 thread there too) and at --threads;
  triad         STREAM triad a = b + s c with torch (3 x 128 MiB f64, same
                threads, and one thread for the one-thread rows) for the
                bandwidth scale, and each grade kernel's bandwidth on its
                compulsory bytes (printed with the model);
  ceiling       the gather ceiling (bench/peers/ceilings.c, compiled here
                with clang-22): the rows GRAND-l's rhs gathers, in its edge
                order, read and nothing else, timed in the same rounds as
                the rhs: the fastest any kernel that gathers them can run.

A peer that is not installed is skipped with a message.
"""
import argparse
import ctypes
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--data", default=os.path.join(ROOT, "../shared/data"))
    p.add_argument("--graphs", default="cora,large")
    p.add_argument("--large-nodes", type=int, default=169343)
    p.add_argument("--large-edges", type=int, default=2484941)
    return p.parse_args()


ARGS = parse_args()
WORK = tempfile.mkdtemp(prefix="grade-peers-")
try:
    import torch
    torch.set_num_threads(ARGS.threads)
    import warnings
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support")
    warnings.filterwarnings("ignore", message="scatter_reduce")
except ImportError:
    torch = None
try:
    import scipy.io
    import scipy.sparse as sp
except ImportError:
    sp = None
    torch = None  # the torch peers build their CSR matrices with SciPy

# ---------------------------------------------------------------------------
# libgrade_rt through ctypes
# ---------------------------------------------------------------------------

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import gradert  # noqa: E402
from gradert import (F32, F64, I64, P, Tensor, Session, ok, tensor,  # noqa: E402,F401
                     view, load, grade_graph)

RT = gradert.init(ARGS.build)


def compile_model(source, name, *flags):
    out = os.path.join(WORK, "lib%s.so" % name)
    subprocess.run([os.path.join(ARGS.build, "bin", "gradec"), source, "-o", out,
                    *flags], check=True)
    return load(out)


def load_ceilings():
    """bench/peers/ceilings.c as a ctypes library, or None (with a message)
    where no C compiler with OpenMP is found."""
    cc = shutil.which("clang-22") or shutil.which("clang")
    if cc is None:
        print("gather ceiling: skipped (no clang-22 to compile "
              "bench/peers/ceilings.c)")
        return None
    out = os.path.join(WORK, "libceilings.so")
    result = subprocess.run([cc, "-O3", "-march=native", "-fopenmp=libomp",
                             "-shared", "-fPIC",
                             os.path.join(ROOT, "bench/peers/ceilings.c"),
                             "-o", out], capture_output=True, text=True)
    if result.returncode != 0:
        print("gather ceiling: skipped (bench/peers/ceilings.c does not "
              "compile: %s)" % result.stderr.strip().splitlines()[-1:])
        return None
    lib = ctypes.CDLL(out)
    lib.grade_ceiling_alloc.argtypes = [ctypes.c_int64]
    lib.grade_ceiling_alloc.restype = ctypes.c_void_p
    lib.grade_ceiling_free.argtypes = [ctypes.c_void_p]
    lib.grade_ceiling_free.restype = None
    lib.grade_ceiling_gather_rows.argtypes = [
        ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
        ctypes.c_int32, ctypes.c_void_p]
    lib.grade_ceiling_gather_rows.restype = ctypes.c_int
    return lib


class GatherCeiling:
    """x (n x d, f32) copied onto the ceiling library's huge-page buffer,
    and the source node of every edge in CSR order (by destination, as
    grade's graph stores them). Call it to read every edge's row once."""

    def __init__(self, lib, x, src, dst, threads):
        self.lib, self.threads = lib, threads
        self.n, self.d = x.shape
        self.ptr = lib.grade_ceiling_alloc(x.nbytes)
        if not self.ptr:
            raise MemoryError("grade_ceiling_alloc(%d)" % x.nbytes)
        self.x = np.ctypeslib.as_array(
            ctypes.cast(self.ptr, ctypes.POINTER(ctypes.c_float)),
            shape=x.shape)
        self.x[:] = x
        self.col = np.ascontiguousarray(
            src[np.argsort(dst, kind="stable")].astype(np.int32))
        self.out = np.zeros(self.d, np.float32)

    def __call__(self):
        if self.lib.grade_ceiling_gather_rows(
                self.ptr, self.d, self.col.ctypes.data, len(self.col),
                self.threads, self.out.ctypes.data):
            sys.exit("grade_ceiling_gather_rows: unsupported width %d" % self.d)

    def check(self):
        """The sum of every gathered row, against NumPy's (relative)."""
        self()
        want = self.x[self.col].sum(axis=0, dtype=np.float64)
        return rel_diff(self.out, want)

    def free(self):
        self.lib.grade_ceiling_free(self.ptr)
        self.ptr = None


GRAND_NL = """model grand_nl {
  graph G;
  input x0 : node f32[64];
  param Wq : f32[64, 16];
  param Wk : f32[64, 16];
  state x : node f32[64] = x0;
  // Recomputed at every evaluation: the attention depends on the state.
  let a : edge f32 = softmax_in((x[src] @ Wk) . (x[dst] @ Wq) / sqrt(16));
  rhs dx/dt = sum_in(a * (x[src] - x[dst]));
  solve rk4(dt = 0.5) over [0, 18.3];
  output x;
}
"""

# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


# Calls before timing: at least this long. On a virtual machine an idle
# vCPU is halted and the first calls after a pause pay for waking it (and the
# kernels' OpenMP workers): grade's GRAND-l rhs on Cora took 0.10 ms over
# the first thousand calls after the peers ran and 0.026 ms afterwards.
WARM_UP_SECONDS = 0.05


def timeit(fn, repeat):
    """Seconds per call: the best of `repeat` calls, after calls for
    WARM_UP_SECONDS (at least one) unless a single call is timed (the long
    runs)."""
    if repeat > 1:
        start = time.perf_counter()
        fn()
        while time.perf_counter() - start < WARM_UP_SECONDS:
            fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def compare(title, impls, repeat, reference="grade"):
    """Interleaved rounds of every implementation; medians and ratios."""
    times = {name: [] for name in impls}
    for _ in range(ARGS.rounds):
        for name, fn in impls.items():
            times[name].append(timeit(fn, repeat))
    base = statistics.median(times[reference])
    print("  %s" % title)
    for name, ts in times.items():
        med = statistics.median(ts)
        print("    %-28s %9.3f ms [%8.3f, %8.3f]   %6.2fx grade's time"
              % (name, med * 1e3, min(ts) * 1e3, max(ts) * 1e3, med / base))
    return {name: statistics.median(ts) for name, ts in times.items()}


def last_level_cache():
    """Bytes of the largest cache Linux reports for CPU 0 (32 MiB if none)."""
    best = 0
    base = "/sys/devices/system/cpu/cpu0/cache"
    for index in (os.listdir(base) if os.path.isdir(base) else []):
        try:
            with open(os.path.join(base, index, "size")) as f:
                text = f.read().strip()
        except OSError:
            continue
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        digits = text.rstrip("KMG")
        if digits.isdigit():
            best = max(best, int(digits) * scale)
    return best or 32 << 20


# Working sets below this fit in the last-level cache: their bandwidth is
# not a DRAM figure.
CACHE_BYTES = last_level_cache()
IN_CACHE = " (fits in the cache: not a DRAM figure)"


def torch_csr(rows, cols, values, n):
    """A torch CSR matrix; repeated (row, col) pairs (parallel edges of a
    random multigraph) summed, as torch requires distinct columns."""
    m = sp.csr_matrix((values, (rows, cols)), shape=(n, n))
    m.sum_duplicates()
    m.sort_indices()
    return torch.sparse_csr_tensor(torch.from_numpy(m.indptr.astype(np.int64)),
                                   torch.from_numpy(m.indices.astype(np.int64)),
                                   torch.from_numpy(m.data), size=(n, n))


def rel_diff(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def triad(threads):
    """STREAM triad with torch on `threads` threads, GB/s (None without
    torch)."""
    if torch is None:
        return None
    n = 128 * 1024 * 1024 // 8
    a, b, c = (torch.empty(n, dtype=torch.float64) for _ in range(3))
    b.fill_(1.0)
    c.fill_(2.0)
    torch.set_num_threads(threads)
    try:
        t = min(timeit(lambda: torch.add(b, c, alpha=3.0, out=a), 3)
                for _ in range(3))
    finally:
        torch.set_num_threads(ARGS.threads)
    return 3 * n * 8 / t / 1e9

# ---------------------------------------------------------------------------
# Graphs
# ---------------------------------------------------------------------------


def load_cora():
    path = os.path.join(ARGS.data, "cora", "edges.mtx")
    if not os.path.exists(path) or sp is None:
        print("cora: skipped (no %s, or SciPy missing; see ../shared/data/README.md)"
              % path)
        return None
    m = scipy.io.mmread(path).tocoo()
    # Entry (i, j) is the edge j -> i.
    return "Cora", m.shape[0], m.col.astype(np.int64), m.row.astype(np.int64)


def make_large():
    rng = np.random.default_rng(9)
    n, m = ARGS.large_nodes, ARGS.large_edges
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    keep = src != dst
    return "random graph", n, src[keep], dst[keep]


# ---------------------------------------------------------------------------
# The workloads on one graph
# ---------------------------------------------------------------------------


def run_graph(name, n, src, dst, libs, scale):
    """The workloads on one graph; `scale` holds the bandwidth references:
    triad (--threads), triad1 (one thread) and the ceilings library."""
    gbps = scale["triad"]
    e = len(src)
    print("\n== %s (%d nodes, %d edges), %d threads" % (name, n, e, ARGS.threads))
    rng = np.random.default_rng(4)
    d = 64
    x0 = rng.normal(size=(n, d)).astype(np.float32)
    wq = rng.normal(scale=0.25, size=(d, 16)).astype(np.float32)
    wk = rng.normal(scale=0.25, size=(d, 16)).astype(np.float32)
    g = grade_graph(n, src, dst)
    rep = 20 if e < 1e6 else 5

    # GRAND-l: grade's attention (init) against the same in NumPy (f64).
    # The integration runs in the session's automatic node order; the
    # right-hand side alone is evaluated in the caller's order (a host that
    # evaluates it itself should ask for that, docs/runtime.md: a reordered
    # session moves every result back), and in the automatic one for
    # comparison.
    grand = Session(libs["grand_l"], g, {"x0": x0, "Wq": wq, "Wk": wk},
                    ARGS.threads)
    grand_rhs = Session(libs["grand_l"], g, {"x0": x0, "Wq": wq, "Wk": wk},
                        ARGS.threads, reorder=gradert.REORDER_NONE)
    att_scores = np.einsum("ij,ij->i", (x0 @ wk)[src].astype(np.float64),
                           (x0 @ wq)[dst].astype(np.float64)) / 4.0
    e_ = np.exp(att_scores - att_scores.max())
    att = (e_ / np.bincount(dst, weights=e_, minlength=n)[dst]).astype(np.float32)
    out = tensor(np.zeros((n, d), np.float32))
    outs = (ctypes.POINTER(Tensor) * 1)(out)
    grand_rhs.rhs_into(outs)
    grade_rhs = view(out, np.float32, (n, d)).copy()
    grand.rhs_into(outs)
    print("  grand_l rhs: automatic node order (%s) vs the caller's, largest "
          "relative difference %.1e" % (
              RT.grade_reorder_name(RT.grade_session_reorder(grand.s)).decode(),
              rel_diff(view(out, np.float32, (n, d)), grade_rhs)))
    grand64 = Session(libs["grand_l64"], g, {"x0": x0, "Wq": wq, "Wk": wk},
                      ARGS.threads, reorder=gradert.REORDER_NONE)
    impls = {"grade": lambda: grand_rhs.rhs_into(outs),
             "grade, automatic node order": lambda: grand.rhs_into(outs),
             "grade, 64-bit node numbers": lambda: grand64.rhs_into(outs)}
    if torch is not None:
        Pt = torch_csr(dst, src, att, n)
        rowsum = torch.from_numpy(np.bincount(dst, weights=att, minlength=n)
                                  .astype(np.float32))[:, None]
        X = torch.from_numpy(x0)
        src_t, dst_t = torch.from_numpy(src), torch.from_numpy(dst)
        att_t = torch.from_numpy(att)[:, None]

        def spmm(y):
            return Pt @ y - rowsum * y

        def gather_scatter(y):
            msg = att_t * (y[src_t] - y[dst_t])
            return torch.zeros_like(y).index_add_(0, dst_t, msg)

        print("  grand_l rhs: largest relative difference to grade: torch CSR "
              "%.1e, torch gather/scatter %.1e" % (
                  rel_diff(spmm(X).numpy(), grade_rhs),
                  rel_diff(gather_scatter(X).numpy(), grade_rhs)))
        impls["torch CSR SpMM"] = lambda: spmm(X)
        impls["torch gather/scatter (PyG)"] = lambda: gather_scatter(X)
    else:
        print("  torch: skipped (install python3-torch)")
    if sp is not None:
        Ps = sp.csr_matrix((att, (dst, src)), shape=(n, n), dtype=np.float32)
        rs = np.asarray(Ps.sum(axis=1), dtype=np.float32)
        impls["SciPy CSR (1 thread)"] = lambda: Ps @ x0 - rs * x0
    ceiling = None
    if scale["ceilings"] is not None:
        ceiling = GatherCeiling(scale["ceilings"], x0, src, dst, ARGS.threads)
        print("  gather ceiling: sum of the gathered rows against NumPy's, "
              "relative difference %.1e" % ceiling.check())
        impls["gather ceiling (rows only)"] = ceiling
    rhs = compare("grand_l rhs (d = 64, f32)", impls, rep)
    if ceiling is not None:
        ceiling.free()
        # Every edge's source row, 4 d bytes, read once per edge.
        print("    the gather ceiling reads %.1f GB/s of gathered rows; grade's "
              "rhs takes %.2fx its time (%.0f%% of the ceiling's speed)"
              % (e * 4 * d / rhs["gather ceiling (rows only)"] / 1e9,
                 rhs["grade"] / rhs["gather ceiling (rows only)"],
                 100 * rhs["gather ceiling (rows only)"] / rhs["grade"]))
    # x, dx; att; row_ptr; col (32-bit node numbers)
    bytes_rhs = 4 * (2 * n * d + e) + 8 * (n + 1) + 4 * e
    if gbps:
        print("    grade: %.1f GB/s on the compulsory %d bytes (x and dx/dt, "
              "a, the CSR indices) = %.0f%% of triad %.1f GB/s%s"
              % (bytes_rhs / rhs["grade"] / 1e9, bytes_rhs,
                 100 * bytes_rhs / rhs["grade"] / 1e9 / gbps, gbps,
                 IN_CACHE if bytes_rhs < CACHE_BYTES else ""))

    # GRAND-l rk4 over [0, 18.3], dt = 0.5: 36 steps of 0.5 and one of 0.3.
    def grade_rk4():
        ok(RT.grade_session_initialize(grand.s))
        ok(RT.grade_session_integrate(grand.s, 18.3, 0.5, None, None))

    impls = {"grade": grade_rk4}
    if torch is not None:
        def torch_rk4():
            y, t = X.clone(), 0.0
            while t < 18.3 - 1e-9:
                h = min(0.5, 18.3 - t)
                k1 = spmm(y)
                k2 = spmm(y + 0.5 * h * k1)
                k3 = spmm(y + 0.5 * h * k2)
                k4 = spmm(y + h * k3)
                y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
                t += h
            return y

        grade_rk4()
        xg = grand.read("x", np.float32, (n, d))
        print("  grand_l rk4: torch loop vs grade, largest relative difference "
              "%.1e" % rel_diff(torch_rk4().numpy(), xg))
        impls["torch rk4 loop (CSR SpMM)"] = torch_rk4
    compare("grand_l rk4, 37 steps", impls, 2 if e < 1e6 else 1)

    # GRAND-nl: the attention at every evaluation.
    nl = Session(libs["grand_nl"], g, {"x0": x0, "Wq": wq, "Wk": wk}, ARGS.threads)
    nl.rhs_into(outs)
    grade_nl = view(out, np.float32, (n, d)).copy()
    impls = {"grade": lambda: nl.rhs_into(outs)}
    if torch is not None:
        Wq_t, Wk_t = torch.from_numpy(wq), torch.from_numpy(wk)

        def torch_nl(y):
            s = (y[src_t] @ Wk_t * (y[dst_t] @ Wq_t)).sum(1) / 4.0
            smax = torch.full((n,), -float("inf")).scatter_reduce(
                0, dst_t, s, reduce="amax", include_self=True)
            ex = torch.exp(s - smax[dst_t])
            den = torch.zeros(n).index_add_(0, dst_t, ex)
            a = (ex / den[dst_t])[:, None]
            return torch.zeros_like(y).index_add_(0, dst_t, a * (y[src_t] - y[dst_t]))

        print("  grand_nl rhs: torch vs grade, largest relative difference %.1e"
              % rel_diff(torch_nl(X).numpy(), grade_nl))
        impls["torch gather/scatter (PyG)"] = lambda: torch_nl(X)
    compare("grand_nl rhs (attention recomputed)", impls, rep)

    # One GRAND-nl rk4 step of 0.5 (grade's session advances each call).
    impls = {"grade": lambda: ok(RT.grade_session_step(nl.s, 0.5))}
    if torch is not None:
        def torch_nl_step(y, h=0.5):
            k1 = torch_nl(y)
            k2 = torch_nl(y + 0.5 * h * k1)
            k3 = torch_nl(y + 0.5 * h * k2)
            k4 = torch_nl(y + h * k3)
            return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

        impls["torch rk4 step (PyG)"] = lambda: torch_nl_step(X)
    compare("grand_nl rk4 step", impls, max(rep // 4, 1))

    # Neural Sheaf Diffusion (examples/sheaf.grade): diagonal maps relearned
    # from x at every evaluation, stalks of d = 3 with f = 4 channels, f64.
    srng = np.random.default_rng(6)
    xs = srng.normal(size=(n, 3, 4))
    sw = {"Wa": srng.normal(scale=0.4, size=(3, 3, 4)),
          "Wb": srng.normal(scale=0.4, size=(3, 3, 4)),
          "W1": np.eye(3) + 0.1 * srng.normal(size=(3, 3)),
          "W2": np.linalg.qr(srng.normal(size=(4, 4)))[0]}
    # Only its rhs is timed: the caller's order (a reordered session moves
    # every result back, docs/runtime.md).
    sheaf = Session(libs["sheaf"], g, dict(x0=xs, **sw), ARGS.threads,
                    reorder=gradert.REORDER_NONE)
    sout = tensor(np.zeros((n, 3, 4)))
    souts = (ctypes.POINTER(Tensor) * 1)(sout)
    sheaf.rhs_into(souts)
    grade_sheaf = view(sout, np.float64, (n, 3, 4)).copy()
    impls = {"grade": lambda: sheaf.rhs_into(souts)}
    if torch is not None:
        St = {k: torch.from_numpy(v) for k, v in sw.items()}
        Xs = torch.from_numpy(xs)

        def torch_sheaf(x):
            xi, xj = x[dst_t], x[src_t]
            mi = torch.tanh(torch.einsum("edf,odf->eo", xi, St["Wa"]) +
                            torch.einsum("edf,odf->eo", xj, St["Wb"]))
            mj = torch.tanh(torch.einsum("edf,odf->eo", xj, St["Wa"]) +
                            torch.einsum("edf,odf->eo", xi, St["Wb"]))
            D = torch.zeros(n, 3, dtype=x.dtype).index_add_(0, dst_t, mi * mi)
            s = 1 / torch.sqrt(D + 1)
            y = torch.einsum("ab,nbf,fg->nag", St["W1"], x, St["W2"])
            coef = (mi * mj * s[dst_t] * s[src_t])[:, :, None]
            agg = torch.zeros_like(y).index_add_(0, dst_t, coef * y[src_t])
            return agg - (D / (D + 1))[:, :, None] * y

        print("  sheaf rhs: torch vs grade, largest relative difference %.1e"
              % rel_diff(torch_sheaf(Xs).numpy(), grade_sheaf))
        impls["torch gather/scatter"] = lambda: torch_sheaf(Xs)
    compare("sheaf rhs (diagonal maps, d = 3, f = 4, f64)", impls, rep)

    # The MP-PDE processor (bench/peers/mp_pde_layer.grade): one message-passing layer
    # (one Euler step of the model): MLP messages on [f_i, f_j, u_i - u_j,
    # x_i - x_j], mean aggregation, update MLP, InstanceNorm; hidden 16, f64.
    mrng = np.random.default_rng(12)
    hid, kk = 16, 5
    mshapes = {"We1": (kk + 1, hid), "be1": (hid,), "We2": (hid, hid),
               "be2": (hid,), "Wm1": (2 * hid + kk + 1, hid), "bm1": (hid,),
               "Wm2": (hid, hid), "bm2": (hid,), "Wu1": (2 * hid, hid),
               "bu1": (hid,), "Wu2": (hid, hid), "bu2": (hid,),
               "Wd": (hid, kk), "bd": (kk,), "steps": (kk,)}
    mw = {k: mrng.normal(scale=0.3, size=v) for k, v in mshapes.items()}
    mu = mrng.normal(size=(n, kk))
    mpos = np.arange(n) / n
    mp = Session(libs["mp_pde"], g, dict(u=mu, ulast=mu[:, -1].copy(),
                                         pos=mpos, **mw), ARGS.threads)
    impls = {"grade": lambda: ok(RT.grade_session_step(mp.s, 1.0))}
    if torch is not None:
        Mt = {k: torch.from_numpy(v) for k, v in mw.items()}
        Ut, Pt_ = torch.from_numpy(mu), torch.from_numpy(mpos)[:, None]
        indeg = torch.from_numpy(
            np.maximum(np.bincount(dst, minlength=n), 1).astype(np.float64))

        def swish(v):
            return v * torch.sigmoid(v)

        def mlp(v, a, b, c, d):
            return swish(swish(v @ Mt[a] + Mt[b]) @ Mt[c] + Mt[d])

        F0 = mlp(torch.cat([Ut, Pt_], 1), "We1", "be1", "We2", "be2")

        def torch_layer(f):
            msg = mlp(torch.cat([f[dst_t], f[src_t], Ut[dst_t] - Ut[src_t],
                                 Pt_[dst_t] - Pt_[src_t]], 1),
                      "Wm1", "bm1", "Wm2", "bm2")
            agg = torch.zeros_like(f).index_add_(0, dst_t, msg) / indeg[:, None]
            v = f + mlp(torch.cat([f, agg], 1), "Wu1", "bu1", "Wu2", "bu2")
            return (v - v.mean(0)) / torch.sqrt(v.var(0, unbiased=False) + 1e-5)

        # The check: grade's state after one step from f0 against one torch
        # layer from the same f0.
        check = Session(libs["mp_pde"], g, dict(u=mu, ulast=mu[:, -1].copy(),
                                                pos=mpos, **mw), ARGS.threads)
        ok(RT.grade_session_step(check.s, 1.0))
        print("  mp_pde layer: torch vs grade, largest relative difference %.1e"
              % rel_diff(torch_layer(F0).numpy(),
                         check.read("f", np.float64, (n, hid))))
        impls["torch gather/scatter"] = lambda: torch_layer(F0)
    compare("mp_pde processor layer (hidden 16, f64)", impls, max(rep // 4, 1))

    # Heat: f64 scalars, weights; one thread against SciPy, and threaded.
    w = rng.uniform(0.5, 1.5, e)
    gw = grade_graph(n, src, dst, w)
    xh = rng.normal(size=n)
    hout = tensor(np.zeros(n))
    houts = (ctypes.POINTER(Tensor) * 1)(hout)
    # The rhs alone, in the caller's order (as grand_rhs above).
    none = gradert.REORDER_NONE
    heat1 = Session(libs["heat"], gw, {"x0": xh}, 1, reorder=none)
    heatT = Session(libs["heat"], gw, {"x0": xh}, ARGS.threads, reorder=none)
    heat1_64 = Session(libs["heat64"], gw, {"x0": xh}, 1, reorder=none)
    heatT_64 = Session(libs["heat64"], gw, {"x0": xh}, ARGS.threads,
                       reorder=none)
    heat1.rhs_into(houts)
    grade_heat = view(hout, np.float64, (n,)).copy()
    impls = {"grade": lambda: heat1.rhs_into(houts),
             "grade, 64-bit node numbers": lambda: heat1_64.rhs_into(houts)}
    if sp is not None:
        A = sp.csr_matrix((w, (dst, src)), shape=(n, n))
        deg = np.asarray(A.sum(axis=1)).ravel()
        print("  heat rhs: SciPy vs grade, largest relative difference %.1e"
              % rel_diff(A @ xh - deg * xh, grade_heat))
        impls["SciPy CSR"] = lambda: A @ xh - deg * xh
    heat1t = compare("heat rhs (f64), 1 thread", impls, rep * 5)
    bytes_heat = 8 * (2 * n + (n + 1) + e) + 4 * e  # x, dx; row_ptr; w; col
    if scale["triad1"]:
        for who in ("grade", "SciPy CSR"):
            if who in heat1t:
                print("    %s: %.1f GB/s on the compulsory %d bytes = %.0f%% of "
                      "the one-thread triad %.1f GB/s%s"
                      % (who, bytes_heat / heat1t[who] / 1e9, bytes_heat,
                         100 * bytes_heat / heat1t[who] / 1e9 / scale["triad1"],
                         scale["triad1"],
                         IN_CACHE if bytes_heat < CACHE_BYTES else ""))
    impls = {"grade": lambda: heatT.rhs_into(houts),
             "grade, 64-bit node numbers": lambda: heatT_64.rhs_into(houts)}
    if torch is not None:
        At = torch_csr(dst, src, w, n)
        deg_t = torch.from_numpy(np.bincount(dst, weights=w, minlength=n))
        xt = torch.from_numpy(xh)[:, None]  # SpMV needs MKL; SpMM does not
        deg_t = deg_t[:, None]
        impls["torch CSR SpMM (1 column)"] = lambda: At @ xt - deg_t * xt
    heat = compare("heat rhs (f64), %d threads" % ARGS.threads, impls, rep * 5)
    if gbps:
        print("    grade: %.1f GB/s on the compulsory %d bytes = %.0f%% of triad%s"
              % (bytes_heat / heat["grade"] / 1e9, bytes_heat,
                 100 * bytes_heat / heat["grade"] / 1e9 / gbps,
                 IN_CACHE if bytes_heat < CACHE_BYTES else ""))


def main():
    gradec = os.path.join(ARGS.build, "bin", "gradec")
    if not os.path.exists(gradec):
        sys.exit("no %s: build first (./scripts/build.sh)" % gradec)
    nl_path = os.path.join(WORK, "grand_nl.grade")
    with open(nl_path, "w") as f:
        f.write(GRAND_NL)
    libs = {"grand_l": compile_model(os.path.join(ROOT, "examples/grand_l.grade"),
                                     "grand_l"),
            "grand_nl": compile_model(nl_path, "grand_nl"),
            "sheaf": compile_model(os.path.join(ROOT, "examples/sheaf.grade"),
                                   "sheaf"),
            "mp_pde": compile_model(os.path.join(ROOT, "bench/peers/mp_pde_layer.grade"),
                                    "mp_pde"),
            "heat": compile_model(os.path.join(ROOT, "examples/heat.grade"), "heat"),
            # The libraries of before 32-bit node numbers, for the ratio.
            "grand_l64": compile_model(os.path.join(ROOT, "examples/grand_l.grade"),
                                       "grand_l64", "--index-bits=64"),
            "heat64": compile_model(os.path.join(ROOT, "examples/heat.grade"),
                                    "heat64", "--index-bits=64")}
    scale = {"triad": triad(ARGS.threads), "triad1": triad(1),
             "ceilings": load_ceilings()}
    if scale["triad"]:
        print("STREAM triad (torch, 3 x 128 MiB f64): %.1f GB/s with %d threads, "
              "%.1f GB/s with one" % (scale["triad"], ARGS.threads, scale["triad1"]))
    else:
        print("STREAM triad: skipped (needs python3-torch)")
    for which in ARGS.graphs.split(","):
        graph = load_cora() if which == "cora" else make_large()
        if graph:
            run_graph(*graph, libs=libs, scale=scale)


if __name__ == "__main__":
    main()

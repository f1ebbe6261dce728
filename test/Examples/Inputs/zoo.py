"""Independent NumPy references for the model-zoo examples.

  zoo.py graph WORK N M SEED        an undirected random graph as an edge
                                    list (both directions, no self loops,
                                    no duplicates): WORK/g.txt
  zoo.py grand-nl-make WORK         x0 and weights.npz for grand_nl.grade
  zoo.py grand-nl-check WORK FILE SCHEME
                                    FILE (x at t = 3) against the reference:
                                    SCHEME rk4 = the same RK4 steps (dt 0.05),
                                    dopri5 = SciPy's DOP853 at rtol 1e-12
  zoo.py graphcon-make WORK         features and weights.npz for graphcon
  zoo.py graphcon-check WORK FILE   FILE (logits at t = 2) against the
                                    official update loop
  zoo.py egnn-make WORK             x0, h0, weights.npz, and x0 moved by a
                                    random orthogonal Q (a reflection) and
                                    a translation (x0-moved.npy)
  zoo.py egnn-check WORK            x, h at t = 1 against the same RK4 steps
                                    in NumPy, and the moved run against
                                    Q x + shift (E(3)-equivariance)
  zoo.py sheaf-make WORK            x0 (d = 3 stalks of f = 4 channels) and
                                    weights.npz for sheaf.grade
  zoo.py sheaf-check WORK FILE      FILE (x at t = 1) against the same RK4
                                    steps with the normalised sheaf
                                    Laplacian assembled as a dense
                                    (n d) x (n d) matrix from its blocks
  zoo.py grandpp-make WORK          x0, the labelled mask and weights.npz
  zoo.py grandpp-check WORK FILE    FILE (x at t = 5) against the same RK4
                                    steps in NumPy
  zoo.py mppde-make WORK            a 1-D grid of 40 points joined within 3
                                    neighbours (g.txt, no periodic wrap, as
                                    the official radius graph), the last 25
                                    values of u, positions, weights.npz
                                    (six layers' weights, the Conv1d decoder)
  zoo.py mppde-check WORK FILE      FILE (the decoded next 25 values) against
                                    the official layer loop in NumPy
  zoo.py blend-make WORK            features, positional encodings and
                                    weights.npz for blend.grade
  zoo.py blend-check WORK FILE      FILE (logits at t = 2) against the same
                                    RK4 steps in NumPy
  zoo.py flow-make WORK             x0 and weights.npz for graff.grade and
                                    gread.grade (16 channels)
  zoo.py graff-check WORK FILE EFILE  x at t = 3 (12 Euler steps) against
                                    NumPy, and the energy readout against
                                    the energy at the initial state
  zoo.py gread-check WORK FILE      x at t = 3.79 against the same RK4 steps
  zoo.py acmp-make WORK             x0, -x0 and weights.npz for acmp.grade
  zoo.py acmp-check WORK FILE NEG   x(3) against the same RK4 steps, and
                                    the run from -x0 (NEG) against -x(3)
  zoo.py advection-check FILE       FILE (x at t = 1 on the directed 8-cycle
                                    from e_0) against the Poisson-weighted
                                    shifts of ../shared/MODELS.md section 9
  zoo.py burgers-make WORK N        u0 on N grid points (Cole-Hopf, t = 0)
  zoo.py burgers-check WORK N...    the errors at t = 1 against Cole-Hopf
                                    and the observed orders

Written from the papers' equations and the official code's operations
(../shared/MODELS.md), with loops over edges and scipy.sparse, sharing
nothing with grade.
"""
import sys

import numpy as np
import scipy.sparse as sp

what, work = sys.argv[1], sys.argv[2]  # work: a file for advection-check


# Cole-Hopf: psi = a + b e^(-nu k^2 t) cos(k x) gives the exact solution
# u = 2 nu k b e^(-nu k^2 t) sin(k x) / psi of u_t + u u_x = nu u_xx.
NU, K, A, B = 0.5, 1, 2.0, 1.0


def cole_hopf(n, t):
    x = 2 * np.pi * np.arange(n) / n
    e = np.exp(-NU * K * K * t)
    return 2 * NU * K * B * e * np.sin(K * x) / (A + B * e * np.cos(K * x))


def rk4(f, y, dt, steps):
    """Classical RK4: `steps` steps of `dt` of y' = f(y), where y is an
    array or a tuple of arrays (a coupled system; f returns a tuple)."""
    def axpy(a, u, v):  # u + a v
        if isinstance(u, tuple):
            return tuple(axpy(a, ui, vi) for ui, vi in zip(u, v))
        return u + a * v

    for _ in range(steps):
        k1 = f(y)
        k2 = f(axpy(dt / 2, y, k1))
        k3 = f(axpy(dt / 2, y, k2))
        k4 = f(axpy(dt, y, k3))
        slope = axpy(1, axpy(2, axpy(2, k1, k2), k3), k4)
        y = axpy(dt / 6, y, slope)
    return y


def softmax_in(scores, dst, n):
    """Per destination node, the softmax of the scores of its in-edges
    (axis 0; any trailing axes, e.g. heads, separately), max-shifted."""
    result = np.zeros_like(scores)
    for i in range(n):
        into = dst == i
        if into.any():
            e = np.exp(scores[into] - scores[into].max(0))
            result[into] = e / e.sum(0)
    return result


def load_graph():
    edges = np.loadtxt(work + "/g.txt", dtype=np.int64, ndmin=2)
    return edges[:, 0], edges[:, 1]


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def grand_nl_rhs(x, x0, w, src, dst, n):
    q = np.einsum("ni,ihd->nhd", x, w["WQ"]) + w["bQ"]
    k = np.einsum("ni,ihd->nhd", x, w["WK"]) + w["bK"]
    scores = (q[dst] * k[src]).sum(-1) / np.sqrt(8)       # [E, heads]
    a = softmax_in(scores, dst, n).mean(1)
    ax = np.zeros_like(x)
    np.add.at(ax, dst, a[:, None] * x[src])
    return sigmoid(w["alpha"]) * (ax - x) + w["beta"] * x0


if what == "graph":
    n, m, seed = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    rng = np.random.default_rng(seed)
    pairs = set()
    while len(pairs) < m:
        i, j = rng.integers(0, n, 2)
        if i != j:
            pairs.add((min(i, j), max(i, j)))
    edges = sorted(pairs) + sorted((j, i) for i, j in pairs)
    np.savetxt(work + "/g.txt", np.array(edges), fmt="%d")
elif what == "grand-nl-make":
    rng = np.random.default_rng(1)
    n = 30
    np.save(work + "/x0.npy", rng.standard_normal((n, 16)))
    np.savez(work + "/weights.npz",
             WQ=rng.standard_normal((16, 2, 8)) * 0.3,
             bQ=rng.standard_normal((2, 8)) * 0.1,
             WK=rng.standard_normal((16, 2, 8)) * 0.3,
             bK=rng.standard_normal((2, 8)) * 0.1,
             alpha=np.float64(0.4), beta=np.float64(0.2))
elif what == "grand-nl-check":
    got, scheme = np.load(sys.argv[3]), sys.argv[4]
    src, dst = load_graph()
    x0 = np.load(work + "/x0.npy")
    w = dict(np.load(work + "/weights.npz"))
    n = x0.shape[0]
    f = lambda x: grand_nl_rhs(x, x0, w, src, dst, n)
    if scheme == "rk4":
        x = rk4(f, x0, 0.05, 60)
    else:
        from scipy.integrate import solve_ivp
        sol = solve_ivp(lambda t, y: f(y.reshape(n, 16)).ravel(), (0, 3),
                        x0.ravel(), method="DOP853", rtol=1e-12, atol=1e-14)
        x = sol.y[:, -1].reshape(n, 16)
    print("grand_nl %s: relative error %.1e" %
          (scheme, np.abs(got - x).max() / np.abs(x).max()))
elif what == "graphcon-make":
    rng = np.random.default_rng(2)
    n = 40
    np.save(work + "/features.npy", rng.standard_normal((n, 12)))
    np.savez(work + "/weights.npz",
             Wenc=rng.standard_normal((12, 16)) * 0.3,
             benc=rng.standard_normal(16) * 0.1,
             Theta=rng.standard_normal((16, 16)) * 0.25,
             b=rng.standard_normal(16) * 0.1,
             R=rng.standard_normal((16, 16)) * 0.25,
             Wdec=rng.standard_normal((16, 3)),
             bdec=rng.standard_normal(3),
             alpha=np.float64(0.3), gamma=np.float64(0.5))
elif what == "graphcon-check":
    got = np.load(sys.argv[3])
    src, dst = load_graph()
    features = np.load(work + "/features.npy")
    w = dict(np.load(work + "/weights.npz"))
    n = features.shape[0]
    # GCNConv: D~^-1/2 (A + I) D~^-1/2, D~ the degree with the self loop.
    a = sp.coo_matrix((np.ones(len(src)), (dst, src)), shape=(n, n)) + \
        sp.identity(n)
    d = np.asarray(a.sum(1)).ravel()
    a_hat = sp.diags(d ** -0.5) @ a @ sp.diags(d ** -0.5)
    x = np.maximum(features @ w["Wenc"] + w["benc"], 0)
    y = x.copy()
    dt = 1.0
    for _ in range(2):                 # nlayers 2, dt 1: [0, 2]
        h = x @ w["Theta"]
        conv = a_hat @ h + w["b"]
        y = y + dt * (np.maximum(conv - h + x @ w["R"], 0)
                      - w["alpha"] * y - w["gamma"] * x)
        x = x + dt * y
    logits = x @ w["Wdec"] + w["bdec"]
    print("graphcon: relative error %.1e" %
          (np.abs(got - logits).max() / np.abs(logits).max()))
elif what == "egnn-make":
    rng = np.random.default_rng(4)
    n, nf = 12, 8
    np.save(work + "/x0.npy", rng.standard_normal((n, 3)))
    np.save(work + "/h0.npy", rng.standard_normal((n, nf)))
    shapes = {"We1": (2 * nf + 1, nf), "be1": (nf,), "We2": (nf, nf),
              "be2": (nf,), "Wx1": (nf, nf), "bx1": (nf,), "wx2": (nf,),
              "Wh1": (2 * nf, nf), "bh1": (nf,), "Wh2": (nf, nf),
              "bh2": (nf,)}
    np.savez(work + "/weights.npz",
             **{k: rng.standard_normal(s) * 0.3 for k, s in shapes.items()})
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    if np.linalg.det(q) > 0:
        q[:, 0] = -q[:, 0]          # a reflection: O(3), not only SO(3)
    shift = rng.standard_normal(3) * 5
    np.save(work + "/Q.npy", q)
    np.save(work + "/shift.npy", shift)
    np.save(work + "/x0-moved.npy", np.load(work + "/x0.npy") @ q.T + shift)
elif what == "egnn-check":
    src, dst = load_graph()
    x0, h0 = np.load(work + "/x0.npy"), np.load(work + "/h0.npy")
    w = dict(np.load(work + "/weights.npz"))
    n = x0.shape[0]
    indegree = np.bincount(dst, minlength=n)

    def silu(v):
        return v / (1 + np.exp(-v))

    def f(x, h):
        rel = x[dst] - x[src]
        d2 = (rel * rel).sum(1, keepdims=True)
        m = silu(silu(np.concatenate([h[dst], h[src], d2], 1) @ w["We1"]
                      + w["be1"]) @ w["We2"] + w["be2"])
        px = silu(m @ w["Wx1"] + w["bx1"]) @ w["wx2"]
        v = np.zeros_like(x)
        np.add.at(v, dst, rel * px[:, None])
        v /= np.maximum(indegree, 1)[:, None]
        agg = np.zeros_like(h)
        np.add.at(agg, dst, m)
        dh = silu(np.concatenate([h, agg], 1) @ w["Wh1"] + w["bh1"]) \
            @ w["Wh2"] + w["bh2"]
        return v - v.mean(0), dh

    x, h = rk4(lambda y: f(*y), (x0, h0), 0.05, 20)
    gx, gh = np.load(work + "/x.npy"), np.load(work + "/h.npy")
    print("egnn: x error %.1e, h error %.1e" %
          (np.abs(gx - x).max(), np.abs(gh - h).max()))
    q, shift = np.load(work + "/Q.npy"), np.load(work + "/shift.npy")
    mx, mh = np.load(work + "/x-moved.npy"), np.load(work + "/h-moved.npy")
    print("egnn E(3): x error %.1e, h error %.1e, moved by %.1f" %
          (np.abs(mx - (gx @ q.T + shift)).max(), np.abs(mh - gh).max(),
           np.abs(mx - gx).max()))
elif what == "sheaf-make":
    rng = np.random.default_rng(6)
    n, d, f = 10, 3, 4
    np.save(work + "/x0.npy", rng.standard_normal((n, d, f)))
    w1 = np.eye(d) + 0.1 * rng.standard_normal((d, d))
    w2, _ = np.linalg.qr(rng.standard_normal((f, f)))   # orthogonal, as init
    np.savez(work + "/weights.npz",
             Wa=rng.standard_normal((d, d, f)) * 0.4,
             Wb=rng.standard_normal((d, d, f)) * 0.4, W1=w1, W2=w2)
elif what == "sheaf-check":
    src, dst = load_graph()
    x0 = np.load(work + "/x0.npy")
    w = dict(np.load(work + "/weights.npz"))
    n, d, f = x0.shape
    # Every undirected edge {v, u} once (the file lists both directions).
    pairs = sorted({(min(a, b), max(a, b)) for a, b in zip(src, dst)})

    def rhs(x):
        flat = x.reshape(n, d * f)
        ws = np.concatenate([w["Wa"].reshape(d, d * f),
                             w["Wb"].reshape(d, d * f)], 1)     # W_s = [Wa Wb]

        def restriction(v, u):            # m_vu = tanh(W_s [x_v || x_u])
            return np.tanh(ws @ np.concatenate([flat[v], flat[u]]))
        lap = np.zeros((n * d, n * d))
        for v, u in pairs:
            fv, fu = np.diag(restriction(v, u)), np.diag(restriction(u, v))
            lap[v*d:(v+1)*d, v*d:(v+1)*d] += fv.T @ fv
            lap[u*d:(u+1)*d, u*d:(u+1)*d] += fu.T @ fu
            lap[v*d:(v+1)*d, u*d:(u+1)*d] -= fv.T @ fu
            lap[u*d:(u+1)*d, v*d:(v+1)*d] -= fu.T @ fv
        norm = np.diag(1 / np.sqrt(np.diag(lap) + 1))   # (D + I)^-1/2
        delta = norm @ lap @ norm
        y = np.einsum("ab,nbf,fg->nag", w["W1"], x, w["W2"])
        return -(delta @ y.reshape(n * d, f)).reshape(n, d, f)

    x = rk4(rhs, x0, 0.05, 20)
    got = np.load(sys.argv[3])
    print("sheaf: relative error %.1e" % (np.abs(got - x).max() / np.abs(x).max()))
elif what == "grandpp-make":
    rng = np.random.default_rng(8)
    n = 25
    np.save(work + "/x0.npy", rng.standard_normal((n, 16)))
    labelled = np.zeros(n)
    labelled[rng.choice(n, 6, replace=False)] = 1
    np.save(work + "/labelled.npy", labelled)
    np.savez(work + "/weights.npz", Wq=rng.standard_normal((16, 8)) * 0.3,
             Wk=rng.standard_normal((16, 8)) * 0.3)
elif what == "grandpp-check":
    src, dst = load_graph()
    x0, mask = np.load(work + "/x0.npy"), np.load(work + "/labelled.npy")
    w = dict(np.load(work + "/weights.npz"))
    n = x0.shape[0]
    scores = ((x0[src] @ w["Wk"]) * (x0[dst] @ w["Wq"])).sum(1) / np.sqrt(8)
    a = softmax_in(scores, dst, n)
    xbar = x0[mask == 1].mean(0)
    c = mask[:, None] * (x0 - xbar)

    def f(x):
        ax = np.zeros_like(x)
        np.add.at(ax, dst, a[:, None] * x[src])
        return ax - x + c

    x = rk4(f, x0, 0.1, 50)
    got = np.load(sys.argv[3])
    # Without the source the features flatten towards a constant; with it
    # the labelled nodes keep their spread.
    print("grand_pp: error %.1e, spread of the labelled nodes %.2f" %
          (np.abs(got - x).max(), got[mask == 1].std(0).mean()))
elif what == "mppde-make":
    rng = np.random.default_rng(12)
    nx, k, hidden, layers = 40, 25, 128, 6
    pairs = [(i, j) for i in range(nx) for j in range(nx)
             if i != j and abs(i - j) <= 3]
    np.savetxt(work + "/g.txt", np.array(pairs), fmt="%d")
    x = np.arange(nx) / nx
    u = np.sin(2 * np.pi * x)[:, None] * np.linspace(1, 0.8, k)[None, :] \
        + 0.1 * rng.standard_normal((nx, k))
    np.save(work + "/u.npy", u)
    np.save(work + "/pos.npy", x)
    msg_in, upd_in = 2 * hidden + k + 2, 2 * hidden + 1
    shapes = {"We1": (k + 2, hidden), "be1": (hidden,),
              "We2": (hidden, hidden), "be2": (hidden,),
              "Wm1": (layers, msg_in, hidden), "bm1": (layers, hidden),
              "Wm2": (layers, hidden, hidden), "bm2": (layers, hidden),
              "Wu1": (layers, upd_in, hidden), "bu1": (layers, hidden),
              "Wu2": (layers, hidden, hidden), "bu2": (layers, hidden),
              "Wc1": (8, 1, 16), "bc1": (8,), "Wc2": (1, 8, 14), "bc2": (1,)}
    # PyTorch's default initialisation scale, 1/sqrt(fan_in), so that the
    # 128-wide layers neither vanish nor saturate.
    weights = {}
    for name, shape in shapes.items():
        fan_in = shape[-2] if name.startswith("W") and name[1] != "c" \
            else (shape[1] * shape[2] if name.startswith("Wc") else 16)
        weights[name] = rng.uniform(-1, 1, shape) / np.sqrt(fan_in)
    weights["steps"] = 0.016 * np.arange(1, k + 1)      # l * dt
    weights["tk"] = np.array(0.3)                       # t_k / t_max
    np.savez(work + "/weights.npz", **weights)
elif what == "mppde-check":
    # The official MP_PDE_Solver.forward (models_gnn.py), written from the
    # paper's equations and the code's layer list, in NumPy.
    src, dst = load_graph()
    u, x = np.load(work + "/u.npy"), np.load(work + "/pos.npy")
    w = dict(np.load(work + "/weights.npz"))
    n = u.shape[0]
    theta = np.full((n, 1), float(w["tk"]))

    def swish(v):
        return v / (1 + np.exp(-v))

    def mlp(v, W1, b1, W2, b2):
        return swish(swish(v @ W1 + b1) @ W2 + b2)

    def conv1d(v, W, b, stride):
        """torch.nn.Conv1d on a batch v [n, channels, L]."""
        out, _, kk = W.shape
        length = (v.shape[2] - kk) // stride + 1
        y = np.empty((v.shape[0], out, length))
        for l in range(length):
            window = v[:, :, l * stride:l * stride + kk]
            y[:, :, l] = np.einsum("nck,ock->no", window, W) + b
        return y

    f = mlp(np.concatenate([u, x[:, None], theta], 1),
            w["We1"], w["be1"], w["We2"], w["be2"])
    indegree = np.bincount(dst, minlength=n)
    for m in range(6):
        # PyG flow source -> target: x_i is the target (dst), x_j the source.
        msg = mlp(np.concatenate([f[dst], f[src], u[dst] - u[src],
                                  (x[dst] - x[src])[:, None], theta[dst]], 1),
                  w["Wm1"][m], w["bm1"][m], w["Wm2"][m], w["bm2"][m])
        agg = np.zeros_like(f)
        np.add.at(agg, dst, msg)
        agg /= np.maximum(indegree, 1)[:, None]
        v = f + mlp(np.concatenate([f, agg, theta], 1),
                    w["Wu1"][m], w["bu1"][m], w["Wu2"][m], w["bu2"][m])
        f = (v - v.mean(0)) / np.sqrt(v.var(0) + 1e-5)   # InstanceNorm
    d = conv1d(swish(conv1d(f[:, None, :], w["Wc1"], w["bc1"], 3)),
               w["Wc2"], w["bc2"], 1)[:, 0, :]
    unext = u[:, -1:] + d * w["steps"]
    got = np.load(sys.argv[3])
    print("mp_pde: relative error %.1e" %
          (np.abs(got - unext).max() / np.abs(unext).max()))
elif what == "blend-make":
    rng = np.random.default_rng(14)
    n = 20
    np.save(work + "/features.npy", rng.standard_normal((n, 12)))
    np.save(work + "/pos_enc.npy", rng.standard_normal((n, 6)))
    shapes = {"Wx": (12, 8), "bx": (8,), "Wp": (6, 4), "bp": (4,),
              "WQ": (12, 6), "WK": (12, 6), "W2": (12, 3), "b2": (3,)}
    np.savez(work + "/weights.npz",
             **{k: rng.standard_normal(s) * 0.3 for k, s in shapes.items()})
elif what == "blend-check":
    src, dst = load_graph()
    w = dict(np.load(work + "/weights.npz"))
    features, pos = np.load(work + "/features.npy"), np.load(work + "/pos_enc.npy")
    n = features.shape[0]
    z0 = np.concatenate([features @ w["Wx"] + w["bx"], pos @ w["Wp"] + w["bp"]], 1)

    def f(z):
        scores = ((z[src] @ w["WK"]) * (z[dst] @ w["WQ"])).sum(1) / np.sqrt(6)
        a = softmax_in(scores, dst, n)
        az = np.zeros_like(z)
        np.add.at(az, dst, a[:, None] * z[src])
        return az - z

    z = rk4(f, z0, 0.1, 20)
    logits = np.maximum(z, 0) @ w["W2"] + w["b2"]
    got = np.load(sys.argv[3])
    print("blend: relative error %.1e" %
          (np.abs(got - logits).max() / np.abs(logits).max()))
elif what == "flow-make":
    rng = np.random.default_rng(16)
    n = 24
    np.save(work + "/x0.npy", rng.standard_normal((n, 16)))
    np.savez(work + "/graff.npz", w=rng.uniform(-1, 1, 16),
             omega=rng.uniform(-1, 1, 16), beta=np.float64(0.3))
    np.savez(work + "/gread.npz", alpha_train=rng.standard_normal(16),
             beta=rng.uniform(-1, 1, 16))
elif what in ("graff-check", "gread-check"):
    src, dst = load_graph()
    x0 = np.load(work + "/x0.npy")
    n = x0.shape[0]
    A = np.zeros((n, n))
    A[dst, src] = 1
    deg = A.sum(1)
    if what == "graff-check":
        w = dict(np.load(work + "/graff.npz"))
        abar = np.diag(deg ** -0.5) @ (A + np.eye(n)) @ np.diag(deg ** -0.5)

        def f(x):
            return abar @ (x * w["w"]) - x * w["omega"] + w["beta"] * x0

        def energy(x):
            return (0.5 * np.sum(x * (x * w["omega"]))
                    - 0.5 * np.sum(x * (abar @ (x * w["w"])))
                    - w["beta"] * np.sum(x * x0))

        x = x0.copy()
        for _ in range(12):                     # tau = 0.25 over [0, 3]
            x = x + 0.25 * f(x)
        got = np.load(sys.argv[3])
        e_got = np.load(sys.argv[4]).sum()
        print("graff: relative error %.1e, energy error %.1e, energy fell: %s"
              % (np.abs(got - x).max() / np.abs(x).max(),
                 abs(e_got - energy(x)) / abs(energy(x)),
                 "yes" if energy(x) < energy(x0) else "no"))
    else:
        w = dict(np.load(work + "/gread.npz"))
        P = np.diag(1 / (deg + 1)) @ (A + np.eye(n))
        alpha = 1 / (1 + np.exp(-w["alpha_train"]))

        def f(x):
            lx = P @ x - x
            return alpha * lx - w["beta"] * (P @ lx)

        # rk4 on torchdiffeq's grid: steps of 0.5, the last one shortened.
        x, t = x0.copy(), 0.0
        while t < 3.79 - 1e-12:
            h = min(0.5, 3.79 - t)
            x = rk4(f, x, h, 1)
            t += h
        got = np.load(sys.argv[3])
        print("gread: relative error %.1e" %
              (np.abs(got - x).max() / np.abs(x).max()))
elif what == "acmp-make":
    rng = np.random.default_rng(18)
    n = 22
    x0 = rng.standard_normal((n, 8)) * 0.8
    np.save(work + "/x0.npy", x0)
    np.save(work + "/x0-neg.npy", -x0)
    np.savez(work + "/weights.npz", Wq=rng.standard_normal((8, 4)) * 0.4,
             Wk=rng.standard_normal((8, 4)) * 0.4,
             alpha_train=rng.standard_normal(8),
             delta_train=rng.standard_normal(8), beta=np.float64(0.2))
elif what == "acmp-check":
    src, dst = load_graph()
    x0 = np.load(work + "/x0.npy")
    w = dict(np.load(work + "/weights.npz"))
    n = x0.shape[0]
    scores = ((x0[src] @ w["Wk"]) * (x0[dst] @ w["Wq"])).sum(1) / 2.0
    a = softmax_in(scores, dst, n)
    alpha = 1 / (1 + np.exp(-w["alpha_train"]))
    delta = 1 / (1 + np.exp(-w["delta_train"]))

    def f(x):
        ax = np.zeros_like(x)
        np.add.at(ax, dst, (a - w["beta"])[:, None] * x[src])
        return alpha * (ax - x) - delta * (x * x - 1) * x

    x = rk4(f, x0, 0.1, 30)
    got, neg = np.load(sys.argv[3]), np.load(sys.argv[4])
    print("acmp: relative error %.1e, odd symmetry error %.1e" %
          (np.abs(got - x).max() / np.abs(x).max(), np.abs(neg + got).max()))
elif what == "burgers-make":
    n = int(sys.argv[3])
    np.save("%s/u0-%d.npy" % (work, n), cole_hopf(n, 0.0))
elif what == "burgers-check":
    sizes = [int(v) for v in sys.argv[3:]]
    errors = [np.abs(np.load("%s/u-%d.npy" % (work, n)) - cole_hopf(n, 1.0)).max()
              for n in sizes]
    orders = [np.log2(errors[i] / errors[i + 1]) for i in range(len(sizes) - 1)]
    print("burgers errors " + " ".join("%.2e" % e for e in errors))
    print("burgers orders " + " ".join("%.2f" % o for o in orders))
    print("second order: %s" % ("ok" if min(orders) > 1.9 else "FAIL"))
elif what == "advection-check":
    # dx/dt = -(I - P) x from e_0: x(t) = e^-t sum_m t^m / m! P^m e_0, with
    # the values of ../shared/MODELS.md section 9.4 (t = 1).
    from math import exp, factorial
    exact = np.zeros(8)
    for m in range(60):
        exact[m % 8] += exp(-1) / factorial(m)
    quoted = np.array([0.367888565166, 0.367880454949, 0.183939821963,
                       0.061313249411, 0.015328310817, 0.003065662069,
                       0.000510943673, 0.000072991953])
    got = np.load(work)
    print("advection: error %.1e (quoted values %.1e), mass %.15f" %
          (np.abs(got - exact).max(), np.abs(quoted - exact).max(),
           got.sum()))
else:
    sys.exit("unknown command " + what)

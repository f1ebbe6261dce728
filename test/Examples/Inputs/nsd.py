"""NumPy references for the orthogonal ("Bundle") and general Neural Sheaf
Diffusion examples (examples/sheaf_bundle.grade, examples/sheaf_general.grade).

  nsd.py make WORK VARIANT         x0 and weights.npz (VARIANT bundle: d = 3,
                                   Householder maps and edge weights; general:
                                   d = 2), f = 4 channels, 10 nodes
  nsd.py check WORK VARIANT FILE [BOUND]
                                   FILE (x at t = 1) against the same RK4
                                   steps (dt 0.05), with the normalised sheaf
                                   Laplacian assembled at every evaluation as
                                   a dense (n d) x (n d) matrix from its
                                   blocks; general: its entries clamped to
                                   [-BOUND, BOUND] (default 1, as the official
                                   code)

Written from the official code (twitter-research/neural-sheaf-diffusion:
LocalConcatSheafLearner, EdgeWeightLearner, NormConnectionLaplacianBuilder,
GeneralLaplacianBuilder, LaplacianODEFunc; the Householder map of
torch-householder), sharing nothing with grade: Q is formed as the product of
its reflection matrices, (D + I)^-1/2 by an SVD as lib/laplace.py's
batched_sym_matrix_pow. weights.npz holds the models' parameters; the
reference turns them into PyTorch's Linear weights first (torch_weights) and
computes, as LaplacianODEFunc, dx/dt = elu(-Delta (I (x) W1) X W2^T).
"""
import sys

import numpy as np

N, F = 10, 4
D_OF = {"bundle": 3, "general": 3}


def elu(z):
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def rk4(f, y, dt, steps):
    for _ in range(steps):
        k1 = f(y)
        k2 = f(y + dt / 2 * k1)
        k3 = f(y + dt / 2 * k2)
        k4 = f(y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def householder(p, d):
    """Q = H_0 H_1 ... H_{d-1}, H_k = I - 2 u_k u_k^T, u_k the unit k-th
    column of I + tril(p) (p in torch.tril_indices(d, d, -1) order)."""
    a = np.eye(d)
    a[np.tril_indices(d, -1)] = p
    q = np.eye(d)
    for k in range(d):
        u = a[:, k] / np.linalg.norm(a[:, k])
        q = q @ (np.eye(d) - 2 * np.outer(u, u))
    return q


def inv_sqrt(m):
    """m^-1/2 of a symmetric positive definite m, from its SVD."""
    u, s, _ = np.linalg.svd(m)
    return (u * s ** -0.5) @ u.T


def torch_weights(w):
    """The official modules' Linear weights ([out, in]) from grade's
    parameters: sheaf_learner.linear1 (Ws), weight_learner.linear1 (Ww),
    lin_left_weights (W1, the same), lin_right_weights (W2 transposed)."""
    t = dict(Ws=w["Ws"].T, W1=w["W1"], W2=w["W2"].T)
    if "Ww" in w:
        t["Ww"] = w["Ww"][None, :]
    return t


def laplacian(variant, x, w, pairs, bound):
    """The normalised sheaf Laplacian at x, dense, from its blocks."""
    n, d, f = x.shape
    flat = x.reshape(n, d * f)

    def z(v, u):                     # [x_v || x_u]
        return np.concatenate([flat[v], flat[u]])

    # restriction maps F_{v<e}, F_{u<e} of each undirected edge {v, u}
    maps = {}
    for v, u in pairs:
        for a, b in ((v, u), (u, v)):
            if variant == "bundle":
                q = householder(np.tanh(w["Ws"] @ z(a, b)), d)
                ew = (sigmoid(w["Ww"] @ z(a, b)) * sigmoid(w["Ww"] @ z(b, a)))[0]
                maps[a, b] = ew * q
            else:
                maps[a, b] = np.tanh(w["Ws"] @ z(a, b)).reshape(d, d)
    lap = np.zeros((n * d, n * d))
    for v, u in pairs:
        fv, fu = maps[v, u], maps[u, v]
        lap[v*d:(v+1)*d, v*d:(v+1)*d] += fv.T @ fv
        lap[u*d:(u+1)*d, u*d:(u+1)*d] += fu.T @ fu
        lap[v*d:(v+1)*d, u*d:(u+1)*d] -= fv.T @ fu
        lap[u*d:(u+1)*d, v*d:(v+1)*d] -= fu.T @ fv
    # (D + I)^-1/2 block by block: a scalar per node for the bundle (its
    # diagonal blocks are D_v I), a d x d matrix for the general sheaf
    norm = np.zeros((n * d, n * d))
    for v in range(n):
        blk = lap[v*d:(v+1)*d, v*d:(v+1)*d]
        if variant == "bundle":
            norm[v*d:(v+1)*d, v*d:(v+1)*d] = np.eye(d) / np.sqrt(blk[0, 0] + 1)
        else:
            norm[v*d:(v+1)*d, v*d:(v+1)*d] = inv_sqrt(blk + np.eye(d))
    delta = norm @ lap @ norm
    if variant == "general":         # GeneralLaplacianBuilder clamps the blocks
        delta = np.clip(delta, -bound, bound)
    return delta


def main():
    command, work, variant = sys.argv[1], sys.argv[2], sys.argv[3]
    d = D_OF[variant]
    if command == "make":
        rng = np.random.default_rng(21 if variant == "bundle" else 22)
        np.save(work + "/x0.npy", rng.standard_normal((N, d, F)))
        outs = d * (d - 1) // 2 if variant == "bundle" else d * d
        weights = dict(Ws=rng.standard_normal((2 * d * F, outs)) * 0.3,
                       W1=np.eye(d) + 0.1 * rng.standard_normal((d, d)),
                       W2=np.linalg.qr(rng.standard_normal((F, F)))[0])
        if variant == "bundle":
            weights["Ww"] = rng.standard_normal(2 * d * F) * 0.3
        np.savez(work + "/weights.npz", **weights)
        return
    edges = np.loadtxt(work + "/g.txt", dtype=np.int64, ndmin=2)
    pairs = sorted({(min(a, b), max(a, b)) for a, b in edges})
    x0 = np.load(work + "/x0.npy")
    w = torch_weights(dict(np.load(work + "/weights.npz")))
    n = x0.shape[0]
    bound = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0

    def rhs(x):
        y = np.einsum("ab,nbf,gf->nag", w["W1"], x, w["W2"])   # W1 X_v W2^T
        out = -laplacian(variant, x, w, pairs, bound) @ y.reshape(n * d, F)
        return elu(out).reshape(n, d, F)

    x = rk4(rhs, x0, 0.05, 20)
    got = np.load(sys.argv[4])
    print("sheaf-%s: relative error %.1e" %
          (variant, np.abs(got - x).max() / np.abs(x).max()))


if __name__ == "__main__":
    main()

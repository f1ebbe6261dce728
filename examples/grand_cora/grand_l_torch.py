"""GRAND-l in plain PyTorch, trained briefly on Cora, exported for grade.

Written from the paper (Chamberlain et al., GRAND: Graph Neural Diffusion,
ICML 2021) and the official code (twitter-research/graph-neural-pde:
GNN.py, block_transformer_attention.py, function_laplacian_diffusion.py,
SpGraphTransAttentionLayer), with the options examples/grand_cora.grade
implements: block 'attention' + function 'laplacian' (attention computed
once, from x(0)), scaled dot-product attention with 8 heads of 16 and
biases, softmax over edge_index[0] (attention_norm_idx = 0, square_plus
False), the mean over heads, add_source, and a fixed-step RK4 on
torchdiffeq's grid (steps of h from 0, the last one shortened to land on
T). Needs Debian's python3-torch, NumPy and SciPy; no torch_geometric,
torch_sparse or torchdiffeq.

    python3 grand_l_torch.py DATA_DIR OUT_DIR [--epochs 40] [--seed 0]

DATA_DIR holds Cora as ../shared/data/cora (edges.mtx, features.npy,
labels.npy, *_idx.npy). OUT_DIR receives:
  weights.npz  every parameter under the name grade_cora.grade gives it
               (Linear weights transposed; Q and K split into heads)
  graph.npz    edge_index (2, E) in PyG's layout (row 0 the source, as
               torch_sparse.spmm reads row 1 into row 0: see below), with
               one self loop per node, and num_nodes
  logits.npy   the trained model's logits in evaluation mode (no dropout)
and prints the test accuracy.

Direction: the official ODE function computes ax = spmm(edge_index, a, x),
i.e. ax[edge_index[0]] += a * x[edge_index[1]]. In grade an edge j -> i
adds into i (sum_in), so grade's source is edge_index[1] and its
destination edge_index[0]. graph.npz therefore stores grade's
(source, destination) = (edge_index[1], edge_index[0]).
"""
import argparse
import math
import os
import warnings

import numpy as np
import scipy.io
import torch
import torch.nn.functional as F
from torch import nn

HIDDEN = 80          # best_params Cora: hidden_dim 80
HEADS = 8            # heads 8
ATTENTION_DIM = 128  # attention_dim 128, so d_k = 16
T_END = 18.3         # time 18.2948, rounded as examples/grand_l.grade
STEP = 0.5           # a fixed RK4 step instead of dopri5 (see README.md)


def load_cora(data_dir):
    features = np.load(os.path.join(data_dir, "features.npy"))
    labels = np.load(os.path.join(data_dir, "labels.npy")).astype(np.int64)
    split = {name: np.load(os.path.join(data_dir, name + "_idx.npy"))
             for name in ("train", "val", "test")}
    adjacency = scipy.io.mmread(os.path.join(data_dir, "edges.mtx")).tocoo()
    # Both directions (the file is symmetric), then GRAND's self loops.
    n = features.shape[0]
    rows = np.concatenate([adjacency.row, np.arange(n)])
    cols = np.concatenate([adjacency.col, np.arange(n)])
    edge_index = np.stack([rows, cols]).astype(np.int64)
    return features, labels, split, edge_index


class GrandL(nn.Module):
    def __init__(self, num_features, num_classes, input_dropout=0.5,
                 dropout=0.047):
        super().__init__()
        self.m1 = nn.Linear(num_features, HIDDEN)
        self.Q = nn.Linear(HIDDEN, ATTENTION_DIM)
        self.K = nn.Linear(HIDDEN, ATTENTION_DIM)
        # SpGraphTransAttentionLayer.init_weights: constant 1e-5 weights.
        nn.init.constant_(self.Q.weight, 1e-5)
        nn.init.constant_(self.K.weight, 1e-5)
        self.alpha_train = nn.Parameter(torch.tensor(0.0))
        self.beta_train = nn.Parameter(torch.tensor(0.0))
        self.m2 = nn.Linear(HIDDEN, num_classes)
        self.input_dropout = input_dropout
        self.dropout = dropout

    def attention(self, x0, edge_index):
        d_k = ATTENTION_DIM // HEADS
        q = self.Q(x0).view(-1, HEADS, d_k)
        k = self.K(x0).view(-1, HEADS, d_k)
        scores = (q[edge_index[0]] * k[edge_index[1]]).sum(-1) / math.sqrt(d_k)
        # torch_geometric.utils.softmax over the groups edge_index[0],
        # max-shifted per group, per head.
        group = edge_index[0].unsqueeze(1).expand_as(scores)
        n = x0.shape[0]
        maximum = torch.full((n, HEADS), -math.inf).scatter_reduce(
            0, group, scores, reduce="amax", include_self=True)
        weights = torch.exp(scores - maximum[edge_index[0]])
        total = torch.zeros(n, HEADS).index_add_(0, edge_index[0], weights)
        attention = weights / (total[edge_index[0]] + 1e-16)
        return attention.mean(dim=1)

    def forward(self, features, edge_index):
        x = F.dropout(features, self.input_dropout, self.training)
        x0 = self.m1(x)
        a = self.attention(x0, edge_index)
        alpha = torch.sigmoid(self.alpha_train)

        # torch_sparse.spmm(edge_index, a, n, n, z): ax[edge_index[0]] +=
        # a * z[edge_index[1]] (index_add_: torch.sparse.mm's backward is
        # far slower on CPU).
        def f(z):
            gathered = z.index_select(0, edge_index[1])
            ax = torch.zeros_like(z).index_add_(
                0, edge_index[0], a.unsqueeze(1) * gathered)
            return alpha * (ax - z) + self.beta_train * x0

        z = x0
        steps = math.ceil(T_END / STEP - 1e-9)
        for s in range(steps):
            t0, t1 = s * STEP, min((s + 1) * STEP, T_END)
            h = t1 - t0
            k1 = f(z)
            k2 = f(z + h / 2 * k1)
            k3 = f(z + h / 2 * k2)
            k4 = f(z + h * k3)
            z = z + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        z = F.relu(z)
        z = F.dropout(z, self.dropout, self.training)
        return self.m2(z)


def export(model, out_dir, edge_index, num_nodes):
    def array(tensor):
        return tensor.detach().numpy().astype(np.float32)
    d_k = ATTENTION_DIM // HEADS
    weights = {
        "W1": array(model.m1.weight.T), "b1": array(model.m1.bias),
        "WQ": array(model.Q.weight.T).reshape(HIDDEN, HEADS, d_k),
        "bQ": array(model.Q.bias).reshape(HEADS, d_k),
        "WK": array(model.K.weight.T).reshape(HIDDEN, HEADS, d_k),
        "bK": array(model.K.bias).reshape(HEADS, d_k),
        "alpha": array(model.alpha_train), "beta": array(model.beta_train),
        "W2": array(model.m2.weight.T), "b2": array(model.m2.bias),
    }
    np.savez(os.path.join(out_dir, "weights.npz"), **weights)
    # grade's (source, destination) = (edge_index[1], edge_index[0]).
    np.savez(os.path.join(out_dir, "graph.npz"),
             edge_index=np.stack([edge_index[1], edge_index[0]]),
             num_nodes=np.int64(num_nodes))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    # torch 1.13 calls scatter_reduce a beta API; its semantics are stable.
    warnings.filterwarnings("ignore", message="scatter_reduce")
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    features, labels, split, edge_index = load_cora(args.data_dir)
    x = torch.from_numpy(features)
    y = torch.from_numpy(labels)
    index = torch.from_numpy(edge_index)
    model = GrandL(features.shape[1], int(labels.max()) + 1)
    # best_params Cora: adamax, lr 0.0229, weight decay 5.1e-3.
    optimizer = torch.optim.Adamax(model.parameters(), lr=0.0229,
                                   weight_decay=5.1e-3)
    train = torch.from_numpy(split["train"].astype(np.int64))
    for epoch in range(args.epochs):
        model.train()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x, index)[train], y[train])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        logits = model(x, index).numpy()
    os.makedirs(args.out_dir, exist_ok=True)
    np.save(os.path.join(args.out_dir, "logits.npy"), logits)
    export(model, args.out_dir, edge_index, features.shape[0])
    accuracy = {name: float((logits[idx].argmax(1) == labels[idx]).mean())
                for name, idx in split.items()}
    print("epochs %d, final training loss %.4f, accuracy: train %.3f, "
          "val %.3f, test %.3f" % (args.epochs, loss.item(), accuracy["train"],
                                   accuracy["val"], accuracy["test"]))


if __name__ == "__main__":
    main()

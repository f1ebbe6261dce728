"""Lie point symmetries on the exact Cole-Hopf solution of viscous Burgers.

u(x, t) = 2 nu k b e^{-nu k^2 t} sin(kx) / (a + b e^{-nu k^2 t} cos(kx)) on
[0, 2 pi), nu = 0.5, k = 1, a = 2, b = 1 (MODELS.md section 9.7).

  make DIR N              frames at t = 0, 0.25, ..., 1 on N grid points:
                          DIR/exact-N.npz (u [5, N], t [5])
  formula DIR N KIND EPS  compares DIR/KIND-N.npz (from gradec augment) with
                          the transformation's formula applied to the
                          exact solution, at the new grid, times, period
  solve GRADEC MODEL DIR KIND N...
                          runs MODEL from the first transformed frame, with
                          the transformed period, over the transformed
                          times, and compares its last state with the last
                          transformed frame (an exact solution of the PDE):
                          the difference is the scheme's discretisation
                          error, second order in h
"""
import math
import os
import subprocess
import sys

import numpy as np

NU, K, A, B = 0.5, 1.0, 2.0, 1.0
TIMES = np.linspace(0.0, 1.0, 5)


def exact(x, t):
    decay = B * np.exp(-NU * K * K * t)
    return 2 * NU * K * decay * np.sin(K * x) / (A + decay * np.cos(K * x))


def transformed(kind, eps, x, t):
    """The transformed solution at (x~, t~)."""
    if kind == 'shift':
        return exact(x - eps, t)
    if kind == 'boost':
        return exact(x - eps * t, t) + eps
    if kind == 'scale':
        return math.exp(-eps) * exact(math.exp(-eps) * x, math.exp(-2 * eps) * t)
    raise SystemExit('unknown transformation ' + kind)


def new_times(kind, eps):
    return TIMES * (math.exp(2 * eps) if kind == 'scale' else 1.0)


def new_period(kind, eps):
    return 2 * math.pi * (math.exp(eps) if kind == 'scale' else 1.0)


def make(directory, n):
    x = 2 * math.pi * np.arange(n) / n
    frames = np.stack([exact(x, t) for t in TIMES])
    np.savez(os.path.join(directory, 'exact-%d.npz' % n), u=frames, t=TIMES)


def formula(directory, n, kind, eps):
    moved = np.load(os.path.join(directory, '%s-%d.npz' % (kind, n)))
    period = float(moved['period'])
    x = period * np.arange(n) / n
    expected = np.stack([transformed(kind, eps, x, t) for t in moved['t']])
    print('%s at eps = %g on %d points: frames %.1e, times %.1e, period %.1e '
          'from the formula' %
          (kind, eps, n, np.max(np.abs(moved['u'] - expected)),
           np.max(np.abs(moved['t'] - new_times(kind, eps))),
           abs(period - new_period(kind, eps))))


def solve(gradec, model, directory, kind, sizes):
    errors = []
    for n in sizes:
        moved = np.load(os.path.join(directory, '%s-%d.npz' % (kind, n)))
        first = os.path.join(directory, '%s-%d-u0.npy' % (kind, n))
        last = os.path.join(directory, '%s-%d-u1.npy' % (kind, n))
        np.save(first, moved['u'][0])
        span = moved['t'][-1] - moved['t'][0]
        subprocess.run([gradec, 'run', model, '--graph', 'gen:dcycle:%d' % n,
                        '--input', 'u0=' + first, '--set',
                        'L=%r' % float(moved['period']), '--t1', repr(span),
                        '--dt', repr(span / 2000), '--output', 'u=' + last],
                       check=True, capture_output=True)
        errors.append(np.max(np.abs(np.load(last) - moved['u'][-1])))
    orders = [math.log2(errors[i] / errors[i + 1])
              for i in range(len(errors) - 1)]
    print('%s: the model from the transformed exact solution differs from it '
          'by %s on %s points (orders %s)' %
          (kind, ', '.join('%.2e' % e for e in errors),
           ', '.join(str(n) for n in sizes),
           ', '.join('%.2f' % o for o in orders)))
    print('%s: %s' % (kind, 'second order: a solution to discretisation '
                      'accuracy' if min(orders) > 1.9 else 'NOT second order'))


def main():
    command = sys.argv[1]
    if command == 'make':
        make(sys.argv[2], int(sys.argv[3]))
    elif command == 'formula':
        formula(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
    elif command == 'solve':
        solve(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5],
              [int(n) for n in sys.argv[6:]])
    else:
        raise SystemExit('unknown command ' + command)


if __name__ == '__main__':
    main()

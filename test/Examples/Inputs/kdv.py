"""The KdV soliton against examples/kdv.grade.

u(x, t) = 3 c sech^2(sqrt(c) / 2 (x - x0 - c t)) solves u_t + u u_x + u_xxx
= 0; on the periodic grid of period L = 32 its tails are below 1e-6.

  make DIR N        the soliton at t = 0 (c = 1, x0 = 12) on N points:
                    DIR/u0-N.npy
  check DIR N...    the errors of DIR/u-N.npy at t = 1 against the
                    soliton at t = 1, and the observed orders
"""
import math
import sys

import numpy as np

C, X0, L = 1.0, 12.0, 32.0


def soliton(n, t):
    x = L * np.arange(n) / n
    return 3 * C / np.cosh(math.sqrt(C) / 2 * (x - X0 - C * t)) ** 2


def main():
    command, directory = sys.argv[1], sys.argv[2]
    sizes = [int(n) for n in sys.argv[3:]]
    if command == 'make':
        for n in sizes:
            np.save('%s/u0-%d.npy' % (directory, n), soliton(n, 0.0))
        return
    errors = [np.max(np.abs(np.load('%s/u-%d.npy' % (directory, n)) -
                            soliton(n, 1.0))) for n in sizes]
    orders = [math.log2(errors[i] / errors[i + 1])
              for i in range(len(errors) - 1)]
    print('kdv errors ' + ' '.join('%.2e' % e for e in errors))
    print('kdv orders ' + ' '.join('%.2f' % o for o in orders))
    print('second order: ' + ('ok' if min(orders) > 1.9 else 'FAILED'))


if __name__ == '__main__':
    main()

//===- implicit.cpp - Implicit stages: Newton-Krylov, BDF2, SDIRK --------===//
//
// Split from session.cpp; Session.h declares what the sources share.
//
//===----------------------------------------------------------------------===//

#include "Session.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

using namespace grade::rt;

namespace grade::rt::sess {

//===----------------------------------------------------------------------===//
// Implicit stages
//===----------------------------------------------------------------------===//
//
// A diagonally implicit scheme's stage i solves
//   z = base_i + h a_ii f(t + c_i h, z),  base_i = y + h sum_{j<i} a_ij k_j
// by Newton's method on G(z) = z - base_i - h a_ii f(z): each Newton step
// solves (I - h a_ii J(z)) dz = -G(z) with GMRES or CG whose products are
// the library's Jacobian-vector products (forward mode, no differences),
// then k_i = (z - base_i) / (h a_ii). The vectors of the solvers are in
// double, all states one after the other; the library's typed buffers are
// filled from them around each call.
//
// An IMEX scheme splits f = f_E + f_I: the stages solve
//   z = base_i + h a_ii f_I(z),
//   base_i = y + h sum_{j<i} (a_ij k_j + ea_ij e_j),  e_j = f_E(z_j),
// with the implicit part's JVPs, and y' = y + h sum_i (b_i k_i + eb_i e_i).
// A stage's k_i or e_i is evaluated only where a later stage or the
// weights use it.


/// The states as one vector space, with typed scratch buffers the library
/// reads and writes.
class StateSpace {
public:
  explicit StateSpace(grade_session &s) : s(s) {
    for (int32_t i = 0; i < s.desc->num_fields; ++i)
      if (s.desc->fields[i].role == GRADE_ROLE_STATE) {
        fields.push_back(i);
        offsets.push_back(size);
        size += numValues(s, i);
      }
  }

  /// One typed buffer per state, reusing those of the right size (their
  /// contents are not kept); false when out of memory.
  bool allocate(std::vector<Buffer> &buffers) const {
    if (buffers.size() != fields.size())
      buffers = std::vector<Buffer>(fields.size());
    for (size_t k = 0; k < fields.size(); ++k) {
      size_t bytes =
          size_t(numValues(s, fields[k])) * grade_dtype_size(dtype(k));
      if (buffers[k].data && buffers[k].bytes == bytes)
        continue;
      if (!buffers[k].resize(bytes))
        return false;
    }
    return true;
  }
  static std::vector<void *> pointers(const std::vector<Buffer> &buffers) {
    std::vector<void *> result;
    for (const Buffer &buffer : buffers)
      result.push_back(buffer.data);
    return result;
  }
  /// The current states, or typed buffers, as one vector.
  void read(const std::vector<void *> &typed, std::vector<double> &out) const {
    out.resize(size_t(size));
    for (size_t k = 0; k < fields.size(); ++k) {
      int64_t n = numValues(s, fields[k]);
      for (int64_t j = 0; j < n; ++j)
        out[size_t(offsets[k] + j)] = loadAt(typed[k], dtype(k), j);
    }
  }
  void write(const std::vector<double> &in,
             const std::vector<void *> &typed) const {
    for (size_t k = 0; k < fields.size(); ++k) {
      int64_t n = numValues(s, fields[k]);
      for (int64_t j = 0; j < n; ++j)
        storeAt(typed[k], dtype(k), j, in[size_t(offsets[k] + j)]);
    }
  }
  std::vector<void *> stateSlots() const {
    std::vector<void *> result;
    for (int32_t field : fields)
      result.push_back(s.slots[size_t(s.fieldSlot[size_t(field)])]);
    return result;
  }
  /// Points the states' slots at `typed` (the library then evaluates
  /// there); returns the previous pointers.
  std::vector<void *> pointStates(const std::vector<void *> &typed) {
    std::vector<void *> saved = stateSlots();
    for (size_t k = 0; k < fields.size(); ++k)
      s.slots[size_t(s.fieldSlot[size_t(fields[k])])] = typed[k];
    return saved;
  }
  int32_t dtype(size_t k) const { return s.desc->fields[fields[k]].dtype; }

  grade_session &s;
  std::vector<int32_t> fields;
  std::vector<int64_t> offsets;
  int64_t size = 0;
};

double dot(const std::vector<double> &a, const std::vector<double> &b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i)
    sum += a[i] * b[i];
  return sum;
}

double norm2(const std::vector<double> &a) { return std::sqrt(dot(a, a)); }

/// x += alpha y
void axpy(double alpha, const std::vector<double> &y, std::vector<double> &x) {
  for (size_t i = 0; i < x.size(); ++i)
    x[i] += alpha * y[i];
}

using MatVec = std::function<void(const std::vector<double> &,
                                  std::vector<double> &)>;

/// Applies M^-1 in place (empty: no preconditioner).
using Preconditioner = std::function<void(std::vector<double> &)>;

/// Restarted GMRES(restart) for A x = b from x = 0, to ||r|| <= tol ||b||;
/// returns the iterations taken.
int64_t gmres(const MatVec &apply, const std::vector<double> &b,
              std::vector<double> &x, double tol, int64_t maxIterations,
              int restart = 30) {
  size_t n = b.size();
  x.assign(n, 0.0);
  double bnorm = norm2(b);
  if (bnorm == 0)
    return 0;
  int64_t iterations = 0;
  std::vector<double> r = b, w(n);
  while (iterations < maxIterations) {
    double beta = norm2(r);
    if (beta <= tol * bnorm)
      break;
    std::vector<std::vector<double>> V(1, r);
    for (double &v : V[0])
      v /= beta;
    std::vector<std::vector<double>> H; // H[j] has j + 2 entries
    std::vector<double> cs, sn, g = {beta};
    int m = 0;
    for (; m < restart && iterations < maxIterations; ++m, ++iterations) {
      apply(V[size_t(m)], w);
      std::vector<double> h(size_t(m) + 2, 0.0);
      for (int i = 0; i <= m; ++i) { // modified Gram-Schmidt
        h[size_t(i)] = dot(w, V[size_t(i)]);
        axpy(-h[size_t(i)], V[size_t(i)], w);
      }
      h[size_t(m) + 1] = norm2(w);
      for (int i = 0; i < m; ++i) { // earlier rotations
        double t = cs[size_t(i)] * h[size_t(i)] + sn[size_t(i)] * h[size_t(i) + 1];
        h[size_t(i) + 1] =
            -sn[size_t(i)] * h[size_t(i)] + cs[size_t(i)] * h[size_t(i) + 1];
        h[size_t(i)] = t;
      }
      double denom = std::hypot(h[size_t(m)], h[size_t(m) + 1]);
      double c = denom ? h[size_t(m)] / denom : 1.0;
      double sine = denom ? h[size_t(m) + 1] / denom : 0.0;
      cs.push_back(c);
      sn.push_back(sine);
      h[size_t(m)] = denom;
      double next = h[size_t(m) + 1];
      h[size_t(m) + 1] = 0;
      g.push_back(-sine * g[size_t(m)]);
      g[size_t(m)] *= c;
      H.push_back(h);
      if (std::fabs(g[size_t(m) + 1]) <= tol * bnorm || next == 0) {
        ++m, ++iterations;
        break;
      }
      V.push_back(w);
      for (double &v : V.back())
        v /= next;
    }
    // y = H^-1 g (upper triangular), x += V y.
    std::vector<double> y(size_t(m), 0.0);
    for (int i = m - 1; i >= 0; --i) {
      double sum = g[size_t(i)];
      for (int j = i + 1; j < m; ++j)
        sum -= H[size_t(j)][size_t(i)] * y[size_t(j)];
      y[size_t(i)] = H[size_t(i)][size_t(i)] ? sum / H[size_t(i)][size_t(i)] : 0;
    }
    for (int i = 0; i < m; ++i)
      axpy(y[size_t(i)], V[size_t(i)], x);
    apply(x, w); // the true residual for the restart
    for (size_t i = 0; i < n; ++i)
      r[i] = b[i] - w[i];
  }
  return iterations;
}

/// Conjugate gradients for A x = b (A symmetric positive definite) from
/// x = 0; returns the iterations, or -1 if A is not positive definite.
int64_t conjugateGradients(const MatVec &apply, const std::vector<double> &b,
                           std::vector<double> &x, double tol,
                           int64_t maxIterations,
                           const Preconditioner &precondition) {
  // Preconditioned CG: z = M^-1 r (M symmetric positive definite).
  size_t n = b.size();
  x.assign(n, 0.0);
  std::vector<double> r = b, z = b, q(n);
  if (precondition)
    precondition(z);
  std::vector<double> p = z;
  double rz = dot(r, z), bnorm = norm2(b);
  int64_t iterations = 0;
  while (iterations < maxIterations && norm2(r) > tol * bnorm) {
    apply(p, q);
    double pq = dot(p, q);
    if (!(pq > 0))
      return -1;
    double alpha = rz / pq;
    axpy(alpha, p, x);
    axpy(-alpha, q, r);
    z = r;
    if (precondition)
      precondition(z);
    double next = dot(r, z);
    for (size_t i = 0; i < n; ++i)
      p[i] = z[i] + next / rz * p[i];
    rz = next;
    ++iterations;
  }
  return iterations;
}

struct ImplicitOptions {
  int32_t solver = GRADE_LINEAR_SOLVER_GMRES;
  bool jacobi = true;
  int32_t maxNewton = 20, maxKrylov = 500;
  double newtonTol = 1e-10, krylovTol = 1e-10;
};

ImplicitOptions implicitOptions(const grade_integrate_options_t &options) {
  ImplicitOptions result;
  result.solver = options.linear_solver;
  result.jacobi = options.preconditioner == GRADE_PRECONDITIONER_JACOBI;
  if (options.max_newton > 0)
    result.maxNewton = options.max_newton;
  if (options.max_krylov > 0)
    result.maxKrylov = options.max_krylov;
  if (options.newton_tol > 0)
    result.newtonTol = options.newton_tol;
  if (options.krylov_tol > 0)
    result.krylovTol = options.krylov_tol;
  return result;
}

bool isImplicitScheme(const grade_session &s) {
  const grade_scheme_desc_t &scheme = s.desc->scheme;
  for (int32_t i = 0; i < scheme.stages; ++i)
    if (scheme.a[i * scheme.stages + i] != 0)
      return true;
  return false;
}

/// BDF2's history after accepting a step of size h from the states y.
void recordBdfStep(grade_session &s, std::vector<double> y, double h) {
  s.bdfPrevious2 = std::move(s.bdfPrevious);
  s.bdfStep2 = s.bdfStep;
  s.bdfPrevious = std::move(y);
  s.bdfStep = h;
}

/// The local error of a BDF2 step of size h from y_n = `y` to y_c = `next`
/// (Milne's device): with the exact solution's third derivative, the
/// variable-step BDF2 error is K y''' with K = h^3 (1+w)^2 / (6 w (1+2w)),
/// w = h / h_{n-1}, and a quadratic predictor's is P y''' / 6, so the
/// error is K / (K + P/6) (y_c - p). The predictor interpolates the last
/// three states (P = h (h + h1)(h + h1 + h2)), or after one step y_{n-1},
/// y_n and f_n (P = h^2 (h + h1)). The starting backward-Euler step's
/// error is h/2 (f(y_c) - f_n). `kNext` is f(t + h, y_c), `fn` f(t, y_n)
/// (needed before two steps of history).
std::vector<double> bdfErrorEstimate(const grade_session &s,
                                     const std::vector<double> &y,
                                     const std::vector<double> &next,
                                     const std::vector<double> &kNext,
                                     const std::vector<double> &fn,
                                     double h) {
  size_t n = y.size();
  std::vector<double> e(n);
  bool one = s.bdfStep > 0 && s.bdfPrevious.size() == n;
  bool two = one && s.bdfStep2 > 0 && s.bdfPrevious2.size() == n;
  if (!one) {
    for (size_t j = 0; j < n; ++j)
      e[j] = 0.5 * h * (kNext[j] - fn[j]);
    return e;
  }
  double h1 = s.bdfStep, w = h / h1;
  double K = h * h * h * (1 + w) * (1 + w) / (6 * w * (1 + 2 * w));
  if (two) {
    double h2 = s.bdfStep2;
    double l0 = (h + h1) * (h + h1 + h2) / (h1 * (h1 + h2));
    double l1 = -h * (h + h1 + h2) / (h1 * h2);
    double l2 = h * (h + h1) / ((h1 + h2) * h2);
    double factor = K / (K + h * (h + h1) * (h + h1 + h2) / 6);
    for (size_t j = 0; j < n; ++j) {
      double p = l0 * y[j] + l1 * s.bdfPrevious[j] + l2 * s.bdfPrevious2[j];
      e[j] = factor * (next[j] - p);
    }
    return e;
  }
  double factor = K / (K + h * h * (h + h1) / 6);
  for (size_t j = 0; j < n; ++j) {
    double c = (s.bdfPrevious[j] - y[j] + h1 * fn[j]) / (h1 * h1);
    double p = y[j] + h * fn[j] + c * h * h;
    e[j] = factor * (next[j] - p);
  }
  return e;
}

/// One step of a diagonally implicit scheme from the current states at t.
/// With `proposal`, the new states are returned there instead of written,
/// and `error` receives the embedded estimate's scaled RMS norm (adaptive
/// schemes).
struct ImplicitProposal {
  std::vector<double> *next = nullptr;
  double *error = nullptr;
  double rtol = 0, atol = 0;
  /// Where the largest scaled error is (the first non-finite value if
  /// any), as an index into the states' vector.
  size_t *worst = nullptr;
};

grade_status_t implicitStep(grade_session &s, double t, double h,
                            const ImplicitOptions &options,
                            grade_integrate_stats_t &stats,
                            ImplicitProposal proposal = {}) {
  const grade_scheme_desc_t &scheme = s.desc->scheme;
  StateSpace space(s);
  // The library's typed scratch, kept by the session from step to step.
  auto &[zBuf, fBuf, vBuf, jvBuf] = s.implicitScratch;
  if (!space.allocate(zBuf) || !space.allocate(fBuf) ||
      !space.allocate(vBuf) || !space.allocate(jvBuf))
    return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                      "model '%s': out of memory for an implicit step",
                      s.desc->name);
  std::vector<void *> z = StateSpace::pointers(zBuf),
                      f = StateSpace::pointers(fBuf),
                      v = StateSpace::pointers(vBuf),
                      jv = StateSpace::pointers(jvBuf);
  // IMEX: the implicit part's entries, and the explicit part's tableau.
  const double *ea = s.desc->explicit_a, *eb = s.desc->explicit_b;
  bool imex = ea && eb;
  int32_t rhsEntry = imex ? GRADE_ENTRY_IMPLICIT_RHS : GRADE_ENTRY_RHS;
  int32_t jvpEntry = imex ? GRADE_ENTRY_IMPLICIT_JVP : GRADE_ENTRY_JVP;
  int32_t diagonalEntry =
      imex ? GRADE_ENTRY_IMPLICIT_DIAGONAL : GRADE_ENTRY_DIAGONAL;
  // Jacobi: M = I - gamma diag(J), from the library's diagonal entry.
  bool jacobi = options.jacobi && findEntry(s, diagonalEntry);
  std::vector<double> diagonal, inverse;
  std::vector<double> y;
  space.read(space.stateSlots(), y);
  size_t n = y.size();
  int32_t stages = scheme.stages;
  std::vector<std::vector<double>> k(static_cast<size_t>(stages)),
      e(imex ? size_t(stages) : 0);
  // Whether stage i's slope of a tableau (a, b) is used after it.
  auto used = [&](const double *a, const double *b, int32_t i) {
    if (b[i] != 0)
      return true;
    for (int32_t row = i + 1; row < stages; ++row)
      if (a[row * stages + i] != 0)
        return true;
    return false;
  };
  std::vector<void *> saved = space.pointStates(z);
  auto restore = [&] { space.pointStates(saved); };
  // f (or a part of it) at the vector `at` (written to the states'
  // scratch), into `out`.
  auto rhsAt = [&](double time, const std::vector<double> &at,
                   std::vector<double> &out, int32_t entry) {
    space.write(at, z);
    runRhs(s, time, f, entry);
    ++stats.rhs_evaluations;
    space.read(f, out);
  };
  // BDF2 after its first step: one implicit solve of
  //   z = (1+w)^2/(1+2w) y_n - w^2/(1+2w) y_{n-1} + (1+w)/(1+2w) h f(t+h, z),
  // w = h / h_{n-1} (Hairer-Wanner's variable-step coefficients).
  bool bdf = s.desc->bdf_order == 2 && s.bdfStep > 0 &&
             s.bdfPrevious.size() == n;
  std::vector<double> base(n), zv(n), F(n), G(n), delta(n);
  for (int32_t i = 0; i < (bdf ? 1 : stages); ++i) {
    base = y;
    for (int32_t j = 0; j < i; ++j) {
      if (double a = scheme.a[i * stages + j]; a != 0)
        axpy(h * a, k[size_t(j)], base);
      if (imex)
        if (double a = ea[i * stages + j]; a != 0)
          axpy(h * a, e[size_t(j)], base);
    }
    double ti = t + scheme.c[i] * h;
    double gamma = h * scheme.a[i * stages + i];
    if (bdf) {
      double w = h / s.bdfStep, denom = 1 + 2 * w;
      for (size_t j = 0; j < n; ++j)
        base[j] = (1 + w) * (1 + w) / denom * y[j] -
                  w * w / denom * s.bdfPrevious[j];
      ti = t + h;
      gamma = (1 + w) / denom * h;
    }
    if (gamma == 0) {
      if (!imex || used(scheme.a, scheme.b, i))
        rhsAt(ti, base, k[size_t(i)], rhsEntry);
      if (imex && used(ea, eb, i))
        rhsAt(ti, base, e[size_t(i)], GRADE_ENTRY_EXPLICIT_RHS);
      continue;
    }
    zv = base;
    int32_t iteration = 0;
    double residual = 0;
    for (;; ++iteration) {
      rhsAt(ti, zv, F, rhsEntry);
      double sum = 0;
      for (size_t j = 0; j < n; ++j) {
        G[j] = zv[j] - base[j] - gamma * F[j];
        double scaled = G[j] / (1 + std::fabs(zv[j]));
        sum += scaled * scaled;
      }
      residual = n ? std::sqrt(sum / double(n)) : 0;
      if (!std::isfinite(residual))
        break;
      if (residual <= options.newtonTol || iteration == options.maxNewton)
        break;
      ++stats.newton_iterations;
      // (I - gamma J(z)) delta = -G at z (in the states' scratch already).
      MatVec apply = [&](const std::vector<double> &in,
                         std::vector<double> &out) {
        space.write(in, v);
        runJvp(s, ti, v, jv, jvpEntry);
        ++stats.jvp_evaluations;
        space.read(jv, out);
        for (size_t j = 0; j < n; ++j)
          out[j] = in[j] - gamma * out[j];
      };
      for (double &g : G)
        g = -g;
      Preconditioner precondition;
      if (jacobi) {
        runDiagonal(s, ti, jv, diagonalEntry);
        space.read(jv, diagonal);
        inverse.resize(n);
        for (size_t j = 0; j < n; ++j) {
          double m = 1 - gamma * diagonal[j];
          inverse[j] = std::isfinite(m) && std::fabs(m) > 1e-12 ? 1 / m : 1;
        }
        precondition = [&](std::vector<double> &r) {
          for (size_t j = 0; j < n; ++j)
            r[j] *= inverse[j];
        };
      }
      int64_t krylov;
      if (options.solver == GRADE_LINEAR_SOLVER_CG) {
        krylov = conjugateGradients(apply, G, delta, options.krylovTol,
                                    options.maxKrylov, precondition);
      } else if (precondition) {
        // Right preconditioning: A M^-1 u = -G, delta = M^-1 u.
        MatVec right = [&](const std::vector<double> &in,
                           std::vector<double> &out) {
          std::vector<double> scaled = in;
          precondition(scaled);
          apply(scaled, out);
        };
        krylov = gmres(right, G, delta, options.krylovTol, options.maxKrylov);
        precondition(delta);
      } else {
        krylov = gmres(apply, G, delta, options.krylovTol, options.maxKrylov);
      }
      if (krylov < 0) {
        restore();
        return makeStatus(
            GRADE_ERROR_NUMERICAL,
            "model '%s': conjugate gradients met a direction of non-positive "
            "curvature at t = %g (stage %d, Newton iteration %d): I - h a J "
            "is not symmetric positive definite; use GMRES (--linear-solver "
            "gmres)",
            s.desc->name, t, int(i + 1), int(iteration + 1));
      }
      stats.krylov_iterations += krylov;
      axpy(1.0, delta, zv);
    }
    if (!(residual <= options.newtonTol)) {
      restore();
      return makeStatus(
          GRADE_ERROR_NUMERICAL,
          "model '%s': Newton's method did not converge at t = %g, step "
          "size %g, stage %d of %d: residual %g after %d iterations (tolerance "
          "%g); take a smaller step, or raise --max-newton",
          s.desc->name, t, h, int(i + 1), int(stages), residual,
          int(iteration), options.newtonTol);
    }
    k[size_t(i)].resize(n);
    for (size_t j = 0; j < n; ++j)
      k[size_t(i)][j] = (zv[j] - base[j]) / gamma;
    if (imex && used(ea, eb, i))
      rhsAt(ti, zv, e[size_t(i)], GRADE_ENTRY_EXPLICIT_RHS);
  }
  restore();
  std::vector<double> next = y;
  if (bdf) {
    next = zv;
  } else {
    for (int32_t i = 0; i < stages; ++i) {
      if (double b = scheme.b[i]; b != 0)
        axpy(h * b, k[size_t(i)], next);
      if (imex)
        if (double b = eb[i]; b != 0)
          axpy(h * b, e[size_t(i)], next);
    }
  }
  if (proposal.next) {
    // e = h sum_i (b_i - bhat_i) k_i, scaled as for the explicit pairs;
    // BDF2: Milne's estimate from a predictor (bdfErrorEstimate).
    const double *bhat = s.desc->adaptive.bhat;
    std::vector<double> estimate;
    if (s.desc->bdf_order) {
      std::vector<double> fn;
      if (s.bdfPrevious2.size() != n || !(s.bdfStep2 > 0))
        rhsAt(t, y, fn, rhsEntry); // the start's estimates need f(t, y)
      estimate = bdfErrorEstimate(s, y, next, k[0], fn, h);
    }
    double sum = 0, largest = -1;
    for (size_t state = 0; state < space.fields.size(); ++state) {
      auto [ownR, ownA] = s.stateTolerance[size_t(space.fields[state])];
      double rtol = ownR > 0 ? ownR : proposal.rtol;
      double atol = ownA > 0 ? ownA : proposal.atol;
      size_t begin = size_t(space.offsets[state]);
      size_t end = state + 1 < space.fields.size()
                       ? size_t(space.offsets[state + 1])
                       : n;
      for (size_t j = begin; j < end; ++j) {
        double e = 0;
        if (!estimate.empty()) {
          e = estimate[j];
        } else {
          for (int32_t i = 0; i < stages; ++i)
            e += (scheme.b[i] - bhat[i]) * k[size_t(i)][j];
          e *= h;
        }
        double scale =
            atol + rtol * std::max(std::fabs(y[j]), std::fabs(next[j]));
        double scaled = e / scale;
        sum += scaled * scaled;
        double size = std::isfinite(scaled) && std::isfinite(next[j])
                          ? std::fabs(scaled)
                          : HUGE_VAL;
        if (proposal.worst && size > largest)
          largest = size, *proposal.worst = j;
      }
    }
    *proposal.error = n ? std::sqrt(sum / double(n)) : 0;
    *proposal.next = std::move(next);
    return nullptr;
  }
  space.write(next, space.stateSlots());
  if (s.desc->bdf_order)
    recordBdfStep(s, std::move(y), h);
  return nullptr;
}

std::string locateLargestError(grade_session &s, double t, double h,
                               double rtol, double atol) {
  grade_integrate_options_t defaults = GRADE_INTEGRATE_OPTIONS_INIT;
  grade_integrate_stats_t scratch = GRADE_INTEGRATE_STATS_INIT;
  std::vector<double> next;
  double error = 0;
  size_t worst = SIZE_MAX;
  if (grade_status_t status =
          implicitStep(s, t, h, implicitOptions(defaults), scratch,
                       {&next, &error, rtol, atol, &worst})) {
    grade_status_free(status);
    return "";
  }
  if (worst == SIZE_MAX)
    return "";
  StateSpace space(s);
  size_t state = size_t(std::upper_bound(space.offsets.begin(),
                                         space.offsets.end(), int64_t(worst)) -
                        space.offsets.begin()) -
                 1;
  const grade_field_desc_t &field = s.desc->fields[space.fields[state]];
  int64_t index = int64_t(worst) - space.offsets[state];
  int64_t width = featureSize(field);
  std::string where = format("%s %lld of state '%s'",
                             field.kind == GRADE_KIND_EDGE ? "edge" : "node",
                             (long long)(field.kind == GRADE_KIND_EDGE
                                             ? callerEdge(s, index / width)
                                             : callerNode(s, index / width)),
                             field.name);
  if (width > 1)
    where += format(" (component %lld)", (long long)(index % width));
  return where;
}

/// Adaptive steps of an implicit scheme with an embedded estimate: the
/// controller of the explicit pairs (PI control, rejections, max_steps,
/// underflow), a Newton failure counting as a rejection; the steps land on
/// the output times (no dense output).
grade_status_t integrateAdaptiveImplicit(grade_session &s, double t1,
                                         const grade_integrate_options_t &o,
                                         grade_integrate_stats_t &stats) {
  const grade_model_descriptor_t &desc = *s.desc;
  double rtol = o.rtol > 0 ? o.rtol : desc.adaptive.rtol > 0 ? desc.adaptive.rtol : kDefaultRtol;
  double atol = o.atol > 0 ? o.atol : desc.adaptive.atol > 0 ? desc.adaptive.atol : kDefaultAtol;
  if (o.max_steps < 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "max_steps must be >= 0 (0: %lld), got %lld",
                      (long long)kDefaultMaxSteps, (long long)o.max_steps);
  int64_t maxSteps = o.max_steps > 0 ? o.max_steps : kDefaultMaxSteps;
  ImplicitOptions solve = implicitOptions(o);
  // BDF2's local error is O(h^3); an embedded pair's O(h^(q+1)).
  const int32_t errorOrder =
      desc.bdf_order ? desc.bdf_order + 1 : desc.adaptive.embedded_order + 1;
  const double tStart = s.t;
  StateSpace space(s);

  double h = o.dt > 0 ? o.dt : desc.dt;
  if (!(h > 0)) {
    // h0 = 0.01 |y| / |f|, scaled (the first phase of Hairer-Norsett-Wanner's
    // choice; the controller corrects it within a few steps).
    std::vector<Buffer> fBuf;
    if (!space.allocate(fBuf))
      return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                        "model '%s': out of memory choosing the first step",
                        desc.name);
    std::vector<double> y, f;
    space.read(space.stateSlots(), y);
    runRhs(s, s.t, StateSpace::pointers(fBuf));
    ++stats.rhs_evaluations;
    space.read(StateSpace::pointers(fBuf), f);
    double d0 = 0, d1 = 0;
    for (size_t j = 0; j < y.size(); ++j) {
      double scale = atol + rtol * std::fabs(y[j]);
      d0 += (y[j] / scale) * (y[j] / scale);
      d1 += (f[j] / scale) * (f[j] / scale);
    }
    d0 = std::sqrt(d0 / double(std::max<size_t>(y.size(), 1)));
    d1 = std::sqrt(d1 / double(std::max<size_t>(y.size(), 1)));
    h = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
    h = std::min(h, t1 - s.t);
  }
  int64_t nextOutput = 0;
  StepSizeController controller(errorOrder);
  double lastError = 0;
  bool lastFailed = false;
  std::vector<double> next;
  while (s.t < t1) {
    double t = s.t;
    if (stats.accepted + stats.rejected >= maxSteps)
      return maxStepsReached(desc, stats, t, h, t1, rtol, atol);
    double hMin = minimumStep(t);
    if (!(h >= hMin)) {
      std::string where = lastFailed
                              ? std::string()
                              : locateLargestError(s, t, h, rtol, atol);
      return makeStatus(
          GRADE_ERROR_NUMERICAL,
          "model '%s': step size underflow at t = %g: the step size %g fell "
          "below %g (10 ulps of t) without meeting rtol = %g, atol = %g (%s)",
          desc.name, t, h, hMin, rtol, atol,
          lastFailed ? "the last attempt's Newton iteration did not converge"
                     : (format("the last attempt's error norm was %g",
                               lastError) +
                        (where.empty() ? "" : ", largest at " + where))
                           .c_str());
    }
    bool last = t + h >= t1;
    double hStep = last ? t1 - t : h;
    if (nextOutput < o.num_times && t + hStep >= o.times[nextOutput]) {
      hStep = o.times[nextOutput] - t;
      last = o.times[nextOutput] >= t1;
    }
    double err = 0;
    ImplicitProposal proposal{&next, &err, rtol, atol};
    grade_status_t failure = implicitStep(s, t, hStep, solve, stats, proposal);
    lastFailed = failure != nullptr;
    if (failure) {
      // A stage that does not converge: a smaller step.
      grade_status_free(failure);
      err = HUGE_VAL;
    }
    lastError = err;
    if (!(err <= 1)) {
      ++stats.rejected;
      h = controller.rejected(hStep, err);
      continue;
    }
    if (desc.bdf_order) {
      std::vector<double> before;
      space.read(space.stateSlots(), before);
      recordBdfStep(s, std::move(before), hStep);
    }
    space.write(next, space.stateSlots());
    double tNew = last ? t1 : t + hStep;
    if (nextOutput < o.num_times && hStep == o.times[nextOutput] - t)
      tNew = o.times[nextOutput];
    s.t = tNew;
    recordAccepted(stats, hStep);
    ++stats.finite_checks;
    if (grade_status_t status =
            checkFinite(s, tNew, stats.steps, stats.steps, o.max_abs))
      return status;
    while (nextOutput < o.num_times && o.times[nextOutput] <= tNew) {
      if (grade_status_t status =
              emitOutput(s, o, nextOutput, o.times[nextOutput], nullptr))
        return status;
      ++nextOutput;
    }
    if (o.progress && o.progress(o.user, tNew, tStart, t1) != 0)
      return makeStatus(GRADE_ERROR_UNAVAILABLE,
                        "integration cancelled at t = %g (step %lld)", tNew,
                        (long long)stats.steps);
    double hNew = controller.accepted(hStep, err);
    if (!last && hStep == h)
      h = hNew;
    else if (!last)
      h = std::max(h, hNew); // a step shortened for an output time
  }
  return nullptr;
}

grade_status_t takeImplicitStep(grade_session &s, double t, double h,
                                const grade_integrate_options_t &options,
                                grade_integrate_stats_t &stats) {
  return implicitStep(s, t, h, implicitOptions(options), stats);
}

/// The power iteration on the Jacobian-vector products from a fixed,
/// dense start vector.
grade_status_t spectralRadius(grade_session &s, double t, int32_t iterations,
                              double &rho) {
  if (grade_status_t status = requireJvp(s))
    return status;
  if (iterations < 1)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "the power iteration needs at least 1 iteration, got %d",
                      int(iterations));
  StateSpace space(s);
  std::vector<Buffer> vBuf, jvBuf;
  if (!space.allocate(vBuf) || !space.allocate(jvBuf))
    return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                      "model '%s': out of memory for the power iteration",
                      s.desc->name);
  std::vector<void *> v = StateSpace::pointers(vBuf),
                      jv = StateSpace::pointers(jvBuf);
  size_t n = size_t(space.size);
  std::vector<double> x(n), w(n);
  // Fixed, with every mode present; a function of the caller's node (and
  // the given graph's edge) numbers, so that the estimate does not depend
  // on the session's node ordering.
  for (size_t k = 0; k < space.fields.size(); ++k) {
    const grade_field_desc_t &field = s.desc->fields[space.fields[k]];
    int64_t width = std::max<int64_t>(featureSize(field), 1);
    int64_t count = numValues(s, space.fields[k]);
    for (int64_t j = 0; j < count; ++j) {
      int64_t base = baseRow(s, field.kind, j / width) * width + j % width;
      double i = double(space.offsets[k] + base);
      x[size_t(space.offsets[k] + j)] = std::sin(12.9898 * i + 78.233) + 0.5;
    }
  }
  double norm = norm2(x);
  rho = 0;
  if (norm == 0)
    return nullptr;
  for (double &value : x)
    value /= norm;
  for (int32_t k = 0; k < iterations; ++k) {
    space.write(x, v);
    runJvp(s, t, v, jv);
    space.read(jv, w);
    rho = norm2(w);
    if (!(rho > 0) || !std::isfinite(rho))
      break;
    for (size_t i = 0; i < n; ++i)
      x[i] = w[i] / rho;
  }
  return nullptr;
}

/// BDF2 steps adaptively when given tolerances (the model's, the
/// caller's, or a state's own), and with fixed steps otherwise.
bool bdfIsAdaptive(const grade_session &s,
                   const grade_integrate_options_t &options) {
  if (options.rtol > 0 || options.atol > 0 || s.desc->adaptive.rtol > 0 ||
      s.desc->adaptive.atol > 0)
    return true;
  for (auto [rtol, atol] : s.stateTolerance)
    if (rtol > 0 || atol > 0)
      return true;
  return false;
}

/// Checks the options both kinds of scheme share, then integrates to t1,
/// calling the output callback at the requested times.
grade_status_t integrate(grade_session &s, double t1,
                         const grade_integrate_options_t &options,
                         grade_integrate_stats_t &stats) {
  if (grade_status_t status = requireInitialized(s))
    return status;
  if (!std::isfinite(t1))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "end time t1 must be finite, got %g", t1);
  if (std::isnan(options.dt) || std::isinf(options.dt))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "time step dt must be finite, got %g", options.dt);
  if (std::isnan(options.max_abs) || options.max_abs < 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "max_abs must be >= 0 (0: no bound), got %g",
                      options.max_abs);
  if (options.check_every < 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "check_every must be >= 0, got %d",
                      int(options.check_every));
  if (options.num_times < 0 || (options.num_times > 0 && !options.times))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "%lld output times at %p", (long long)options.num_times,
                      (const void *)options.times);
  for (int64_t k = 0; k < options.num_times; ++k) {
    double previous = k ? options.times[k - 1] : s.t;
    if (!(options.times[k] > previous) || options.times[k] > t1)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "output time %lld (%g) must lie after %g and at most "
                        "at t1 = %g",
                        (long long)k, options.times[k], previous, t1);
  }
  if (t1 < s.t)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "t1 = %g is before the current time %g", t1, s.t);
  if (!s.adaptive.empty())
    return t1 == s.t ? nullptr : integrateAdaptive(s, t1, options, stats);
  if ((s.desc->adaptive.bhat && isImplicitScheme(s)) ||
      (s.desc->bdf_order && bdfIsAdaptive(s, options)))
    return t1 == s.t ? nullptr
                     : integrateAdaptiveImplicit(s, t1, options, stats);
  // Fixed steps land on each output time.
  for (int64_t k = 0; k < options.num_times; ++k) {
    if (grade_status_t status =
            integrateFixed(s, options.times[k], options, stats))
      return status;
    if (grade_status_t status =
            emitOutput(s, options, k, options.times[k], nullptr))
      return status;
  }
  return integrateFixed(s, t1, options, stats);
}


} // namespace grade::rt::sess

//===- implicit.cpp - Implicit stages: Newton-Krylov, BDF2, SDIRK --------===//
//
// Split from session.cpp; Session.h declares what the sources share.
//
//===----------------------------------------------------------------------===//

#include "Session.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
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

//===----------------------------------------------------------------------===//
// The solvers' vector spaces
//===----------------------------------------------------------------------===//
//
// The Newton-Krylov stages below are written once, over a space of vectors
// that supplies their operations. EntryVectors, for a library with the
// vector entries (f64 states), holds a vector as one buffer per state in
// the session's memory (a GPU's, or the host's) and runs each operation as
// a vector entry, where the kernels run: on a GPU the states, stage values,
// Krylov bases and BDF2's history stay on the device and only the
// reductions' scalars cross; on a CPU the operations run on the library's
// threads. HostVectors, for the others (f32 states), holds all states one
// after the other in a std::vector<double>, computes here on one thread,
// and fills the library's typed buffers around each entry call. Each
// space's operations name what the solvers compute (x - gamma J x, a
// Newton residual's scaled norm).

/// The states' slots pointed at other buffers for one call.
class Pointed {
public:
  Pointed(StateSpace &space, const std::vector<void *> &at)
      : space(space), saved(space.pointStates(at)) {}
  ~Pointed() { space.pointStates(saved); }
  Pointed(const Pointed &) = delete;
  Pointed &operator=(const Pointed &) = delete;

private:
  StateSpace &space;
  std::vector<void *> saved;
};

class HostVectors {
public:
  using Vec = std::vector<double>;

  explicit HostVectors(grade_session &s) : s(s), space(s) {}
  HostVectors(const HostVectors &) = delete;
  HostVectors &operator=(const HostVectors &) = delete;

  /// The library's typed scratch, kept by the session from step to step.
  grade_status_t prepare() {
    auto &[zBuf, fBuf, vBuf, jvBuf] = s.implicitScratch;
    if (!space.allocate(zBuf) || !space.allocate(fBuf) ||
        !space.allocate(vBuf) || !space.allocate(jvBuf))
      return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                        "model '%s': out of memory for an implicit step",
                        s.desc->name);
    z = StateSpace::pointers(zBuf);
    f = StateSpace::pointers(fBuf);
    v = StateSpace::pointers(vBuf);
    jv = StateSpace::pointers(jvBuf);
    return nullptr;
  }

  size_t size() const { return size_t(space.size); }
  Vec make() const { return Vec(size(), 0.0); }
  const StateSpace &states() const { return space; }

  void readStates(Vec &y) { space.read(space.stateSlots(), y); }
  void writeStates(const Vec &y) { space.write(y, space.stateSlots()); }

  /// A part of f at `at` into `out` (the states' slots pointing at the
  /// scratch `at` is written to, for the call).
  void rhs(double t, const Vec &at, Vec &out, int32_t entry) {
    space.write(at, z);
    Pointed states(space, z);
    runRhs(s, t, f, entry);
    space.read(f, out);
  }
  /// J v at the point of the last rhs (which the scratch still holds;
  /// `at` names it), into `out`.
  void jvp(double t, const Vec &at, const Vec &direction, Vec &out,
           int32_t entry) {
    (void)at;
    space.write(direction, v);
    Pointed states(space, z);
    runJvp(s, t, v, jv, entry);
    space.read(jv, out);
  }
  /// The Jacobian's diagonal at the point of the last rhs, into `out`.
  void diagonal(double t, const Vec &at, Vec &out, int32_t entry) {
    (void)at;
    Pointed states(space, z);
    runDiagonal(s, t, jv, entry);
    space.read(jv, out);
  }

  void zero(Vec &x) { x.assign(size(), 0.0); }
  void assign(Vec &out, const Vec &in) { out = in; }
  double dot(const Vec &a, const Vec &b) { return sess::dot(a, b); }
  double norm2(const Vec &a) { return sess::norm2(a); }
  /// x += alpha y
  void axpy(double alpha, const Vec &y, Vec &x) {
    for (size_t i = 0; i < x.size(); ++i)
      x[i] += alpha * y[i];
  }
  /// x /= d
  void divide(Vec &x, double d) {
    for (double &value : x)
      value /= d;
  }
  /// r = b - w
  void subtract(Vec &r, const Vec &b, const Vec &w) {
    r.resize(b.size());
    for (size_t i = 0; i < b.size(); ++i)
      r[i] = b[i] - w[i];
  }
  /// p = z + c p
  void xpay(Vec &p, const Vec &z, double c) {
    for (size_t i = 0; i < p.size(); ++i)
      p[i] = z[i] + c * p[i];
  }
  /// out = in - gamma out (out holding J in: the stage's operator)
  void shift(Vec &out, const Vec &in, double gamma) {
    for (size_t j = 0; j < out.size(); ++j)
      out[j] = in[j] - gamma * out[j];
  }
  void negate(Vec &g) {
    for (double &value : g)
      value = -value;
  }
  /// G = z - base - gamma F; returns sum (G / (1 + |z|))^2.
  double newtonResidual(Vec &G, const Vec &zv, const Vec &base, const Vec &F,
                        double gamma) {
    G.resize(zv.size());
    double sum = 0;
    for (size_t j = 0; j < zv.size(); ++j) {
      G[j] = zv[j] - base[j] - gamma * F[j];
      double scaled = G[j] / (1 + std::fabs(zv[j]));
      sum += scaled * scaled;
    }
    return sum;
  }
  /// k = (z - base) / gamma
  void slope(Vec &k, const Vec &zv, const Vec &base, double gamma) {
    k.resize(zv.size());
    for (size_t j = 0; j < zv.size(); ++j)
      k[j] = (zv[j] - base[j]) / gamma;
  }
  /// The inverse of the Jacobi preconditioner I - gamma diag(J).
  void jacobiInverse(Vec &inverse, const Vec &diagonal, double gamma) {
    inverse.resize(diagonal.size());
    for (size_t j = 0; j < diagonal.size(); ++j) {
      double m = 1 - gamma * diagonal[j];
      inverse[j] = std::isfinite(m) && std::fabs(m) > 1e-12 ? 1 / m : 1;
    }
  }
  /// r *= inverse, elementwise.
  void precondition(Vec &r, const Vec &inverse) {
    for (size_t j = 0; j < r.size(); ++j)
      r[j] *= inverse[j];
  }
  /// out = in * inverse, elementwise.
  void preconditioned(Vec &out, const Vec &in, const Vec &inverse) {
    out = in;
    precondition(out, inverse);
  }

  /// BDF2's history: the states one step back (0) and two (1).
  bool hasHistory(int k) const {
    return (k ? s.bdfPrevious2 : s.bdfPrevious).size() == size();
  }
  const Vec &history(int k) const { return k ? s.bdfPrevious2 : s.bdfPrevious; }
  void pushHistory(Vec y) {
    s.bdfPrevious2 = std::move(s.bdfPrevious);
    s.bdfPrevious = std::move(y);
  }
  /// base = (1+w)^2/(1+2w) y - w^2/(1+2w) y_{n-1}
  void bdfBase(Vec &base, const Vec &y, double w) {
    double denom = 1 + 2 * w;
    base.resize(y.size());
    for (size_t j = 0; j < y.size(); ++j)
      base[j] =
          (1 + w) * (1 + w) / denom * y[j] - w * w / denom * s.bdfPrevious[j];
  }
  /// e = factor (next - p), p the predictor l0 y + l1 y_{n-1} + l2 y_{n-2}.
  void bdfPredicted(Vec &e, const Vec &y, const Vec &next, double l0, double l1,
                    double l2, double factor) {
    e.resize(y.size());
    for (size_t j = 0; j < y.size(); ++j) {
      double p = l0 * y[j] + l1 * s.bdfPrevious[j] + l2 * s.bdfPrevious2[j];
      e[j] = factor * (next[j] - p);
    }
  }
  /// e = factor (next - p), p = y + h fn + c h^2 with
  /// c = (y_{n-1} - y + h1 fn) / h1^2.
  void bdfPredictedOne(Vec &e, const Vec &y, const Vec &next, const Vec &fn,
                       double h, double h1, double factor) {
    e.resize(y.size());
    for (size_t j = 0; j < y.size(); ++j) {
      double c = (s.bdfPrevious[j] - y[j] + h1 * fn[j]) / (h1 * h1);
      double p = y[j] + h * fn[j] + c * h * h;
      e[j] = factor * (next[j] - p);
    }
  }
  /// e = c (a - b)
  void scaledDifference(Vec &e, double c, const Vec &a, const Vec &b) {
    e.resize(a.size());
    for (size_t j = 0; j < a.size(); ++j)
      e[j] = c * (a[j] - b[j]);
  }
  /// e = h sum_i (b_i - bhat_i) k_i
  void embeddedEstimate(Vec &e, const std::vector<Vec> &k, const double *b,
                        const double *bhat, int32_t stages, double h) {
    e.assign(size(), 0.0);
    for (size_t j = 0; j < e.size(); ++j) {
      for (int32_t i = 0; i < stages; ++i)
        e[j] += (b[i] - bhat[i]) * k[size_t(i)][j];
      e[j] *= h;
    }
  }
  /// sum over the states of (e / (atol + rtol max(|y|, |next|)))^2, with
  /// each state's own tolerances where it has them; `worst` (optional)
  /// receives where the largest scaled error is (the first non-finite
  /// value if any).
  double errorSum(const Vec &e, const Vec &y, const Vec &next, double rtol,
                  double atol, size_t *worst) {
    double sum = 0, largest = -1;
    for (size_t state = 0; state < space.fields.size(); ++state) {
      auto [ownR, ownA] = s.stateTolerance[size_t(space.fields[state])];
      double r = ownR > 0 ? ownR : rtol;
      double a = ownA > 0 ? ownA : atol;
      size_t begin = size_t(space.offsets[state]);
      size_t end = state + 1 < space.fields.size()
                       ? size_t(space.offsets[state + 1])
                       : size();
      for (size_t j = begin; j < end; ++j) {
        double scale = a + r * std::max(std::fabs(y[j]), std::fabs(next[j]));
        double scaled = e[j] / scale;
        sum += scaled * scaled;
        double magnitude = std::isfinite(scaled) && std::isfinite(next[j])
                               ? std::fabs(scaled)
                               : HUGE_VAL;
        if (worst && magnitude > largest)
          largest = magnitude, *worst = j;
      }
    }
    return sum;
  }
  grade_status_t checkStates(double t, int64_t step, int64_t numSteps,
                             double maxAbs) {
    return checkFinite(s, t, step, numSteps, maxAbs);
  }
  /// Hairer-Norsett-Wanner's norms of the start: sum (y / sc)^2 and
  /// sum (f / sc)^2 with sc = atol + rtol |y|.
  void startNorms(const Vec &y, const Vec &fy, double rtol, double atol,
                  double &d0, double &d1) {
    d0 = d1 = 0;
    for (size_t j = 0; j < y.size(); ++j) {
      double scale = atol + rtol * std::fabs(y[j]);
      d0 += (y[j] / scale) * (y[j] / scale);
      d1 += (fy[j] / scale) * (fy[j] / scale);
    }
  }

private:
  grade_session &s;
  StateSpace space;
  std::vector<void *> z, f, v, jv;
};

/// Whether the session's implicit solves run as vector entries (see
/// above): where the library has them, unless GRADE_IMPLICIT_VECTORS=host
/// asks for host vectors (for comparisons).
bool solvesWithEntries(const grade_session &s) {
  if (const char *vectors = std::getenv("GRADE_IMPLICIT_VECTORS"))
    if (std::strcmp(vectors, "host") == 0)
      return false;
  for (int32_t kind = GRADE_ENTRY_VECTOR_LINCOMB;
       kind <= GRADE_ENTRY_VECTOR_ERROR; ++kind)
    if (!findEntry(s, kind))
      return false;
  return true;
}

class EntryVectors {
public:
  /// A vector of the session's pool: one buffer per state. Owning
  /// handles give their vector back when destroyed; a handle without an
  /// owner (BDF2's history) only names one.
  class Vec {
  public:
    Vec() = default;
    Vec(EntryVectors *owner, int32_t id) : owner(owner), id(id) {}
    Vec(Vec &&other) noexcept : owner(other.owner), id(other.id) {
      other.owner = nullptr;
      other.id = -1;
    }
    Vec &operator=(Vec &&other) noexcept {
      if (this != &other) {
        reset();
        owner = other.owner;
        id = other.id;
        other.owner = nullptr;
        other.id = -1;
      }
      return *this;
    }
    Vec(const Vec &) = delete;
    Vec &operator=(const Vec &) = delete;
    ~Vec() { reset(); }
    void reset() {
      if (owner && id >= 0)
        owner->release(id);
      owner = nullptr;
      id = -1;
    }
    bool empty() const { return id < 0; }

  private:
    friend class EntryVectors;
    EntryVectors *owner = nullptr;
    int32_t id = -1;
  };

  explicit EntryVectors(grade_session &s) : s(s), space(s) {}
  EntryVectors(const EntryVectors &) = delete;
  EntryVectors &operator=(const EntryVectors &) = delete;

  grade_status_t prepare() { return nullptr; }
  size_t size() const { return size_t(space.size); }
  Vec make() { return Vec(this, acquire()); }
  const StateSpace &states() const { return space; }

  void readStates(Vec &y) {
    ensure(y);
    std::vector<void *> states = space.stateSlots();
    combine(pointers(y), 1, states, 0, states);
  }
  void writeStates(const Vec &y) {
    combine(space.stateSlots(), 1, pointers(y), 0, pointers(y));
  }

  void rhs(double t, const Vec &at, Vec &out, int32_t entry) {
    ensure(out);
    Pointed states(space, pointers(at));
    runRhs(s, t, pointers(out), entry);
  }
  void jvp(double t, const Vec &at, const Vec &direction, Vec &out,
           int32_t entry) {
    ensure(out);
    Pointed states(space, pointers(at));
    runJvp(s, t, pointers(direction), pointers(out), entry);
  }
  void diagonal(double t, const Vec &at, Vec &out, int32_t entry) {
    ensure(out);
    Pointed states(space, pointers(at));
    runDiagonal(s, t, pointers(out), entry);
  }

  void zero(Vec &x) {
    // The Jacobi entry at gamma = 0 is 1 whatever x holds (NaN included);
    // 0 times that is 0.
    Vec ones = make();
    ensure(x);
    runVectorEntry(s, GRADE_ENTRY_VECTOR_JACOBI, 0, 0, pointers(ones),
                   pointers(x), {}, {});
    combine(pointers(x), 0, pointers(ones), 0, pointers(ones));
  }
  void assign(Vec &out, const Vec &in) { lincomb(out, 1, in, 0, in); }
  double dot(const Vec &a, const Vec &b) {
    return runVectorEntry(s, GRADE_ENTRY_VECTOR_DOT, 0, 0, {}, pointers(a),
                          pointers(b), {});
  }
  double norm2(const Vec &a) { return std::sqrt(dot(a, a)); }
  void axpy(double alpha, const Vec &y, Vec &x) { lincomb(x, 1, x, alpha, y); }
  void divide(Vec &x, double d) { lincomb(x, 1 / d, x, 0, x); }
  void subtract(Vec &r, const Vec &b, const Vec &w) { lincomb(r, 1, b, -1, w); }
  void xpay(Vec &p, const Vec &z, double c) { lincomb(p, 1, z, c, p); }
  void shift(Vec &out, const Vec &in, double gamma) {
    lincomb(out, 1, in, -gamma, out);
  }
  void negate(Vec &g) { lincomb(g, -1, g, 0, g); }
  double newtonResidual(Vec &G, const Vec &zv, const Vec &base, const Vec &F,
                        double gamma) {
    lincomb(G, 1, zv, -1, base);
    lincomb(G, 1, G, -gamma, F);
    return runVectorEntry(s, GRADE_ENTRY_VECTOR_RESIDUAL, 0, 0, {}, pointers(G),
                          pointers(zv), {});
  }
  void slope(Vec &k, const Vec &zv, const Vec &base, double gamma) {
    lincomb(k, 1 / gamma, zv, -1 / gamma, base);
  }
  void jacobiInverse(Vec &inverse, const Vec &diagonal, double gamma) {
    ensure(inverse);
    runVectorEntry(s, GRADE_ENTRY_VECTOR_JACOBI, gamma, 0, pointers(inverse),
                   pointers(diagonal), {}, {});
  }
  void preconditioned(Vec &out, const Vec &in, const Vec &inverse) {
    if (&out == &in || &out == &inverse) {
      precondition(out, &out == &in ? inverse : in);
      return;
    }
    ensure(out);
    runVectorEntry(s, GRADE_ENTRY_VECTOR_MULTIPLY, 0, 0, pointers(out),
                   pointers(in), pointers(inverse), {});
  }
  void precondition(Vec &r, const Vec &inverse) {
    Vec product = make();
    runVectorEntry(s, GRADE_ENTRY_VECTOR_MULTIPLY, 0, 0, pointers(product),
                   pointers(r), pointers(inverse), {});
    r = std::move(product);
  }

  bool hasHistory(int k) const { return s.bdfHistory[k] >= 0; }
  Vec history(int k) const { return Vec(nullptr, s.bdfHistory[k]); }
  void pushHistory(Vec y) {
    if (s.bdfHistory[1] >= 0)
      release(s.bdfHistory[1]);
    s.bdfHistory[1] = s.bdfHistory[0];
    s.bdfHistory[0] = y.id;
    y.owner = nullptr; // the session's now
  }
  void bdfBase(Vec &base, const Vec &y, double w) {
    double denom = 1 + 2 * w;
    lincomb(base, (1 + w) * (1 + w) / denom, y, -(w * w / denom), history(0));
  }
  void bdfPredicted(Vec &e, const Vec &y, const Vec &next, double l0, double l1,
                    double l2, double factor) {
    Vec p = make();
    lincomb(p, l0, y, l1, history(0));
    lincomb(p, 1, p, l2, history(1));
    lincomb(e, factor, next, -factor, p);
  }
  void bdfPredictedOne(Vec &e, const Vec &y, const Vec &next, const Vec &fn,
                       double h, double h1, double factor) {
    // p = y + h fn + (h/h1)^2 (y_{n-1} - y + h1 fn)
    double r = (h * h) / (h1 * h1);
    Vec p = make();
    lincomb(p, 1 - r, y, r, history(0));
    lincomb(p, 1, p, h + r * h1, fn);
    lincomb(e, factor, next, -factor, p);
  }
  void scaledDifference(Vec &e, double c, const Vec &a, const Vec &b) {
    lincomb(e, c, a, -c, b);
  }
  void embeddedEstimate(Vec &e, const std::vector<Vec> &k, const double *b,
                        const double *bhat, int32_t stages, double h) {
    bool first = true;
    for (int32_t i = 0; i < stages; ++i) {
      double c = h * (b[i] - bhat[i]);
      if (c == 0)
        continue;
      if (first)
        lincomb(e, c, k[size_t(i)], 0, k[size_t(i)]);
      else
        lincomb(e, 1, e, c, k[size_t(i)]);
      first = false;
    }
    if (first)
      zero(e);
  }
  double errorSum(const Vec &e, const Vec &y, const Vec &next, double rtol,
                  double atol, size_t *worst) {
    (void)worst; // locateLargestError asks the host's space
    setTolerances(rtol, atol, true);
    return runVectorEntry(s, GRADE_ENTRY_VECTOR_ERROR, 0, 0, {}, pointers(e),
                          pointers(y), pointers(next));
  }
  void startNorms(const Vec &y, const Vec &fy, double rtol, double atol,
                  double &d0, double &d1) {
    setTolerances(rtol, atol, false);
    d0 = runVectorEntry(s, GRADE_ENTRY_VECTOR_ERROR, 0, 0, {}, pointers(y),
                        pointers(y), pointers(y));
    d1 = runVectorEntry(s, GRADE_ENTRY_VECTOR_ERROR, 0, 0, {}, pointers(fy),
                        pointers(y), pointers(y));
  }

  /// checkFinite's verdict on the states, from one reduction where the
  /// kernels run when no bound is asked for: sum (y / (1 + |y|))^2 is
  /// finite exactly when every value is (each term is below 1); the host
  /// scans only to name a culprit, or for a bound.
  grade_status_t checkStates(double t, int64_t step, int64_t numSteps,
                             double maxAbs) {
    if (!(maxAbs > 0)) {
      std::vector<void *> states = space.stateSlots();
      if (std::isfinite(runVectorEntry(s, GRADE_ENTRY_VECTOR_RESIDUAL, 0, 0, {},
                                       states, states, {})))
        return nullptr;
    }
    return checkFinite(s, t, step, numSteps, maxAbs);
  }

  void release(int32_t id) { s.vectorPool.free.push_back(id); }

private:
  /// out = a x + b y (out may be x or y: it is then computed aside).
  void lincomb(Vec &out, double a, const Vec &x, double b, const Vec &y) {
    if (&out == &x || &out == &y || out.empty()) {
      Vec result = make();
      combine(pointers(result), a, pointers(x), b, pointers(y));
      out = std::move(result);
      return;
    }
    combine(pointers(out), a, pointers(x), b, pointers(y));
  }
  void combine(const std::vector<void *> &out, double a,
               const std::vector<void *> &x, double b,
               const std::vector<void *> &y) {
    runVectorEntry(s, GRADE_ENTRY_VECTOR_LINCOMB, a, b, out, x, y, {});
  }
  void ensure(Vec &x) {
    if (x.empty())
      x = make();
  }
  std::vector<void *> pointers(const Vec &x) const {
    if (x.id < 0 || size_t(x.id) >= s.vectorPool.vectors.size())
      throw StatusError{makeStatus(
          GRADE_ERROR_INTERNAL,
          "model '%s': an implicit step read a vector it never computed",
          s.desc->name)};
    std::vector<void *> result;
    for (const Buffer &buffer : *s.vectorPool.vectors[size_t(x.id)])
      result.push_back(buffer.data);
    return result;
  }
  /// Each state's RTOL and ATOL slots: its own tolerances where it has
  /// them (`own`), else (rtol, atol).
  void setTolerances(double rtol, double atol, bool own) {
    for (int32_t i = 0; i < s.desc->num_slots; ++i) {
      const grade_slot_desc_t &slot = s.desc->slots[i];
      if (slot.slot_kind != GRADE_SLOT_RTOL &&
          slot.slot_kind != GRADE_SLOT_ATOL)
        continue;
      auto [ownR, ownA] = s.stateTolerance[size_t(slot.index)];
      double value = slot.slot_kind == GRADE_SLOT_RTOL
                         ? (own && ownR > 0 ? ownR : rtol)
                         : (own && ownA > 0 ? ownA : atol);
      *static_cast<double *>(s.slots[size_t(i)]) = value;
    }
  }
  /// A free vector of the pool (allocated on the session's device or the
  /// host, sized for the bound graph).
  int32_t acquire() {
    auto &pool = s.vectorPool;
    int32_t id;
    if (!pool.free.empty()) {
      id = pool.free.back();
      pool.free.pop_back();
    } else {
      id = int32_t(pool.vectors.size());
      pool.vectors.push_back(
          std::make_unique<std::vector<Buffer>>(space.fields.size()));
    }
    std::vector<Buffer> &buffers = *pool.vectors[size_t(id)];
    for (size_t k = 0; k < buffers.size(); ++k) {
      Buffer &buffer = buffers[k];
      if (buffer.device != s.gpu.get()) {
        buffer.release(buffer.data);
        buffer.data = nullptr;
        buffer.bytes = 0;
        buffer.device = s.gpu.get();
      }
      size_t bytes = size_t(numValues(s, space.fields[k])) * sizeof(double);
      if (!buffer.ensure(bytes)) {
        pool.free.push_back(id);
        throw StatusError{makeStatus(
            GRADE_ERROR_OUT_OF_MEMORY,
            "model '%s': out of memory on %s for the vectors of an implicit "
            "step (%zu bytes)%s%s",
            s.desc->name, s.gpu ? s.gpu->label().c_str() : "the host", bytes,
            s.gpu ? ": " : "", s.gpu ? s.gpu->lastAllocError().c_str() : "")};
      }
    }
    return id;
  }

  grade_session &s;
  StateSpace space;
};

/// Restarted GMRES(restart) for A x = b from x = 0, to ||r|| <= tol ||b||;
/// returns the iterations taken. `apply(in, out)` computes out = A in.
template <typename Space, typename Apply>
int64_t gmres(Space &space, const Apply &apply, const typename Space::Vec &b,
              typename Space::Vec &x, double tol, int64_t maxIterations,
              int restart = 30) {
  using Vec = typename Space::Vec;
  space.zero(x);
  double bnorm = space.norm2(b);
  if (bnorm == 0)
    return 0;
  int64_t iterations = 0;
  Vec r = space.make(), w = space.make();
  space.assign(r, b);
  while (iterations < maxIterations) {
    double beta = space.norm2(r);
    if (beta <= tol * bnorm)
      break;
    std::vector<Vec> V;
    V.push_back(space.make());
    space.assign(V[0], r);
    space.divide(V[0], beta);
    std::vector<std::vector<double>> H; // H[j] has j + 2 entries
    std::vector<double> cs, sn, g = {beta};
    int m = 0;
    for (; m < restart && iterations < maxIterations; ++m, ++iterations) {
      apply(V[size_t(m)], w);
      std::vector<double> h(size_t(m) + 2, 0.0);
      for (int i = 0; i <= m; ++i) { // modified Gram-Schmidt
        h[size_t(i)] = space.dot(w, V[size_t(i)]);
        space.axpy(-h[size_t(i)], V[size_t(i)], w);
      }
      h[size_t(m) + 1] = space.norm2(w);
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
      V.push_back(space.make());
      space.assign(V.back(), w);
      space.divide(V.back(), next);
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
      space.axpy(y[size_t(i)], V[size_t(i)], x);
    apply(x, w); // the true residual for the restart
    space.subtract(r, b, w);
  }
  return iterations;
}

/// Conjugate gradients for A x = b (A symmetric positive definite) from
/// x = 0, preconditioned by `inverse` (M^-1 elementwise) when given;
/// returns the iterations, or -1 if A is not positive definite.
template <typename Space, typename Apply>
int64_t conjugateGradients(Space &space, const Apply &apply,
                           const typename Space::Vec &b, typename Space::Vec &x,
                           double tol, int64_t maxIterations,
                           const typename Space::Vec *inverse) {
  using Vec = typename Space::Vec;
  space.zero(x);
  // z = M^-1 r; without a preconditioner z is r itself (no copy, and
  // r.z is r.r, which the stopping test computes anyway).
  Vec r = space.make(), z = space.make(), p = space.make(), q = space.make();
  space.assign(r, b);
  if (inverse)
    space.preconditioned(z, r, *inverse);
  space.assign(p, inverse ? z : r);
  double rr = space.dot(r, r);
  double rz = inverse ? space.dot(r, z) : rr, bnorm = space.norm2(b);
  int64_t iterations = 0;
  while (iterations < maxIterations && std::sqrt(rr) > tol * bnorm) {
    apply(p, q);
    double pq = space.dot(p, q);
    if (!(pq > 0))
      return -1;
    double alpha = rz / pq;
    space.axpy(alpha, p, x);
    space.axpy(-alpha, q, r);
    rr = space.dot(r, r);
    double next = rr;
    if (inverse) {
      space.preconditioned(z, r, *inverse);
      next = space.dot(r, z);
    }
    space.xpay(p, inverse ? z : r, next / rz);
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

/// The local error of a BDF2 step of size h from y_n = `y` to y_c = `next`
/// (Milne's device), into `e`: with the exact solution's third derivative,
/// the variable-step BDF2 error is K y''' with K = h^3 (1+w)^2 / (6 w
/// (1+2w)), w = h / h_{n-1}, and a quadratic predictor's is P y''' / 6, so
/// the error is K / (K + P/6) (y_c - p). The predictor interpolates the
/// last three states (P = h (h + h1)(h + h1 + h2)), or after one step
/// y_{n-1}, y_n and f_n (P = h^2 (h + h1)). The starting backward-Euler
/// step's error is h/2 (f(y_c) - f_n). `kNext` is f(t + h, y_c), `fn`
/// f(t, y_n) (needed before two steps of history).
template <typename Space>
void bdfErrorEstimate(Space &space, const grade_session &s,
                      typename Space::Vec &e, const typename Space::Vec &y,
                      const typename Space::Vec &next,
                      const typename Space::Vec &kNext,
                      const typename Space::Vec &fn, double h) {
  bool one = s.bdfStep > 0 && space.hasHistory(0);
  bool two = one && s.bdfStep2 > 0 && space.hasHistory(1);
  if (!one) {
    space.scaledDifference(e, 0.5 * h, kNext, fn);
    return;
  }
  double h1 = s.bdfStep, w = h / h1;
  double K = h * h * h * (1 + w) * (1 + w) / (6 * w * (1 + 2 * w));
  if (two) {
    double h2 = s.bdfStep2;
    double l0 = (h + h1) * (h + h1 + h2) / (h1 * (h1 + h2));
    double l1 = -h * (h + h1 + h2) / (h1 * h2);
    double l2 = h * (h + h1) / ((h1 + h2) * h2);
    double factor = K / (K + h * (h + h1) * (h + h1 + h2) / 6);
    space.bdfPredicted(e, y, next, l0, l1, l2, factor);
    return;
  }
  double factor = K / (K + h * h * (h + h1) / 6);
  space.bdfPredictedOne(e, y, next, fn, h, h1, factor);
}

/// One step of a diagonally implicit scheme from the current states at t.
/// With `next`, the new states are returned there instead of written,
/// and `error` receives the embedded estimate's scaled RMS norm (adaptive
/// schemes).
template <typename Vec> struct ImplicitProposal {
  Vec *next = nullptr;
  double *error = nullptr;
  double rtol = 0, atol = 0;
  /// Where the largest scaled error is (the first non-finite value if
  /// any), as an index into the states' vector (host vectors only).
  size_t *worst = nullptr;
};

template <typename Space>
grade_status_t
implicitStep(Space &space, grade_session &s, double t, double h,
             const ImplicitOptions &options, grade_integrate_stats_t &stats,
             ImplicitProposal<typename Space::Vec> proposal = {}) {
  using Vec = typename Space::Vec;
  const grade_scheme_desc_t &scheme = s.desc->scheme;
  if (grade_status_t status = space.prepare())
    return status;
  // IMEX: the implicit part's entries, and the explicit part's tableau.
  const double *ea = s.desc->explicit_a, *eb = s.desc->explicit_b;
  bool imex = ea && eb;
  int32_t rhsEntry = imex ? GRADE_ENTRY_IMPLICIT_RHS : GRADE_ENTRY_RHS;
  int32_t jvpEntry = imex ? GRADE_ENTRY_IMPLICIT_JVP : GRADE_ENTRY_JVP;
  int32_t diagonalEntry =
      imex ? GRADE_ENTRY_IMPLICIT_DIAGONAL : GRADE_ENTRY_DIAGONAL;
  // Jacobi: M = I - gamma diag(J), from the library's diagonal entry.
  bool jacobi = options.jacobi && findEntry(s, diagonalEntry);
  Vec diagonal = space.make(), inverse = space.make(), y = space.make();
  space.readStates(y);
  int32_t stages = scheme.stages;
  std::vector<Vec> k(static_cast<size_t>(stages)), e(imex ? size_t(stages) : 0);
  // Whether stage i's slope of a tableau (a, b) is used after it.
  auto used = [&](const double *a, const double *b, int32_t i) {
    if (b[i] != 0)
      return true;
    for (int32_t row = i + 1; row < stages; ++row)
      if (a[row * stages + i] != 0)
        return true;
    return false;
  };
  // f (or a part of it) at `at`, into `out`.
  auto rhsAt = [&](double time, const Vec &at, Vec &out, int32_t entry) {
    space.rhs(time, at, out, entry);
    ++stats.rhs_evaluations;
  };
  // BDF2 after its first step: one implicit solve of
  //   z = (1+w)^2/(1+2w) y_n - w^2/(1+2w) y_{n-1} + (1+w)/(1+2w) h f(t+h, z),
  // w = h / h_{n-1} (Hairer-Wanner's variable-step coefficients).
  bool bdf = s.desc->bdf_order == 2 && s.bdfStep > 0 && space.hasHistory(0);
  size_t n = space.size();
  Vec base = space.make(), zv = space.make(), F = space.make(),
      G = space.make(), delta = space.make();
  for (int32_t i = 0; i < (bdf ? 1 : stages); ++i) {
    space.assign(base, y);
    for (int32_t j = 0; j < i; ++j) {
      if (double a = scheme.a[i * stages + j]; a != 0)
        space.axpy(h * a, k[size_t(j)], base);
      if (imex)
        if (double a = ea[i * stages + j]; a != 0)
          space.axpy(h * a, e[size_t(j)], base);
    }
    double ti = t + scheme.c[i] * h;
    double gamma = h * scheme.a[i * stages + i];
    if (bdf) {
      double w = h / s.bdfStep;
      space.bdfBase(base, y, w);
      ti = t + h;
      gamma = (1 + w) / (1 + 2 * w) * h;
    }
    if (gamma == 0) {
      if (!imex || used(scheme.a, scheme.b, i))
        rhsAt(ti, base, k[size_t(i)], rhsEntry);
      if (imex && used(ea, eb, i))
        rhsAt(ti, base, e[size_t(i)], GRADE_ENTRY_EXPLICIT_RHS);
      continue;
    }
    space.assign(zv, base);
    int32_t iteration = 0;
    double residual = 0;
    for (;; ++iteration) {
      rhsAt(ti, zv, F, rhsEntry);
      double sum = space.newtonResidual(G, zv, base, F, gamma);
      residual = n ? std::sqrt(sum / double(n)) : 0;
      if (!std::isfinite(residual))
        break;
      if (residual <= options.newtonTol || iteration == options.maxNewton)
        break;
      ++stats.newton_iterations;
      // (I - gamma J(z)) delta = -G at z (the point of the last rhs).
      auto apply = [&](const Vec &in, Vec &out) {
        space.jvp(ti, zv, in, out, jvpEntry);
        ++stats.jvp_evaluations;
        space.shift(out, in, gamma);
      };
      space.negate(G);
      if (jacobi) {
        space.diagonal(ti, zv, diagonal, diagonalEntry);
        space.jacobiInverse(inverse, diagonal, gamma);
      }
      int64_t krylov;
      if (options.solver == GRADE_LINEAR_SOLVER_CG) {
        krylov =
            conjugateGradients(space, apply, G, delta, options.krylovTol,
                               options.maxKrylov, jacobi ? &inverse : nullptr);
      } else if (jacobi) {
        // Right preconditioning: A M^-1 u = -G, delta = M^-1 u.
        Vec scaled = space.make();
        auto right = [&](const Vec &in, Vec &out) {
          space.preconditioned(scaled, in, inverse);
          apply(scaled, out);
        };
        krylov =
            gmres(space, right, G, delta, options.krylovTol, options.maxKrylov);
        space.precondition(delta, inverse);
      } else {
        krylov =
            gmres(space, apply, G, delta, options.krylovTol, options.maxKrylov);
      }
      if (krylov < 0)
        return makeStatus(
            GRADE_ERROR_NUMERICAL,
            "model '%s': conjugate gradients met a direction of non-positive "
            "curvature at t = %g (stage %d, Newton iteration %d): I - h a J "
            "is not symmetric positive definite; use GMRES (--linear-solver "
            "gmres)",
            s.desc->name, t, int(i + 1), int(iteration + 1));
      stats.krylov_iterations += krylov;
      space.axpy(1.0, delta, zv);
    }
    if (!(residual <= options.newtonTol))
      return makeStatus(
          GRADE_ERROR_NUMERICAL,
          "model '%s': Newton's method did not converge at t = %g, step "
          "size %g, stage %d of %d: residual %g after %d iterations (tolerance "
          "%g); take a smaller step, or raise --max-newton",
          s.desc->name, t, h, int(i + 1), int(stages), residual,
          int(iteration), options.newtonTol);
    space.slope(k[size_t(i)], zv, base, gamma);
    if (imex && used(ea, eb, i))
      rhsAt(ti, zv, e[size_t(i)], GRADE_ENTRY_EXPLICIT_RHS);
  }
  Vec next = space.make();
  if (bdf) {
    space.assign(next, zv);
  } else {
    space.assign(next, y);
    for (int32_t i = 0; i < stages; ++i) {
      if (double b = scheme.b[i]; b != 0)
        space.axpy(h * b, k[size_t(i)], next);
      if (imex)
        if (double b = eb[i]; b != 0)
          space.axpy(h * b, e[size_t(i)], next);
    }
  }
  if (proposal.next) {
    // e = h sum_i (b_i - bhat_i) k_i, scaled as for the explicit pairs;
    // BDF2: Milne's estimate from a predictor (bdfErrorEstimate).
    Vec estimate = space.make();
    if (s.desc->bdf_order) {
      Vec fn = space.make();
      if (!space.hasHistory(1) || !(s.bdfStep2 > 0))
        rhsAt(t, y, fn, rhsEntry); // the start's estimates need f(t, y)
      bdfErrorEstimate(space, s, estimate, y, next, k[0], fn, h);
    } else {
      space.embeddedEstimate(estimate, k, scheme.b, s.desc->adaptive.bhat,
                             stages, h);
    }
    double sum = space.errorSum(estimate, y, next, proposal.rtol, proposal.atol,
                                proposal.worst);
    *proposal.error = n ? std::sqrt(sum / double(n)) : 0;
    *proposal.next = std::move(next);
    return nullptr;
  }
  space.writeStates(next);
  if (s.desc->bdf_order) {
    space.pushHistory(std::move(y));
    s.bdfStep2 = s.bdfStep;
    s.bdfStep = h;
  }
  return nullptr;
}

std::string locateLargestError(grade_session &s, double t, double h,
                               double rtol, double atol) {
  grade_integrate_options_t defaults = GRADE_INTEGRATE_OPTIONS_INIT;
  grade_integrate_stats_t scratch = GRADE_INTEGRATE_STATS_INIT;
  // On the host's vectors (they read a device's states through managed
  // memory): the one path that reports where.
  HostVectors space(s);
  std::vector<double> next;
  double error = 0;
  size_t worst = SIZE_MAX;
  if (grade_status_t status =
          implicitStep(space, s, t, h, implicitOptions(defaults), scratch,
                       {&next, &error, rtol, atol, &worst})) {
    grade_status_free(status);
    return "";
  }
  if (worst == SIZE_MAX)
    return "";
  const StateSpace &states = space.states();
  size_t state = size_t(std::upper_bound(states.offsets.begin(),
                                         states.offsets.end(), int64_t(worst)) -
                        states.offsets.begin()) -
                 1;
  const grade_field_desc_t &field = s.desc->fields[states.fields[state]];
  int64_t index = int64_t(worst) - states.offsets[state];
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
template <typename Space>
grade_status_t integrateAdaptiveImplicit(Space &space, grade_session &s,
                                         double t1,
                                         const grade_integrate_options_t &o,
                                         grade_integrate_stats_t &stats) {
  using Vec = typename Space::Vec;
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

  double h = o.dt > 0 ? o.dt : desc.dt;
  if (!(h > 0)) {
    // h0 = 0.01 |y| / |f|, scaled (the first phase of Hairer-Norsett-Wanner's
    // choice; the controller corrects it within a few steps).
    if (grade_status_t status = space.prepare())
      return status;
    Vec y = space.make(), f = space.make();
    space.readStates(y);
    space.rhs(s.t, y, f, GRADE_ENTRY_RHS);
    ++stats.rhs_evaluations;
    double d0 = 0, d1 = 0;
    space.startNorms(y, f, rtol, atol, d0, d1);
    d0 = std::sqrt(d0 / double(std::max<size_t>(space.size(), 1)));
    d1 = std::sqrt(d1 / double(std::max<size_t>(space.size(), 1)));
    h = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
    h = std::min(h, t1 - s.t);
  }
  int64_t nextOutput = 0;
  StepSizeController controller(errorOrder);
  double lastError = 0;
  bool lastFailed = false;
  Vec next = space.make();
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
    grade_status_t failure =
        implicitStep(space, s, t, hStep, solve, stats,
                     ImplicitProposal<Vec>{&next, &err, rtol, atol});
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
      Vec before = space.make();
      space.readStates(before);
      space.pushHistory(std::move(before));
      s.bdfStep2 = s.bdfStep;
      s.bdfStep = hStep;
    }
    space.writeStates(next);
    double tNew = last ? t1 : t + hStep;
    if (nextOutput < o.num_times && hStep == o.times[nextOutput] - t)
      tNew = o.times[nextOutput];
    s.t = tNew;
    recordAccepted(stats, hStep);
    ++stats.finite_checks;
    if (grade_status_t status =
            space.checkStates(tNew, stats.steps, stats.steps, o.max_abs))
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

/// The adaptive implicit integration in the session's space.
grade_status_t integrateAdaptiveImplicit(grade_session &s, double t1,
                                         const grade_integrate_options_t &o,
                                         grade_integrate_stats_t &stats) {
  if (solvesWithEntries(s)) {
    EntryVectors space(s);
    return integrateAdaptiveImplicit(space, s, t1, o, stats);
  }
  HostVectors space(s);
  return integrateAdaptiveImplicit(space, s, t1, o, stats);
}

grade_status_t takeImplicitStep(grade_session &s, double t, double h,
                                const grade_integrate_options_t &options,
                                grade_integrate_stats_t &stats) {
  if (solvesWithEntries(s)) {
    EntryVectors space(s);
    return implicitStep(space, s, t, h, implicitOptions(options), stats);
  }
  HostVectors space(s);
  return implicitStep(space, s, t, h, implicitOptions(options), stats);
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

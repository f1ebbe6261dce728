//===- lie.cpp - Lie point symmetries of a grid model's PDE -----*- C++ -*-===//
//
// A grid model's `lie u over [0, L) { ... }` clause lists point
// transformations of (x, t, u) with a parameter eps that map solutions of
// its PDE to solutions. The descriptor carries each as three programs in
// reverse Polish notation over the variables (eps, x, t, u) (grade_lie_desc_t),
// whose formulas the compiler has checked to be affine:
//
//   x~ = a x + b t + c,   t~ = d t + e,   u~ = f u + g t + h,
//
// a, ..., h functions of eps. Here the programs are interpreted (every
// error a status), the coefficients read off at a given eps by evaluating
// the programs at the origin and the unit points (and the affine structure
// verified at further points), and a trajectory of the state on the
// periodic grid x_i = i L / N transformed: frame k, at time t_k, becomes
//
//   u~(x~_j, t~_k) = f u(x, t_k) + g t_k + h,   x = (x~_j - b t_k - c) / a,
//
// on the grid x~_j = j |a| L / N of period |a| L, at t~_k = d t_k + e; u
// between grid points is the frame's trigonometric interpolant. Since x =
// sign(a) j L / N + s with s = -(b t_k + c) / a, the new frame is the
// interpolant shifted by s (and reflected when a < 0) sampled on the old
// grid: a direct DFT of the frame, each coefficient turned by the phase of
// the shift, and an inverse DFT, both from one table of cos and sin of
// 2 pi k / N (O(N^2) per frame, exact indices).
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <set>

using namespace grade::rt;

namespace {

/// The deepest stack a program may use.
constexpr int kMaxStack = 64;

/// Relative tolerance of the affine structure check.
constexpr double kAffineTolerance = 1e-9;

constexpr double kPi = 3.14159265358979323846;

const char *opName(int op) {
  static constexpr const char *kNames[] = {
      "const", "var",  "add", "sub", "mul", "div",  "pow",  "neg", "exp",
      "log",   "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh"};
  return op >= 0 && op <= GRADE_LIE_TANH ? kNames[op] : "?";
}

/// The variables of a program, in the order of GRADE_LIE_VAR's operand.
struct Point {
  double eps, x, t, u;
};

/// Runs the program `code` (`length` operations) at `p` into `result`.
/// Empty on success, else what is wrong with the program (its structure:
/// a non-finite result is the caller's to judge). A NULL program is the
/// identity of `identity` (1 x, 2 t, 3 u).
std::string run(const double *code, int32_t length, int identity,
                const Point &p, double &result) {
  const double vars[4] = {p.eps, p.x, p.t, p.u};
  if (length < 0)
    return format("the program has a negative length %d", int(length));
  if (!code) {
    if (length != 0)
      return format("the program is NULL but has length %d", int(length));
    result = vars[identity];
    return "";
  }
  if (length == 0)
    return "the program has length 0 but is not NULL";
  double stack[kMaxStack];
  int depth = 0;
  for (int32_t i = 0; i < length; ++i) {
    double opcode = code[2 * size_t(i)], operand = code[2 * size_t(i) + 1];
    if (!(opcode >= 0 && opcode <= GRADE_LIE_TANH &&
          opcode == std::floor(opcode)))
      return format("operation %d has unknown opcode %s", int(i),
                    formatDouble(opcode).c_str());
    int op = int(opcode);
    if (op == GRADE_LIE_CONST || op == GRADE_LIE_VAR) {
      if (depth == kMaxStack)
        return format("operation %d (%s) overflows the stack of %d values",
                      int(i), opName(op), kMaxStack);
      double value;
      if (op == GRADE_LIE_CONST) {
        if (!std::isfinite(operand))
          return format("operation %d (const) pushes %s", int(i),
                        formatDouble(operand).c_str());
        value = operand;
      } else {
        if (!(operand >= 0 && operand <= 3 && operand == std::floor(operand)))
          return format("operation %d (var) reads variable %s (0 eps, 1 x, 2 "
                        "t, 3 u)",
                        int(i), formatDouble(operand).c_str());
        value = vars[int(operand)];
      }
      stack[depth++] = value;
      continue;
    }
    int needs = op <= GRADE_LIE_POW ? 2 : 1;
    if (depth < needs)
      return format("operation %d (%s) needs %d value%s, the stack has %d",
                    int(i), opName(op), needs, needs == 1 ? "" : "s", depth);
    double b = stack[--depth];
    double a = needs == 2 ? stack[--depth] : 0.0;
    double value = 0;
    switch (op) {
    case GRADE_LIE_ADD:
      value = a + b;
      break;
    case GRADE_LIE_SUB:
      value = a - b;
      break;
    case GRADE_LIE_MUL:
      value = a * b;
      break;
    case GRADE_LIE_DIV:
      value = a / b;
      break;
    case GRADE_LIE_POW:
      value = std::pow(a, b);
      break;
    case GRADE_LIE_NEG:
      value = -b;
      break;
    case GRADE_LIE_EXP:
      value = std::exp(b);
      break;
    case GRADE_LIE_LOG:
      value = std::log(b);
      break;
    case GRADE_LIE_SQRT:
      value = std::sqrt(b);
      break;
    case GRADE_LIE_SIN:
      value = std::sin(b);
      break;
    case GRADE_LIE_COS:
      value = std::cos(b);
      break;
    case GRADE_LIE_TAN:
      value = std::tan(b);
      break;
    case GRADE_LIE_SINH:
      value = std::sinh(b);
      break;
    case GRADE_LIE_COSH:
      value = std::cosh(b);
      break;
    case GRADE_LIE_TANH:
      value = std::tanh(b);
      break;
    }
    stack[depth++] = value;
  }
  if (depth != 1)
    return format("the program leaves %d values (exactly 1 expected)", depth);
  result = stack[0];
  return "";
}

/// The three formulas of a transformation.
struct Formula {
  const char *name; ///< "x~"
  const double *code;
  int32_t length;
  int identity; ///< the variable a NULL program stands for
};

std::array<Formula, 3> formulas(const grade_lie_desc_t &lie) {
  return {Formula{"x~", lie.x, lie.x_length, 1},
          Formula{"t~", lie.t, lie.t_length, 2},
          Formula{"u~", lie.u, lie.u_length, 3}};
}

/// The transformation's name in messages.
std::string label(const grade_lie_desc_t &lie) {
  return format("Lie transformation '%s'", lie.name ? lie.name : "?");
}

/// "u ('x', field 4)" / "field 9" for the state of messages.
std::string fieldLabel(const grade_model_descriptor_t &desc, int32_t index) {
  if (index >= 0 && index < desc.num_fields && desc.fields[index].name)
    return format("'%s' (field %d)", desc.fields[index].name, int(index));
  return format("field %d", int(index));
}

/// The names of the model's transformations, "shift, boost"; "none".
std::string names(const grade_symmetry_desc_t &symmetry) {
  std::string list;
  for (int32_t i = 0; i < symmetry.num_lie; ++i)
    list += (i ? ", " : "") +
            std::string(symmetry.lie[i].name ? symmetry.lie[i].name : "?");
  return list.empty() ? "none" : list;
}

/// Finds the transformation `name` of a model with a `lie` clause (which
/// is checked, since the descriptor need not have been validated).
grade_status_t find(const grade_model_descriptor_t &model, const char *name,
                    const grade_lie_desc_t *&found) {
  const grade_symmetry_desc_t *symmetry = symmetryOf(model);
  const char *modelName = model.name ? model.name : "?";
  if (!symmetry || symmetry->lie_state < 0)
    return makeStatus(GRADE_ERROR_NOT_FOUND,
                      "model '%s' has no Lie transformation '%s': it has no "
                      "`lie` clause",
                      modelName, name);
  if (model.num_fields < 0 || (model.num_fields > 0 && !model.fields))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "model '%s' has %d fields at %p", modelName,
                      int(model.num_fields), (const void *)model.fields);
  std::string bad = checkLie(model, *symmetry);
  if (!bad.empty())
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "model '%s': %s", modelName,
                      bad.c_str());
  for (int32_t i = 0; i < symmetry->num_lie; ++i)
    if (std::strcmp(symmetry->lie[i].name, name) == 0) {
      found = &symmetry->lie[i];
      return nullptr;
    }
  return makeStatus(GRADE_ERROR_NOT_FOUND,
                    "model '%s' has no Lie transformation '%s'; its "
                    "transformations: %s",
                    modelName, name, names(*symmetry).c_str());
}

/// Evaluates one formula at `p`, which must give a finite number.
grade_status_t evaluate(const grade_lie_desc_t &lie, const Formula &formula,
                        const Point &p, double &value) {
  std::string bad =
      run(formula.code, formula.length, formula.identity, p, value);
  if (!bad.empty())
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "%s: the program of %s: %s",
                      label(lie).c_str(), formula.name, bad.c_str());
  if (!std::isfinite(value))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "%s: %s is %s at eps = %s, x = %s, t = %s, u = %s",
                      label(lie).c_str(), formula.name,
                      formatDouble(value).c_str(), formatDouble(p.eps).c_str(),
                      formatDouble(p.x).c_str(), formatDouble(p.t).c_str(),
                      formatDouble(p.u).c_str());
  return nullptr;
}

/// The coefficients a..h at eps: each formula at the origin and the unit
/// points, its affine form then checked at points off those (one variable
/// at a time, then all together), to kAffineTolerance relative.
grade_status_t computeCoefficients(const grade_lie_desc_t &lie, double eps,
                                   double out[8]) {
  if (!std::isfinite(eps))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "%s: eps is %s",
                      label(lie).c_str(), formatDouble(eps).c_str());
  // Which variables (x, t, u) each formula may depend on, and the forms.
  static constexpr bool kAllowed[3][3] = {
      {true, true, false}, {false, true, false}, {false, true, true}};
  static constexpr const char *kForms[3] = {"a x + b t + c", "d t + e",
                                            "f u + g t + h"};
  static constexpr const char *kVariables[3] = {"x", "t", "u"};
  // Off-grid values of x, t, u for the structure check.
  static constexpr double kProbe[3] = {0.7390851332151607, -1.2345678901,
                                       2.2360679774997896};
  auto formulaList = formulas(lie);
  // slope[k][v]: d(formula k)/d(variable v); base[k]: formula k at 0.
  double base[3], slope[3][3];
  for (int k = 0; k < 3; ++k) {
    const Formula &formula = formulaList[size_t(k)];
    if (grade_status_t status = evaluate(lie, formula, {eps, 0, 0, 0}, base[k]))
      return status;
    for (int v = 0; v < 3; ++v) {
      Point unit = {eps, v == 0 ? 1.0 : 0.0, v == 1 ? 1.0 : 0.0,
                    v == 2 ? 1.0 : 0.0};
      double value;
      if (grade_status_t status = evaluate(lie, formula, unit, value))
        return status;
      slope[k][v] = value - base[k];
    }
    // Off the unit points: one variable at a time, then all three.
    for (int v = 0; v <= 3; ++v) {
      Point probe = {eps, v == 0 || v == 3 ? kProbe[0] : 0.0,
                     v == 1 || v == 3 ? kProbe[1] : 0.0,
                     v == 2 || v == 3 ? kProbe[2] : 0.0};
      double value;
      if (grade_status_t status = evaluate(lie, formula, probe, value))
        return status;
      double predicted = base[k], scale = std::max(1.0, std::fabs(base[k]));
      const double coordinates[3] = {probe.x, probe.t, probe.u};
      for (int w = 0; w < 3; ++w)
        if (kAllowed[k][w]) {
          predicted += slope[k][w] * coordinates[w];
          scale = std::max(scale, std::fabs(slope[k][w] * coordinates[w]));
        }
      double tolerance = kAffineTolerance * scale;
      if (v < 3 && !kAllowed[k][v] &&
          (std::fabs(slope[k][v]) > tolerance ||
           std::fabs(value - base[k]) > tolerance))
        return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                          "%s: %s depends on %s at eps = %s; it must be %s",
                          label(lie).c_str(), formula.name, kVariables[v],
                          formatDouble(eps).c_str(), kForms[k]);
      if (!(std::fabs(value - predicted) <= tolerance)) {
        std::string where = v < 3 ? format("is not affine in %s", kVariables[v])
                                  : std::string("is not affine in (x, t, u)");
        return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                          "%s: %s %s at eps = %s (%s where the affine form "
                          "gives %s); it must be %s",
                          label(lie).c_str(), formula.name, where.c_str(),
                          formatDouble(eps).c_str(),
                          formatDouble(value).c_str(),
                          formatDouble(predicted).c_str(), kForms[k]);
      }
    }
  }
  double c[8] = {slope[0][0], slope[0][1], base[0],     slope[1][1],
                 base[1],     slope[2][2], slope[2][1], base[2]};
  static constexpr struct {
    int index;
    const char *name, *formula, *variable;
  } kNonZero[] = {
      {0, "a", "x~", "x"}, {3, "d", "t~", "t"}, {5, "f", "u~", "u"}};
  for (auto [index, name, formula, variable] : kNonZero)
    if (c[index] == 0)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "%s: %s = 0 at eps = %s (%s does not depend on %s); "
                        "the transformation is not invertible",
                        label(lie).c_str(), name, formatDouble(eps).c_str(),
                        formula, variable);
  std::memcpy(out, c, sizeof(c));
  return nullptr;
}

/// One frame of the augmentation: the trigonometric interpolant of
/// `frame` (N samples on the period), shifted by `shift` periods and
/// reflected when `reflect`, sampled on the grid into `result`:
/// result[j] = p((sign j / N + shift) L) with p the interpolant.
/// cosTable[k], sinTable[k] = cos, sin (2 pi k / N).
void shiftFrame(const std::vector<double> &frame, double shift, bool reflect,
                const std::vector<double> &cosTable,
                const std::vector<double> &sinTable,
                std::vector<double> &cosPart, std::vector<double> &sinPart,
                std::vector<double> &result) {
  size_t n = frame.size();
  size_t half = (n - 1) / 2; // frequencies 1..half with both parts
  bool nyquist = n % 2 == 0;
  // p(x) = A_0 + sum_m (A_m cos(m th) + B_m sin(m th)) + A_{N/2} cos(N/2
  // th), th = 2 pi x / L.
  double mean = 0;
  for (double value : frame)
    mean += value;
  mean /= double(n);
  for (size_t m = 1; m <= half; ++m) {
    double sumCos = 0, sumSin = 0;
    size_t index = 0;
    for (size_t i = 0; i < n; ++i) {
      sumCos += frame[i] * cosTable[index];
      sumSin += frame[i] * sinTable[index];
      index += m;
      if (index >= n)
        index -= n;
    }
    cosPart[m] = 2 * sumCos / double(n);
    sinPart[m] = 2 * sumSin / double(n);
  }
  double nyquistPart = 0;
  if (nyquist) {
    for (size_t i = 0; i < n; ++i)
      nyquistPart += i % 2 ? -frame[i] : frame[i];
    nyquistPart /= double(n);
  }
  // p at th_j' = sign th_j + phi, phi = 2 pi shift: each frequency turned
  // by m phi; cos(m sign th_j) = cos(m th_j), sin(m sign th_j) = sign
  // sin(m th_j). The Nyquist term's sine part vanishes on the grid.
  double phase = 2 * kPi * (shift - std::floor(shift));
  double sign = reflect ? -1.0 : 1.0;
  for (size_t m = 1; m <= half; ++m) {
    double c = std::cos(double(m) * phase), s = std::sin(double(m) * phase);
    double turnedCos = cosPart[m] * c + sinPart[m] * s;
    double turnedSin = sign * (sinPart[m] * c - cosPart[m] * s);
    cosPart[m] = turnedCos;
    sinPart[m] = turnedSin;
  }
  if (nyquist)
    nyquistPart *= std::cos(double(n / 2) * phase);
  for (size_t j = 0; j < n; ++j) {
    double sum = mean;
    size_t index = 0;
    for (size_t m = 1; m <= half; ++m) {
      index += j;
      if (index >= n)
        index -= n;
      sum += cosPart[m] * cosTable[index] + sinPart[m] * sinTable[index];
    }
    if (nyquist)
      sum += j % 2 ? -nyquistPart : nyquistPart;
    result[j] = sum;
  }
}

grade_status_t augment(const grade_model_descriptor_t &model, const char *name,
                       double eps, const grade_tensor_t *trajectory,
                       const double *times, double period, grade_tensor_t **out,
                       double *outTimes, double *outPeriod) {
  const grade_lie_desc_t *lie = nullptr;
  if (grade_status_t status = find(model, name, lie))
    return status;
  std::string what = label(*lie) + ": trajectory";
  if (grade_status_t status = validateTensor(trajectory, what.c_str()))
    return status;
  if (trajectory->dtype != GRADE_DTYPE_F32 &&
      trajectory->dtype != GRADE_DTYPE_F64)
    return makeStatus(GRADE_ERROR_DTYPE_MISMATCH,
                      "%s must be f32 or f64, got %s", what.c_str(),
                      grade_dtype_name(trajectory->dtype));
  if (trajectory->rank != 2 || trajectory->shape[0] < 1 ||
      trajectory->shape[1] < 2)
    return makeStatus(GRADE_ERROR_SHAPE_MISMATCH,
                      "%s: expected shape [T, N] (T >= 1 frames of the N >= 2 "
                      "grid nodes), got %s",
                      what.c_str(),
                      shapeString(trajectory->shape, trajectory->rank).c_str());
  int64_t numFrames = trajectory->shape[0], n = trajectory->shape[1];
  if (!times)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "%s: times is NULL",
                      label(*lie).c_str());
  for (int64_t k = 0; k < numFrames; ++k)
    if (!std::isfinite(times[k]))
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "%s: times[%lld] is %s",
                        label(*lie).c_str(), (long long)k,
                        formatDouble(times[k]).c_str());
  if (!(std::isfinite(period) && period > 0))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "%s: the period must be positive and finite, got %s",
                      label(*lie).c_str(), formatDouble(period).c_str());
  double c[8];
  if (grade_status_t status = computeCoefficients(*lie, eps, c))
    return status;
  double a = c[0], b = c[1], shiftC = c[2], d = c[3], e = c[4], f = c[5],
         g = c[6], h = c[7];
  double newPeriod = std::fabs(a) * period;
  if (!(std::isfinite(newPeriod) && newPeriod > 0))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "%s: the new period |a| L = %s * %s is %s",
                      label(*lie).c_str(), formatDouble(a).c_str(),
                      formatDouble(period).c_str(),
                      formatDouble(newPeriod).c_str());
  std::vector<double> newTimes(static_cast<size_t>(numFrames));
  for (int64_t k = 0; k < numFrames; ++k) {
    newTimes[size_t(k)] = d * times[k] + e;
    if (!std::isfinite(newTimes[size_t(k)]))
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "%s: the new time of frame %lld, %s * %s + %s, is %s",
                        label(*lie).c_str(), (long long)k,
                        formatDouble(d).c_str(), formatDouble(times[k]).c_str(),
                        formatDouble(e).c_str(),
                        formatDouble(newTimes[size_t(k)]).c_str());
  }
  bool isF64 = trajectory->dtype == GRADE_DTYPE_F64;
  auto load = [&](size_t index) {
    return isF64 ? static_cast<const double *>(trajectory->data)[index]
                 : double(static_cast<const float *>(trajectory->data)[index]);
  };
  size_t total = size_t(numFrames) * size_t(n);
  for (size_t index = 0; index < total; ++index)
    if (!std::isfinite(load(index)))
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "%s[%lld, %lld] is %s",
                        what.c_str(), (long long)(index / size_t(n)),
                        (long long)(index % size_t(n)),
                        formatDouble(load(index)).c_str());

  // Everything that may throw before the result is allocated.
  size_t size = static_cast<size_t>(n);
  std::vector<double> cosTable(size), sinTable(size);
  for (int64_t k = 0; k < n; ++k) {
    double angle = 2 * kPi * double(k) / double(n);
    cosTable[size_t(k)] = std::cos(angle);
    sinTable[size_t(k)] = std::sin(angle);
  }
  std::vector<double> frame(size), shifted(size), cosPart(size / 2 + 1),
      sinPart(size / 2 + 1);
  grade_tensor_t *result = nullptr;
  if (grade_status_t status =
          grade_tensor_create(trajectory->dtype, 2, trajectory->shape, &result))
    return status;
  for (int64_t k = 0; k < numFrames; ++k) {
    for (int64_t i = 0; i < n; ++i)
      frame[size_t(i)] = load(size_t(k * n + i));
    // x = (x~_j - b t - c) / a = sign(a) j L / N + s.
    double t = times[k];
    double shift = -(b * t + shiftC) / a / period;
    shiftFrame(frame, shift, a < 0, cosTable, sinTable, cosPart, sinPart,
               shifted);
    double offset = g * t + h;
    for (int64_t j = 0; j < n; ++j) {
      double value = f * shifted[size_t(j)] + offset;
      if (!std::isfinite(value)) {
        grade_tensor_free(result);
        return makeStatus(GRADE_ERROR_NUMERICAL,
                          "%s: the new frame %lld is %s at node %lld",
                          label(*lie).c_str(), (long long)k,
                          formatDouble(value).c_str(), (long long)j);
      }
      if (isF64)
        static_cast<double *>(result->data)[size_t(k * n + j)] = value;
      else
        static_cast<float *>(result->data)[size_t(k * n + j)] = float(value);
    }
  }
  if (outTimes)
    std::memcpy(outTimes, newTimes.data(), newTimes.size() * sizeof(double));
  if (outPeriod)
    *outPeriod = newPeriod;
  *out = result;
  return nullptr;
}

} // namespace

std::string grade::rt::checkLie(const grade_model_descriptor_t &desc,
                                const grade_symmetry_desc_t &symmetry) {
  int32_t state = symmetry.lie_state, periodField = symmetry.lie_period_field;
  if (state < -1 || state >= desc.num_fields)
    return format("lie state %d is not a field index (-1 for none, 0..%d)",
                  int(state), int(desc.num_fields - 1));
  if (state >= 0) {
    const grade_field_desc_t &field = desc.fields[state];
    if (field.role != GRADE_ROLE_STATE || field.kind != GRADE_KIND_NODE ||
        field.rank != 0 ||
        (field.dtype != GRADE_DTYPE_F32 && field.dtype != GRADE_DTYPE_F64))
      return format("lie state %s must be a floating-point node state with "
                    "an empty feature shape",
                    fieldLabel(desc, state).c_str());
  }
  if (periodField < -1 || periodField >= desc.num_fields)
    return format("lie period field %d is not a field index (-1 for a "
                  "number, 0..%d)",
                  int(periodField), int(desc.num_fields - 1));
  if (periodField >= 0) {
    const grade_field_desc_t &field = desc.fields[periodField];
    if (field.role != GRADE_ROLE_PARAM || field.kind != GRADE_KIND_GLOBAL ||
        field.rank != 0 ||
        (field.dtype != GRADE_DTYPE_F32 && field.dtype != GRADE_DTYPE_F64))
      return format("lie period %s must be a global floating-point scalar "
                    "parameter",
                    fieldLabel(desc, periodField).c_str());
  } else if (state >= 0 &&
             !(std::isfinite(symmetry.lie_period) && symmetry.lie_period > 0))
    return format("lie period %s (positive and finite when no parameter "
                  "gives it)",
                  formatDouble(symmetry.lie_period).c_str());
  if (symmetry.num_lie < 0 || (symmetry.num_lie > 0 && !symmetry.lie))
    return format("%d lie transformations at %p", int(symmetry.num_lie),
                  (const void *)symmetry.lie);
  if (state < 0 && symmetry.num_lie > 0)
    return format("%d lie transformations without a lie state",
                  int(symmetry.num_lie));
  std::set<std::string> seen;
  for (int32_t i = 0; i < symmetry.num_lie; ++i) {
    const grade_lie_desc_t &lie = symmetry.lie[i];
    if (!lie.name || !*lie.name)
      return format("lie transformation %d has no name", int(i));
    if (!seen.insert(lie.name).second)
      return format("lie transformation %d ('%s') repeats a name", int(i),
                    lie.name);
    for (const Formula &formula : formulas(lie)) {
      // A dry run: the stack discipline does not depend on the values.
      double ignored;
      std::string bad = run(formula.code, formula.length, formula.identity,
                            {0, 0, 0, 0}, ignored);
      if (!bad.empty())
        return format("lie transformation %d ('%s'): the program of %s: %s",
                      int(i), lie.name, formula.name, bad.c_str());
    }
  }
  return "";
}

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

grade_status_t grade_lie_coefficients(const grade_model_descriptor_t *model,
                                      const char *name, double eps,
                                      double coefficients[8]) {
  if (!model)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "model is NULL");
  if (!name)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "transformation name is NULL");
  if (!coefficients)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "coefficients is NULL");
  return guard([&]() -> grade_status_t {
    const grade_lie_desc_t *lie = nullptr;
    if (grade_status_t status = find(*model, name, lie))
      return status;
    return computeCoefficients(*lie, eps, coefficients);
  });
}

grade_status_t grade_lie_augment(const grade_model_descriptor_t *model,
                                 const char *name, double eps,
                                 const grade_tensor_t *trajectory,
                                 const double *times, double period,
                                 grade_tensor_t **out, double *out_times,
                                 double *out_period) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!model)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "model is NULL");
  if (!name)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "transformation name is NULL");
  return guard([&] {
    return augment(*model, name, eps, trajectory, times, period, out, out_times,
                   out_period);
  });
}

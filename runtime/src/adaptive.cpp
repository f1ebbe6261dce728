//===- adaptive.cpp - The explicit adaptive pairs' controller ------------===//
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
// Adaptive stepping
//===----------------------------------------------------------------------===//
//
// The step entry of an adaptive scheme computes the new states, the error
// sums of its embedded estimate (GRADE_SLOT_ERROR), and for FSAL schemes
// the slope at the new state, all into slots it does not read from: the
// controller swaps them in when it accepts the step and leaves them when
// it rejects it, so the states at the start of a rejected step are intact.


/// Records the slots of an adaptive scheme's states and the step's swap
/// partners; sets the tolerances to the defaults.
void setUpAdaptive(grade_session &s) {
  const grade_model_descriptor_t &desc = *s.desc;
  s.swapPartner.assign(size_t(desc.num_slots), -1);
  if (const grade_entry_desc_t *step = findEntry(s, GRADE_ENTRY_STEP))
    for (int32_t k = 0; k < step->num_swaps; ++k) {
      s.swapPartner[size_t(step->swaps[2 * k])] = step->swaps[2 * k + 1];
      s.swapPartner[size_t(step->swaps[2 * k + 1])] = step->swaps[2 * k];
    }
  // An implicit scheme's error is estimated by the runtime's stage solver.
  if (!desc.adaptive.bhat || isImplicitScheme(s))
    return;
  for (int32_t i = 0; i < desc.num_fields; ++i) {
    if (desc.fields[i].role != GRADE_ROLE_STATE)
      continue;
    grade_session::AdaptiveState state;
    state.field = i;
    state.stateSlot = s.fieldSlot[size_t(i)];
    for (int32_t k = 0; k < desc.num_slots; ++k) {
      const grade_slot_desc_t &slot = desc.slots[k];
      if (slot.index != i)
        continue;
      switch (slot.slot_kind) {
      case GRADE_SLOT_SLOPE:
        state.slopeSlot = k;
        break;
      case GRADE_SLOT_MIDPOINT:
        state.midSlot = k;
        break;
      case GRADE_SLOT_ERROR:
        state.errorSlot = k;
        break;
      case GRADE_SLOT_RTOL:
        state.rtolSlot = k;
        break;
      case GRADE_SLOT_ATOL:
        state.atolSlot = k;
        break;
      default:
        break;
      }
    }
    *static_cast<double *>(s.slots[size_t(state.rtolSlot)]) = kDefaultRtol;
    *static_cast<double *>(s.slots[size_t(state.atolSlot)]) = kDefaultAtol;
    s.adaptive.push_back(state);
  }
}

double loadAt(const void *data, int32_t dtype, int64_t k) {
  return dtype == GRADE_DTYPE_F64 ? static_cast<const double *>(data)[k]
                                  : double(static_cast<const float *>(data)[k]);
}

void storeAt(void *data, int32_t dtype, int64_t k, double value) {
  if (dtype == GRADE_DTYPE_F64)
    static_cast<double *>(data)[k] = value;
  else
    static_cast<float *>(data)[k] = float(value);
}

/// Number of values of a state on the bound graph.
int64_t numValues(const grade_session &s, int32_t field) {
  const grade_field_desc_t &desc = s.desc->fields[field];
  return rowsOf(s, desc.kind) * featureSize(desc);
}

/// RMS over every state value of `value(state, k) / (atol + rtol |y_k|)`.
template <typename ValueFn>
double scaledRms(const grade_session &s, double rtol, double atol,
                 ValueFn value) {
  double sum = 0;
  int64_t count = 0;
  for (const grade_session::AdaptiveState &state : s.adaptive) {
    const grade_field_desc_t &field = s.desc->fields[state.field];
    const void *y = s.slots[size_t(state.stateSlot)];
    int64_t n = numValues(s, state.field);
    // A state's own tolerances, where it has them.
    auto [ownR, ownA] = s.stateTolerance[size_t(state.field)];
    double r = ownR > 0 ? ownR : rtol, a = ownA > 0 ? ownA : atol;
    for (int64_t k = 0; k < n; ++k) {
      double scaled =
          value(state, k) / (a + r * std::fabs(loadAt(y, field.dtype, k)));
      sum += scaled * scaled;
    }
    count += n;
  }
  return count ? std::sqrt(sum / double(count)) : 0.0;
}

/// Hairer, Norsett and Wanner's starting step (Solving ODEs I, II.4; as
/// SciPy's select_initial_step): h0 from the sizes of y and f, then one
/// explicit Euler step to estimate the second derivative. `slopes` hold
/// f(t, y); costs one evaluation of the right-hand side.
double initialStep(grade_session &s, const std::vector<void *> &slopes,
                   double t1, double rtol, double atol, int32_t errorOrder) {
  auto at = [](const void *data, const grade_session &session,
               const grade_session::AdaptiveState &state, int64_t k) {
    return loadAt(data, session.desc->fields[state.field].dtype, k);
  };
  size_t index = 0;
  std::vector<size_t> stateIndex(s.swapPartner.size(), 0);
  for (const grade_session::AdaptiveState &state : s.adaptive)
    stateIndex[size_t(state.stateSlot)] = index++;
  auto slopeOf = [&](const grade_session::AdaptiveState &state) {
    return slopes[stateIndex[size_t(state.stateSlot)]];
  };
  double d0 = scaledRms(s, rtol, atol, [&](const auto &state, int64_t k) {
    return at(s.slots[size_t(state.stateSlot)], s, state, k);
  });
  double d1 = scaledRms(s, rtol, atol, [&](const auto &state, int64_t k) {
    return at(slopeOf(state), s, state, k);
  });
  double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
  h0 = std::min(h0, t1 - s.t);

  // y1 = y0 + h0 f0 in scratch buffers the state slots point at while the
  // right-hand side is evaluated there.
  std::vector<Buffer> y1(s.adaptive.size()), f1(s.adaptive.size());
  std::vector<void *> f1Data;
  for (size_t i = 0; i < s.adaptive.size(); ++i) {
    const grade_session::AdaptiveState &state = s.adaptive[i];
    int32_t dtype = s.desc->fields[state.field].dtype;
    int64_t n = numValues(s, state.field);
    size_t bytes = size_t(n) * grade_dtype_size(dtype);
    if (!y1[i].resize(bytes) || !f1[i].resize(bytes))
      return h0; // out of memory for the estimate: the cautious h0
    for (int64_t k = 0; k < n; ++k)
      storeAt(y1[i].data, dtype, k,
              at(s.slots[size_t(state.stateSlot)], s, state, k) +
                  h0 * at(slopeOf(state), s, state, k));
    f1Data.push_back(f1[i].data);
  }
  std::vector<void *> saved;
  for (size_t i = 0; i < s.adaptive.size(); ++i) {
    saved.push_back(s.slots[size_t(s.adaptive[i].stateSlot)]);
    s.slots[size_t(s.adaptive[i].stateSlot)] = y1[i].data;
  }
  runRhs(s, s.t + h0, f1Data);
  for (size_t i = 0; i < s.adaptive.size(); ++i)
    s.slots[size_t(s.adaptive[i].stateSlot)] = saved[i];

  double d2 = scaledRms(s, rtol, atol, [&](const auto &state, int64_t k) {
                size_t i = stateIndex[size_t(state.stateSlot)];
                return at(f1[i].data, s, state, k) -
                       at(slopeOf(state), s, state, k);
              }) /
              h0;
  double h1 = d1 <= 1e-15 && d2 <= 1e-15
                  ? std::max(1e-6, h0 * 1e-3)
                  : std::pow(0.01 / std::max(d1, d2), 1.0 / errorOrder);
  if (!std::isfinite(h1))
    h1 = h0;
  return std::min({100 * h0, h1, t1 - s.t});
}

/// The step's error norm: RMS of the scaled errors over every state value
/// (SciPy's and torchdiffeq's norm); the state with the largest share in
/// `worst`.
double errorNorm(const grade_session &s, int32_t &worst) {
  double sum = 0, largest = -1;
  int64_t count = 0;
  for (const grade_session::AdaptiveState &state : s.adaptive) {
    double value = *static_cast<const double *>(s.slots[size_t(state.errorSlot)]);
    if (!(value <= largest)) // NaN counts as the largest
      largest = value, worst = state.field;
    sum += value;
    count += numValues(s, state.field);
  }
  return count ? std::sqrt(sum / double(count)) : 0.0;
}

/// After an accepted step from t to t + h (its results swapped in): the
/// states at t + theta h by the scheme's interpolant, into `dense`.
/// Dormand-Prince: the quartic through both ends, their slopes and the
/// midpoint; other FSAL schemes: the cubic Hermite polynomial.
void interpolate(const grade_session &s, double h, double theta,
                 std::vector<Buffer> &dense) {
  for (size_t i = 0; i < s.adaptive.size(); ++i) {
    const grade_session::AdaptiveState &state = s.adaptive[i];
    int32_t dtype = s.desc->fields[state.field].dtype;
    int64_t n = numValues(s, state.field);
    const void *y0 = s.slots[size_t(s.swapPartner[size_t(state.stateSlot)])];
    const void *y1 = s.slots[size_t(state.stateSlot)];
    const void *f0 = s.slots[size_t(s.swapPartner[size_t(state.slopeSlot)])];
    const void *f1 = s.slots[size_t(state.slopeSlot)];
    const void *mid =
        state.midSlot >= 0 ? s.slots[size_t(state.midSlot)] : nullptr;
    for (int64_t k = 0; k < n; ++k) {
      double a0 = loadAt(y0, dtype, k), a1 = loadAt(y1, dtype, k);
      double g0 = h * loadAt(f0, dtype, k), g1 = h * loadAt(f1, dtype, k);
      double value;
      if (mid) {
        double m = loadAt(mid, dtype, k);
        double c4 = 2 * (g1 - g0) - 8 * (a1 + a0) + 16 * m;
        double c3 = 5 * g0 - 3 * g1 + 18 * a0 + 14 * a1 - 32 * m;
        double c2 = g1 - 4 * g0 - 11 * a0 - 5 * a1 + 16 * m;
        value = a0 + theta * (g0 + theta * (c2 + theta * (c3 + theta * c4)));
      } else {
        double t2 = theta * theta, t3 = t2 * theta;
        value = (2 * t3 - 3 * t2 + 1) * a0 + (t3 - 2 * t2 + theta) * g0 +
                (3 * t2 - 2 * t3) * a1 + (t3 - t2) * g1;
      }
      storeAt(dense[i].data, dtype, k, value);
    }
  }
}

/// Calls the output callback at time `t` with the states' slots pointing
/// at `values` (NULL: the states as they are).
grade_status_t emitOutput(grade_session &s,
                          const grade_integrate_options_t &options,
                          int64_t index, double t,
                          std::vector<Buffer> *values) {
  if (!options.output)
    return nullptr;
  std::vector<void *> saved;
  double savedTime = s.t;
  if (values)
    for (size_t i = 0; i < s.adaptive.size(); ++i) {
      saved.push_back(s.slots[size_t(s.adaptive[i].stateSlot)]);
      s.slots[size_t(s.adaptive[i].stateSlot)] = (*values)[i].data;
    }
  s.t = t;
  int cancel = options.output(options.output_user, index, t);
  s.t = savedTime;
  for (size_t i = 0; i < saved.size(); ++i)
    s.slots[size_t(s.adaptive[i].stateSlot)] = saved[i];
  if (cancel)
    return makeStatus(GRADE_ERROR_UNAVAILABLE,
                      "integration cancelled at output time t = %g", t);
  return nullptr;
}

/// One zeroed buffer per adaptive state, of its type and size; false when
/// out of memory.
static bool allocateStateBuffers(const grade_session &s,
                                 std::vector<Buffer> &out) {
  out = std::vector<Buffer>(s.adaptive.size());
  for (size_t i = 0; i < s.adaptive.size(); ++i) {
    int32_t field = s.adaptive[i].field;
    if (!out[i].resize(size_t(numValues(s, field)) *
                       grade_dtype_size(s.desc->fields[field].dtype)))
      return false;
  }
  return true;
}

grade_status_t integrateAdaptive(grade_session &s, double t1,
                                 const grade_integrate_options_t &options,
                                 grade_integrate_stats_t &stats) {
  const grade_model_descriptor_t &desc = *s.desc;
  const grade_adaptive_desc_t &scheme = desc.adaptive;
  double rtol = options.rtol > 0   ? options.rtol
                : scheme.rtol > 0 ? scheme.rtol
                                  : kDefaultRtol;
  double atol = options.atol > 0   ? options.atol
                : scheme.atol > 0 ? scheme.atol
                                  : kDefaultAtol;
  if (!std::isfinite(rtol) || !std::isfinite(atol))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "tolerances must be finite, got rtol = %g, atol = %g",
                      rtol, atol);
  if (options.max_steps < 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "max_steps must be >= 0 (0: %lld), got %lld",
                      (long long)kDefaultMaxSteps, (long long)options.max_steps);
  int64_t maxSteps =
      options.max_steps > 0 ? options.max_steps : kDefaultMaxSteps;
  for (const grade_session::AdaptiveState &state : s.adaptive) {
    auto [ownR, ownA] = s.stateTolerance[size_t(state.field)];
    *static_cast<double *>(s.slots[size_t(state.rtolSlot)]) =
        ownR > 0 ? ownR : rtol;
    *static_cast<double *>(s.slots[size_t(state.atolSlot)]) =
        ownA > 0 ? ownA : atol;
  }
  // The error estimate is of order q + 1 in h: step changes go as
  // err^(-1 / (q + 1)).
  const int32_t errorOrder = scheme.embedded_order + 1;
  const bool fsal = scheme.fsal != 0;
  const int64_t evaluationsPerStep = desc.scheme.stages - (fsal ? 1 : 0);
  const double tStart = s.t;

  stats.rhs_evaluations += prepareSlopes(s);
  double h = options.dt > 0 ? options.dt : desc.dt;
  if (!(h > 0)) {
    // f(t0, y0): the slope slots, or an evaluation of its own.
    std::vector<void *> slopes;
    std::vector<Buffer> scratch;
    if (!fsal && !allocateStateBuffers(s, scratch))
      return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                        "model '%s': out of memory choosing the first step",
                        desc.name);
    for (size_t i = 0; i < s.adaptive.size(); ++i)
      slopes.push_back(fsal ? s.slots[size_t(s.adaptive[i].slopeSlot)]
                            : scratch[i].data);
    if (!fsal) {
      runRhs(s, s.t, slopes);
      ++stats.rhs_evaluations;
    }
    h = initialStep(s, slopes, t1, rtol, atol, errorOrder);
    ++stats.rhs_evaluations;
  }

  // Dense output needs both slopes (FSAL); other schemes step onto the
  // output times.
  const bool dense = fsal;
  std::vector<Buffer> denseValues;
  if (dense && !allocateStateBuffers(s, denseValues))
    return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                      "model '%s': out of memory for dense output", desc.name);
  int64_t nextOutput = 0;
  StepSizeController controller(errorOrder);
  int32_t worst = s.adaptive.empty() ? 0 : s.adaptive.front().field;
  double lastError = 0;
  bool lastNonFinite = false;

  while (s.t < t1) {
    double t = s.t;
    if (stats.accepted + stats.rejected >= maxSteps)
      return maxStepsReached(desc, stats, t, h, t1, rtol, atol);
    double hMin = minimumStep(t);
    if (!(h >= hMin)) {
      // Why the last attempt failed: a non-finite value, or its error.
      std::string where = locateLargestError(s, t, h, rtol, atol);
      std::string reason =
          lastNonFinite
              ? format("the last attempt produced a NaN or Inf in state "
                       "'%s'",
                       desc.fields[worst].name)
              : format("the last attempt's error norm was %g, largest in "
                       "state '%s'",
                       lastError, desc.fields[worst].name);
      if (!where.empty())
        reason += (lastNonFinite ? ", first at " : ", at ") + where;
      return makeStatus(
          GRADE_ERROR_NUMERICAL,
          "model '%s': step size underflow at t = %g: the step size %g fell "
          "below %g (10 ulps of t) without meeting rtol = %g, atol = %g (%s); "
          "the solution may blow up there, or the problem is too stiff for "
          "an explicit scheme",
          desc.name, t, h, hMin, rtol, atol, reason.c_str());
    }
    bool last = t + h >= t1;
    double hStep = last ? t1 - t : h;
    if (!dense && nextOutput < options.num_times &&
        t + hStep >= options.times[nextOutput]) {
      last = false;
      hStep = options.times[nextOutput] - t;
    }
    bool flagged = runStep(s, t, hStep, /*keep=*/true);
    stats.rhs_evaluations += evaluationsPerStep;
    double err = errorNorm(s, worst);
    lastError = err;
    lastNonFinite = flagged || std::isnan(err) || std::isinf(err);
    if (flagged || !(err <= 1)) {
      // Rejected: the states are untouched; retry with a smaller step.
      ++stats.rejected;
      h = controller.rejected(hStep, flagged ? HUGE_VAL : err);
      continue;
    }
    swapSlots(s, *findEntry(s, GRADE_ENTRY_STEP));
    double tNew = last ? t1 : t + hStep;
    if (!dense && nextOutput < options.num_times &&
        hStep == options.times[nextOutput] - t)
      tNew = options.times[nextOutput];
    s.t = tNew;
    recordAccepted(stats, hStep);
    if (options.max_abs > 0) {
      ++stats.finite_checks;
      if (grade_status_t status =
              checkFinite(s, tNew, stats.steps, stats.steps, options.max_abs))
        return status;
    }
    // Outputs inside the step.
    while (nextOutput < options.num_times &&
           options.times[nextOutput] <= tNew) {
      double tau = options.times[nextOutput];
      grade_status_t status;
      if (dense && tau < tNew) {
        interpolate(s, hStep, (tau - t) / hStep, denseValues);
        status = emitOutput(s, options, nextOutput, tau, &denseValues);
      } else {
        status = emitOutput(s, options, nextOutput, tau, nullptr);
      }
      if (status)
        return status;
      ++nextOutput;
    }
    if (options.progress &&
        options.progress(options.user, tNew, tStart, t1) != 0)
      return makeStatus(GRADE_ERROR_UNAVAILABLE,
                        "integration cancelled at t = %g (step %lld)", tNew,
                        (long long)stats.steps);
    double hNew = controller.accepted(hStep, err);
    if (!last)
      h = hNew;
  }
  return nullptr;
}

double StepSizeController::accepted(double h, double err) {
  double factor = std::pow(err, expo1) / std::pow(errOld, beta) / kSafety;
  factor = std::clamp(factor, 1.0 / kMaxFactor, 1.0 / kMinFactor);
  double next = h / factor;
  if (rejectedLast)
    next = std::min(next, h);
  errOld = std::max(err, 1e-4);
  rejectedLast = false;
  return next;
}

double StepSizeController::rejected(double h, double err) {
  rejectedLast = true;
  double factor = std::isfinite(err)
                      ? std::max(kMinFactor, kSafety * std::pow(err, -1.0 / order))
                      : kMinFactor;
  return h * std::min(factor, 1.0);
}

grade_status_t maxStepsReached(const grade_model_descriptor_t &desc,
                               const grade_integrate_stats_t &stats, double t,
                               double h, double t1, double rtol, double atol) {
  return makeStatus(GRADE_ERROR_NUMERICAL,
                    "model '%s': %lld steps (%lld accepted, %lld rejected) "
                    "reached max_steps at t = %g with step size %g, before "
                    "t1 = %g; raise max_steps (--max-steps) or loosen the "
                    "tolerances (rtol = %g, atol = %g)",
                    desc.name, (long long)(stats.accepted + stats.rejected),
                    (long long)stats.accepted, (long long)stats.rejected, t, h,
                    t1, rtol, atol);
}

void recordAccepted(grade_integrate_stats_t &stats, double h) {
  ++stats.steps;
  ++stats.accepted;
  stats.min_step = stats.min_step > 0 ? std::min(stats.min_step, h) : h;
  stats.max_step = std::max(stats.max_step, h);
}


} // namespace grade::rt::sess

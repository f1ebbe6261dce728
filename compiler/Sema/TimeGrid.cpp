//===- TimeGrid.cpp - the solve clause: scheme, step size, interval ------===//
//
// Resolves the solve clause's scheme (built in or declared with `scheme`),
// checks its arguments and interval, and that the runtime can step on the
// grid t0 + k dt at all.
//
//===----------------------------------------------------------------------===//

#include "compiler/Sema/Checker.h"

#include "llvm/ADT/StringSet.h"

#include <cmath>

using namespace grade;
using namespace grade::sema;

void Checker::checkSolve() {
  const ast::SolveDecl &solve = *model.solve;
  llvm::StringRef name = solve.getName();
  if (TableauAttr named = TableauAttr::getNamed(context, name)) {
    model.scheme = named;
  } else if (TableauAttr declared = schemes.lookup(name)) {
    model.scheme = declared;
  } else if (!schemeDecls.count(name)) {
    // A declared scheme with an error has been reported already.
    std::vector<llvm::StringRef> candidates(
        TableauAttr::getNamedSchemes().begin(),
        TableauAttr::getNamedSchemes().end());
    std::string known;
    for (llvm::StringRef scheme : candidates)
      known += (known.empty() ? "" : ", ") + scheme.str();
    for (const auto &entry : schemeDecls) {
      candidates.push_back(entry.getKey());
      known += ", " + entry.getKey().str();
    }
    error(solve.getNameRange().begin,
          "unknown scheme '" + name + "' (known: " + known +
              "; declare others with 'scheme NAME { a = ...; b = ...; }')" +
              suggest(name, candidates));
  }
  // A fixed-step scheme takes its step; an adaptive one (known once the
  // scheme resolved) optionally its first step and its tolerances.
  // BDF2 steps adaptively when given tolerances (and then takes an
  // optional first step), with fixed steps otherwise.
  bool adaptive = model.scheme && model.scheme.isAdaptive();
  bool bdf = model.scheme && model.scheme.getBdfOrder();
  if (bdf)
    for (const ast::SolveArg &arg : solve.getArgs())
      adaptive |= arg.name == "rtol" || arg.name == "atol";
  bool sawDt = false;
  llvm::StringSet<> seen;
  llvm::StringMap<std::pair<double, double>> own;
  for (const ast::SolveArg &arg : solve.getArgs()) {
    bool isTolerance = arg.name == "rtol" || arg.name == "atol";
    if (!arg.state.empty() && !isTolerance) {
      error(arg.range.begin, "only 'rtol' and 'atol' can be given per state, "
                             "as in 'atol(" +
                                 arg.state + ") = 1e-9'; '" + arg.name +
                                 "' applies to the whole solve");
      continue;
    }
    if (arg.name != "dt" && !isTolerance) {
      error(arg.range.begin,
            "unknown argument '" + arg.name + "' for scheme '" +
                solve.getName() + "' (expected " +
                (adaptive || bdf ? "'dt', 'rtol' or 'atol'" : "'dt'") + ")");
      continue;
    }
    if (isTolerance && model.scheme && !adaptive) {
      error(arg.range.begin,
            "'" + arg.name + "' applies to adaptive schemes (bosh3, dopri5, "
                             "sdirk4, bdf2, or a scheme with embedded "
                             "weights), not '" +
                solve.getName() + "', which takes fixed steps");
      continue;
    }
    std::string key =
        arg.state.empty() ? arg.name : arg.name + "(" + arg.state + ")";
    if (!seen.insert(key).second) {
      error(arg.range.begin, "argument '" + key + "' is given twice");
      continue;
    }
    if (isTolerance && !arg.state.empty()) {
      const DeclInfo *info = model.lookup(arg.state);
      if (!info || info->role != Role::State) {
        std::vector<llvm::StringRef> states;
        for (const std::string &name : model.order)
          if (model.decls[name].role == Role::State)
            states.push_back(name);
        error(arg.stateRange.begin,
              "'" + arg.name + "(" + arg.state + ")': '" + arg.state + "' " +
                  (info ? "is not a state" : "is not declared") +
                  "; tolerances belong to states" +
                  suggest(arg.state, states));
        continue;
      }
      if (!(arg.value > 0) || !std::isfinite(arg.value)) {
        error(arg.range.begin, "'" + key +
                                   "' must be a finite number > 0, got " +
                                   formatNumber(arg.value));
        continue;
      }
      auto &pair = own[arg.state];
      (arg.name == "rtol" ? pair.first : pair.second) = arg.value;
      continue;
    }
    if (isTolerance) {
      if (!(arg.value > 0) || !std::isfinite(arg.value))
        error(arg.range.begin, "'" + arg.name +
                                   "' must be a finite number > 0, got " +
                                   formatNumber(arg.value));
      (arg.name == "rtol" ? model.rtol : model.atol) = arg.value;
      continue;
    }
    sawDt = true;
    if (!(arg.value > 0) || !std::isfinite(arg.value))
      error(arg.range.begin,
            std::string(adaptive ? "the first step" : "step size") +
                " must be positive, got " + formatNumber(arg.value));
    model.dt = arg.value;
  }
  for (const std::string &name : model.order)
    if (auto it = own.find(name); it != own.end())
      model.stateTolerances.push_back({name, it->second});
  if (!sawDt && !adaptive && model.scheme)
    error(solve.getLoc(), "'solve " + solve.getName() +
                              "' needs a step size, e.g. '" + solve.getName() +
                              "(dt = 0.01)'");
  if (!(solve.getT1() > solve.getT0()))
    error(solve.getIntervalRange().begin,
          "the interval [" + formatNumber(solve.getT0()) + ", " +
              formatNumber(solve.getT1()) +
              "] is empty; its end must exceed its start");
  else if (sawDt && model.dt > 0 && std::isfinite(model.dt) && !adaptive)
    checkTimeGrid(solve);
}

/// The runtime steps on t0 + k dt: the step must be resolvable at the
/// interval's magnitude (t + dt != t), and the step count must stay
/// countable (the runtime refuses 1e15 steps and more).
void Checker::checkTimeGrid(const ast::SolveDecl &solve) {
  double t0 = solve.getT0(), t1 = solve.getT1(), dt = model.dt;
  double far = std::fabs(t0) > std::fabs(t1) ? t0 : t1;
  if (far + dt == far || far - dt == far) {
    error(solve.getLoc(),
          "the step dt = " + formatNumber(dt) +
              " is below the resolution of time near " + formatNumber(far) +
              " (doubles there are " +
              formatNumber(std::nextafter(std::fabs(far), HUGE_VAL) -
                           std::fabs(far)) +
              " apart); shift the interval towards 0 or take a larger dt");
    return;
  }
  double steps = (t1 - t0) / dt;
  if (!(steps < 1e15))
    error(solve.getLoc(),
          "integrating [" + formatNumber(t0) + ", " + formatNumber(t1) +
              "] with dt = " + formatNumber(dt) + " takes " +
              formatNumber(steps) + " steps; the runtime's limit is 1e15");
}

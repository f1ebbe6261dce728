//===- CheckSymmetry.h - gradec check-symmetry ------------------*- C++ -*-===//
//
// The numerical side of the symmetry proof: draws random elements of a
// compiled model's groups and random inputs, and measures how far
// solve(g.x) is from g.solve(x).
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_COMPILER_TOOLS_GRADEC_CHECKSYMMETRY_H
#define GRADE_COMPILER_TOOLS_GRADEC_CHECKSYMMETRY_H

#include "grade/runtime.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace grade::tool {

struct SymmetryCheckOptions {
  /// Random group elements drawn per kind of element.
  int trials = 3;
  uint64_t seed = 1;
  /// The largest difference accepted, relative to the largest value of a
  /// compared field (default: 1e-10 for f64 models, 1e-4 for f32).
  double tolerance = 0;
  int threads = 1;
  /// Arrays bound by name instead of random values (the caller keeps
  /// ownership).
  std::vector<std::pair<std::string, const grade_tensor_t *>> fixed;
  /// The graph, or null when the model builds it from the positions
  /// `pointsField` ("radius:R", "knn:K" in `pointsSpec`).
  const grade_graph_t *graph = nullptr;
  /// The graph's generator spec ("cycle:64"), when generated: the Lie
  /// point transformations of a grid model are checked at this resolution
  /// and twice it.
  std::string graphSpec;
  std::string pointsField, pointsSpec;
};

/// Runs the check on a loaded library; prints a report to `os` and errors
/// to llvm::errs(). Returns the process exit status: 0 when every
/// difference is within the tolerance, 1 otherwise or on an error.
int checkSymmetry(const grade_library_t *library,
                  const SymmetryCheckOptions &options, llvm::raw_ostream &os);

} // namespace grade::tool

#endif // GRADE_COMPILER_TOOLS_GRADEC_CHECKSYMMETRY_H

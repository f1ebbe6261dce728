//===- Descriptor.h - the model descriptor blob -----------------*- C++ -*-===//
//
// Generated libraries describe themselves to the support library with a
// line-oriented text blob (format: runtime/support/support.h). It lists
// every slot of the runtime's slot array, so it is built from a model after
// convert-grade-to-loops, when temporaries and swaps are known.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_CONVERSION_GRADETOLLVM_DESCRIPTOR_H
#define GRADE_DIALECTS_CONVERSION_GRADETOLLVM_DESCRIPTOR_H

#include "dialects/Grade/IR/GradeOps.h"

#include <string>

namespace grade {

/// The descriptor blob of a lowered model (fails if it is not lowered).
mlir::FailureOr<std::string> buildDescriptorBlob(ModelOp model);

} // namespace grade

#endif // GRADE_DIALECTS_CONVERSION_GRADETOLLVM_DESCRIPTOR_H

//===- grade-opt.cpp - the grade optimizer driver -------------------------===//
//
// MlirOptMain with the grade dialect, its passes and pipelines registered,
// plus the upstream dialects and passes the lowering uses, so that every
// stage of gradec can be reproduced and tested one pass at a time.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipelines/Pipelines.h"
#include "dialects/GK/IR/GKOps.h"
#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  grade::registerGradePassesAndPipelines();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates the GPU module to LLVM IR.
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<grade::GradeDialect, grade::gk::GKDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "grade optimizer driver\n", registry));
}

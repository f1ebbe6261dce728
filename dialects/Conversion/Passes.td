//===- Passes.td - conversions out of the grade dialect ----*- tablegen -*-===//

#ifndef GRADE_DIALECTS_CONVERSION_PASSES_TD
#define GRADE_DIALECTS_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertGradeToLoops : Pass<"convert-grade-to-loops", "::mlir::ModuleOp"> {
  let summary = "fuse grade regions into CSR loop nests";
  let description = [{
    Lowers `grade.init`, `grade.rhs` and `grade.step` into one function each
    (`gradegen_entry_init`, `_rhs`, `_step`) that views the buffers the
    runtime passes (`grade.slot`) and calls one *kernel* per fusion level.

    Fusion: a value that a later computation reads at other nodes (through
    `grade.gather src`) must be in memory before that computation starts;
    this is the only reason to end a kernel. Everything else of a level is
    fused into one loop nest: `scf.parallel` over nodes, and inside it the
    node's in-edges (`scf.for` over the CSR row) in as many passes as the
    dependent reductions require (one for sums, three for a softmax), with
    per-node and per-edge values kept in registers or small per-node
    scratch. Edge values are recomputed where they are needed, never stored
    as E x d arrays (only edge lets and edge states, which the model asks
    to keep, are written per edge). Node values needed by a later kernel are
    written to temporaries reused by liveness, and the stage updates of a
    step land in the epilogue of the kernel that computes them; a state
    whose old value is still read during the step is written to a
    temporary that the runtime swaps in afterwards (`swaps`).

    The model keeps its declarations, gains `temp` declarations for the
    temporaries, and records `rhs_outputs` and `swaps` for the runtime.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::LLVM::LLVMDialect"
  ];
}

def ConvertGradeToLLVM : Pass<"convert-grade-to-llvm", "::mlir::ModuleOp"> {
  let summary = "emit the model descriptor and lower grade.slot";
  let description = [{
    The last grade-specific step before translation: turns each lowered
    `grade.model` into the descriptor blob (`gradegen_descriptor_blob`, a
    constant string the support library parses) and a model-specific alias
    of the ABI entry point (`grade_<model>_model_api`), then erases the
    model; `grade.slot` becomes a load from the slot array and a memref
    descriptor built around the pointer.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // GRADE_DIALECTS_CONVERSION_PASSES_TD

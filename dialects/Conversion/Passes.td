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
  let summary = "lower grade.slot views of the slot table to LLVM";
  let description = [{
    `grade.slot` becomes a load from the kernels' slot table and a memref
    descriptor built around the pointer. The lowered `grade.model` (its
    declarations, scheme and buffer plan) is kept for
    `grade-emit-descriptor`, which runs once the kernels are LLVM functions.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def EmitDescriptor : Pass<"grade-emit-descriptor", "::mlir::ModuleOp"> {
  let summary = "emit each lowered model's static descriptor (model ABI v2)";
  let description = [{
    Turns each lowered `grade.model` into the static data of
    `grade/model_abi.h`: the field table, the slot table (graph arrays,
    fields, temporaries, derivative outputs), the scheme's Butcher tableau,
    the entry points `init`, `rhs` and `step` (with the slots a step swaps)
    and the hooks of the kernels' OpenMP thread pool, all as LLVM constants;
    then the exported `grade_model_descriptor()` and its model-specific
    alias `grade_<model>_model_descriptor()`, and erases the model. Every
    user string (model name, source path, field names) is stored as data,
    NUL-terminated. Runs after the kernels are LLVM functions, so that the
    entry table can take their addresses.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // GRADE_DIALECTS_CONVERSION_PASSES_TD

//===- Pipelines.h - the named stages of gradec -----------------*- C++ -*-===//
//
// Every intermediate form gradec produces has a name, a description and a
// pass pipeline that builds it from the previous one. The same pipelines are
// registered with grade-opt, so any stage can be reproduced from the
// previous stage's output.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_COMPILER_PIPELINES_PIPELINES_H
#define GRADE_COMPILER_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace grade {

/// Output stages of gradec in pipeline order.
enum class Stage {
  AST,         ///< the parsed AST with source locations
  Grade,       ///< the grade dialect as MLIRGen writes it
  GradeOpt,    ///< after graph-calculus rewrites and scheme expansion
  Kernels,     ///< the kernel plan: gk.func, gk.entry
  Lowered,     ///< fused kernels: func/scf/memref/arith/math
  GPU,         ///< cuda: kernels as gpu.func, calls as gpu.launch_func
  NVVM,        ///< cuda: the GPU module in the NVVM and LLVM dialects
  PTX,         ///< cuda: the PTX image of each architecture
  LLVMDialect, ///< the LLVM dialect
  LLVM,        ///< optimised LLVM IR
  Asm,         ///< host assembly
  Object,      ///< host object file
  Header,      ///< the C header of the generated library
  SharedLib,   ///< the shared library (default)
};

struct StageInfo {
  Stage stage;
  llvm::StringLiteral name;
  llvm::StringLiteral description;
};

/// All stages, in order.
llvm::ArrayRef<StageInfo> getStages();

/// The stage called `name`, if any.
std::optional<Stage> parseStage(llvm::StringRef name);

/// How to compile, whatever the output stage: what gradec's --target and
/// --opt-level set, what grade-opt's `grade-pipeline` takes, and what a
/// client of the compile API fills in. Plain data with defaults, so that
/// options can be added without breaking callers.
struct PipelineOptions {
  /// The host CPU: OpenMP loops, LLVM for the host.
  bool cpu = true;
  /// NVIDIA GPUs: one PTX image per architecture ("sm_80", ...); empty for
  /// none.
  llvm::SmallVector<std::string, 2> cudaChips;
  /// The CUDA toolkit whose libdevice provides exp, tanh, ... on the GPU;
  /// empty: $CUDA_HOME, $CUDA_PATH or /usr/local/cuda.
  std::string cudaPath;
  /// cuda: also compile each kernel for the host, exported as
  /// `gradegen_emulated_<kernel>(params, grid, block)`, so that a test
  /// driver standing in for the GPU can run the GPU entries.
  bool gpuEmulation = false;
  /// cuda: how kernels map onto threads (convert-kernels-to-gpu's
  /// `schedule`): auto, rows or lanes.
  std::string gpuSchedule = "auto";
  /// LLVM's optimisation level for the generated code (0 to 3).
  unsigned optLevel = 3;
  /// CPU: prefetch the rows read at the other end of the edges
  /// (convert-gk-to-scf's `prefetch`).
  bool prefetch = true;
  /// CPU: keep the costly edge values that later passes over a node's
  /// in-edges read again (convert-gk-to-scf's `cache-edge-values`).
  bool cacheEdgeValues = true;
  /// The width of the node numbers in the kernels' graph arrays, 32 or 64
  /// (convert-gk-to-scf's `index-bits`): 32 halves the index traffic and
  /// limits a graph to 2^31 - 1 nodes, which the runtime checks at bind.
  unsigned indexBits = 32;
  /// How the CPU splits a kernel's nodes among threads
  /// (gk-choose-schedule's `schedule`): auto, nodes or balanced.
  std::string cpuSchedule = "auto";
  /// CPU: the SIMD width in bits the loop vectorizer prefers (128, 256 or
  /// 512), 0 for LLVM's tuning for the host.
  /// LLVM IR's business: the MLIR pipelines, which stop at the LLVM
  /// dialect, ignore it.
  unsigned vectorBits = 0;
  /// CPU: the vector bits for kernels that multiply long matrix rows
  /// (gk-choose-schedule's `wide-vectors`): 512 where the host has AVX-512
  /// and vectorBits is 0 (wideVectorBitsForHost), 0 for none.
  unsigned wideVectorBits = 0;
  /// CPU: transcendental functions through libmvec's AVX2 variants where
  /// the host has AVX2 (compiler/Target/CPU.cpp, "Vector math").
  bool vectorMath = true;
};

/// Parses `auto`, `128`, `256` or `512` into `bits` (auto: 0).
mlir::LogicalResult parseVectorWidth(llvm::StringRef text, unsigned &bits,
                                     std::string &error);

/// Parses a target list over `options`: `cpu`, `cuda` (sm_80),
/// `cuda:sm_90`, and further architectures as bare items
/// (`cpu,cuda:sm_80,sm_90`).
mlir::LogicalResult parseTargets(llvm::StringRef text, PipelineOptions &options,
                                 std::string &error);

/// The targets as parseTargets reads them ("cpu,cuda:sm_80,sm_90").
std::string stringifyTargets(const PipelineOptions &options);

/// Parses `target=LIST opt-level=N prefetch=BOOL index-bits=N` (any may be
/// left out)
/// over the defaults. On failure `error` says why.
mlir::LogicalResult parsePipelineOptions(llvm::StringRef text,
                                         PipelineOptions &options,
                                         std::string &error);

/// Checks that this build can compile with `options` ("target 'cuda' is not
/// available in this build"). On failure `error` says why.
mlir::LogicalResult checkPipelineOptions(const PipelineOptions &options,
                                         std::string &error);

/// grade -> grade: softmax expansion, graph-calculus identities, scheme
/// expansion, canonicalisation and CSE.
void buildGradeOptPipeline(mlir::OpPassManager &pm);

/// grade (with a step) -> gk: kernel formation, edge passes, buffers,
/// finite checks, the CPU schedule (`options.cpuSchedule`), entry points.
void buildKernelPipeline(mlir::OpPassManager &pm,
                         const PipelineOptions &options = {});

/// gk -> loops: the CPU transcription of the plan.
void buildLoweringPipeline(mlir::OpPassManager &pm,
                           const PipelineOptions &options = {});

/// loops -> LLVM dialect: descriptor, OpenMP, standard conversions.
/// cuda: the GPU module to the NVVM dialect, for each architecture.
void buildGPUPipeline(mlir::OpPassManager &pm, const PipelineOptions &options);

/// cuda: the NVVM module to one PTX image per architecture (gpu.binary),
/// linking libdevice from options.cudaPath.
void buildPTXPipeline(mlir::OpPassManager &pm, const PipelineOptions &options);

void buildLLVMPipeline(mlir::OpPassManager &pm,
                       const PipelineOptions &options = {});

/// grade -> LLVM dialect for `options.target`: the pipelines above in
/// order. `options` must have passed checkPipelineOptions.
void buildGradePipeline(mlir::OpPassManager &pm,
                        const PipelineOptions &options);

/// Registers the grade passes and the pipelines above with the pass
/// registry (`grade-opt-pipeline`, `grade-lowering-pipeline`,
/// `grade-llvm-pipeline`, and `grade-pipeline` with the options
/// `target=cpu|cuda`, `opt-level=0..3`, `prefetch=true|false` and
/// `index-bits=32|64`).
void registerGradePassesAndPipelines();

} // namespace grade

#endif // GRADE_COMPILER_PIPELINES_PIPELINES_H

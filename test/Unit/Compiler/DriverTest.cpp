//===- DriverTest.cpp - the compile API as a client calls it --------------===//
//
// compiler/Driver/Compiler.h without gradec: a model file becomes a shared
// library that libgrade_rt loads and runs (heat on C_8 against the closed
// form), a broken model yields located diagnostics as text, and the stage
// API prints intermediate forms.
//
//===----------------------------------------------------------------------===//

#include "compiler/Driver/Compiler.h"

#include "grade/runtime.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

namespace {

/// A scratch directory removed at the end of the test.
struct ScratchDir {
  llvm::SmallString<128> path;
  ScratchDir() {
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("grade-driver", path));
  }
  ~ScratchDir() { llvm::sys::fs::remove_directories(path); }
  std::string file(llvm::StringRef name) const {
    llvm::SmallString<128> result(path);
    llvm::sys::path::append(result, name);
    return std::string(result);
  }
};

std::string writeFile(const ScratchDir &dir, llvm::StringRef name,
                      llvm::StringRef text) {
  std::string path = dir.file(name);
  std::ofstream(path) << text.str();
  return path;
}

std::string statusText(grade_status_t status) {
  std::string text = status ? grade_status_message(status) : "ok";
  grade_status_free(status);
  return text;
}

TEST(DriverTest, CompilesAModelFileIntoALibraryTheRuntimeRuns) {
  ScratchDir dir;
  std::string library = dir.file("libheat.so");
  std::string errors;
  ASSERT_TRUE(succeeded(grade::driver::compileFileToLibrary(
      GRADE_EXAMPLES_DIR "/heat.grade", library, errors)))
      << errors;
  EXPECT_EQ(errors, "");

  grade_library_t *lib = nullptr;
  ASSERT_EQ(statusText(grade_library_load(library.c_str(), &lib)), "ok");
  EXPECT_STREQ(grade_library_descriptor(lib)->name, "heat");
  grade_session_t *session = nullptr;
  ASSERT_EQ(statusText(grade_session_create(lib, &session)), "ok");
  grade_graph_t *cycle = nullptr;
  ASSERT_EQ(statusText(grade_graph_generate("cycle:8", &cycle)), "ok");
  ASSERT_EQ(statusText(grade_session_bind_graph(session, cycle)), "ok");
  int64_t shape[1] = {8};
  grade_tensor_t *x0 = nullptr;
  ASSERT_EQ(statusText(grade_tensor_create(GRADE_DTYPE_F64, 1, shape, &x0)),
            "ok");
  static_cast<double *>(x0->data)[0] = 1.0;
  ASSERT_EQ(statusText(grade_session_bind(session, "x0", x0)), "ok");
  ASSERT_EQ(statusText(grade_session_initialize(session)), "ok");
  ASSERT_EQ(statusText(grade_session_integrate(session, 1.0, 0.0, nullptr,
                                               nullptr)),
            "ok");
  grade_tensor_t *x = nullptr;
  ASSERT_EQ(statusText(grade_session_read(session, "x", &x)), "ok");
  // exp(-L t) e_0 on C_8 at t = 1: (1/8) sum_k exp(-2 t (1 - cos(2 pi k / 8)))
  // cos(2 pi k i / 8) at node i; rk4 with dt = 0.01 is within 1e-8.
  for (int i = 0; i < 8; ++i) {
    double exact = 0;
    for (int k = 0; k < 8; ++k)
      exact += std::exp(-2.0 * (1 - std::cos(2 * M_PI * k / 8))) *
               std::cos(2 * M_PI * k * i / 8) / 8;
    EXPECT_NEAR(static_cast<const double *>(x->data)[i], exact, 1e-8) << i;
  }
  grade_tensor_free(x);
  grade_tensor_free(x0);
  grade_graph_free(cycle);
  grade_session_free(session);
  grade_library_unload(lib);
}

TEST(DriverTest, ErrorsComeBackAsLocatedText) {
  ScratchDir dir;
  std::string model = writeFile(dir, "bad.grade", R"(model bad {
  graph G;
  input x0 : node f64;
  state x : node f64 = x0;
  rhs dx/dt = sum_in(y[src]);
  solve rk4(dt = 0.1) over [0, 1];
}
)");
  std::string library = dir.file("libbad.so");
  std::string errors;
  EXPECT_TRUE(failed(
      grade::driver::compileFileToLibrary(model, library, errors)));
  EXPECT_NE(errors.find(model + ":5:22: error: unknown name 'y'"),
            std::string::npos)
      << errors;
  EXPECT_FALSE(llvm::sys::fs::exists(library));

  EXPECT_TRUE(failed(grade::driver::compileFileToLibrary(
      dir.file("missing.grade"), library, errors)));
  EXPECT_NE(errors.find("missing.grade"), std::string::npos) << errors;
}

TEST(DriverTest, PrintsAnyStage) {
  mlir::MLIRContext context;
  grade::driver::loadDialects(context);
  auto buffer = llvm::MemoryBuffer::getFile(GRADE_EXAMPLES_DIR "/heat.grade");
  ASSERT_TRUE(bool(buffer));
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  grade::driver::CompileOptions options;
  options.target = grade::Stage::Lowered;
  int pipelines = 0;
  options.configurePasses = [&](mlir::PassManager &) {
    ++pipelines;
    return mlir::success();
  };
  std::string text;
  llvm::raw_string_ostream os(text);
  ASSERT_TRUE(succeeded(
      grade::driver::compile(sourceMgr, context, /*isMLIR=*/false, os,
                             options)));
  // The grade-opt, kernel and lowering pipelines ran, and the kernels are
  // loops.
  EXPECT_EQ(pipelines, 3);
  EXPECT_NE(text.find("func.func @gradegen_entry_step"), std::string::npos);
  EXPECT_NE(text.find("scf.parallel"), std::string::npos);
}

TEST(DriverTest, PipelineOptionsChooseTheTarget) {
  mlir::MLIRContext context;
  grade::driver::loadDialects(context);
  auto buffer = llvm::MemoryBuffer::getFile(GRADE_EXAMPLES_DIR "/heat.grade");
  ASSERT_TRUE(bool(buffer));
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return mlir::success();
  });
  grade::driver::CompileOptions options;
  options.target = grade::Stage::Lowered;
  std::string text;
  llvm::raw_string_ostream os(text);

  // A target without a backend in this build: an error before any
  // target-dependent pipeline, nothing printed.
  options.pipeline.target = grade::Target::CUDA;
  EXPECT_TRUE(failed(grade::driver::compile(sourceMgr, context,
                                            /*isMLIR=*/false, os, options)));
  EXPECT_EQ(diagnostics,
            "target 'cuda' is not available in this build (available: cpu)\n");
  EXPECT_EQ(text, "");

  // The target-independent stages do not depend on it.
  options.target = grade::Stage::GradeOpt;
  diagnostics.clear();
  EXPECT_TRUE(succeeded(grade::driver::compile(sourceMgr, context,
                                               /*isMLIR=*/false, os, options)))
      << diagnostics;
  EXPECT_NE(text.find("grade.step"), std::string::npos);

  // The options parse from the text grade-opt takes.
  grade::PipelineOptions parsed;
  std::string error;
  ASSERT_TRUE(succeeded(
      grade::parsePipelineOptions("target=cpu opt-level=1", parsed, error)))
      << error;
  EXPECT_EQ(parsed.target, grade::Target::CPU);
  EXPECT_EQ(parsed.optLevel, 1u);
  EXPECT_TRUE(failed(grade::parsePipelineOptions("target=tpu", parsed, error)));
  EXPECT_EQ(error, "unknown target 'tpu' (known: cpu, cuda)");
}

} // namespace

// As in gradec: LLVM's process set-up (signal handlers, the alternate
// signal stack) before any compilation, which runs on a thread of its own.
int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

//===- DriverTest.cpp - the compile API as a client calls it --------------===//
//
// compiler/Driver/Compiler.h without gradec: a model file becomes a shared
// library that libgrade_rt loads and runs (heat on C_8 against the closed
// form), a broken model yields located diagnostics as text, and the stage
// API prints intermediate forms.
//
//===----------------------------------------------------------------------===//

#include "compiler/Driver/Compiler.h"
#include "compiler/Pipelines/Pipelines.h"

#include "grade/runtime.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <fstream>
#include <vector>
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

// Edge fields cross the API in the caller's edge order: an edge input bound
// in the order of the edge list and an edge state read back, against a
// plain loop over that list, on a graph whose CSR order differs from it
// (edges listed by source, with a parallel pair), from an edge list and
// from unsorted CSR arrays.
TEST(DriverTest, EdgeFieldsFollowTheCallersEdgeOrder) {
  ScratchDir dir;
  std::string model = writeFile(dir, "edges.grade", R"(model edges {
  graph G;
  input x0 : node f64;
  input c : edge f64;
  state x : node f64 = x0;
  state e : edge f64 = c;
  // dx/dt reads c per edge; de/dt = -(c + x[src]) * e: the edge state moves
  // with its own edge's input and source.
  rhs dx/dt = sum_in(c * x[src]);
  rhs de/dt = -1 * (c + x[src]) * e;
  solve euler(dt = 0.25) over [0, 1];
  output x, e;
})");
  std::string library = dir.file("libedges.so");
  std::string errors;
  ASSERT_TRUE(succeeded(
      grade::driver::compileFileToLibrary(model, library, errors)))
      << errors;
  grade_library_t *lib = nullptr;
  ASSERT_EQ(statusText(grade_library_load(library.c_str(), &lib)), "ok");

  // Edges listed by source: the CSR order (by destination) differs.
  const int64_t n = 4;
  std::vector<int64_t> src = {0, 0, 1, 2, 3, 3, 1};
  std::vector<int64_t> dst = {1, 3, 2, 0, 0, 2, 2};
  const size_t m = src.size();
  std::vector<double> x0 = {1.0, -2.0, 0.5, 3.0};
  std::vector<double> c = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};
  // Plain explicit Euler over the list, 4 steps of 0.25.
  std::vector<double> x = x0, e = c;
  for (int step = 0; step < 4; ++step) {
    std::vector<double> dx(n, 0.0), de(m);
    for (size_t k = 0; k < m; ++k) {
      dx[size_t(dst[k])] += c[k] * x[size_t(src[k])];
      de[k] = -(c[k] + x[size_t(src[k])]) * e[k];
    }
    for (int64_t i = 0; i < n; ++i)
      x[size_t(i)] += 0.25 * dx[size_t(i)];
    for (size_t k = 0; k < m; ++k)
      e[k] += 0.25 * de[k];
  }

  // The same edges as CSR arrays by destination, each row's sources
  // unsorted (row 2: sources 1, 3, 1); the caller's order is this one.
  std::vector<int64_t> rowPtr = {0, 2, 3, 6, 7};
  std::vector<int64_t> colIdx = {2, 3, 0, 1, 3, 1, 0};
  std::vector<size_t> csrToList = {3, 4, 0, 2, 5, 6, 1};

  for (bool fromCsr : {false, true}) {
    SCOPED_TRACE(fromCsr ? "CSR arrays" : "edge list");
    grade_graph_t *graph = nullptr;
    ASSERT_EQ(statusText(fromCsr ? grade_graph_create_csr(
                                       n, int64_t(m), rowPtr.data(),
                                       colIdx.data(), nullptr, &graph)
                                 : grade_graph_create_edges(
                                       n, int64_t(m), src.data(), dst.data(),
                                       nullptr, &graph)),
              "ok");
    EXPECT_NE(grade_graph_edge_positions(graph), nullptr);
    // The caller's order: the list, or the CSR arrays as given.
    auto caller = [&](const std::vector<double> &list) {
      if (!fromCsr)
        return list;
      std::vector<double> result(m);
      for (size_t k = 0; k < m; ++k)
        result[k] = list[csrToList[k]];
      return result;
    };
    grade_session_t *session = nullptr;
    ASSERT_EQ(statusText(grade_session_create(lib, &session)), "ok");
    ASSERT_EQ(statusText(grade_session_bind_graph(session, graph)), "ok");
    int64_t nodeShape[1] = {n}, edgeShape[1] = {int64_t(m)};
    grade_tensor_t *xt = nullptr, *ct = nullptr;
    ASSERT_EQ(statusText(grade_tensor_create(GRADE_DTYPE_F64, 1, nodeShape,
                                             &xt)),
              "ok");
    ASSERT_EQ(statusText(grade_tensor_create(GRADE_DTYPE_F64, 1, edgeShape,
                                             &ct)),
              "ok");
    std::copy(x0.begin(), x0.end(), static_cast<double *>(xt->data));
    std::vector<double> cc = caller(c);
    std::copy(cc.begin(), cc.end(), static_cast<double *>(ct->data));
    ASSERT_EQ(statusText(grade_session_bind(session, "x0", xt)), "ok");
    ASSERT_EQ(statusText(grade_session_bind(session, "c", ct)), "ok");
    ASSERT_EQ(statusText(grade_session_initialize(session)), "ok");
    // de/dt at t = 0 through eval_rhs: in the caller's order too.
    grade_tensor_t *rhs[2] = {nullptr, nullptr};
    ASSERT_EQ(statusText(grade_session_eval_rhs(session, 0.0, rhs)), "ok");
    std::vector<double> de0(m);
    for (size_t k = 0; k < m; ++k)
      de0[k] = -(c[k] + x0[size_t(src[k])]) * c[k];
    std::vector<double> de0Caller = caller(de0);
    for (size_t k = 0; k < m; ++k)
      EXPECT_NEAR(static_cast<const double *>(rhs[1]->data)[k], de0Caller[k],
                  1e-15)
          << "de/dt at t = 0, edge " << k;
    grade_tensor_free(rhs[0]);
    grade_tensor_free(rhs[1]);
    ASSERT_EQ(statusText(grade_session_integrate(session, 1.0, 0.0, nullptr,
                                                 nullptr)),
              "ok");
    grade_tensor_t *xr = nullptr, *er = nullptr;
    ASSERT_EQ(statusText(grade_session_read(session, "x", &xr)), "ok");
    ASSERT_EQ(statusText(grade_session_read(session, "e", &er)), "ok");
    for (int64_t i = 0; i < n; ++i)
      EXPECT_NEAR(static_cast<const double *>(xr->data)[i], x[size_t(i)],
                  1e-14)
          << "node " << i;
    std::vector<double> eCaller = caller(e);
    for (size_t k = 0; k < m; ++k)
      EXPECT_NEAR(static_cast<const double *>(er->data)[k], eCaller[k], 1e-14)
          << "edge " << k;
    grade_tensor_free(xr);
    grade_tensor_free(er);
    grade_tensor_free(xt);
    grade_tensor_free(ct);
    grade_session_free(session);
    grade_graph_free(graph);
  }
  grade_library_unload(lib);
}

/// f(state) of a model whose states are bound as inputs (x = x0, y = y0):
/// re-binds, re-initialises and evaluates the right-hand sides.
std::vector<std::vector<double>>
rhsAt(grade_session_t *session, const std::vector<grade_tensor_t *> &inputs,
      const std::vector<std::vector<double>> &point,
      const std::vector<grade_tensor_t *> &out) {
  for (size_t k = 0; k < inputs.size(); ++k) {
    std::copy(point[k].begin(), point[k].end(),
              static_cast<double *>(inputs[k]->data));
    EXPECT_EQ(statusText(grade_session_bind(session, k ? "y0" : "x0",
                                            inputs[k])),
              "ok");
  }
  EXPECT_EQ(statusText(grade_session_initialize(session)), "ok");
  EXPECT_EQ(statusText(grade_session_eval_rhs_into(session, 0.0, out.data())),
            "ok");
  std::vector<std::vector<double>> result;
  for (grade_tensor_t *tensor : out) {
    const double *data = static_cast<const double *>(tensor->data);
    result.emplace_back(data, data + grade_tensor_numel(tensor));
  }
  return result;
}

// The forward-mode JVP of a right-hand side through every differentiable
// construct (gather both ends, sum_in, softmax_in, mean_all, tanh, sqrt,
// exp, sin, abs, pow, max, division, dot, @ with a parameter, two coupled
// states) against central differences of the right-hand side itself.
TEST(DriverTest, JacobianVectorProductsMatchDifferences) {
  ScratchDir dir;
  std::string model = writeFile(dir, "nl.grade", R"(model nl {
  graph G;
  input x0 : node f64;
  input y0 : node f64[2];
  param W : f64[2, 2];
  state x : node f64 = x0;
  state y : node f64[2] = y0;
  rhs dx/dt = sum_in(softmax_in(x[src] * x[dst]) * (x[src] - x[dst]))
              + tanh(x) * x + sqrt(1 + x * x) - mean_all(x) * x + dot(y, y)
              + pow(abs(x) + 1, 1.5) + max(x, 0.2 * x) / (2 + sin(x));
  rhs dy/dt = y @ W - exp(0.3 * y) + sum_in(y[src]) * 0.1;
  solve backward_euler(dt = 0.1) over [0, 1];
  output x, y;
})");
  std::string library = dir.file("libnl.so");
  std::string errors;
  ASSERT_TRUE(succeeded(
      grade::driver::compileFileToLibrary(model, library, errors)))
      << errors;
  grade_library_t *lib = nullptr;
  ASSERT_EQ(statusText(grade_library_load(library.c_str(), &lib)), "ok");
  grade_session_t *session = nullptr;
  ASSERT_EQ(statusText(grade_session_create(lib, &session)), "ok");
  grade_graph_t *graph = nullptr;
  ASSERT_EQ(statusText(grade_graph_generate("random:30:120:7", &graph)), "ok");
  ASSERT_EQ(statusText(grade_session_bind_graph(session, graph)), "ok");
  const int64_t n = 30;
  int64_t xShape[1] = {n}, yShape[2] = {n, 2}, wShape[2] = {2, 2};
  std::vector<grade_tensor_t *> inputs(2), tangents(2), products(2), rhs(2);
  for (auto *group : {&inputs, &tangents, &products, &rhs}) {
    ASSERT_EQ(statusText(grade_tensor_create(GRADE_DTYPE_F64, 1, xShape,
                                             &(*group)[0])),
              "ok");
    ASSERT_EQ(statusText(grade_tensor_create(GRADE_DTYPE_F64, 2, yShape,
                                             &(*group)[1])),
              "ok");
  }
  grade_tensor_t *w = nullptr;
  ASSERT_EQ(statusText(grade_tensor_create(GRADE_DTYPE_F64, 2, wShape, &w)),
            "ok");
  double *wData = static_cast<double *>(w->data);
  wData[0] = 0.3, wData[1] = -1.2, wData[2] = 0.7, wData[3] = 0.4;
  ASSERT_EQ(statusText(grade_session_bind(session, "W", w)), "ok");

  // A point and a direction (deterministic, varied signs).
  std::vector<std::vector<double>> point(2), direction(2);
  for (int64_t i = 0; i < n; ++i)
    point[0].push_back(std::sin(1.7 * double(i) + 0.3));
  for (int64_t i = 0; i < 2 * n; ++i)
    point[1].push_back(0.8 * std::cos(0.9 * double(i)));
  for (int64_t i = 0; i < n; ++i)
    direction[0].push_back(std::cos(2.3 * double(i)));
  for (int64_t i = 0; i < 2 * n; ++i)
    direction[1].push_back(std::sin(1.1 * double(i) + 1));

  rhsAt(session, inputs, point, rhs); // the session now sits at `point`
  for (size_t k = 0; k < 2; ++k)
    std::copy(direction[k].begin(), direction[k].end(),
              static_cast<double *>(tangents[k]->data));
  ASSERT_EQ(statusText(grade_session_eval_jvp(session, 0.0, tangents.data(),
                                              products.data())),
            "ok");

  const double h = 1e-5;
  std::vector<std::vector<double>> plus = point, minus = point;
  for (size_t k = 0; k < 2; ++k)
    for (size_t i = 0; i < point[k].size(); ++i) {
      plus[k][i] += h * direction[k][i];
      minus[k][i] -= h * direction[k][i];
    }
  std::vector<std::vector<double>> fPlus = rhsAt(session, inputs, plus, rhs);
  std::vector<std::vector<double>> fMinus = rhsAt(session, inputs, minus, rhs);
  double largest = 0;
  for (size_t k = 0; k < 2; ++k) {
    const double *jv = static_cast<const double *>(products[k]->data);
    for (size_t i = 0; i < point[k].size(); ++i) {
      double difference = (fPlus[k][i] - fMinus[k][i]) / (2 * h);
      largest = std::max(largest, std::fabs(difference));
      EXPECT_NEAR(jv[i], difference, 1e-7 * (1 + std::fabs(difference)))
          << "state " << k << ", value " << i;
    }
  }
  EXPECT_GT(largest, 1.0); // the direction does move the right-hand side

  // A library without JVPs says so.
  std::string plain = dir.file("libheat.so");
  ASSERT_TRUE(succeeded(grade::driver::compileFileToLibrary(
      GRADE_EXAMPLES_DIR "/heat.grade", plain, errors)))
      << errors;
  grade_library_t *heatLib = nullptr;
  ASSERT_EQ(statusText(grade_library_load(plain.c_str(), &heatLib)), "ok");
  grade_session_t *heat = nullptr;
  ASSERT_EQ(statusText(grade_session_create(heatLib, &heat)), "ok");
  ASSERT_EQ(statusText(grade_session_bind_graph(heat, graph)), "ok");
  ASSERT_EQ(statusText(grade_session_bind(heat, "x0", inputs[0])), "ok");
  ASSERT_EQ(statusText(grade_session_initialize(heat)), "ok");
  EXPECT_EQ(statusText(grade_session_eval_jvp(heat, 0.0, tangents.data(),
                                              products.data())),
            "model 'heat' has no Jacobian-vector products; compile it for an "
            "implicit scheme or with gradec --jvp");
  grade_session_free(heat);
  grade_library_unload(heatLib);

  for (auto *group : {&inputs, &tangents, &products, &rhs})
    for (grade_tensor_t *tensor : *group)
      grade_tensor_free(tensor);
  grade_tensor_free(w);
  grade_graph_free(graph);
  grade_session_free(session);
  grade_library_unload(lib);
}

// The Jacobian's diagonal the compiler generates for the Jacobi
// preconditioner, against J e_i's i-th entry through the JVP, node by node,
// for a scalar nonlinear model (softmax over in-edges, gathers at both ends,
// tanh, sqrt) on a graph without self-loops: exact there.
TEST(DriverTest, JacobianDiagonalMatchesUnitProducts) {
  ScratchDir dir;
  std::string model = writeFile(dir, "diag.grade", R"(model diag {
  graph G;
  input x0 : node f64;
  state x : node f64 = x0;
  rhs dx/dt = sum_in(softmax_in(x[src] * x[dst]) * (x[src] - x[dst]))
              + tanh(x) * x - sqrt(1 + x * x) + sum_in(x[dst] * x[src]);
  solve sdirk2(dt = 0.1) over [0, 1];
  output x;
})");
  std::string library = dir.file("libdiag.so");
  std::string errors;
  ASSERT_TRUE(succeeded(
      grade::driver::compileFileToLibrary(model, library, errors)))
      << errors;
  grade_library_t *lib = nullptr;
  ASSERT_EQ(statusText(grade_library_load(library.c_str(), &lib)), "ok");
  grade_session_t *session = nullptr;
  ASSERT_EQ(statusText(grade_session_create(lib, &session)), "ok");
  grade_graph_t *graph = nullptr;
  ASSERT_EQ(statusText(grade_graph_generate("random:12:40:3", &graph)), "ok");
  ASSERT_EQ(statusText(grade_session_bind_graph(session, graph)), "ok");
  const int64_t n = 12;
  int64_t shape[1] = {n};
  grade_tensor_t *x0 = nullptr, *tangent = nullptr, *product = nullptr,
                 *diagonal = nullptr;
  for (grade_tensor_t **tensor : {&x0, &tangent, &product, &diagonal})
    ASSERT_EQ(statusText(grade_tensor_create(GRADE_DTYPE_F64, 1, shape, tensor)),
              "ok");
  for (int64_t i = 0; i < n; ++i)
    static_cast<double *>(x0->data)[i] = std::sin(0.7 * double(i) + 0.2);
  ASSERT_EQ(statusText(grade_session_bind(session, "x0", x0)), "ok");
  ASSERT_EQ(statusText(grade_session_initialize(session)), "ok");
  ASSERT_EQ(statusText(grade_session_eval_jacobian_diagonal(session, 0.0,
                                                            &diagonal)),
            "ok");
  double *v = static_cast<double *>(tangent->data);
  for (int64_t i = 0; i < n; ++i) {
    std::fill(v, v + n, 0.0);
    v[i] = 1.0;
    ASSERT_EQ(statusText(
                  grade_session_eval_jvp(session, 0.0, &tangent, &product)),
              "ok");
    EXPECT_NEAR(static_cast<const double *>(diagonal->data)[i],
                static_cast<const double *>(product->data)[i], 1e-12)
        << "node " << i;
  }
  for (grade_tensor_t *tensor : {x0, tangent, product, diagonal})
    grade_tensor_free(tensor);
  grade_graph_free(graph);
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

TEST(DriverTest, VectorWidthParses) {
  unsigned bits = 1;
  std::string error;
  EXPECT_TRUE(succeeded(grade::parseVectorWidth("auto", bits, error)));
  EXPECT_EQ(bits, 0u);
  EXPECT_TRUE(succeeded(grade::parseVectorWidth("256", bits, error)));
  EXPECT_EQ(bits, 256u);
  EXPECT_TRUE(failed(grade::parseVectorWidth("1024", bits, error)));
  EXPECT_EQ(error, "unknown vector width '1024' (expected auto, 128, 256 "
                   "or 512)");
  // A client of the compile API sets the width in the struct directly.
  grade::PipelineOptions options;
  options.vectorBits = 512;
  error.clear();
  EXPECT_TRUE(succeeded(grade::checkPipelineOptions(options, error)));
  options.vectorBits = 300;
  EXPECT_TRUE(failed(grade::checkPipelineOptions(options, error)));
  EXPECT_EQ(error, "vectors of 300 bits are not supported (128, 256 or 512)");
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

  // No target at all: an error before any target-dependent pipeline,
  // nothing printed.
  options.pipeline.cpu = false;
  EXPECT_TRUE(failed(grade::driver::compile(sourceMgr, context,
                                            /*isMLIR=*/false, os, options)));
  EXPECT_EQ(diagnostics, "no target to compile for (give cpu, cuda or both)\n");
  EXPECT_EQ(text, "");

  // The GPU alone: the entries' GPU flavour only, launching kernels that
  // the GPU stage maps onto threads.
  options.pipeline.cudaChips = {"sm_80"};
  options.target = grade::Stage::GPU;
  diagnostics.clear();
  EXPECT_TRUE(succeeded(grade::driver::compile(sourceMgr, context,
                                               /*isMLIR=*/false, os, options)))
      << diagnostics;
  EXPECT_EQ(text.find("func.func @gradegen_entry_"), std::string::npos);
  EXPECT_NE(text.find("func.func @gradegen_cuda_entry_step"),
            std::string::npos);
  EXPECT_NE(text.find("gpu.launch_func  @gradegen_kernels::@heat_step_kernel0"),
            std::string::npos);
  text.clear();

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
  EXPECT_TRUE(parsed.cpu);
  EXPECT_TRUE(parsed.cudaChips.empty());
  EXPECT_EQ(parsed.optLevel, 1u);
  EXPECT_TRUE(failed(grade::parsePipelineOptions("target=tpu", parsed, error)));
  EXPECT_EQ(error, "unknown target 'tpu' (known: cpu, cuda, cuda:sm_XX; a "
                   "list such as cpu,cuda:sm_80,sm_90)");
  // Target lists: architectures after cuda, duplicates once, round trip.
  ASSERT_TRUE(succeeded(
      grade::parseTargets("cpu,cuda:sm_90,sm_80,sm_90", parsed, error)))
      << error;
  EXPECT_TRUE(parsed.cpu);
  EXPECT_EQ(parsed.cudaChips,
            (llvm::SmallVector<std::string, 2>{"sm_90", "sm_80"}));
  EXPECT_EQ(grade::stringifyTargets(parsed), "cpu,cuda:sm_90,sm_80");
  ASSERT_TRUE(succeeded(grade::parseTargets("cuda", parsed, error)));
  EXPECT_FALSE(parsed.cpu);
  EXPECT_EQ(grade::stringifyTargets(parsed), "cuda:sm_80");
  EXPECT_TRUE(failed(grade::parseTargets("cuda:sm_81", parsed, error)));
  EXPECT_EQ(error.substr(0, 47),
            "unknown GPU architecture 'sm_81' (known: sm_50,");
  // A bare architecture belongs to a cuda item before it.
  EXPECT_TRUE(failed(grade::parseTargets("sm_80,cuda", parsed, error)));
  EXPECT_EQ(error.substr(0, 24), "unknown target 'sm_80' (");
}

} // namespace

// As in gradec: LLVM's process set-up (signal handlers, the alternate
// signal stack) before any compilation, which runs on a thread of its own.
int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

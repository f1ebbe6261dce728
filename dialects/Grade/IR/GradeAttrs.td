//===- GradeAttrs.td - attributes of the grade dialect -----*- tablegen -*-===//
//
// The scheme of a `grade.solve` is data: a Butcher tableau that the scheme
// expansion reads and the generated library exports.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADEATTRS_TD
#define GRADE_DIALECTS_GRADE_IR_GRADEATTRS_TD

include "dialects/Grade/IR/GradeDialect.td"

def Grade_TableauAttr : AttrDef<Grade_Dialect, "Tableau"> {
  let mnemonic = "tableau";
  let summary = "a Runge-Kutta scheme as a Butcher tableau";
  let description = [{
    An s-stage explicit or diagonally implicit Runge-Kutta scheme: the
    coefficient matrix `a` (s x s, row-major, lower-triangular; a non-zero
    diagonal makes the scheme implicit, its stages solved by the runtime
    with Newton-Krylov on the generated JVP), the weights `b` and the
    nodes `c` (c_i = sum_j a_ij), with its formal order of accuracy. The
    verifier checks the structure and the order conditions up to `order`
    (through rooted trees, up to order 6).

    An adaptive scheme also has embedded weights `bhat` of a lower order
    (`embedded_order`): the difference of the two solutions estimates the
    local error. Its dense output is the scheme's own interpolant: a cubic
    Hermite polynomial for a scheme whose last stage is evaluated at the new
    state (first same as last, FSAL), or, with `mid` (the interpolant's
    weights at the middle of the step, b_i(1/2)), the quartic through the
    two ends, their slopes and the midpoint (Dormand-Prince's).

    A backward differentiation formula (`bdf_order` 2: `bdf2`) is a
    multistep scheme: its tableau (backward Euler) takes the first step,
    every later one solves y' = a1 y_n - a2 y_{n-1} + b h f(t + h, y') with
    the variable-step coefficients of the last two steps.

    A partitioned (symplectic) scheme has a second tableau `qa`, `qb` for
    the position states (those whose right-hand sides read only the other,
    velocity states: dx/dt = v), `a`, `b` being the velocities'; both are
    explicit, and `c` are the stages' times (the row sums of `qa`). Its
    `order` is the order on separable systems (dx/dt = g(v), dv/dt = f(x)),
    checked up to 2.

    An IMEX (additive) scheme has a second tableau `ea`, `eb` for the
    explicit part of a split right-hand side, `a`, `b` being the implicit
    part's (diagonally implicit); both share the nodes `c` (the row sums
    of each). The runtime solves the implicit part's stages and evaluates
    the explicit part at them. Its `order` is the pair's, checked up to 2
    (with shared nodes, both tableaux' own conditions).

    A scheme of the built-in list prints by name; any other prints whole:

    ```mlir
    #grade.tableau<rk4>
    #grade.tableau<"kutta3", order 3, a = [[0, 0, 0], [0.5, 0, 0], [-1, 2, 0]],
                   b = [0.1666, 0.6666, 0.1666], c = [0, 0.5, 1]>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"scheme name">:$name,
    "int64_t":$order,
    "::mlir::DenseF64ArrayAttr":$coefficients,
    "::mlir::DenseF64ArrayAttr":$weights,
    "::mlir::DenseF64ArrayAttr":$nodes,
    "::mlir::DenseF64ArrayAttr":$embeddedWeights,
    "int64_t":$embeddedOrder,
    "::mlir::DenseF64ArrayAttr":$midWeights,
    "::mlir::DenseF64ArrayAttr":$partnerCoefficients,
    "::mlir::DenseF64ArrayAttr":$partnerWeights,
    "int64_t":$bdfOrder,
    "::mlir::DenseF64ArrayAttr":$explicitCoefficients,
    "::mlir::DenseF64ArrayAttr":$explicitWeights
  );
  let builders = [
    AttrBuilder<(ins "::llvm::StringRef":$name, "int64_t":$order,
                     "::llvm::ArrayRef<double>":$a,
                     "::llvm::ArrayRef<double>":$b,
                     "::llvm::ArrayRef<double>":$c,
                     CArg<"::llvm::ArrayRef<double>", "{}">:$bhat,
                     CArg<"int64_t", "0">:$embeddedOrder,
                     CArg<"::llvm::ArrayRef<double>", "{}">:$mid,
                     CArg<"::llvm::ArrayRef<double>", "{}">:$qa,
                     CArg<"::llvm::ArrayRef<double>", "{}">:$qb,
                     CArg<"int64_t", "0">:$bdfOrder,
                     CArg<"::llvm::ArrayRef<double>", "{}">:$ea,
                     CArg<"::llvm::ArrayRef<double>", "{}">:$eb), [{
      return $_get($_ctxt, name, order,
                   ::mlir::DenseF64ArrayAttr::get($_ctxt, a),
                   ::mlir::DenseF64ArrayAttr::get($_ctxt, b),
                   ::mlir::DenseF64ArrayAttr::get($_ctxt, c),
                   ::mlir::DenseF64ArrayAttr::get($_ctxt, bhat), embeddedOrder,
                   ::mlir::DenseF64ArrayAttr::get($_ctxt, mid),
                   ::mlir::DenseF64ArrayAttr::get($_ctxt, qa),
                   ::mlir::DenseF64ArrayAttr::get($_ctxt, qb), bdfOrder,
                   ::mlir::DenseF64ArrayAttr::get($_ctxt, ea),
                   ::mlir::DenseF64ArrayAttr::get($_ctxt, eb));
    }]>
  ];
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// a (s x s, row-major), b and c.
    ::llvm::ArrayRef<double> getA() const {
      return getCoefficients().asArrayRef();
    }
    ::llvm::ArrayRef<double> getB() const { return getWeights().asArrayRef(); }
    ::llvm::ArrayRef<double> getC() const { return getNodes().asArrayRef(); }
    /// The embedded weights (empty for a fixed-step scheme).
    ::llvm::ArrayRef<double> getBhat() const {
      return getEmbeddedWeights().asArrayRef();
    }
    /// b_i(1/2) of the dense output (empty: none, or Hermite).
    ::llvm::ArrayRef<double> getMid() const {
      return getMidWeights().asArrayRef();
    }
    /// True for a diagonally implicit scheme (some a_ii != 0): the runtime
    /// solves its stages; the library has no explicit step.
    bool isImplicit() const;
    /// True for a scheme with an embedded error estimate.
    bool isAdaptive() const { return !getBhat().empty(); }
    /// A partitioned scheme's tableau of the position states (empty for a
    /// plain one): qa (s x s, strictly lower-triangular) and qb.
    ::llvm::ArrayRef<double> getQA() const {
      return getPartnerCoefficients().asArrayRef();
    }
    ::llvm::ArrayRef<double> getQB() const {
      return getPartnerWeights().asArrayRef();
    }
    bool isPartitioned() const { return !getQB().empty(); }
    /// An IMEX scheme's tableau of the explicit part (empty otherwise):
    /// ea (s x s, strictly lower-triangular) and eb; `a`, `b` are the
    /// implicit part's.
    ::llvm::ArrayRef<double> getExplicitA() const {
      return getExplicitCoefficients().asArrayRef();
    }
    ::llvm::ArrayRef<double> getExplicitB() const {
      return getExplicitWeights().asArrayRef();
    }
    bool isImex() const { return !getExplicitB().empty(); }
    /// qa_ij (0-based).
    double getQA(unsigned i, unsigned j) const {
      return getQA()[i * getNumStages() + j];
    }
    /// True if the last stage evaluates the right-hand side at the new
    /// state (its row of `a` is `b`, its node 1): the next step's first
    /// stage is this step's last.
    bool isFSAL() const;
    /// Number of stages s.
    unsigned getNumStages() const { return getB().size(); }
    /// a_ij (0-based).
    double getA(unsigned i, unsigned j) const {
      return getA()[i * getNumStages() + j];
    }
    /// The built-in scheme of this name (euler, midpoint, heun, ralston,
    /// ssprk3, kutta3, rk4, rk38, bosh3, dopri5, backward_euler,
    /// crank_nicolson, sdirk2, bdf2, symplectic_euler, leapfrog,
    /// imex_euler, ars222); null if
    /// there is none.
    static TableauAttr getNamed(::mlir::MLIRContext *context,
                                ::llvm::StringRef name);
    /// Names of the built-in schemes, in the order docs list them.
    static ::llvm::ArrayRef<::llvm::StringRef> getNamedSchemes();
    /// True if this is the built-in scheme of its name.
    bool isNamed() const;
  }];
}

def Grade_LawAttr : AttrDef<Grade_Dialect, "Law"> {
  let mnemonic = "law";
  let summary = "how a declared field transforms under the model's groups";
  let description = [{
    The transformation law of a field (dialects/Grade/IR/GradeLaws.h): how
    rotations act on it (`scalar`, `vector`: the last feature axis,
    `tensor`: the last two) and the coefficients of
    f -> s^weight (Q.f + translate (a + v t) + boost v).

    ```mlir
    #grade.law<vector, translate 1, boost 0, weight 0>   // a position
    ```
  }];
  let parameters = (ins "int32_t":$rep, "::mlir::DenseF64ArrayAttr":$coefficients);
  let hasCustomAssemblyFormat = 1;
  let extraClassDeclaration = [{
    double getTranslate() const { return getCoefficients()[0]; }
    double getBoost() const { return getCoefficients()[1]; }
    double getWeight() const { return getCoefficients()[2]; }
  }];
}

def Grade_SymmetryAttr : AttrDef<Grade_Dialect, "Symmetry"> {
  let mnemonic = "symmetry";
  let summary = "the symmetry groups a model declares";
  let description = [{
    The groups of a model's `symmetry` clause as written, their kinds (the
    ABI's grade_group_t flags, printed by name), the dimension n of its
    Euclidean groups and the scaling weight of the time.

    ```mlir
    #grade.symmetry<"E(3), scaling", [permutations, translations, rotations,
                    reflections, scalings], dim 3, time_weight 2>
    ```
  }];
  let parameters = (ins StringRefParameter<"groups as written">:$spelling,
                        "uint32_t":$groups, "int64_t":$dim,
                        "::mlir::FloatAttr":$timeWeight);
  let hasCustomAssemblyFormat = 1;
}

def Grade_LieAttr : AttrDef<Grade_Dialect, "Lie"> {
  let mnemonic = "lie";
  let summary = "the point symmetries of a grid model's PDE";
  let description = [{
    The `lie` clause of a model: the state on the periodic 1-D grid, the
    grid's period (a number, or the symbol of a global scalar parameter),
    and the point transformations, each a dictionary with its `name`, its
    formulas as written (`spelling`) and as programs (`x`, `t`, `u`: the
    ABI's grade_lie_op_t pairs; empty: the identity).
  }];
  let parameters = (ins "::mlir::FlatSymbolRefAttr":$state,
                        "::mlir::Attribute":$period,
                        "::mlir::ArrayAttr":$transforms);
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // GRADE_DIALECTS_GRADE_IR_GRADEATTRS_TD

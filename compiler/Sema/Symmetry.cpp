//===- Symmetry.cpp - symmetry groups and transformation laws -----------===//
//
// Reads the `symmetry` clause (its groups and the laws of the fields it
// lists) and proves the model equivariant: every let and readout gets a
// law by the grade dialect's rules (GradeLaws.h, applied here to the AST
// as Types.cpp applies the typing rules), and each state's right-hand side
// must transform as the state's time derivative does, its initial value
// as the state. A broken rule is reported at the operation, naming the
// group, the operation and the sub-expression.
//
//===----------------------------------------------------------------------===//

#include "compiler/Sema/Checker.h"

#include "grade/model_abi.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <map>

using namespace grade;
using namespace grade::sema;
using ast::SourceLoc;

//===----------------------------------------------------------------------===//
// The clause
//===----------------------------------------------------------------------===//

namespace {
/// A group the language knows.
struct KnownGroup {
  llvm::StringLiteral name;
  uint32_t flags;
  enum { NoDimension, NeedsDimension, OptionalDimension } dimension;
};
} // namespace

static constexpr KnownGroup kKnownGroups[] = {
    {"permutation", kPermutations, KnownGroup::NoDimension},
    {"T", kTranslations, KnownGroup::NeedsDimension},
    {"SO", kRotations, KnownGroup::NeedsDimension},
    {"O", kRotations | kReflections, KnownGroup::NeedsDimension},
    {"E", kRotations | kReflections | kTranslations,
     KnownGroup::NeedsDimension},
    {"SE", kRotations | kTranslations, KnownGroup::NeedsDimension},
    {"scaling", kScalings, KnownGroup::NoDimension},
    {"galilean", kBoosts, KnownGroup::OptionalDimension},
    {"time", kTimeShifts, KnownGroup::NoDimension},
};

/// The largest n of E(n), SO(n), ...
static constexpr int64_t kMaxDimension = 16;

void Checker::declareSymmetry() {
  if (!symmetryDecl)
    return;
  declareGroups(*symmetryDecl);
  for (const ast::SymmetryDecl::Law &entry : symmetryDecl->getLaws())
    declareLaw(entry);
}

void Checker::declareGroups(const ast::SymmetryDecl &decl) {
  Symmetry &symmetry = model.symmetry;
  const ast::SymmetryDecl::Group *dimensionFrom = nullptr;
  const ast::SymmetryDecl::Group *boosts = nullptr;
  std::vector<std::string> spellings;
  for (const ast::SymmetryDecl::Group &group : decl.getGroups()) {
    std::string spelled = ast::spell(group);
    spellings.push_back(spelled);
    const KnownGroup *known = llvm::find_if(
        kKnownGroups, [&](const KnownGroup &k) { return k.name == group.name; });
    if (known == std::end(kKnownGroups)) {
      std::vector<llvm::StringRef> names;
      for (const KnownGroup &k : kKnownGroups)
        names.push_back(k.name);
      error(group.range.begin,
            "unknown symmetry group '" + group.name +
                "'; grade knows permutation, T(n), SO(n), O(n), E(n), "
                "SE(n), scaling, galilean and time" +
                suggest(group.name, names));
      continue;
    }
    if (known->dimension == KnownGroup::NoDimension && group.dim) {
      error(group.range.begin,
            "'" + group.name + "' takes no dimension; write '" + group.name +
                "'");
      continue;
    }
    if (known->dimension == KnownGroup::NeedsDimension && !group.dim) {
      error(group.range.begin, "'" + group.name +
                                   "' needs a dimension, as in '" +
                                   group.name + "(3)'");
      continue;
    }
    if (group.dim) {
      if (*group.dim < 1 || *group.dim > kMaxDimension) {
        error(group.range.begin,
              "the dimension of '" + spelled + "' is out of range (1 to " +
                  std::to_string(kMaxDimension) + ")");
        continue;
      }
      if (dimensionFrom && *dimensionFrom->dim != *group.dim) {
        error(group.range.begin, "'" + spelled + "' and '" +
                                     ast::spell(*dimensionFrom) +
                                     "' act on spaces of different "
                                     "dimensions");
        continue;
      }
      dimensionFrom = &group;
      symmetry.dim = *group.dim;
    }
    symmetry.groups |= known->flags;
    if ((known->flags & kRotations) && symmetry.rotationName.empty())
      symmetry.rotationName = spelled;
    if ((known->flags & kTranslations) && symmetry.translationName.empty())
      symmetry.translationName = spelled;
    if (known->flags & kBoosts) {
      symmetry.boostName = spelled;
      boosts = &group;
    }
  }
  if (boosts && !symmetry.dim)
    error(boosts->range.begin,
          "'galilean' needs the dimension of the space the boosts move, as "
          "in 'galilean(1)' (or a group such as E(3) beside it)");
  symmetry.spelling = llvm::join(spellings, ", ");
}

void Checker::declareLaw(const ast::SymmetryDecl::Law &entry) {
  Symmetry &symmetry = model.symmetry;
  llvm::StringRef name = entry.field;
  if (auto it = lawEntries.find(name); it != lawEntries.end()) {
    error(entry.fieldRange.begin, "'" + name + "' is given a law twice")
            .attachNote(loc(it->second->fieldRange.begin))
        << "first given here";
    return;
  }
  lawEntries[name] = &entry;
  // The time takes a scaling weight only.
  if (name == "t" && !model.lookup(name)) {
    for (const ast::SymmetryDecl::Term &term : entry.terms) {
      if (term.name != "weight" || !term.arg) {
        error(term.range.begin, "the time 't' takes a scaling weight only, "
                                "as in 't: weight(2);'");
        return;
      }
      if (!symmetry.has(kScalings)) {
        error(term.range.begin, "a weight is a law under scalings; add "
                                "'scaling' to the groups");
        return;
      }
      symmetry.timeWeight = *term.arg;
    }
    return;
  }
  const DeclInfo *info = model.lookup(name);
  if (!info) {
    error(entry.fieldRange.begin,
          "unknown field '" + name + "' in the 'symmetry' clause" +
              suggest(name, declaredNames()));
    return;
  }
  if (info->role == Role::Let || info->role == Role::Readout) {
    error(entry.fieldRange.begin,
          "the law of " +
              std::string(info->role == Role::Let ? "let" : "readout") +
              " '" + name +
              "' follows from its value; give the laws of inputs, "
              "parameters and states");
    return;
  }
  Law law;
  const ast::SymmetryDecl::Term *repTerm = nullptr;
  for (const ast::SymmetryDecl::Term &term : entry.terms) {
    if (term.name == "weight") {
      if (!term.arg) {
        error(term.range.begin,
              "'weight' needs its exponent, as in 'weight(-1)'");
        return;
      }
      if (!symmetry.has(kScalings)) {
        error(term.range.begin, "a weight is a law under scalings; add "
                                "'scaling' to the groups");
        return;
      }
      law.weight = *term.arg;
      continue;
    }
    std::optional<Rep> rep = llvm::StringSwitch<std::optional<Rep>>(term.name)
                                 .Cases({"scalar", "invariant"}, Rep::Scalar)
                                 .Cases({"vector", "position", "velocity"},
                                        Rep::Vector)
                                 .Case("tensor", Rep::Tensor)
                                 .Default(std::nullopt);
    if (!rep) {
      error(term.range.begin,
            "unknown law '" + term.name +
                "'; a field is a scalar (or invariant), vector, position, "
                "velocity or tensor, with an optional weight(k)" +
                suggest(term.name, {"scalar", "invariant", "vector",
                                    "position", "velocity", "tensor",
                                    "weight"}));
      return;
    }
    if (term.arg) {
      error(term.range.begin, "'" + term.name + "' takes no argument");
      return;
    }
    if (repTerm) {
      error(term.range.begin, "'" + name + "' is given two laws, '" +
                                  repTerm->name + "' and '" + term.name +
                                  "'");
      return;
    }
    repTerm = &term;
    law.rep = *rep;
    if (term.name == "position")
      law.translate = 1;
    if (term.name == "velocity")
      law.boost = 1;
    if (*rep == Rep::Scalar)
      continue;
    if (!symmetry.dim) {
      error(term.range.begin, "'" + term.name +
                                  "' needs a group that acts on R^n: T(n), "
                                  "SO(n), O(n), E(n), SE(n) or galilean(n)");
      return;
    }
    // The vector axis is the last feature axis; a tensor's the last two.
    const std::vector<int64_t> &shape = info->type.shape;
    size_t axes = *rep == Rep::Tensor ? 2 : 1;
    bool fits = shape.size() >= axes;
    for (size_t i = 0; fits && i < axes; ++i)
      fits = shape[shape.size() - 1 - i] == symmetry.dim;
    // In one dimension a scalar field is a vector (a phase, a position on
    // a line).
    if (*rep == Rep::Vector && symmetry.dim == 1 && shape.empty())
      fits = true;
    if (!fits) {
      std::string n = std::to_string(symmetry.dim);
      error(term.range.begin,
            "'" + name + "' is " + format(info->type) + ", but " +
                (axes == 2 ? "a tensor of " : "a " + term.name + " of ") +
                symmetry.spelling + " needs " +
                (axes == 2 ? "its last two feature axes " + n + " x " + n
                           : "a last feature axis of " + n))
              .attachNote(loc(info->decl->getNameRange().begin))
          << "'" << name << "' declared here";
      return;
    }
  }
  // Coefficients of groups the model does not declare act on nothing.
  if (!symmetry.has(kTranslations | kBoosts))
    law.translate = 0;
  if (!symmetry.has(kBoosts))
    law.boost = 0;
  if (law.rep != Rep::Scalar || law.isAffine() || law.weight != 0)
    model.laws[name] = law;
}

//===----------------------------------------------------------------------===//
// Inference
//===----------------------------------------------------------------------===//

/// The law as the rules see it: without rotations, vectors are scalars.
static Law asChecked(Law law, const Symmetry &symmetry) {
  if (!symmetry.has(kRotations))
    law.rep = Rep::Scalar;
  return law;
}

std::optional<Law> Checker::lawOfField(llvm::StringRef name) {
  const Symmetry &symmetry = model.symmetry;
  const DeclInfo *info = model.lookup(name);
  bool inferred = info && (info->role == Role::Let ||
                           info->role == Role::Readout);
  if (!inferred) {
    const Law *law = model.getLaw(name);
    return asChecked(law ? *law : Law(), symmetry);
  }
  if (lawFailures.contains(name))
    return std::nullopt;
  if (const Law *law = model.getLaw(name))
    return asChecked(*law, symmetry);
  if (auto it = letLaws.find(name); it != letLaws.end())
    return it->second;
  std::string saved = lawContext;
  lawContext = (info->role == Role::Let ? "let '" : "readout '") + name.str() +
               "'";
  std::optional<Law> law =
      lawOf(llvm::cast<ast::LetDecl>(info->decl)->getValue());
  lawContext = saved;
  if (!law) {
    lawFailures.insert(name);
    return std::nullopt;
  }
  letLaws[name] = *law;
  if (law->rep != Rep::Scalar || law->isAffine() || law->weight != 0)
    model.laws[name] = *law;
  return law;
}

void Checker::reportLaw(const LawError &lawError, llvm::StringRef op,
                        const ast::Expr &expr, SourceLoc at) {
  error(at, "'" + op + "' is not " + model.symmetry.nameOf(lawError.group) +
                "-equivariant: " + lawError.message + ", in '" +
                ast::render(expr) + "' (" + lawContext + ")");
}

std::optional<Law> Checker::lawOf(const ast::Expr &expr) {
  return llvm::TypeSwitch<const ast::Expr *, std::optional<Law>>(&expr)
      .Case<ast::NumberExpr>([](const ast::NumberExpr *number) {
        return Law::number(number->getValue());
      })
      .Case<ast::NameExpr>(
          [&](const ast::NameExpr *name) { return lawOfName(*name); })
      .Case<ast::IndexExpr>([&](const ast::IndexExpr *index) {
        // Reading along edges moves nothing.
        return lawOf(index->getBase());
      })
      .Case<ast::NegExpr>([&](const ast::NegExpr *neg) -> std::optional<Law> {
        std::optional<Law> operand = lawOf(neg->getOperand());
        if (!operand)
          return std::nullopt;
        return *lawOfUnary(UnaryFn::neg, *operand, nullptr);
      })
      .Case<ast::BinaryExpr>([&](const ast::BinaryExpr *binary)
                                 -> std::optional<Law> {
        if (const std::string *velocity = model.getVelocityRef(*binary))
          return lawOfField(*velocity);
        std::optional<Law> lhs = lawOf(binary->getLhs());
        if (!lhs)
          return std::nullopt;
        std::optional<Law> rhs = lawOf(binary->getRhs());
        if (!rhs)
          return std::nullopt;
        LawError lawError;
        mlir::FailureOr<Law> law = mlir::failure();
        switch (binary->getOp()) {
        case ast::BinaryOp::Dot:
          law = lawOfDot(*lhs, *rhs, &lawError);
          break;
        case ast::BinaryOp::MatMul:
          law = lawOfMatmul(*lhs, *rhs, &lawError);
          break;
        default: {
          static const BinaryFn fns[] = {
              BinaryFn::add, BinaryFn::sub, BinaryFn::mul, BinaryFn::div,
              BinaryFn::add, BinaryFn::add, BinaryFn::lt,  BinaryFn::le,
              BinaryFn::gt,  BinaryFn::ge,  BinaryFn::eq,  BinaryFn::ne};
          law = lawOfBinary(fns[int(binary->getOp())], *lhs, *rhs, &lawError);
          break;
        }
        }
        if (mlir::failed(law)) {
          reportLaw(lawError, ast::spell(binary->getOp()), *binary,
                    binary->getOpLoc());
          return std::nullopt;
        }
        return *law;
      })
      .Case<ast::CallExpr>(
          [&](const ast::CallExpr *call) { return lawOfCall(*call); });
}

std::optional<Law> Checker::lawOfName(const ast::NameExpr &expr) {
  llvm::StringRef name = expr.getName();
  if (model.lookup(name))
    return lawOfField(name);
  const Symmetry &symmetry = model.symmetry;
  if (name == "t") {
    Law law;
    law.time = symmetry.has(kTimeShifts) ? 1 : 0;
    law.weight = symmetry.has(kScalings) ? symmetry.timeWeight : 0;
    return law;
  }
  // N, E, degree, weight: the graph's, which no group moves.
  return Law();
}

std::optional<Law> Checker::lawOfCall(const ast::CallExpr &expr) {
  llvm::StringRef callee = expr.getCallee();
  llvm::SmallVector<Law> operands;
  for (const ast::ExprPtr &arg : expr.getArgs()) {
    std::optional<Law> law = lawOf(*arg);
    if (!law)
      return std::nullopt;
    operands.push_back(*law);
  }
  LawError lawError;
  mlir::FailureOr<Law> law = mlir::failure();
  if (std::optional<UnaryFn> fn = symbolizeUnaryFn(callee))
    law = lawOfUnary(*fn, operands[0], &lawError);
  else if (std::optional<BinaryFn> fn = symbolizeBinaryFn(callee))
    law = lawOfBinary(*fn, operands[0], operands[1], &lawError);
  else if (callee == "dot")
    law = lawOfDot(operands[0], operands[1], &lawError);
  else if (callee == "softmax_in")
    law = lawOfSoftmax(operands[0], &lawError);
  else if (callee.starts_with("einsum") || callee.ends_with("_features"))
    law = lawOfContract(operands, &lawError, "'" + callee.str() + "'");
  else if (callee == "concat")
    law = lawOfConcat(operands, &lawError);
  else if (callee == "eye")
    law = Law();
  else if (callee == "sym_pow")
    law = lawOfSymPow(operands[0], *getNumberLiteral(*expr.getArgs()[1]),
                      &lawError);
  else if (callee == "reshape")
    law = lawOfReindex(operands[0], {}, &lawError);
  else if (callee == "take")
    law = lawOfReindex(operands[0], llvm::ArrayRef(operands).drop_front(),
                       &lawError);
  else if (callee == "conv1d") {
    // The windows of the input (a reindexing), contracted with the weights,
    // plus the bias.
    law = lawOfReindex(operands[0], {}, &lawError);
    if (succeeded(law))
      law = lawOfContract({operands[1], *law}, &lawError, "'conv1d'");
    if (succeeded(law) && operands.size() == 4)
      law = lawOfBinary(BinaryFn::add, *law, operands[2], &lawError);
  }
  else if (callee == "select")
    law = lawOfSelect(operands[0], operands[1], operands[2], &lawError);
  else if (callee.ends_with("_all")) {
    ReduceAllKind kind = llvm::StringSwitch<ReduceAllKind>(callee)
                             .StartsWith("sum_", ReduceAllKind::sum)
                             .StartsWith("mean_", ReduceAllKind::mean)
                             .StartsWith("max_", ReduceAllKind::max)
                             .Default(ReduceAllKind::min);
    law = lawOfReduceAll(kind, operands[0], &lawError);
  } else {
    ReduceKind kind = llvm::StringSwitch<ReduceKind>(callee)
                          .StartsWith("sum_", ReduceKind::sum)
                          .StartsWith("mean_", ReduceKind::mean)
                          .Default(ReduceKind::max);
    law = lawOfReduce(kind, callee.ends_with("_in"), operands[0], &lawError);
  }
  if (mlir::failed(law)) {
    reportLaw(lawError, callee, expr, expr.getLoc());
    return std::nullopt;
  }
  return *law;
}

//===----------------------------------------------------------------------===//
// States
//===----------------------------------------------------------------------===//

/// The group under which `actual` and `expected` differ first.
static uint32_t differingGroup(const Law &actual, const Law &expected) {
  if (actual.rep != expected.rep)
    return kRotations;
  if (actual.time != expected.time)
    return kTimeShifts;
  if (actual.translate != expected.translate)
    return kTranslations;
  if (actual.boost != expected.boost)
    return kBoosts;
  return kScalings;
}

void Checker::checkLawOf(const ast::Expr &expr, const Law &expected,
                         const std::string &what, llvm::StringRef field) {
  std::optional<Law> law = lawOf(expr);
  if (!law || law->isZero() || law->sameAs(expected))
    return;
  Law declared = *lawOfField(field);
  auto diagnostic =
      error(expr.getLoc(),
            what + " is " + describe(*law) + ", but must be " +
                describe(expected) + " to be " +
                model.symmetry.nameOf(differingGroup(*law, expected)) +
                "-equivariant: state '" + field + "' is " +
                describe(declared));
  auto entry = lawEntries.find(model.getDecl(field).position.empty()
                                   ? field
                                   : llvm::StringRef(
                                         model.getDecl(field).position));
  if (entry != lawEntries.end())
    diagnostic.attachNote(loc(entry->second->fieldRange.begin))
        << "its law is declared here";
  else
    diagnostic.attachNote(loc(model.getDecl(field).decl->getNameRange().begin))
        << "state '" << field
        << "' is declared here, without a law in the 'symmetry' clause (an "
           "invariant)";
}

void Checker::checkLaws() {
  const Symmetry &symmetry = model.symmetry;
  if (symmetry.isTrivial())
    return;
  // A velocity state transforms as its position's derivative.
  for (const std::string &name : model.order) {
    const DeclInfo &info = model.decls[name];
    if (info.role != Role::State || info.velocity.empty())
      continue;
    Law velocity = derivative(*lawOfField(name), symmetry);
    if (const Law *declared = model.getLaw(name))
      velocity.rep = declared->rep;
    if (velocity.rep != Rep::Scalar || velocity.isAffine() ||
        velocity.weight != 0)
      model.laws[info.velocity] = velocity;
  }
  // Unproven (gradec check-symmetry --no-proof): the declared laws only.
  if (!proveSymmetry)
    return;
  for (const std::string &name : model.order) {
    const DeclInfo &info = model.decls[name];
    if (info.role == Role::Let || info.role == Role::Readout)
      lawOfField(name);
  }
  for (const std::string &name : model.order) {
    const DeclInfo &info = model.decls[name];
    if (info.role != Role::State)
      continue;
    Law law = *lawOfField(name);
    if (info.position.empty()) {
      auto &state = llvm::cast<ast::StateDecl>(*info.decl);
      lawContext = "the initial value of '" + name + "'";
      checkLawOf(state.getInit(), law, "the initial value of '" + name + "'",
                 name);
      if (const ast::Expr *velocity = state.getVelocityInit()) {
        lawContext = "the initial value of 'd" + name + "/dt'";
        checkLawOf(*velocity, derivative(law, symmetry),
                   "the initial value of 'd" + name + "/dt'", name);
      }
    }
    for (const ast::RhsDecl *rhs :
         {info.rhs, info.explicitPart, info.implicitPart}) {
      if (!rhs)
        continue;
      std::string what = "the right-hand side of '" + name + "'";
      if (rhs->getPart() != ast::RhsPart::Whole)
        what = std::string("the ") +
               (rhs->getPart() == ast::RhsPart::Explicit ? "explicit"
                                                         : "implicit") +
               " part of " + what;
      lawContext = what;
      checkLawOf(rhs->getValue(), derivative(law, symmetry), what, name);
    }
  }
}

//===----------------------------------------------------------------------===//
// Lie point symmetries
//===----------------------------------------------------------------------===//

namespace {
/// The coordinates a formula's sub-expression depends on (x, t, u).
enum Coordinate : unsigned { kX = 1, kT = 2, kU = 4 };

/// Compiles one formula of a point transformation: checks that it is
/// affine in (x, t, u) with coefficients in the parameter alone, records
/// what it depends on, and emits its program (grade_lie_op_t pairs).
class LieFormula {
public:
  LieFormula(llvm::StringRef param, llvm::StringRef state,
             llvm::function_ref<void(ast::SourceLoc, const std::string &)>
                 report)
      : param(param), state(state), report(report) {}

  /// The coordinates `expr` depends on; nullopt after reporting.
  std::optional<unsigned> compile(const ast::Expr &expr);
  std::vector<double> program;

private:
  void emit(double op, double operand = 0) {
    program.push_back(op);
    program.push_back(operand);
  }
  static std::string names(unsigned deps) {
    std::vector<std::string> parts;
    if (deps & kX)
      parts.push_back("x");
    if (deps & kT)
      parts.push_back("t");
    if (deps & kU)
      parts.push_back("u");
    return llvm::join(parts, ", ");
  }

  llvm::StringRef param, state;
  llvm::function_ref<void(ast::SourceLoc, const std::string &)> report;
};
} // namespace


std::optional<unsigned> LieFormula::compile(const ast::Expr &expr) {
  if (auto *number = llvm::dyn_cast<ast::NumberExpr>(&expr)) {
    emit(GRADE_LIE_CONST, number->getValue());
    return 0u;
  }
  if (auto *name = llvm::dyn_cast<ast::NameExpr>(&expr)) {
    llvm::StringRef text = name->getName();
    if (text == param) {
      emit(GRADE_LIE_VAR, 0);
      return 0u;
    }
    if (text == "x" || text == "t" || text == state) {
      emit(GRADE_LIE_VAR, text == "x" ? 1 : text == "t" ? 2 : 3);
      return text == "x" ? kX : text == "t" ? kT : kU;
    }
    report(expr.getLoc(), "unknown name '" + text.str() +
                              "' in a point transformation: its formulas "
                              "read the parameter '" +
                              param.str() + "', x, t and '" + state.str() +
                              "'");
    return std::nullopt;
  }
  if (auto *neg = llvm::dyn_cast<ast::NegExpr>(&expr)) {
    std::optional<unsigned> deps = compile(neg->getOperand());
    if (deps)
      emit(GRADE_LIE_NEG);
    return deps;
  }
  if (auto *binary = llvm::dyn_cast<ast::BinaryExpr>(&expr)) {
    std::optional<unsigned> lhs = compile(binary->getLhs());
    if (!lhs)
      return std::nullopt;
    std::optional<unsigned> rhs = compile(binary->getRhs());
    if (!rhs)
      return std::nullopt;
    std::string text = "'" + ast::render(expr) + "'";
    switch (binary->getOp()) {
    case ast::BinaryOp::Add:
      emit(GRADE_LIE_ADD);
      return *lhs | *rhs;
    case ast::BinaryOp::Sub:
      emit(GRADE_LIE_SUB);
      return *lhs | *rhs;
    case ast::BinaryOp::Mul:
      if (*lhs && *rhs) {
        report(binary->getOpLoc(),
               text + " multiplies " + names(*lhs) + " by " + names(*rhs) +
                   ": a point transformation of the grid is affine in x, t "
                   "and u");
        return std::nullopt;
      }
      emit(GRADE_LIE_MUL);
      return *lhs | *rhs;
    case ast::BinaryOp::Div:
      if (*rhs) {
        report(binary->getOpLoc(),
               text + " divides by " + names(*rhs) +
                   ": a point transformation of the grid is affine in x, t "
                   "and u");
        return std::nullopt;
      }
      emit(GRADE_LIE_DIV);
      return *lhs;
    default:
      report(binary->getOpLoc(), "'" + ast::spell(binary->getOp()).str() +
                                     "' is not allowed in a point "
                                     "transformation");
      return std::nullopt;
    }
  }
  auto &call = llvm::cast<ast::CallExpr>(expr);
  static const std::pair<llvm::StringLiteral, grade_lie_op_t> kFunctions[] = {
      {"exp", GRADE_LIE_EXP},   {"log", GRADE_LIE_LOG},   {"sqrt", GRADE_LIE_SQRT}, {"sin", GRADE_LIE_SIN},
      {"cos", GRADE_LIE_COS},   {"tan", GRADE_LIE_TAN},   {"sinh", GRADE_LIE_SINH}, {"cosh", GRADE_LIE_COSH},
      {"tanh", GRADE_LIE_TANH}, {"pow", GRADE_LIE_POW}};
  const auto *function = llvm::find_if(
      kFunctions, [&](const auto &f) { return f.first == call.getCallee(); });
  size_t arity = call.getCallee() == "pow" ? 2 : 1;
  if (function == std::end(kFunctions) || call.getSpec() ||
      call.getArgs().size() != arity) {
    report(call.getLoc(),
           "'" + call.getCallee().str() +
               "' is not allowed in a point transformation; its formulas use "
               "numbers, + - * /, exp, log, sqrt, sin, cos, tan, sinh, cosh, "
               "tanh and pow(a, b)");
    return std::nullopt;
  }
  for (const ast::ExprPtr &arg : call.getArgs()) {
    std::optional<unsigned> deps = compile(*arg);
    if (!deps)
      return std::nullopt;
    if (*deps) {
      report(arg->getLoc(), "'" + call.getCallee().str() + "' of " +
                                names(*deps) +
                                ": a point transformation of the grid is "
                                "affine in x, t and u");
      return std::nullopt;
    }
  }
  emit(function->second);
  return 0u;
}

/// Runs a program at (eps, x, t, u).
static double runProgram(llvm::ArrayRef<double> program, double eps, double x,
                         double t, double u) {
  if (program.empty())
    return 0;
  std::vector<double> stack;
  double vars[] = {eps, x, t, u};
  for (size_t i = 0; i < program.size(); i += 2) {
    int op = int(program[i]);
    if (op == GRADE_LIE_CONST) {
      stack.push_back(program[i + 1]);
      continue;
    }
    if (op == GRADE_LIE_VAR) {
      stack.push_back(vars[int(program[i + 1])]);
      continue;
    }
    double a = stack.back();
    if (op >= GRADE_LIE_ADD && op <= GRADE_LIE_POW) {
      stack.pop_back();
      double &l = stack.back();
      l = op == GRADE_LIE_ADD   ? l + a
          : op == GRADE_LIE_SUB ? l - a
          : op == GRADE_LIE_MUL ? l * a
          : op == GRADE_LIE_DIV ? l / a
                       : std::pow(l, a);
      continue;
    }
    double &v = stack.back();
    switch (op) {
    case GRADE_LIE_NEG: v = -a; break;
    case GRADE_LIE_EXP: v = std::exp(a); break;
    case GRADE_LIE_LOG: v = std::log(a); break;
    case GRADE_LIE_SQRT: v = std::sqrt(a); break;
    case GRADE_LIE_SIN: v = std::sin(a); break;
    case GRADE_LIE_COS: v = std::cos(a); break;
    case GRADE_LIE_TAN: v = std::tan(a); break;
    case GRADE_LIE_SINH: v = std::sinh(a); break;
    case GRADE_LIE_COSH: v = std::cosh(a); break;
    default: v = std::tanh(a); break;
    }
  }
  return stack.back();
}

void Checker::checkLie() {
  if (!lieDecl)
    return;
  const ast::LieDecl &decl = *lieDecl;
  LieClause clause;
  clause.state = decl.getName().str();
  bool ok = true;
  auto report = [&](SourceLoc at, const std::string &message) {
    error(at, message);
    ok = false;
  };
  const DeclInfo *state = model.lookup(clause.state);
  if (!state || state->role != Role::State || !state->type.isNode() ||
      !state->type.shape.empty() || !state->velocity.empty() ||
      !state->position.empty()) {
    report(decl.getNameRange().begin,
           "the state of a 'lie' clause is a first-order scalar node state "
           "(as in 'state u : node f64 = u0;'), not '" +
               clause.state + "'");
    return;
  }
  if (clause.state == "x" || clause.state == "t") {
    report(decl.getNameRange().begin,
           "the state of a 'lie' clause cannot be called 'x' or 't', the "
           "coordinates of its formulas");
    return;
  }
  if (decl.getStart() != 0)
    report(decl.getStartRange().begin,
           "the grid of a 'lie' clause starts at 0, as in 'over [0, L)'");
  const ast::Expr &period = decl.getPeriod();
  if (auto *number = llvm::dyn_cast<ast::NumberExpr>(&period)) {
    clause.period = number->getValue();
    if (!(clause.period > 0))
      report(period.getLoc(), "the period of the grid must be positive");
  } else if (auto *name = llvm::dyn_cast<ast::NameExpr>(&period);
             name && model.lookup(name->getName()) &&
             model.lookup(name->getName())->role == Role::Param &&
             model.lookup(name->getName())->type.isGlobal() &&
             model.lookup(name->getName())->type.shape.empty()) {
    clause.periodParam = name->getName().str();
  } else {
    report(period.getLoc(), "the period of the grid is a number or a global "
                            "scalar parameter (as in 'param L : f64 = "
                            "6.283185307179586;')");
  }
  llvm::StringMap<SourceLoc> seen;
  for (const ast::LieDecl::Transform &transform : decl.getTransforms()) {
    if (auto [it, inserted] =
            seen.try_emplace(transform.name, transform.nameRange.begin);
        !inserted) {
      error(transform.nameRange.begin,
            "point transformation '" + transform.name + "' is declared twice")
              .attachNote(loc(it->second))
          << "first declared here";
      ok = false;
      continue;
    }
    if (transform.param == "x" || transform.param == "t" ||
        transform.param == clause.state) {
      report(transform.paramRange.begin,
             "the parameter of '" + transform.name + "' cannot be called '" +
                 transform.param + "'");
      continue;
    }
    LieClause::Transform built;
    built.name = transform.name;
    std::vector<std::string> spelled;
    std::map<std::string, const ast::LieDecl::Map *> maps;
    bool transformOk = true;
    for (const ast::LieDecl::Map &map : transform.maps) {
      spelled.push_back(map.target + " -> " + ast::render(*map.value));
      if (map.target != "x" && map.target != "t" &&
          map.target != clause.state) {
        report(map.targetRange.begin,
               "a point transformation maps x, t and '" + clause.state +
                   "', not '" + map.target + "'");
        transformOk = false;
        continue;
      }
      if (maps.count(map.target)) {
        report(map.targetRange.begin, "'" + transform.name + "' maps '" +
                                          map.target + "' twice");
        transformOk = false;
        continue;
      }
      maps[map.target] = &map;
      LieFormula formula(transform.param, clause.state, report);
      std::optional<unsigned> deps = formula.compile(*map.value);
      if (!deps) {
        transformOk = false;
        continue;
      }
      // What the grid augmentation can apply: x~ without u, t~ of t
      // alone, u~ without x (which would break the periodic grid).
      unsigned allowed = map.target == "x"   ? (kX | kT)
                         : map.target == "t" ? kT
                                             : (kU | kT);
      if (*deps & ~allowed) {
        std::string why =
            map.target == "x"
                ? "the new x depends on '" + clause.state +
                      "' (a hodograph transformation), which the grid "
                      "cannot follow"
            : map.target == "t"
                ? "the new t depends on x or '" + clause.state +
                      "'; it may depend on t alone"
                : "the new '" + clause.state +
                      "' depends on x, which breaks the periodic grid";
        report(map.value->getLoc(),
               "'" + transform.name + "' is not a transformation the grid "
               "augmentation can apply: " + why);
        transformOk = false;
        continue;
      }
      (map.target == "x"   ? built.x
       : map.target == "t" ? built.t
                           : built.u) = std::move(formula.program);
    }
    if (!transformOk)
      continue;
    // At parameter 0 a one-parameter group is the identity.
    double probes[][3] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1},
                          {0.7, -1.3, 2.1}};
    for (auto &probe : probes) {
      double x = probe[0], t = probe[1], u = probe[2];
      double nx = built.x.empty() ? x : runProgram(built.x, 0, x, t, u);
      double nt = built.t.empty() ? t : runProgram(built.t, 0, x, t, u);
      double nu = built.u.empty() ? u : runProgram(built.u, 0, x, t, u);
      if (std::abs(nx - x) > 1e-12 || std::abs(nt - t) > 1e-12 ||
          std::abs(nu - u) > 1e-12) {
        report(transform.nameRange.begin,
               "'" + transform.name + "' at " + transform.param +
                   " = 0 must be the identity (a one-parameter group "
                   "starts there), but maps (x, t, " +
                   clause.state + ") = (" + formatNumber(x) + ", " +
                   formatNumber(t) + ", " + formatNumber(u) + ") to (" +
                   formatNumber(nx) + ", " + formatNumber(nt) + ", " +
                   formatNumber(nu) + ")");
        transformOk = false;
        break;
      }
    }
    if (!transformOk)
      continue;
    built.spelling = llvm::join(spelled, ", ");
    clause.transforms.push_back(std::move(built));
  }
  if (ok)
    model.lie = std::move(clause);
}

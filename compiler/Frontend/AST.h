//===- AST.h - abstract syntax of grade model files -------------*- C++ -*-===//
//
// The AST is the only thing the parser hands to the rest of the compiler:
// ANTLR's parse tree, its `antlrcpp::Any` and its exceptions stay inside
// Parser.cpp. Every node carries the source range it was parsed from
// (1-based lines and columns; columns count bytes).
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_COMPILER_FRONTEND_AST_H
#define GRADE_COMPILER_FRONTEND_AST_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Casting.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace grade::ast {

/// A position in a model file (1-based line and byte column).
struct SourceLoc {
  unsigned line = 0;
  unsigned col = 0;
};

/// A half-open range [begin, end) in a model file.
struct SourceRange {
  SourceLoc begin;
  SourceLoc end;
};

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

/// Discriminator for LLVM-style RTTI over expressions.
enum class ExprKind { Number, Name, Index, Neg, Binary, Call };

class Expr {
public:
  virtual ~Expr() = default;
  ExprKind getKind() const { return kind; }
  const SourceRange &getRange() const { return range; }
  SourceLoc getLoc() const { return range.begin; }

protected:
  Expr(ExprKind kind, SourceRange range) : kind(kind), range(range) {}

private:
  ExprKind kind;
  SourceRange range;
};

using ExprPtr = std::unique_ptr<Expr>;

/// A numeric literal; its element type is inferred from its use.
class NumberExpr : public Expr {
public:
  NumberExpr(SourceRange range, double value, std::string spelling)
      : Expr(ExprKind::Number, range), value(value),
        spelling(std::move(spelling)) {}
  double getValue() const { return value; }
  llvm::StringRef getSpelling() const { return spelling; }
  static bool classof(const Expr *e) { return e->getKind() == ExprKind::Number; }

private:
  double value;
  std::string spelling;
};

/// A reference to a declaration or a builtin (`t`, `weight`, `degree`).
class NameExpr : public Expr {
public:
  NameExpr(SourceRange range, std::string name)
      : Expr(ExprKind::Name, range), name(std::move(name)) {}
  llvm::StringRef getName() const { return name; }
  static bool classof(const Expr *e) { return e->getKind() == ExprKind::Name; }

private:
  std::string name;
};

/// Which end of an edge an index reads: `x[src]` or `x[dst]`.
enum class EdgeEnd { Src, Dst };

/// `base[src]` or `base[dst]`: a node field read along every edge.
class IndexExpr : public Expr {
public:
  IndexExpr(SourceRange range, ExprPtr base, EdgeEnd end,
            SourceRange endRange)
      : Expr(ExprKind::Index, range), base(std::move(base)), end(end),
        endRange(endRange) {}
  const Expr &getBase() const { return *base; }
  EdgeEnd getEnd() const { return end; }
  const SourceRange &getEndRange() const { return endRange; }
  static bool classof(const Expr *e) { return e->getKind() == ExprKind::Index; }

private:
  ExprPtr base;
  EdgeEnd end;
  SourceRange endRange;
};

/// Unary minus.
class NegExpr : public Expr {
public:
  NegExpr(SourceRange range, ExprPtr operand)
      : Expr(ExprKind::Neg, range), operand(std::move(operand)) {}
  const Expr &getOperand() const { return *operand; }
  static bool classof(const Expr *e) { return e->getKind() == ExprKind::Neg; }

private:
  ExprPtr operand;
};

/// Infix operators: arithmetic, `@` (product with a parameter matrix) and
/// `.` (dot product over the feature axis).
enum class BinaryOp { Add, Sub, Mul, Div, MatMul, Dot, Lt, Le, Gt, Ge, Eq, Ne };

/// The operator's spelling: "+", "-", "*", "/", "@", ".", "<", ... "!=".
llvm::StringRef spell(BinaryOp op);

/// Renders an expression as source text, with the parentheses its
/// structure needs ("sum_in(a * (x[src] - x[dst]))"); a `fn` call shows
/// inlined.
std::string render(const Expr &expr);

class BinaryExpr : public Expr {
public:
  BinaryExpr(SourceRange range, BinaryOp op, SourceLoc opLoc, ExprPtr lhs,
             ExprPtr rhs)
      : Expr(ExprKind::Binary, range), op(op), opLoc(opLoc),
        lhs(std::move(lhs)), rhs(std::move(rhs)) {}
  BinaryOp getOp() const { return op; }
  SourceLoc getOpLoc() const { return opLoc; }
  const Expr &getLhs() const { return *lhs; }
  const Expr &getRhs() const { return *rhs; }
  static bool classof(const Expr *e) {
    return e->getKind() == ExprKind::Binary;
  }

private:
  BinaryOp op;
  SourceLoc opLoc;
  ExprPtr lhs, rhs;
};

/// A call of a builtin function (`exp(x)`, `sum_in(e)`, ...), optionally
/// with a string before its arguments (`einsum("hd,hd->h", k, q)`).
class CallExpr : public Expr {
public:
  CallExpr(SourceRange range, std::string callee, std::vector<ExprPtr> args,
           std::optional<std::string> spec = std::nullopt,
           SourceRange specRange = {})
      : Expr(ExprKind::Call, range), callee(std::move(callee)),
        args(std::move(args)), spec(std::move(spec)), specRange(specRange) {}
  llvm::StringRef getCallee() const { return callee; }
  const std::vector<ExprPtr> &getArgs() const { return args; }
  /// The string argument without its quotes, if the call has one.
  const std::optional<std::string> &getSpec() const { return spec; }
  const SourceRange &getSpecRange() const { return specRange; }
  static bool classof(const Expr *e) { return e->getKind() == ExprKind::Call; }

private:
  std::string callee;
  std::vector<ExprPtr> args;
  std::optional<std::string> spec;
  SourceRange specRange;
};

//===----------------------------------------------------------------------===//
// Types and declarations
//===----------------------------------------------------------------------===//

/// Where a declared value lives; a type without `node`/`edge` is global.
enum class KindSpec { Node, Edge, Global };

/// A written type such as `node f32[64]` or `f64[64, 16]`.
struct TypeSpec {
  KindSpec kind = KindSpec::Global;
  std::string elementType; ///< as written; checked by sema
  SourceRange elementRange;
  std::vector<int64_t> shape;
  SourceRange range;
};

/// Renders a type as written: "node f32[64]".
std::string format(const TypeSpec &type);

enum class DeclKind {
  Graph,
  Input,
  Param,
  Let,
  State,
  Rhs,
  Solve,
  Output,
  Symmetry,
  Lie,
  Scheme,
  Function
};

class Decl {
public:
  virtual ~Decl() = default;
  DeclKind getKind() const { return kind; }
  const SourceRange &getRange() const { return range; }
  SourceLoc getLoc() const { return range.begin; }
  /// The declared name (for `rhs dx/dt` the state's name `x`; for
  /// `solve rk4(...)` the scheme; for `symmetry G` the group).
  llvm::StringRef getName() const { return name; }
  const SourceRange &getNameRange() const { return nameRange; }

protected:
  Decl(DeclKind kind, SourceRange range, std::string name,
       SourceRange nameRange)
      : kind(kind), range(range), name(std::move(name)),
        nameRange(nameRange) {}

private:
  DeclKind kind;
  SourceRange range;
  std::string name;
  SourceRange nameRange;
};

using DeclPtr = std::unique_ptr<Decl>;

/// `graph G;` or `graph G(weight: f64);`.
class GraphDecl : public Decl {
public:
  /// The graph a model file names (`graph G = cycle(64);`): a generator
  /// spec for grade_graph_generate ("cycle:64"), or a file as written.
  struct Default {
    std::string spec;
    bool isFile = false;
    SourceRange range;
    /// `radius(pos, R)`, `knn(pos, K)`: the input holding the positions
    /// (spec is then "radius:R" or "knn:K"), and where it is named.
    std::string points;
    SourceRange pointsRange;
  };

  GraphDecl(SourceRange range, std::string name, SourceRange nameRange,
            std::optional<std::string> weightType, SourceRange weightRange,
            std::optional<Default> defaultGraph = std::nullopt)
      : Decl(DeclKind::Graph, range, std::move(name), nameRange),
        weightType(std::move(weightType)), weightRange(weightRange),
        defaultGraph(std::move(defaultGraph)) {}
  const std::optional<std::string> &getWeightType() const {
    return weightType;
  }
  const SourceRange &getWeightRange() const { return weightRange; }
  const std::optional<Default> &getDefault() const { return defaultGraph; }
  static bool classof(const Decl *d) { return d->getKind() == DeclKind::Graph; }

private:
  std::optional<std::string> weightType;
  SourceRange weightRange;
  std::optional<Default> defaultGraph;
};

/// `input NAME : type;` and `param NAME : type;`.
class FieldDecl : public Decl {
public:
  FieldDecl(DeclKind kind, SourceRange range, std::string name,
            SourceRange nameRange, TypeSpec type,
            std::optional<double> defaultValue = std::nullopt,
            SourceRange defaultRange = {})
      : Decl(kind, range, std::move(name), nameRange), type(std::move(type)),
        defaultValue(defaultValue), defaultRange(defaultRange) {}
  const TypeSpec &getType() const { return type; }
  /// `param k : f64 = 0.5;`: the value used when the caller binds none.
  std::optional<double> getDefault() const { return defaultValue; }
  SourceRange getDefaultRange() const { return defaultRange; }
  static bool classof(const Decl *d) {
    return d->getKind() == DeclKind::Input || d->getKind() == DeclKind::Param;
  }

private:
  TypeSpec type;
  std::optional<double> defaultValue;
  SourceRange defaultRange;
};

/// `let NAME [: type] = expr;`.
class LetDecl : public Decl {
public:
  LetDecl(SourceRange range, std::string name, SourceRange nameRange,
          std::optional<TypeSpec> type, ExprPtr value, bool readout = false)
      : Decl(DeclKind::Let, range, std::move(name), nameRange),
        type(std::move(type)), value(std::move(value)), readout(readout) {}
  const std::optional<TypeSpec> &getType() const { return type; }
  const Expr &getValue() const { return *value; }
  /// `readout NAME = ...;`: computed from the states after the solve.
  bool isReadout() const { return readout; }
  static bool classof(const Decl *d) { return d->getKind() == DeclKind::Let; }

private:
  std::optional<TypeSpec> type;
  ExprPtr value;
  bool readout;
};

/// `fn NAME(a, b) = EXPR;`: a function of its parameters (and of the
/// model's names). The frontend inlines every call, so the body is not kept
/// here; the declaration remains for name checks and printing.
class FunctionDecl : public Decl {
public:
  FunctionDecl(SourceRange range, std::string name, SourceRange nameRange,
               std::vector<std::string> params)
      : Decl(DeclKind::Function, range, std::move(name), nameRange),
        params(std::move(params)) {}
  const std::vector<std::string> &getParams() const { return params; }
  static bool classof(const Decl *d) {
    return d->getKind() == DeclKind::Function;
  }

private:
  std::vector<std::string> params;
};

/// `state NAME : type = initial value;`.
class StateDecl : public Decl {
public:
  StateDecl(SourceRange range, std::string name, SourceRange nameRange,
            TypeSpec type, ExprPtr init, ExprPtr velocityInit = nullptr,
            SourceRange velocityRange = {})
      : Decl(DeclKind::State, range, std::move(name), nameRange),
        type(std::move(type)), init(std::move(init)),
        velocityInit(std::move(velocityInit)), velocityRange(velocityRange) {}
  const TypeSpec &getType() const { return type; }
  const Expr &getInit() const { return *init; }
  /// `state x : ... = x0, dx/dt = v0;`: the initial velocity of a
  /// second-order state (null: zero), and where `dx/dt` is written.
  const Expr *getVelocityInit() const { return velocityInit.get(); }
  SourceRange getVelocityRange() const { return velocityRange; }
  static bool classof(const Decl *d) { return d->getKind() == DeclKind::State; }

private:
  TypeSpec type;
  ExprPtr init;
  ExprPtr velocityInit;
  SourceRange velocityRange;
};

/// Which part of a state's right-hand side a `rhs` declaration gives: all
/// of it, or the explicit or implicit part of a split one (IMEX schemes).
enum class RhsPart { Whole, Explicit, Implicit };

/// `rhs dNAME/dt = expr;`, `rhs d2NAME/dt2 = expr;` (second order), or
/// either with `explicit` or `implicit` after `rhs` (getName() is NAME).
class RhsDecl : public Decl {
public:
  RhsDecl(SourceRange range, std::string state, SourceRange derivRange,
          ExprPtr value, RhsPart part = RhsPart::Whole, int order = 1)
      : Decl(DeclKind::Rhs, range, std::move(state), derivRange),
        value(std::move(value)), part(part), order(order) {}
  const Expr &getValue() const { return *value; }
  RhsPart getPart() const { return part; }
  /// 1 for dx/dt, 2 for d2x/dt2.
  int getOrder() const { return order; }
  /// "dx/dt" or "d2x/dt2", as written.
  std::string getDerivative() const {
    std::string name = getName().str();
    return order == 2 ? "d2" + name + "/dt2" : "d" + name + "/dt";
  }
  static bool classof(const Decl *d) { return d->getKind() == DeclKind::Rhs; }

private:
  ExprPtr value;
  RhsPart part;
  int order;
};

/// One `name = value` argument of a solve clause.
struct SolveArg {
  std::string name;
  double value = 0;
  SourceRange range;
  /// `atol(x) = ...`: the state the argument applies to (empty: all).
  std::string state;
  SourceRange stateRange;
};

/// `solve SCHEME(args) over [t0, t1];` (getName() is the scheme).
class SolveDecl : public Decl {
public:
  SolveDecl(SourceRange range, std::string scheme, SourceRange schemeRange,
            std::vector<SolveArg> args, double t0, double t1,
            SourceRange intervalRange)
      : Decl(DeclKind::Solve, range, std::move(scheme), schemeRange),
        args(std::move(args)), t0(t0), t1(t1), intervalRange(intervalRange) {}
  const std::vector<SolveArg> &getArgs() const { return args; }
  double getT0() const { return t0; }
  double getT1() const { return t1; }
  const SourceRange &getIntervalRange() const { return intervalRange; }
  static bool classof(const Decl *d) { return d->getKind() == DeclKind::Solve; }

private:
  std::vector<SolveArg> args;
  double t0, t1;
  SourceRange intervalRange;
};

/// A name listed in an `output` clause.
struct OutputName {
  std::string name;
  SourceRange range;
};

/// `output a, b;` (getName() is empty).
class OutputDecl : public Decl {
public:
  OutputDecl(SourceRange range, std::vector<OutputName> names)
      : Decl(DeclKind::Output, range, "", range), names(std::move(names)) {}
  const std::vector<OutputName> &getNames() const { return names; }
  static bool classof(const Decl *d) {
    return d->getKind() == DeclKind::Output;
  }

private:
  std::vector<OutputName> names;
};

/// `symmetry E(3), scaling { x: position; u: scalar, weight(-1); }`, or
/// `symmetry permutation;` (getName() is the first group).
class SymmetryDecl : public Decl {
public:
  /// `E(3)`: name "E", dimension 3; `scaling`: no dimension.
  struct Group {
    std::string name;
    std::optional<int64_t> dim;
    SourceRange range;
  };
  /// `position`, `weight(-1)`.
  struct Term {
    std::string name;
    std::optional<double> arg;
    SourceRange range;
  };
  /// `x: position, weight(1);`
  struct Law {
    std::string field;
    SourceRange fieldRange;
    std::vector<Term> terms;
  };

  SymmetryDecl(SourceRange range, std::vector<Group> groups,
               std::vector<Law> laws)
      : Decl(DeclKind::Symmetry, range, groups.front().name,
             groups.front().range),
        groups(std::move(groups)), laws(std::move(laws)) {}
  const std::vector<Group> &getGroups() const { return groups; }
  const std::vector<Law> &getLaws() const { return laws; }
  static bool classof(const Decl *d) {
    return d->getKind() == DeclKind::Symmetry;
  }

private:
  std::vector<Group> groups;
  std::vector<Law> laws;
};

/// `lie u over [0, L) { NAME(e): x -> ..., t -> ..., u -> ...; ... }`:
/// point transformations, with a parameter each, of the solutions of a
/// grid model's PDE, the state u living on the periodic grid of period L
/// (getName() is u).
class LieDecl : public Decl {
public:
  /// `x -> x + e * t`.
  struct Map {
    std::string target;
    SourceRange targetRange;
    ExprPtr value;
  };
  /// `boost(e): ...;`
  struct Transform {
    std::string name;
    SourceRange nameRange;
    std::string param;
    SourceRange paramRange;
    std::vector<Map> maps;
  };

  LieDecl(SourceRange range, std::string state, SourceRange stateRange,
          double start, SourceRange startRange, ExprPtr period,
          std::vector<Transform> transforms)
      : Decl(DeclKind::Lie, range, std::move(state), stateRange),
        start(start), startRange(startRange), period(std::move(period)),
        transforms(std::move(transforms)) {}
  double getStart() const { return start; }
  const SourceRange &getStartRange() const { return startRange; }
  const Expr &getPeriod() const { return *period; }
  const std::vector<Transform> &getTransforms() const { return transforms; }
  static bool classof(const Decl *d) { return d->getKind() == DeclKind::Lie; }

private:
  double start;
  SourceRange startRange;
  ExprPtr period;
  std::vector<Transform> transforms;
};

/// "E(3)", "scaling": a group as written.
std::string spell(const SymmetryDecl::Group &group);

/// The value of a scheme entry: a constant expression or a (nested) list.
struct SchemeValue {
  SourceRange range;
  ExprPtr expr;                    ///< set for a constant
  std::vector<SchemeValue> items;  ///< the elements of a list
  bool isList() const { return !expr; }
};

/// One `name = value;` entry of a scheme.
struct SchemeEntry {
  std::string name;
  SourceRange nameRange;
  SchemeValue value;
};

/// `scheme NAME { a = [...]; b = [...]; c = [...]; order = p; }`: an explicit
/// Runge-Kutta scheme given by its Butcher tableau.
class SchemeDecl : public Decl {
public:
  SchemeDecl(SourceRange range, std::string name, SourceRange nameRange,
             std::vector<SchemeEntry> entries)
      : Decl(DeclKind::Scheme, range, std::move(name), nameRange),
        entries(std::move(entries)) {}
  const std::vector<SchemeEntry> &getEntries() const { return entries; }
  static bool classof(const Decl *d) {
    return d->getKind() == DeclKind::Scheme;
  }

private:
  std::vector<SchemeEntry> entries;
};

/// A parsed model file.
class Model {
public:
  Model(std::string name, SourceRange range, std::string file,
        std::vector<DeclPtr> decls)
      : name(std::move(name)), range(range), file(std::move(file)),
        decls(std::move(decls)) {}
  llvm::StringRef getName() const { return name; }
  const SourceRange &getRange() const { return range; }
  /// The buffer identifier the model was parsed from (used in locations).
  llvm::StringRef getFile() const { return file; }
  const std::vector<DeclPtr> &getDecls() const { return decls; }

private:
  std::string name;
  SourceRange range;
  std::string file;
  std::vector<DeclPtr> decls;
};

/// Prints the AST as an indented tree with `@file:line:col` locations (the
/// output of `gradec --emit=ast`).
void dump(const Model &model, llvm::raw_ostream &os);

} // namespace grade::ast

#endif // GRADE_COMPILER_FRONTEND_AST_H

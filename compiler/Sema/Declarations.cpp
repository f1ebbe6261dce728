//===- Declarations.cpp - names, declared types, lets, states, outputs ---===//
//
// Collects the model's declarations (one namespace for fields, one for
// schemes), checks each let once with cycle detection, and checks the
// states' initial values, the right-hand sides and the output clause
// against the declared types.
//
//===----------------------------------------------------------------------===//

#include "compiler/Sema/Checker.h"
#include "compiler/Sema/Schemes.h"

#include "llvm/ADT/STLExtras.h"

#include <cfloat>
#include <cmath>

using namespace grade;
using namespace grade::sema;
using ast::SourceLoc;

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

std::optional<Elem> Checker::parseElem(const std::string &name, SourceLoc at) {
  if (name == "f32")
    return Elem::F32;
  if (name == "f64")
    return Elem::F64;
  error(at, "unknown element type '" + name + "' (expected 'f32' or 'f64')");
  return std::nullopt;
}

std::optional<Type> Checker::typeFromSpec(const ast::TypeSpec &spec) {
  std::optional<Elem> elem =
      parseElem(spec.elementType, spec.elementRange.begin);
  if (!elem)
    return std::nullopt;
  if (spec.shape.size() > 4) {
    error(spec.range.begin, "rank " + llvm::Twine(spec.shape.size()) +
                                " exceeds the maximum of 4");
    return std::nullopt;
  }
  Type type;
  if (spec.kind == ast::KindSpec::Node)
    type.kind = FieldKind::node;
  else if (spec.kind == ast::KindSpec::Edge)
    type.kind = FieldKind::edge;
  type.elem = *elem;
  type.shape = spec.shape;
  return type;
}

/// Registers a named declaration, rejecting duplicates and reserved names.
void Checker::declare(const ast::Decl &decl, Role role) {
  llvm::StringRef name = decl.getName();
  if (llvm::is_contained(kReservedNames, name)) {
    error(decl.getNameRange().begin,
          "'" + name + "' is a builtin name and cannot be declared");
    return;
  }
  if (const ast::Decl *previous = findNamed(name)) {
    error(decl.getNameRange().begin, "redefinition of '" + name + "'")
            .attachNote(loc(previous->getNameRange().begin))
        << "previous declaration of '" << name << "' is here";
    return;
  }
  DeclInfo info;
  info.decl = &decl;
  info.role = role;
  if (auto *field = llvm::dyn_cast<ast::FieldDecl>(&decl)) {
    std::optional<Type> type = typeFromSpec(field->getType());
    if (type)
      info.type = *type;
    else
      info.poisoned = true;
    // A default is a number: a global scalar parameter's.
    if (std::optional<double> value = field->getDefault()) {
      if (type && (!type->isGlobal() || !type->shape.empty()))
        error(field->getDefaultRange().begin,
              "parameter '" + name + "' is " + format(*type) +
                  "; only a global scalar parameter takes a default value "
                  "(bind arrays with --param or grade_session_bind)");
      else if (!std::isfinite(*value) ||
               (type && type->elem == Elem::F32 && std::fabs(*value) > FLT_MAX))
        error(field->getDefaultRange().begin,
              "the default of parameter '" + name + "' must be finite" +
                  (type && type->elem == Elem::F32 ? " in f32" : ""));
    }
  } else if (auto *state = llvm::dyn_cast<ast::StateDecl>(&decl)) {
    std::optional<Type> type = typeFromSpec(state->getType());
    if (type && type->isGlobal()) {
      error(state->getType().range.begin,
            "state '" + name + "' must be a node or edge field, got " +
                format(*type));
      type.reset();
    }
    if (type)
      info.type = *type;
    else
      info.poisoned = true;
  }
  // A declaration with a bad type is still declared (and poisoned), so
  // that its uses do not report it as unknown.
  model.decls[name] = info;
  model.order.push_back(name.str());
}

/// The declaration (or graph) already named `name`.
const ast::Decl *Checker::findNamed(llvm::StringRef name) {
  if (model.graph && model.graph->getName() == name)
    return model.graph;
  auto it = model.decls.find(name);
  return it == model.decls.end() ? nullptr : it->second.decl;
}

void Checker::collectDecls() {
  const ast::SymmetryDecl *&symmetry = symmetryDecl;
  for (const ast::DeclPtr &declPtr : ast.getDecls()) {
    const ast::Decl &decl = *declPtr;
    switch (decl.getKind()) {
    case ast::DeclKind::Graph: {
      auto &graph = llvm::cast<ast::GraphDecl>(decl);
      if (model.graph) {
        error(graph.getNameRange().begin, "a model has one graph; '" +
                                              graph.getName() +
                                              "' declares a second")
                .attachNote(loc(model.graph->getNameRange().begin))
            << "first graph declared here";
        break;
      }
      if (llvm::is_contained(kReservedNames, graph.getName())) {
        // Still the model's graph: no "declares no graph" echo.
        error(graph.getNameRange().begin,
              "'" + graph.getName() +
                  "' is a builtin name and cannot be declared");
        model.graph = &graph;
        break;
      }
      if (const ast::Decl *previous = findNamed(graph.getName())) {
        error(graph.getNameRange().begin,
              "redefinition of '" + graph.getName() + "'")
                .attachNote(loc(previous->getNameRange().begin))
            << "previous declaration of '" << graph.getName() << "' is here";
        break;
      }
      model.graph = &graph;
      if (graph.getWeightType())
        model.weightElem =
            parseElem(*graph.getWeightType(), graph.getWeightRange().begin);
      break;
    }
    case ast::DeclKind::Input:
      declare(decl, Role::Input);
      break;
    case ast::DeclKind::Param:
      declare(decl, Role::Param);
      break;
    case ast::DeclKind::State:
      declare(decl, Role::State);
      break;
    case ast::DeclKind::Let:
      declare(decl, llvm::cast<ast::LetDecl>(decl).isReadout() ? Role::Readout
                                                               : Role::Let);
      break;
    case ast::DeclKind::Rhs:
      rhsDecls.push_back(&llvm::cast<ast::RhsDecl>(decl));
      break;
    case ast::DeclKind::Solve:
      if (model.solve) {
        error(decl.getLoc(), "duplicate 'solve' clause")
                .attachNote(loc(model.solve->getLoc()))
            << "first 'solve' clause is here";
        break;
      }
      model.solve = &llvm::cast<ast::SolveDecl>(decl);
      break;
    case ast::DeclKind::Output:
      outputDecls.push_back(&llvm::cast<ast::OutputDecl>(decl));
      break;
    case ast::DeclKind::Scheme:
      declareScheme(llvm::cast<ast::SchemeDecl>(decl));
      break;
    case ast::DeclKind::Lie:
      if (lieDecl) {
        error(decl.getLoc(), "duplicate 'lie' clause")
                .attachNote(loc(lieDecl->getLoc()))
            << "first 'lie' clause is here";
        break;
      }
      lieDecl = &llvm::cast<ast::LieDecl>(decl);
      break;
    case ast::DeclKind::Function:
      functions.push_back(&llvm::cast<ast::FunctionDecl>(decl));
      break;
    case ast::DeclKind::Symmetry:
      if (symmetry) {
        error(decl.getLoc(), "duplicate 'symmetry' clause")
                .attachNote(loc(symmetry->getLoc()))
            << "first 'symmetry' clause is here";
        break;
      }
      symmetry = &llvm::cast<ast::SymmetryDecl>(decl);
      break;
    }
  }
  declareVelocities();
  // A point-cloud graph reads an input node field of positions.
  if (model.graph && model.graph->getDefault() &&
      !model.graph->getDefault()->points.empty()) {
    const auto &graphDefault = *model.graph->getDefault();
    auto it = model.decls.find(graphDefault.points);
    if (it == model.decls.end() || it->second.role != Role::Input ||
        !it->second.type.isNode() || it->second.type.shape.size() != 1)
      error(graphDefault.pointsRange.begin,
            "the positions of a point-cloud graph are an input node field "
            "of vectors (as in 'input pos : node f64[3];'), not '" +
                graphDefault.points + "'");
  }
  // Calls of functions were inlined by the frontend; their names must
  // still not shadow a builtin or a declaration.
  for (const ast::FunctionDecl *function : functions) {
    llvm::StringRef name = function->getName();
    if (llvm::is_contained(kReservedNames, name) || isBuiltinFunction(name))
      error(function->getNameRange().begin,
            "function '" + name + "' has the name of a builtin");
    else if (const ast::Decl *previous = findNamed(name))
      error(function->getNameRange().begin,
            "redefinition of '" + name + "' as a function")
              .attachNote(loc(previous->getNameRange().begin))
          << "previous declaration of '" << name << "' is here";
  }
  if (!model.graph)
    error(ast.getRange().begin,
          "model '" + ast.getName() + "' declares no graph; add 'graph G;'");
  if (!model.solve)
    error(ast.getRange().begin,
          "model '" + ast.getName() +
              "' has no 'solve' clause; add e.g. 'solve rk4(dt = 0.01) "
              "over [0, 1];'");
}

/// A state with a second-order right-hand side (`rhs d2x/dt2`) gets a
/// velocity state "dx/dt" of its type, declared right after it (the name
/// cannot clash: declared names have no '/'). Declared before any
/// expression is checked, since any expression may read `dx/dt`.
void Checker::declareVelocities() {
  for (const ast::RhsDecl *rhs : rhsDecls) {
    if (rhs->getOrder() != 2)
      continue;
    std::string name = rhs->getName().str();
    auto it = model.decls.find(name);
    if (it == model.decls.end() || it->second.role != Role::State ||
        !it->second.velocity.empty())
      continue; // reported by checkRhs, or declared already
    std::string velocity = "d" + name + "/dt";
    it->second.velocity = velocity;
    DeclInfo info;
    info.decl = it->second.decl;
    info.role = Role::State;
    info.type = it->second.type;
    info.poisoned = it->second.poisoned;
    info.position = name;
    model.decls[velocity] = info;
    model.order.insert(llvm::find(model.order, name) + 1, velocity);
  }
}

/// Schemes have their own namespace: a scheme may share a field's name,
/// but not a built-in scheme's or another scheme's.
void Checker::declareScheme(const ast::SchemeDecl &decl) {
  if (TableauAttr::getNamed(context, decl.getName())) {
    error(decl.getNameRange().begin,
          "'" + decl.getName() +
              "' is a built-in scheme; give the tableau another name");
    return;
  }
  auto [it, inserted] = schemeDecls.try_emplace(decl.getName(), &decl);
  if (!inserted) {
    error(decl.getNameRange().begin,
          "redefinition of scheme '" + decl.getName() + "'")
            .attachNote(loc(it->second->getNameRange().begin))
        << "previous definition is here";
    return;
  }
  TableauAttr tableau =
      checkSchemeDecl(decl, ast.getFile(), context,
                      [&](SourceLoc at, const llvm::Twine &message) {
                        return error(at, message);
                      });
  if (tableau)
    schemes[decl.getName()] = tableau;
}

std::vector<llvm::StringRef> Checker::declaredNames() {
  std::vector<llvm::StringRef> names;
  for (const std::string &name : model.order)
    names.push_back(name);
  return names;
}

//===----------------------------------------------------------------------===//
// Lets, states, right-hand sides, outputs
//===----------------------------------------------------------------------===//

bool Checker::assignable(const Type &from, const Type &to) {
  return from.kind == to.kind && from.shape == to.shape &&
         (from.elem == to.elem || from.elem == Elem::Abstract);
}

/// Checks let `name` once; false if it (or what it uses) is in error.
bool Checker::ensureLet(llvm::StringRef name) {
  int state = letStates[name];
  if (state == Done)
    return true;
  if (state == Failed)
    return false;
  DeclInfo &info = model.decls[name];
  auto &let = llvm::cast<ast::LetDecl>(*info.decl);
  if (state == Checking) {
    error(let.getNameRange().begin, "let '" + name + "' depends on itself");
    letStates[name] = Failed;
    return false;
  }
  letStates[name] = Checking;
  Usage use;
  use.inReadout = let.isReadout();
  std::optional<Type> value = check(let.getValue(), use);
  if (!value) {
    letStates[name] = Failed;
    return false;
  }
  Type type = *value;
  if (let.getType()) {
    std::optional<Type> declared = typeFromSpec(*let.getType());
    if (!declared) {
      letStates[name] = Failed;
      return false;
    }
    if (!assignable(*value, *declared)) {
      error(let.getValue().getLoc(),
            "let '" + name + "' is declared " + format(*declared) +
                ", but its value has type " + format(*value));
      letStates[name] = Failed;
      return false;
    }
    type = *declared;
  }
  // A field must have a concrete element type to live in a buffer.
  if (!type.isGlobal() && type.elem == Elem::Abstract)
    type.elem = Elem::F64;
  if (let.isReadout()) {
    if (type.isGlobal()) {
      error(let.getValue().getLoc(),
            "readout '" + name + "' is a global value (" + format(type) +
                "); readouts are node or edge fields");
      letStates[name] = Failed;
      return false;
    }
    // A result of the model, kept in a buffer the readout entry fills.
    info.stored = true;
    info.output = true;
  }
  info.type = type;
  info.dynamic = use.dynamic;
  letCauses[name] = use.cause;
  letStates[name] = Done;
  return true;
}

void Checker::checkStates() {
  bool anyState = false;
  for (const std::string &name : model.order) {
    DeclInfo &info = model.decls[name];
    if (info.role != Role::State)
      continue;
    anyState = true;
    if (info.poisoned)
      continue;
    auto &state = llvm::cast<ast::StateDecl>(*info.decl);
    // A velocity's initial value is its position's `dx/dt = ...` (zero if
    // absent); only a second-order state has one.
    if (!info.position.empty()) {
      if (const ast::Expr *init = state.getVelocityInit())
        checkInitialValue(*init, name, info.type);
      continue;
    }
    if (state.getVelocityInit() && info.velocity.empty()) {
      error(state.getVelocityRange().begin,
            "state '" + name + "' has an initial velocity 'd" + name +
                "/dt', but no second-order right-hand side; write 'rhs d2" +
                name + "/dt2 = ...;', or drop the initial velocity");
      continue;
    }
    checkInitialValue(state.getInit(), name, info.type);
  }
  if (!anyState && model.graph)
    error(ast.getRange().begin,
          "model '" + ast.getName() +
              "' declares no state; add e.g. 'state x : node f64 = x0;'");
}

void Checker::checkInitialValue(const ast::Expr &init, llvm::StringRef name,
                                const Type &type) {
  {
    Usage use;
    std::optional<Type> value = check(init, use);
    if (!value)
      return;
    if (use.dynamic) {
      error(init.getLoc(), "initial value of state '" + name +
                               "' cannot depend on " + use.cause);
      return;
    }
    if (!assignable(*value, type))
      error(init.getLoc(),
            "initial value of state '" + name + "' has type " + format(*value) +
                ", but the state is " + format(type));
  }
}

void Checker::checkRhs() {
  for (const ast::RhsDecl *rhs : rhsDecls) {
    llvm::StringRef name = rhs->getName();
    std::string derivative = rhs->getDerivative();
    auto it = model.decls.find(name);
    if (it == model.decls.end()) {
      error(rhs->getNameRange().begin, "'" + derivative + "' refers to '" +
                                           name + "', which is not declared");
      continue;
    }
    if (it->second.role != Role::State) {
      static const char *const roles[] = {"an input", "a parameter", "a state",
                                          "a let"};
      error(rhs->getNameRange().begin,
            "'" + derivative + "': '" + name + "' is " +
                roles[static_cast<int>(it->second.role)] + ", not a state");
      continue;
    }
    if (rhs->getOrder() == 1 && !it->second.velocity.empty()) {
      error(rhs->getNameRange().begin,
            "state '" + name +
                "' has a second-order right-hand side, so its first "
                "derivative is its velocity 'd" +
                name + "/dt'; give either 'rhs d" + name +
                "/dt' (first order) or 'rhs d2" + name + "/dt2'");
      continue;
    }
    // d2x/dt2 is the right-hand side of the velocity dx/dt.
    DeclInfo &info = rhs->getOrder() == 2 ? model.decls[it->second.velocity]
                                          : it->second;
    ast::RhsPart part = rhs->getPart();
    const ast::RhsDecl *&slot = part == ast::RhsPart::Whole ? info.rhs
                                : part == ast::RhsPart::Explicit
                                    ? info.explicitPart
                                    : info.implicitPart;
    llvm::StringRef partName = part == ast::RhsPart::Explicit ? "explicit "
                               : part == ast::RhsPart::Implicit ? "implicit "
                                                                : "";
    if (slot) {
      error(rhs->getNameRange().begin, "second " + partName +
                                           "right-hand side for state '" +
                                           name + "'")
              .attachNote(loc(slot->getNameRange().begin))
          << "first " << partName << "right-hand side is here";
      continue;
    }
    // A state's right-hand side is whole or split, not both.
    const ast::RhsDecl *other =
        part == ast::RhsPart::Whole
            ? (info.explicitPart ? info.explicitPart : info.implicitPart)
            : info.rhs;
    if (other) {
      error(rhs->getNameRange().begin,
            "state '" + name + "' has both a whole right-hand side ('rhs " +
                derivative +
                " = ...;') and a part of a split one ('rhs explicit " +
                derivative + "' or 'rhs implicit " + derivative +
                "'); give either the whole or its parts, whose sum is the "
                "whole")
              .attachNote(loc(other->getNameRange().begin))
          << "the other is here";
      continue;
    }
    slot = rhs;
    Usage use;
    std::optional<Type> value = check(rhs->getValue(), use);
    if (value && !info.poisoned && !assignable(*value, info.type))
      error(rhs->getValue().getLoc(),
            (part == ast::RhsPart::Whole ? std::string("right-hand side")
                                         : (partName + "part").str()) +
                " of '" + derivative + "' has type " + format(*value) +
                ", but state '" + name + "' is " + format(info.type));
  }
  for (const std::string &name : model.order) {
    DeclInfo &info = model.decls[name];
    // A second-order state's derivative is its velocity.
    if (info.role == Role::State && !info.firstRhs() && !info.poisoned &&
        info.velocity.empty())
      error(info.decl->getNameRange().begin,
            "state '" + name + "' has no right-hand side; add 'rhs d" + name +
                "/dt = ...;'");
  }
}

void Checker::checkOutputs() {
  llvm::StringMap<SourceLoc> listed;
  for (const ast::OutputDecl *output : outputDecls) {
    for (const ast::OutputName &entry : output->getNames()) {
      llvm::StringRef name = entry.name;
      if (!listed.try_emplace(name, entry.range.begin).second) {
        error(entry.range.begin, "'" + name + "' is listed twice as an output")
                .attachNote(loc(listed[name]))
            << "first listed here";
        continue;
      }
      auto it = model.decls.find(name);
      if (it == model.decls.end()) {
        if (model.graph && model.graph->getName() == name)
          error(entry.range.begin, "'" + name +
                                       "' is the graph; only states and "
                                       "lets can be outputs");
        else
          error(entry.range.begin, "unknown name '" + name + "' in 'output'" +
                                       suggest(name, declaredNames()));
        continue;
      }
      DeclInfo &info = it->second;
      if (info.poisoned)
        continue;
      if (info.role == Role::Input || info.role == Role::Param) {
        error(entry.range.begin,
              "'" + name + "' is " +
                  (info.role == Role::Input ? "an input" : "a parameter") +
                  "; only states and lets can be outputs");
        continue;
      }
      if (info.role == Role::Let) {
        if (letStates[name] != Done)
          continue;
        if (info.dynamic) {
          error(entry.range.begin,
                "let '" + name +
                    "' depends on a state and is not kept between steps; "
                    "output the state instead");
          continue;
        }
        if (info.type.isGlobal()) {
          error(entry.range.begin, "let '" + name +
                                       "' is a global value; outputs are "
                                       "node or edge fields");
          continue;
        }
        info.stored = true;
      }
      info.output = true;
    }
  }
}

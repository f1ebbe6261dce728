//===- AST.cpp - printing the grade AST -----------------------------------===//
//
// The dump is a stable, test-facing format: one node per line, two spaces of
// indentation per level, and the node's start as `@file:line:col`.
//
//===----------------------------------------------------------------------===//

#include "compiler/Frontend/AST.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"

using namespace grade;
using namespace grade::ast;

llvm::StringRef ast::spell(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::MatMul:
    return "@";
  case BinaryOp::Dot:
    return ".";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  }
  llvm_unreachable("unknown binary operator");
}

/// Binding strength of a binary operator (higher binds tighter).
static int precedence(BinaryOp op) {
  switch (op) {
  case BinaryOp::Mul:
  case BinaryOp::Div:
  case BinaryOp::MatMul:
  case BinaryOp::Dot:
    return 3;
  case BinaryOp::Add:
  case BinaryOp::Sub:
    return 2;
  default:
    return 1;
  }
}

/// `expr` rendered, in parentheses when it binds looser than `context`
/// (or as loose and it is a right operand).
static std::string renderIn(const Expr &expr, int context, bool right) {
  std::string text = render(expr);
  if (auto *binary = llvm::dyn_cast<BinaryExpr>(&expr)) {
    int own = precedence(binary->getOp());
    if (own < context || (right && own == context))
      return "(" + text + ")";
  }
  if (llvm::isa<NegExpr>(expr) && context >= 3)
    return "(" + text + ")";
  return text;
}

std::string ast::render(const Expr &expr) {
  return llvm::TypeSwitch<const Expr *, std::string>(&expr)
      .Case<NumberExpr>(
          [](const NumberExpr *number) { return number->getSpelling().str(); })
      .Case<NameExpr>(
          [](const NameExpr *name) { return name->getName().str(); })
      .Case<IndexExpr>([](const IndexExpr *index) {
        return renderIn(index->getBase(), 4, false) +
               (index->getEnd() == EdgeEnd::Src ? "[src]" : "[dst]");
      })
      .Case<NegExpr>([](const NegExpr *neg) {
        return "-" + renderIn(neg->getOperand(), 4, false);
      })
      .Case<BinaryExpr>([](const BinaryExpr *binary) {
        int own = precedence(binary->getOp());
        return renderIn(binary->getLhs(), own, false) + " " +
               spell(binary->getOp()).str() + " " +
               renderIn(binary->getRhs(), own, true);
      })
      .Case<CallExpr>([](const CallExpr *call) {
        std::string text = call->getCallee().str() + "(";
        bool first = true;
        if (call->getSpec()) {
          text += "\"" + *call->getSpec() + "\"";
          first = false;
        }
        for (const ExprPtr &arg : call->getArgs()) {
          text += (first ? "" : ", ") + render(*arg);
          first = false;
        }
        return text + ")";
      });
}

std::string ast::spell(const SymmetryDecl::Group &group) {
  if (!group.dim)
    return group.name;
  return group.name + "(" + std::to_string(*group.dim) + ")";
}

std::string ast::format(const TypeSpec &type) {
  std::string result;
  if (type.kind == KindSpec::Node)
    result = "node ";
  else if (type.kind == KindSpec::Edge)
    result = "edge ";
  result += type.elementType;
  if (!type.shape.empty()) {
    result += "[";
    for (size_t i = 0; i < type.shape.size(); ++i)
      result += (i ? ", " : "") + std::to_string(type.shape[i]);
    result += "]";
  }
  return result;
}

namespace {

/// Recursive printer; `file` is the buffer identifier used in locations.
class Dumper {
public:
  Dumper(llvm::StringRef file, llvm::raw_ostream &os) : file(file), os(os) {}

  void dump(const Model &model) {
    os << "Model '" << model.getName() << "'";
    printLoc(model.getRange().begin);
    for (const DeclPtr &decl : model.getDecls())
      dumpDecl(*decl, 1);
  }

private:
  void indent(unsigned depth) { os.indent(2 * depth); }

  void printLoc(SourceLoc loc) {
    os << " @" << file << ":" << loc.line << ":" << loc.col << "\n";
  }

  void dumpDecl(const Decl &decl, unsigned depth) {
    indent(depth);
    llvm::TypeSwitch<const Decl *>(&decl)
        .Case<GraphDecl>([&](const GraphDecl *graph) {
          os << "Graph '" << graph->getName() << "'";
          if (graph->getWeightType())
            os << " weight(" << *graph->getWeightType() << ")";
          if (const auto &graphDefault = graph->getDefault()) {
            os << (graphDefault->isFile ? " = file " : " = ")
               << graphDefault->spec;
            if (!graphDefault->points.empty())
              os << " of '" << graphDefault->points << "'";
          }
          printLoc(graph->getLoc());
        })
        .Case<FieldDecl>([&](const FieldDecl *field) {
          os << (field->getKind() == DeclKind::Input ? "Input" : "Param")
             << " '" << field->getName() << "' : " << format(field->getType());
          if (std::optional<double> value = field->getDefault())
            os << " = " << *value;
          printLoc(field->getLoc());
        })
        .Case<LetDecl>([&](const LetDecl *let) {
          os << (let->isReadout() ? "Readout '" : "Let '") << let->getName() << "'";
          if (let->getType())
            os << " : " << format(*let->getType());
          printLoc(let->getLoc());
          dumpExpr(let->getValue(), depth + 1);
        })
        .Case<StateDecl>([&](const StateDecl *state) {
          os << "State '" << state->getName()
             << "' : " << format(state->getType());
          printLoc(state->getLoc());
          dumpExpr(state->getInit(), depth + 1);
          if (const Expr *velocity = state->getVelocityInit()) {
            indent(depth + 1);
            os << "Velocity 'd" << state->getName() << "/dt'\n";
            dumpExpr(*velocity, depth + 2);
          }
        })
        .Case<RhsDecl>([&](const RhsDecl *rhs) {
          os << "Rhs "
             << (rhs->getPart() == RhsPart::Explicit   ? "explicit "
                 : rhs->getPart() == RhsPart::Implicit ? "implicit "
                                                       : "")
             << "'" << rhs->getDerivative() << "'";
          printLoc(rhs->getLoc());
          dumpExpr(rhs->getValue(), depth + 1);
        })
        .Case<SolveDecl>([&](const SolveDecl *solve) {
          os << "Solve " << solve->getName() << "(";
          for (size_t i = 0; i < solve->getArgs().size(); ++i) {
            const SolveArg &arg = solve->getArgs()[i];
            os << (i ? ", " : "") << arg.name << " = "
               << llvm::format("%g", arg.value);
          }
          os << ") over [" << llvm::format("%g", solve->getT0()) << ", "
             << llvm::format("%g", solve->getT1()) << "]";
          printLoc(solve->getLoc());
        })
        .Case<OutputDecl>([&](const OutputDecl *output) {
          os << "Output";
          for (const OutputName &name : output->getNames())
            os << " '" << name.name << "'";
          printLoc(output->getLoc());
        })
        .Case<FunctionDecl>([&](const FunctionDecl *function) {
          os << "Function '" << function->getName() << "' (";
          llvm::interleaveComma(function->getParams(), os);
          os << ") (inlined at every call)";
          printLoc(function->getLoc());
        })
        .Case<SymmetryDecl>([&](const SymmetryDecl *symmetry) {
          os << "Symmetry ";
          llvm::interleaveComma(symmetry->getGroups(), os,
                                [&](const SymmetryDecl::Group &group) {
                                  os << spell(group);
                                });
          printLoc(symmetry->getLoc());
          for (const SymmetryDecl::Law &law : symmetry->getLaws()) {
            os << "\n      Law " << law.field << ": ";
            llvm::interleaveComma(law.terms, os,
                                  [&](const SymmetryDecl::Term &term) {
                                    os << term.name;
                                    if (term.arg)
                                      os << "(" << *term.arg << ")";
                                  });
          }
        })
        .Case<LieDecl>([&](const LieDecl *lie) {
          os << "Lie '" << lie->getName() << "' over [0, "
             << render(lie->getPeriod()) << ")";
          printLoc(lie->getLoc());
          for (const LieDecl::Transform &transform : lie->getTransforms()) {
            os << "\n      Transform " << transform.name << "("
               << transform.param << "): ";
            llvm::interleaveComma(transform.maps, os,
                                  [&](const LieDecl::Map &map) {
                                    os << map.target << " -> "
                                       << render(*map.value);
                                  });
          }
        })
        .Case<SchemeDecl>([&](const SchemeDecl *scheme) {
          os << "Scheme " << scheme->getName();
          printLoc(scheme->getLoc());
          for (const SchemeEntry &entry : scheme->getEntries()) {
            indent(depth + 1);
            os << "Entry " << entry.name;
            printLoc(entry.nameRange.begin);
            dumpSchemeValue(entry.value, depth + 2);
          }
        });
  }

  void dumpSchemeValue(const SchemeValue &value, unsigned depth) {
    if (!value.isList()) {
      dumpExpr(*value.expr, depth);
      return;
    }
    indent(depth);
    os << "List";
    printLoc(value.range.begin);
    for (const SchemeValue &item : value.items)
      dumpSchemeValue(item, depth + 1);
  }

  void dumpExpr(const Expr &expr, unsigned depth) {
    indent(depth);
    llvm::TypeSwitch<const Expr *>(&expr)
        .Case<NumberExpr>([&](const NumberExpr *number) {
          os << "Number " << number->getSpelling();
          printLoc(number->getLoc());
        })
        .Case<NameExpr>([&](const NameExpr *name) {
          os << "Name '" << name->getName() << "'";
          printLoc(name->getLoc());
        })
        .Case<IndexExpr>([&](const IndexExpr *index) {
          os << "Index " << (index->getEnd() == EdgeEnd::Src ? "src" : "dst");
          printLoc(index->getLoc());
          dumpExpr(index->getBase(), depth + 1);
        })
        .Case<NegExpr>([&](const NegExpr *neg) {
          os << "Neg";
          printLoc(neg->getLoc());
          dumpExpr(neg->getOperand(), depth + 1);
        })
        .Case<BinaryExpr>([&](const BinaryExpr *binary) {
          os << "Binary '" << spell(binary->getOp()) << "'";
          printLoc(binary->getOpLoc());
          dumpExpr(binary->getLhs(), depth + 1);
          dumpExpr(binary->getRhs(), depth + 1);
        })
        .Case<CallExpr>([&](const CallExpr *call) {
          os << "Call '" << call->getCallee() << "'";
          if (call->getSpec())
            os << " \"" << *call->getSpec() << "\"";
          printLoc(call->getLoc());
          for (const ExprPtr &arg : call->getArgs())
            dumpExpr(*arg, depth + 1);
        });
  }

  llvm::StringRef file;
  llvm::raw_ostream &os;
};

} // namespace

void ast::dump(const Model &model, llvm::raw_ostream &os) {
  Dumper(model.getFile(), os).dump(model);
}

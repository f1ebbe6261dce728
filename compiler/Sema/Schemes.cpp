//===- Schemes.cpp - checking `scheme` declarations -----------------------===//

#include "compiler/Sema/Schemes.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace grade;
using namespace grade::sema;
using ast::SourceLoc;

namespace {

class SchemeChecker {
public:
  SchemeChecker(const ast::SchemeDecl &decl, llvm::StringRef file,
                mlir::MLIRContext *context, ErrorFn error)
      : decl(decl), file(file), context(context), reportError(error) {}

  TableauAttr check() {
    llvm::StringMap<const ast::SchemeEntry *> entries;
    for (const ast::SchemeEntry &entry : decl.getEntries()) {
      static const llvm::StringRef known[] = {
          "a", "b", "c", "order", "bhat", "embedded_order", "mid"};
      if (!llvm::is_contained(known, entry.name)) {
        error(entry.nameRange.begin,
              "unknown entry '" + entry.name + "' in scheme '" +
                  decl.getName() +
                  "' (expected a, b, c, order, or for an adaptive scheme "
                  "bhat, embedded_order and mid)");
        continue;
      }
      auto [it, inserted] = entries.try_emplace(entry.name, &entry);
      if (!inserted)
        error(entry.nameRange.begin,
              "entry '" + entry.name + "' is given twice")
                .attachNote(loc(it->second->nameRange.begin))
            << "first given here";
    }
    const ast::SchemeEntry *aEntry = entries.lookup("a");
    const ast::SchemeEntry *bEntry = entries.lookup("b");
    for (auto [name, entry] : {std::pair{"a", aEntry}, std::pair{"b", bEntry}})
      if (!entry)
        error(decl.getNameRange().begin,
              "scheme '" + decl.getName() + "' has no '" + name +
                  "'; a scheme gives 'a' (a list of rows) and 'b', "
                  "optionally 'c' and 'order'");
    if (failed || !aEntry || !bEntry)
      return {};

    std::vector<double> b;
    if (!readVector(bEntry->value, "b", b))
      return {};
    size_t s = b.size();
    if (s == 0) {
      error(bEntry->value.range.begin, "'b' needs at least one weight");
      return {};
    }
    std::vector<double> a;
    std::vector<const ast::SchemeValue *> aItems;
    if (!readMatrix(aEntry->value, s, a, aItems))
      return {};

    std::vector<double> c(s, 0.0);
    const ast::SchemeEntry *cEntry = entries.lookup("c");
    if (cEntry) {
      c.clear();
      if (!readVector(cEntry->value, "c", c))
        return {};
      if (c.size() != s) {
        error(cEntry->value.range.begin,
              "'c' has " + std::to_string(c.size()) + " entries, but 'b' has " +
                  std::to_string(s) + " stages");
        return {};
      }
    } else {
      for (size_t i = 0; i < s; ++i)
        for (size_t j = 0; j < s; ++j)
          c[i] += a[i * s + j];
    }

    int64_t order = computeTableauOrder(a, b);
    const ast::SchemeEntry *orderEntry = entries.lookup("order");
    if (orderEntry) {
      std::optional<double> value;
      if (orderEntry->value.isList() ||
          !(value = evaluate(*orderEntry->value.expr)))
        return failed ? TableauAttr()
                      : (error(orderEntry->value.range.begin,
                               "'order' must be a whole number"),
                         TableauAttr());
      if (*value != std::floor(*value) || *value < 1 ||
          *value > kMaxCheckedTableauOrder) {
        error(orderEntry->value.range.begin,
              "'order' must be a whole number from 1 to " +
                  std::to_string(kMaxCheckedTableauOrder) +
                  " (the orders whose conditions can be checked)");
        return {};
      }
      order = int64_t(*value);
    } else if (order < 1) {
      order = 1; // Reported below: the weights do not add up to 1.
    }

    if (std::optional<TableauDefect> defect =
            findTableauDefect(a, b, c, order)) {
      SourceLoc at = decl.getNameRange().begin;
      switch (defect->part) {
      case TableauDefect::Part::A:
        at = aItems[defect->row * s + defect->col]->range.begin;
        break;
      case TableauDefect::Part::B:
        at = defect->row >= 0 ? bEntry->value.items[defect->row].range.begin
                              : bEntry->value.range.begin;
        break;
      case TableauDefect::Part::C:
        at = cEntry && defect->row >= 0
                 ? cEntry->value.items[defect->row].range.begin
                 : decl.getNameRange().begin;
        break;
      case TableauDefect::Part::Order:
        at = orderEntry ? orderEntry->value.range.begin
                        : decl.getNameRange().begin;
        break;
      case TableauDefect::Part::Shape:
        break;
      }
      error(at, "scheme '" + decl.getName() + "': " + defect->message);
      return {};
    }
    // An adaptive scheme: embedded weights, their order, and optionally the
    // dense output's midpoint weights.
    std::vector<double> bhat, mid;
    int64_t embeddedOrder = 0;
    const ast::SchemeEntry *bhatEntry = entries.lookup("bhat");
    const ast::SchemeEntry *embeddedEntry = entries.lookup("embedded_order");
    const ast::SchemeEntry *midEntry = entries.lookup("mid");
    if ((embeddedEntry || midEntry) && !bhatEntry) {
      const ast::SchemeEntry *given = embeddedEntry ? embeddedEntry : midEntry;
      error(given->nameRange.begin,
            "'" + given->name +
                "' describes embedded weights; give them as 'bhat'");
      return {};
    }
    if (bhatEntry) {
      if (!readVector(bhatEntry->value, "bhat", bhat))
        return {};
      if (bhat.size() != s) {
        error(bhatEntry->value.range.begin,
              "'bhat' has " + std::to_string(bhat.size()) +
                  " weights, but 'b' has " + std::to_string(s) + " stages");
        return {};
      }
      embeddedOrder = computeTableauOrder(a, bhat);
      if (embeddedEntry) {
        std::optional<double> value;
        if (embeddedEntry->value.isList() ||
            !(value = evaluate(*embeddedEntry->value.expr)))
          return failed ? TableauAttr()
                        : (error(embeddedEntry->value.range.begin,
                                 "'embedded_order' must be a whole number"),
                           TableauAttr());
        if (*value != std::floor(*value) || *value < 1) {
          error(embeddedEntry->value.range.begin,
                "'embedded_order' must be a whole number >= 1");
          return {};
        }
        embeddedOrder = int64_t(*value);
      }
      if (midEntry) {
        if (!readVector(midEntry->value, "mid", mid))
          return {};
      }
      if (std::optional<std::string> defect =
              findEmbeddedDefect(a, b, bhat, order, embeddedOrder, mid)) {
        const ast::SchemeEntry *at =
            midEntry && defect->find("'mid'") != std::string::npos
                ? midEntry
            : embeddedEntry ? embeddedEntry
                            : bhatEntry;
        error(at->value.range.begin,
              "scheme '" + decl.getName() + "': " + *defect);
        return {};
      }
    }
    return TableauAttr::get(context, decl.getName(), order, a, b, c, bhat,
                            embeddedOrder, mid);
  }

private:
  mlir::Location loc(SourceLoc at) {
    return mlir::FileLineColLoc::get(context, file, at.line, at.col);
  }

  mlir::InFlightDiagnostic error(SourceLoc at, const llvm::Twine &message) {
    failed = true;
    return reportError(at, message);
  }

  /// A list of constants.
  bool readVector(const ast::SchemeValue &value, llvm::StringRef name,
                  std::vector<double> &out) {
    if (!value.isList()) {
      error(value.range.begin, "'" + name + "' must be a list, e.g. [0.5, 0.5]");
      return false;
    }
    for (const ast::SchemeValue &item : value.items) {
      if (item.isList()) {
        error(item.range.begin,
              "'" + name + "' is a list of numbers, not of lists");
        return false;
      }
      std::optional<double> number = evaluate(*item.expr);
      if (!number)
        return false;
      out.push_back(*number);
    }
    return true;
  }

  /// `a`: s rows; row i lists either its i entries left of the diagonal or
  /// all s entries. The full s x s matrix is returned, with the source of
  /// every entry (the row's own location for omitted zeros).
  bool readMatrix(const ast::SchemeValue &value, size_t s,
                  std::vector<double> &a,
                  std::vector<const ast::SchemeValue *> &items) {
    if (!value.isList()) {
      error(value.range.begin,
            "'a' must be a list of rows, e.g. [[], [0.5]] for two stages");
      return false;
    }
    if (value.items.size() != s) {
      error(value.range.begin,
            "'a' has " + std::to_string(value.items.size()) +
                " rows, but 'b' has " + std::to_string(s) + " stages");
      return false;
    }
    a.assign(s * s, 0.0);
    items.assign(s * s, nullptr);
    for (size_t i = 0; i < s; ++i) {
      const ast::SchemeValue &row = value.items[i];
      if (!row.isList() ||
          (row.items.size() != i && row.items.size() != s)) {
        error(row.range.begin,
              "row " + std::to_string(i + 1) + " of 'a' must list the " +
                  std::to_string(i) + " coefficients left of the diagonal" +
                  (i ? "" : " (none: [])") + " or all " + std::to_string(s) +
                  ", got " +
                  (row.isList() ? std::to_string(row.items.size()) +
                                      " entries"
                                : std::string("a number")));
        return false;
      }
      for (size_t j = 0; j < s; ++j)
        items[i * s + j] = &row;
      for (size_t j = 0; j < row.items.size(); ++j) {
        const ast::SchemeValue &item = row.items[j];
        if (item.isList()) {
          error(item.range.begin, "a coefficient of 'a' must be a number");
          return false;
        }
        std::optional<double> number = evaluate(*item.expr);
        if (!number)
          return false;
        a[i * s + j] = *number;
        items[i * s + j] = &item;
      }
    }
    return true;
  }

  /// Evaluates a constant expression: numbers, + - * /, unary minus,
  /// parentheses (folded by the parser) and sqrt.
  std::optional<double> evaluate(const ast::Expr &expr) {
    return llvm::TypeSwitch<const ast::Expr *, std::optional<double>>(&expr)
        .Case<ast::NumberExpr>(
            [](const ast::NumberExpr *number) { return number->getValue(); })
        .Case<ast::NegExpr>([&](const ast::NegExpr *neg)
                                -> std::optional<double> {
          std::optional<double> operand = evaluate(neg->getOperand());
          if (!operand)
            return std::nullopt;
          return -*operand;
        })
        .Case<ast::BinaryExpr>([&](const ast::BinaryExpr *binary)
                                   -> std::optional<double> {
          if (binary->getOp() != ast::BinaryOp::Add &&
              binary->getOp() != ast::BinaryOp::Sub &&
              binary->getOp() != ast::BinaryOp::Mul &&
              binary->getOp() != ast::BinaryOp::Div) {
            error(binary->getOpLoc(),
                  "a scheme coefficient is a number: only + - * / apply");
            return std::nullopt;
          }
          std::optional<double> lhs = evaluate(binary->getLhs());
          std::optional<double> rhs = evaluate(binary->getRhs());
          if (!lhs || !rhs)
            return std::nullopt;
          switch (binary->getOp()) {
          case ast::BinaryOp::Add:
            return *lhs + *rhs;
          case ast::BinaryOp::Sub:
            return *lhs - *rhs;
          case ast::BinaryOp::Mul:
            return *lhs * *rhs;
          case ast::BinaryOp::Div:
            if (*rhs == 0) {
              error(binary->getOpLoc(), "division by zero in a scheme "
                                        "coefficient");
              return std::nullopt;
            }
            return *lhs / *rhs;
          default:
            llvm_unreachable("handled above");
          }
        })
        .Case<ast::CallExpr>([&](const ast::CallExpr *call)
                                 -> std::optional<double> {
          if (call->getCallee() != "sqrt" || call->getArgs().size() != 1) {
            error(call->getLoc(), "a scheme coefficient may call only "
                                  "sqrt(x), not '" +
                                      call->getCallee() + "'");
            return std::nullopt;
          }
          std::optional<double> operand = evaluate(*call->getArgs()[0]);
          if (!operand)
            return std::nullopt;
          if (*operand < 0) {
            error(call->getLoc(), "sqrt of a negative number");
            return std::nullopt;
          }
          return std::sqrt(*operand);
        })
        .Default([&](const ast::Expr *other) -> std::optional<double> {
          error(other->getLoc(),
                "a scheme coefficient must be a constant (numbers, + - * /, "
                "sqrt)");
          return std::nullopt;
        });
  }

  const ast::SchemeDecl &decl;
  llvm::StringRef file;
  mlir::MLIRContext *context;
  ErrorFn reportError;
  bool failed = false;
};

} // namespace

TableauAttr grade::sema::checkSchemeDecl(const ast::SchemeDecl &decl,
                                         llvm::StringRef file,
                                         mlir::MLIRContext *context,
                                         ErrorFn error) {
  return SchemeChecker(decl, file, context, error).check();
}

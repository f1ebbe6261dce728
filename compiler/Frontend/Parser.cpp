//===- Parser.cpp - model files to AST through ANTLR ----------------------===//
//
// The only translation unit that includes the ANTLR runtime (and so the only
// one compiled with exceptions). It runs the generated lexer and parser,
// turns ANTLR's error reports into grade diagnostics with precise locations,
// and converts the parse tree into the AST of AST.h.
//
// Syntax errors: ANTLR recovers and keeps parsing; we keep only the first
// error (later ones are usually its echoes), phrase it ourselves ("expected
// ';' after ..., got 'state'") and build no AST. A missing token is reported
// at the end of the token before it, where the user has to type it.
//
//===----------------------------------------------------------------------===//

#include "compiler/Frontend/Frontend.h"

#include "GradeLexer.h"
#include "GradeParser.h"
#include "antlr4-runtime.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/SourceMgr.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

using namespace grade;
using namespace grade::ast;
using gradeparser::GradeLexer;
using gradeparser::GradeParser;

namespace {

/// Limits that keep every recursive stage (ANTLR's parser included) within
/// its stack; real models are far below them.
constexpr unsigned kMaxExprDepth = 10000;
constexpr unsigned kMaxBracketDepth = 1000;
constexpr long long kMaxDimension = 1LL << 40;

/// Positions in ANTLR are (1-based line, 0-based column in code points).
/// This maps them to 1-based byte columns of the source buffer.
class PositionMapper {
public:
  PositionMapper(llvm::StringRef buffer) {
    lineStarts.push_back(0);
    for (size_t i = 0; i < buffer.size(); ++i)
      if (buffer[i] == '\n')
        lineStarts.push_back(i + 1);
    text = buffer;
  }

  SourceLoc map(size_t line, size_t codePointCol) const {
    if (line == 0 || line > lineStarts.size())
      return {static_cast<unsigned>(line), 1};
    size_t pos = lineStarts[line - 1];
    for (size_t cp = 0; cp < codePointCol && pos < text.size() &&
                        text[pos] != '\n';
         ++cp) {
      // Skip one UTF-8 sequence: a lead byte and its continuation bytes.
      ++pos;
      while (pos < text.size() && (text[pos] & 0xC0) == 0x80)
        ++pos;
    }
    return {static_cast<unsigned>(line),
            static_cast<unsigned>(pos - lineStarts[line - 1] + 1)};
  }

  /// The first position of a token.
  SourceLoc begin(const antlr4::Token *token) const {
    return map(token->getLine(), token->getCharPositionInLine());
  }

  /// The position just past a token (tokens never span lines).
  SourceLoc end(const antlr4::Token *token) const {
    size_t length = token->getStopIndex() >= token->getStartIndex()
                        ? token->getStopIndex() - token->getStartIndex() + 1
                        : 0;
    return map(token->getLine(), token->getCharPositionInLine() + length);
  }

private:
  std::vector<size_t> lineStarts;
  llvm::StringRef text;
};

/// Text quoted from the source in a message, with control characters
/// escaped ("\\x00"): a NUL would cut the message short and an ESC would act
/// on the user's terminal.
std::string escapeControls(llvm::StringRef text) {
  std::string result;
  for (char c : text) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f)
      result += "\\x" + llvm::utohexstr(byte, /*LowerCase=*/true, 2);
    else
      result += c;
  }
  return result;
}

/// The offset of the first byte that is not part of well-formed UTF-8
/// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF),
/// if any. ANTLR's input stream would throw on it and report nothing
/// useful; this finds where it is.
std::optional<size_t> findInvalidUtf8(llvm::StringRef text) {
  const auto *bytes = reinterpret_cast<const unsigned char *>(text.data());
  size_t size = text.size();
  for (size_t i = 0; i < size;) {
    unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    unsigned char min = 0x80, max = 0xBF; // Range of the second byte.
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0)
        min = 0xA0; // Overlong.
      else if (lead == 0xED)
        max = 0x9F; // Surrogates.
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0)
        min = 0x90; // Overlong.
      else if (lead == 0xF4)
        max = 0x8F; // Above U+10FFFF.
    } else {
      return i;
    }
    if (i + 1 >= size || bytes[i + 1] < min || bytes[i + 1] > max)
      return i;
    for (size_t k = 2; k < length; ++k)
      if (i + k >= size || (bytes[i + k] & 0xC0) != 0x80)
        return i;
    i += length;
  }
  return std::nullopt;
}

/// The first syntax error of a parse.
struct SyntaxError {
  bool present = false;
  SourceLoc loc;
  std::string message;

  void set(SourceLoc at, std::string text) {
    if (present)
      return;
    present = true;
    loc = at;
    message = std::move(text);
  }
};

/// Lexer errors: ANTLR reports "token recognition error at: 'x'".
class LexerErrorListener : public antlr4::BaseErrorListener {
public:
  LexerErrorListener(SyntaxError &error, const PositionMapper &positions)
      : error(error), positions(positions) {}

  void syntaxError(antlr4::Recognizer *, antlr4::Token *, size_t line,
                   size_t col, const std::string &msg,
                   std::exception_ptr) override {
    llvm::StringRef text(msg);
    size_t quote = text.find('\'');
    llvm::StringRef bad =
        quote == llvm::StringRef::npos ? "" : text.drop_front(quote + 1);
    bad.consume_back("'");
    std::string message;
    if (bad.starts_with("\"")) {
      message = "unterminated string (a string ends on the line it starts)";
    } else if (!bad.empty()) {
      // One whole UTF-8 sequence: a lead byte and its continuation bytes.
      size_t length = 1;
      while (length < bad.size() && (bad[length] & 0xC0) == 0x80)
        ++length;
      message = "unexpected character '" +
                escapeControls(bad.take_front(length)) + "'";
    } else {
      message = "unexpected character";
    }
    error.set(positions.map(line, col), message);
  }

private:
  SyntaxError &error;
  const PositionMapper &positions;
};

/// The end of the message about an unknown declaration keyword.
constexpr const char *kDeclarationKeywords =
    "declarations start with graph, input, param, let, state, rhs, solve, "
    "output, readout, fn, symmetry, lie or scheme";

/// Describes a token type for messages: 'model', identifier, end of file.
std::string describeTokenType(size_t type, const antlr4::dfa::Vocabulary &vocab) {
  switch (type) {
  case antlr4::Token::EOF:
    return "end of file";
  case GradeParser::IDENT:
    return "identifier";
  case GradeParser::INT:
    return "integer";
  case GradeParser::FLOAT:
    return "number";
  case GradeParser::STRING:
    return "string";
  default:
    return vocab.getLiteralName(type);
  }
}

/// Describes an offending token: 'foo' or end of file.
std::string describeToken(const antlr4::Token *token) {
  if (!token || token->getType() == antlr4::Token::EOF)
    return "end of file";
  return "'" + escapeControls(token->getText()) + "'";
}

/// Phrases a set of expected tokens: "';'", "',' or ')'", "an expression".
std::string describeExpected(const antlr4::misc::IntervalSet &set,
                             const antlr4::dfa::Vocabulary &vocab) {
  std::vector<ssize_t> types = set.toList();
  std::vector<std::string> literals;
  for (ssize_t type : types)
    literals.push_back(vocab.getLiteralName(type));
  auto hasType = [&](ssize_t type) { return llvm::is_contained(types, type); };
  auto hasLiteral = [&](llvm::StringRef literal) {
    return llvm::is_contained(literals, literal);
  };
  // Collapse the start sets of expressions and declarations.
  bool expression = hasType(GradeParser::IDENT) && hasType(GradeParser::INT) &&
                    hasType(GradeParser::FLOAT);
  bool declaration = hasLiteral("'graph'") && hasLiteral("'symmetry'");
  static const llvm::StringRef expressionStarts[] = {"'('", "'-'"};
  static const llvm::StringRef declarationStarts[] = {
      "'graph'", "'input'",  "'param'",  "'let'",     "'state'",
      "'rhs'",   "'solve'",  "'output'", "'symmetry'", "'scheme'"};
  std::vector<std::string> parts;
  if (expression)
    parts.push_back("an expression");
  else if (declaration)
    parts.push_back("a declaration");
  for (auto [type, literal] : llvm::zip(types, literals)) {
    // A string starts only the first argument of a call (einsum's spec).
    if (expression &&
        (type == GradeParser::IDENT || type == GradeParser::INT ||
         type == GradeParser::FLOAT || type == GradeParser::STRING ||
         llvm::is_contained(expressionStarts, literal)))
      continue;
    // An identifier starts a `readout` declaration.
    if (declaration && (llvm::is_contained(declarationStarts, literal) ||
                        type == GradeParser::IDENT))
      continue;
    parts.push_back(describeTokenType(type, vocab));
  }
  if (parts.empty())
    return "something else";
  std::string result = parts[0];
  for (size_t i = 1; i < parts.size(); ++i)
    result += (i + 1 == parts.size() ? " or " : ", ") + parts[i];
  return result;
}

/// DefaultErrorStrategy with grade's phrasing. Recovery is kept (ANTLR may
/// report more errors) but only the first one reaches the user.
class GradeErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
  GradeErrorStrategy(SyntaxError &error, const PositionMapper &positions)
      : error(error), positions(positions) {}

protected:
  /// The token before `token` if `token` starts a later line: something
  /// missing at the end of a line is reported there, where it is typed.
  antlr4::Token *previousOnEarlierLine(antlr4::Parser *parser,
                                       antlr4::Token *token) {
    if (!token)
      return nullptr;
    antlr4::TokenStream *tokens = parser->getTokenStream();
    ssize_t index = static_cast<ssize_t>(token->getTokenIndex()) - 1;
    if (index < 0)
      return nullptr;
    antlr4::Token *previous = tokens->get(index);
    if (!previous || previous->getLine() >= token->getLine())
      return nullptr;
    return previous;
  }

  /// "expected X after 'prev'" at the end of the previous token when the
  /// offending token starts a later line; otherwise `sameLine` at the
  /// offending token.
  void reportExpected(antlr4::Parser *parser, antlr4::Token *token,
                      const std::string &expected,
                      const std::string &sameLine) {
    if (antlr4::Token *previous = previousOnEarlierLine(parser, token)) {
      error.set(positions.end(previous), "expected " + expected + " after '" +
                                             escapeControls(previous->getText()) + "'");
      return;
    }
    error.set(positions.begin(token), sameLine);
  }

  /// Inside a declaration that starts with an identifier other than
  /// `readout` (the only such declaration), the identifier is the mistake:
  /// reports it and returns true.
  bool reportUnknownDeclaration(antlr4::Parser *parser) {
    for (antlr4::ParserRuleContext *ctx = parser->getContext(); ctx;
         ctx = dynamic_cast<antlr4::ParserRuleContext *>(ctx->parent)) {
      antlr4::Token *kw = nullptr;
      if (auto *decl = dynamic_cast<GradeParser::NamedDeclContext *>(ctx))
        kw = decl->kw;
      else if (auto *lie = dynamic_cast<GradeParser::LieDeclContext *>(ctx))
        kw = lie->kw;
      else if (auto *decl = dynamic_cast<GradeParser::DeclContext *>(ctx);
               decl && decl->getStart() &&
               decl->getStart()->getType() == GradeParser::IDENT)
        // No alternative predicted yet (`foo x;`): the first word.
        kw = decl->getStart();
      else
        continue;
      if (!kw || kw->getText() == "readout" || kw->getText() == "fn" ||
          kw->getText() == "lie")
        return false;
      error.set(positions.begin(kw), "unknown declaration '" +
                                         escapeControls(kw->getText()) +
                                         "'; " + kDeclarationKeywords);
      return true;
    }
    return false;
  }

  void reportNoViableAlternative(antlr4::Parser *parser,
                                 const antlr4::NoViableAltException &e) override {
    if (reportUnknownDeclaration(parser))
      return;
    antlr4::Token *token = e.getOffendingToken();
    std::string expected =
        describeExpected(e.getExpectedTokens(), parser->getVocabulary());
    reportExpected(parser, token, expected,
                   "unexpected " + describeToken(token) + "; expected " +
                       expected);
  }

  void reportInputMismatch(antlr4::Parser *parser,
                           const antlr4::InputMismatchException &e) override {
    if (reportUnknownDeclaration(parser))
      return;
    antlr4::Token *token = e.getOffendingToken();
    std::string expected =
        describeExpected(e.getExpectedTokens(), parser->getVocabulary());
    reportExpected(parser, token, expected,
                   "expected " + expected + ", got " + describeToken(token));
  }

  void reportFailedPredicate(antlr4::Parser *parser,
                             const antlr4::FailedPredicateException &e) override {
    error.set(positions.begin(e.getOffendingToken()),
              "unexpected " + describeToken(e.getOffendingToken()));
  }

  void reportUnwantedToken(antlr4::Parser *parser) override {
    if (inErrorRecoveryMode(parser))
      return;
    beginErrorCondition(parser);
    if (reportUnknownDeclaration(parser))
      return;
    antlr4::Token *token = parser->getCurrentToken();
    error.set(positions.begin(token),
              "unexpected " + describeToken(token) + "; expected " +
                  describeExpected(getExpectedTokens(parser),
                                   parser->getVocabulary()));
  }

  void reportMissingToken(antlr4::Parser *parser) override {
    if (inErrorRecoveryMode(parser))
      return;
    beginErrorCondition(parser);
    if (reportUnknownDeclaration(parser))
      return;
    antlr4::Token *previous = parser->getTokenStream()->LT(-1);
    antlr4::Token *current = parser->getCurrentToken();
    std::string expected =
        describeExpected(getExpectedTokens(parser), parser->getVocabulary());
    if (previous)
      error.set(positions.end(previous),
                "expected " + expected + " after '" + escapeControls(previous->getText()) +
                    "'");
    else
      error.set(positions.begin(current),
                "expected " + expected + " before " + describeToken(current));
  }

private:
  SyntaxError &error;
  const PositionMapper &positions;
};

/// Builds the AST from a parse tree known to be free of syntax errors.
class ASTBuilder {
public:
  ASTBuilder(llvm::StringRef file, const PositionMapper &positions,
             mlir::MLIRContext *context)
      : file(file), positions(positions), context(context) {}

  std::unique_ptr<Model> build(GradeParser::ModelContext *ctx) {
    collectFunctions(ctx);
    std::vector<DeclPtr> decls;
    for (GradeParser::DeclContext *declCtx : ctx->decl())
      if (DeclPtr decl = buildDecl(declCtx))
        decls.push_back(std::move(decl));
    if (failed)
      return nullptr;
    return std::make_unique<Model>(ctx->IDENT()->getText(), range(ctx),
                                   file.str(), std::move(decls));
  }

private:
  /// A user function: its parameters and the parse tree of its body, which
  /// is built anew (inlined) at every call.
  struct Function {
    std::vector<std::string> params;
    GradeParser::ExprContext *body;
  };

  /// Where a function body is being built: the call's arguments (parse
  /// trees, built in the caller's scope where a parameter is read), and
  /// that scope (null: a declaration's expression).
  struct Scope {
    const Function *function;
    std::vector<GradeParser::ExprContext *> args;
    const Scope *caller;
    /// The size of `active` at the call: its arguments are built with
    /// only the caller's functions active.
    size_t activeDepth;
  };

  /// Most inlined bodies one model may expand to: calls nested k deep,
  /// each calling the next twice, would otherwise grow as 2^k.
  static constexpr unsigned kMaxInlinedCalls = 10000;

  /// Records every `fn` declaration before any expression is built, so
  /// that a function may be called before (or inside) another one's
  /// declaration.
  void collectFunctions(GradeParser::ModelContext *ctx) {
    for (GradeParser::DeclContext *declCtx : ctx->decl()) {
      auto *named = dynamic_cast<GradeParser::NamedDeclContext *>(declCtx);
      if (!named || named->kw->getText() != "fn" || !named->name)
        continue;
      std::string name = named->name->getText();
      Function function;
      function.body = named->expr();
      for (antlr4::Token *param : named->params) {
        std::string text = param->getText();
        if (llvm::is_contained(function.params, text))
          error(positions.begin(param), "function '" + name +
                                            "' has two parameters named '" +
                                            text + "'");
        function.params.push_back(text);
      }
      if (!functions.try_emplace(name, std::move(function)).second)
        error(positions.begin(named->name),
              "redefinition of function '" + name + "'");
    }
  }

  /// `graph G = cycle(64);`: a generator call with integer arguments, or
  /// `file("g.mtx")`; std::nullopt (reported) for anything else.
  std::optional<GraphDecl::Default>
  buildGraphDefault(GradeParser::ExprContext *ctx) {
    static constexpr struct {
      const char *name;
      unsigned minArgs, maxArgs;
      const char *form;
    } kGenerators[] = {{"path", 1, 1, "path(N)"},
                       {"cycle", 1, 1, "cycle(N)"},
                       {"dcycle", 1, 1, "dcycle(N)"},
                       {"grid", 2, 2, "grid(R, C)"},
                       {"torus", 2, 2, "torus(R, C)"},
                       {"trimesh", 2, 2, "trimesh(R, C)"},
                       {"random", 2, 3, "random(N, M) or random(N, M, SEED)"}};
    SourceRange at = range(ctx);
    auto *call = dynamic_cast<GradeParser::CallExprContext *>(ctx);
    const std::string expected =
        "a graph is a generator (path(N), cycle(N), dcycle(N), grid(R, C), "
        "torus(R, C), trimesh(R, C), random(N, M[, SEED])), a point cloud's "
        "(radius(POSITIONS, R), knn(POSITIONS, K)) or a file "
        "(file(\"g.mtx\"))";
    if (!call) {
      error(at.begin, "expected a graph after '=': " + expected);
      return std::nullopt;
    }
    std::string callee = call->IDENT()->getText();
    std::vector<GradeParser::ExprContext *> args = call->expr();
    if (callee == "radius" || callee == "knn") {
      bool isRadius = callee == "radius";
      const char *form = isRadius ? "radius(POSITIONS, R)" : "knn(POSITIONS, K)";
      auto *name = args.size() == 2
                       ? dynamic_cast<GradeParser::NameExprContext *>(args[0])
                       : nullptr;
      auto *number = args.size() == 2
                         ? dynamic_cast<GradeParser::NumberExprContext *>(args[1])
                         : nullptr;
      if (call->STRING() || !name || !number ||
          (!isRadius && number->getStart()->getType() != GradeParser::INT)) {
        error(at.begin, "expected " + std::string(form) +
                            ": an input node field of positions and " +
                            (isRadius ? "a radius" : "a whole number"));
        return std::nullopt;
      }
      GraphDecl::Default result{callee + ":" + number->getText(), false, at,
                                name->IDENT()->getText(), range(name)};
      return result;
    }
    if (callee == "file") {
      antlr4::tree::TerminalNode *string = call->STRING();
      if (!string || !args.empty()) {
        error(at.begin, "file(...) takes one string, the graph file's path "
                        "(relative to the model file), as in "
                        "file(\"g.mtx\")");
        return std::nullopt;
      }
      std::string text = string->getText();
      std::string path = text.substr(1, text.size() - 2);
      if (path.empty()) {
        error(at.begin, "file(\"\") names no file");
        return std::nullopt;
      }
      return GraphDecl::Default{path, true, at, "", {}};
    }
    for (const auto &generator : kGenerators) {
      if (callee != generator.name)
        continue;
      if (call->STRING() || args.size() < generator.minArgs ||
          args.size() > generator.maxArgs) {
        error(at.begin, "expected " + std::string(generator.form));
        return std::nullopt;
      }
      std::string spec = callee;
      for (auto [index, arg] : llvm::enumerate(args)) {
        auto *number = dynamic_cast<GradeParser::NumberExprContext *>(arg);
        unsigned long long value = 0;
        if (!number || number->getStart()->getType() != GradeParser::INT ||
            llvm::StringRef(number->getText()).getAsInteger(10, value)) {
          error(positions.begin(arg->getStart()),
                "the arguments of " + std::string(generator.form) +
                    " are whole numbers");
          return std::nullopt;
        }
        // grid(R, C) is the generator's "grid:RxC".
        bool dims = generator.minArgs == 2 && generator.maxArgs == 2;
        spec += (index == 0 ? ":" : dims ? "x" : ":") + std::to_string(value);
      }
      return GraphDecl::Default{spec, false, at, "", {}};
    }
    error(at.begin, "unknown graph '" + callee + "': " + expected);
    return std::nullopt;
  }

  /// Inlines the call of user function `name`: its body with each
  /// parameter standing for the argument of the call.
  ExprPtr expandCall(GradeParser::CallExprContext *call, llvm::StringRef name,
                     const Function &function) {
    SourceRange whole = range(call);
    auto zero = [&] { return std::make_unique<NumberExpr>(whole, 0.0, "0"); };
    std::vector<GradeParser::ExprContext *> args = call->expr();
    if (args.size() != function.params.size()) {
      error(whole.begin, "function '" + name + "' takes " +
                             llvm::Twine(function.params.size()) +
                             (function.params.size() == 1 ? " argument"
                                                          : " arguments") +
                             ", got " + llvm::Twine(args.size()));
      return zero();
    }
    if (llvm::is_contained(active, name)) {
      std::string chain;
      for (llvm::StringRef caller : active)
        chain += caller.str() + " -> ";
      error(whole.begin, "function '" + name + "' calls itself (" + chain +
                             name + "); functions are inlined, so they "
                             "cannot recurse");
      return zero();
    }
    if (active.empty())
      outermostCall = {whole.begin, name.str()};
    if (++inlinedCalls > kMaxInlinedCalls) {
      if (inlinedCalls == kMaxInlinedCalls + 1)
        error(outermostCall.first,
              "the call of '" + outermostCall.second +
                  "' makes the model's function calls expand to more than " +
                  llvm::Twine(kMaxInlinedCalls) + " inlined bodies");
      return zero();
    }
    Scope inner{&function, std::move(args), scope, active.size()};
    const Scope *saved = scope;
    scope = &inner;
    active.push_back(name);
    ExprPtr body = buildExpr(function.body);
    active.pop_back();
    scope = saved;
    return body;
  }

  /// Reports an error at `loc` and marks the build as failed.
  void error(SourceLoc loc, const llvm::Twine &message) {
    failed = true;
    mlir::emitError(mlir::FileLineColLoc::get(context, file, loc.line,
                                              loc.col),
                    message);
  }

  SourceRange range(antlr4::ParserRuleContext *ctx) const {
    return {positions.begin(ctx->getStart()), positions.end(ctx->getStop())};
  }
  SourceRange range(antlr4::tree::TerminalNode *node) const {
    return range(node->getSymbol());
  }
  SourceRange range(antlr4::Token *token) const {
    return {positions.begin(token), positions.end(token)};
  }

  /// Parses a numeric literal, reporting values out of double range.
  double number(antlr4::Token *token, bool negate) {
    std::string text = token->getText();
    errno = 0;
    double value = std::strtod(text.c_str(), nullptr);
    if (errno == ERANGE && std::isinf(value))
      error(positions.begin(token), "number '" + text + "' is out of range");
    return negate ? -value : value;
  }

  double signedNumber(GradeParser::SignedNumberContext *ctx) {
    antlr4::Token *token = ctx->INT() ? ctx->INT()->getSymbol()
                                      : ctx->FLOAT()->getSymbol();
    return number(token, ctx->getStart()->getText() == "-");
  }

  DeclPtr buildSymmetry(GradeParser::SymmetryDeclContext *ctx,
                        SourceRange whole) {
    std::vector<SymmetryDecl::Group> groups;
    for (GradeParser::GroupContext *group : ctx->group()) {
      std::optional<int64_t> dim;
      if (antlr4::tree::TerminalNode *size = group->INT()) {
        std::string text = size->getText();
        // A dimension is small; anything past 1000 is reported by sema.
        dim = text.size() > 6 ? 1000000 : std::stoll(text);
      }
      groups.push_back({group->IDENT()->getText(), dim, range(group)});
    }
    std::vector<SymmetryDecl::Law> laws;
    for (GradeParser::LawEntryContext *entry : ctx->lawEntry()) {
      SymmetryDecl::Law law{entry->IDENT()->getText(), range(entry->IDENT()),
                            {}};
      for (GradeParser::LawTermContext *term : entry->lawTerm()) {
        std::optional<double> arg;
        if (GradeParser::SignedNumberContext *number = term->signedNumber())
          arg = signedNumber(number);
        law.terms.push_back({term->IDENT()->getText(), arg, range(term)});
      }
      laws.push_back(std::move(law));
    }
    return std::make_unique<SymmetryDecl>(whole, std::move(groups),
                                          std::move(laws));
  }

  TypeSpec buildType(GradeParser::TypeSpecContext *ctx) {
    TypeSpec type;
    if (ctx->kind)
      type.kind = ctx->kind->getText() == "node" ? KindSpec::Node
                                                 : KindSpec::Edge;
    type.elementType = ctx->IDENT()->getText();
    type.elementRange = range(ctx->IDENT());
    type.range = range(ctx);
    if (GradeParser::ShapeContext *shape = ctx->shape()) {
      for (antlr4::tree::TerminalNode *dim : shape->INT()) {
        errno = 0;
        long long value = std::strtoll(dim->getText().c_str(), nullptr, 10);
        if (errno == ERANGE || value > kMaxDimension)
          error(positions.begin(dim->getSymbol()),
                "feature dimension " + dim->getText() +
                    " is too large (the maximum is " +
                    llvm::Twine(kMaxDimension) + ")");
        else if (value <= 0)
          error(positions.begin(dim->getSymbol()),
                "feature dimension must be a positive integer, got " +
                    dim->getText());
        type.shape.push_back(value);
      }
      // Every dimension may be valid and their product still too large for
      // a buffer's size computations (or for 64 bits).
      long long elements = 1;
      bool tooMany = false;
      for (long long dim : type.shape) {
        if (dim <= 0 || dim > kMaxDimension)
          return type; // reported above
        tooMany |= elements > kMaxDimension / dim;
        if (tooMany)
          break;
        elements *= dim;
      }
      if (tooMany)
        error(positions.begin(shape->getStart()),
              "feature shape " + shape->getText() +
                  " has too many elements per " +
                  (type.kind == KindSpec::Global ? "tensor" : "row") +
                  " (the maximum is " + llvm::Twine(kMaxDimension) + ")");
    }
    return type;
  }

  DeclPtr buildDecl(GradeParser::DeclContext *ctx) {
    SourceRange whole = range(ctx);
    if (auto *graph = dynamic_cast<GradeParser::GraphDeclContext *>(ctx)) {
      std::vector<antlr4::tree::TerminalNode *> ids = graph->IDENT();
      std::optional<std::string> weightType;
      SourceRange weightRange;
      if (ids.size() == 3) {
        if (ids[1]->getText() != "weight")
          error(positions.begin(ids[1]->getSymbol()),
                "expected 'weight' in the graph's attributes, got '" +
                    ids[1]->getText() + "'");
        weightType = ids[2]->getText();
        weightRange = range(ids[2]);
      }
      std::optional<GraphDecl::Default> defaultGraph;
      if (GradeParser::ExprContext *value = graph->expr())
        defaultGraph = buildGraphDefault(value);
      return std::make_unique<GraphDecl>(whole, ids[0]->getText(),
                                         range(ids[0]), weightType,
                                         weightRange, std::move(defaultGraph));
    }
    if (auto *input = dynamic_cast<GradeParser::InputDeclContext *>(ctx))
      return std::make_unique<FieldDecl>(
          DeclKind::Input, whole, input->IDENT()->getText(),
          range(input->IDENT()), buildType(input->typeSpec()));
    if (auto *param = dynamic_cast<GradeParser::ParamDeclContext *>(ctx)) {
      std::optional<double> value;
      SourceRange valueRange;
      if (GradeParser::SignedNumberContext *number = param->signedNumber()) {
        value = signedNumber(number);
        valueRange = range(number);
      }
      return std::make_unique<FieldDecl>(
          DeclKind::Param, whole, param->IDENT()->getText(),
          range(param->IDENT()), buildType(param->typeSpec()), value,
          valueRange);
    }
    if (auto *let = dynamic_cast<GradeParser::LetDeclContext *>(ctx)) {
      std::optional<TypeSpec> type;
      if (let->typeSpec())
        type = buildType(let->typeSpec());
      return std::make_unique<LetDecl>(whole, let->IDENT()->getText(),
                                       range(let->IDENT()), std::move(type),
                                       buildExpr(let->expr()));
    }
    if (auto *named = dynamic_cast<GradeParser::NamedDeclContext *>(ctx)) {
      std::string kw = named->kw->getText(), name = named->name->getText();
      if (kw == "fn") {
        if (!named->lparen)
          error(positions.begin(named->name),
                "function '" + name + "' needs its parameters in "
                "parentheses, as in 'fn " + name + "(x) = ...;'");
        if (named->typeSpec())
          error(positions.begin(named->typeSpec()->getStart()),
                "function '" + name +
                    "' takes no type: its result's type follows from the "
                    "arguments of each call");
        // The body is inlined at every call (see collectFunctions).
        std::vector<std::string> params;
        for (antlr4::Token *param : named->params)
          params.push_back(param->getText());
        return std::make_unique<FunctionDecl>(whole, name, range(named->name),
                                              std::move(params));
      }
      if (kw != "readout")
        error(positions.begin(named->kw),
              "unknown declaration '" + kw + "'; " + kDeclarationKeywords);
      else if (named->lparen)
        error(positions.begin(named->lparen),
              "readout '" + name + "' takes no parameters (for a function, "
              "write 'fn " + name + "(...) = ...;')");
      std::optional<TypeSpec> type;
      if (named->typeSpec())
        type = buildType(named->typeSpec());
      return std::make_unique<LetDecl>(whole, name, range(named->name),
                                       std::move(type),
                                       buildExpr(named->expr()),
                                       /*readout=*/true);
    }
    if (auto *state = dynamic_cast<GradeParser::StateDeclContext *>(ctx)) {
      std::string name = state->IDENT(0)->getText();
      ExprPtr velocity;
      SourceRange velocityRange;
      if (state->expr().size() == 2) {
        // `, dx/dt = v0`: the initial velocity of the state itself.
        antlr4::tree::TerminalNode *deriv = state->IDENT(1),
                                   *time = state->IDENT(2);
        velocityRange = {positions.begin(deriv->getSymbol()),
                         positions.end(time->getSymbol())};
        if (deriv->getText() != "d" + name || time->getText() != "dt")
          error(velocityRange.begin,
                "expected the initial velocity 'd" + name + "/dt' of state '" +
                    name + "' after the initial value, got '" +
                    deriv->getText() + "/" + time->getText() + "'");
        velocity = buildExpr(state->expr(1));
      }
      return std::make_unique<StateDecl>(
          whole, name, range(state->IDENT(0)), buildType(state->typeSpec()),
          buildExpr(state->expr(0)), std::move(velocity), velocityRange);
    }
    if (auto *rhs = dynamic_cast<GradeParser::RhsDeclContext *>(ctx)) {
      // `rhs PART dx/dt`: two identifiers before the '/', the first the
      // part.
      size_t first = rhs->deriv ? 1 : 0;
      antlr4::tree::TerminalNode *deriv = rhs->IDENT(first),
                                 *time = rhs->IDENT(first + 1);
      RhsPart part = RhsPart::Whole;
      if (rhs->deriv) {
        antlr4::Token *partToken = rhs->IDENT(0)->getSymbol();
        std::string text = partToken->getText();
        if (text == "explicit")
          part = RhsPart::Explicit;
        else if (text == "implicit")
          part = RhsPart::Implicit;
        else
          error(positions.begin(partToken),
                "expected 'explicit' or 'implicit' (the part of a split "
                "right-hand side) or a derivative 'd<state>/dt' after "
                "'rhs', got '" +
                    text + "'");
      }
      std::string derivText = deriv->getText();
      llvm::StringRef name = derivText;
      // d2x/dt2: a second-order equation (an identifier cannot start with
      // a digit, so "d2x" is never the first derivative of a state "2x").
      int order = 1;
      if (time->getText() == "dt2" && name.size() >= 3 &&
          name.starts_with("d2")) {
        order = 2;
        name = name.drop_front();
      } else if (name.size() < 2 || name[0] != 'd' ||
                 time->getText() != "dt") {
        error(positions.begin(deriv->getSymbol()),
              "expected a derivative 'd<state>/dt' (or 'd2<state>/dt2'), got "
              "'" + name + "/" + time->getText() + "'");
      }
      SourceRange derivRange = {positions.begin(deriv->getSymbol()),
                                positions.end(time->getSymbol())};
      return std::make_unique<RhsDecl>(whole, name.drop_front().str(),
                                       derivRange, buildExpr(rhs->expr()),
                                       part, order);
    }
    if (auto *solve = dynamic_cast<GradeParser::SolveDeclContext *>(ctx)) {
      std::vector<SolveArg> args;
      for (GradeParser::SolveArgContext *arg : solve->solveArg()) {
        SolveArg entry;
        entry.name = arg->IDENT()->getText();
        entry.value = signedNumber(arg->signedNumber());
        entry.range = range(arg);
        if (GradeParser::OutputNameContext *state = arg->outputName()) {
          entry.state = state->IDENT(0)->getText();
          if (state->IDENT().size() == 2)
            entry.state += "/" + state->IDENT(1)->getText();
          entry.stateRange = range(state);
        }
        args.push_back(std::move(entry));
      }
      std::vector<GradeParser::SignedNumberContext *> bounds =
          solve->signedNumber();
      SourceRange interval = {positions.begin(bounds[0]->getStart()),
                              positions.end(bounds[1]->getStop())};
      return std::make_unique<SolveDecl>(
          whole, solve->IDENT()->getText(), range(solve->IDENT()),
          std::move(args), signedNumber(bounds[0]), signedNumber(bounds[1]),
          interval);
    }
    if (auto *output = dynamic_cast<GradeParser::OutputDeclContext *>(ctx)) {
      std::vector<OutputName> names;
      for (GradeParser::OutputNameContext *entry : output->outputName()) {
        std::string text = entry->IDENT(0)->getText();
        // `dx/dt`: the velocity of a second-order state, named so.
        if (entry->IDENT().size() == 2)
          text += "/" + entry->IDENT(1)->getText();
        names.push_back({text, range(entry)});
      }
      return std::make_unique<OutputDecl>(whole, std::move(names));
    }
    if (auto *symmetry = dynamic_cast<GradeParser::SymmetryDeclContext *>(ctx))
      return buildSymmetry(symmetry, whole);
    if (auto *lie = dynamic_cast<GradeParser::LieDeclContext *>(ctx)) {
      if (lie->kw->getText() != "lie")
        error(positions.begin(lie->kw), "unknown declaration '" +
                                            lie->kw->getText() + "'; " +
                                            kDeclarationKeywords);
      std::vector<LieDecl::Transform> transforms;
      for (GradeParser::LieTransformContext *transform :
           lie->lieTransform()) {
        LieDecl::Transform built{transform->IDENT(0)->getText(),
                                 range(transform->IDENT(0)),
                                 transform->IDENT(1)->getText(),
                                 range(transform->IDENT(1)),
                                 {}};
        for (GradeParser::LieMapContext *map : transform->lieMap())
          built.maps.push_back({map->IDENT()->getText(), range(map->IDENT()),
                                buildExpr(map->expr())});
        transforms.push_back(std::move(built));
      }
      return std::make_unique<LieDecl>(
          whole, lie->name->getText(), range(lie->name),
          signedNumber(lie->signedNumber()), range(lie->signedNumber()),
          buildExpr(lie->period), std::move(transforms));
    }
    if (auto *scheme = dynamic_cast<GradeParser::SchemeDeclContext *>(ctx)) {
      std::vector<SchemeEntry> entries;
      for (GradeParser::SchemeEntryContext *entry : scheme->schemeEntry())
        entries.push_back({entry->IDENT()->getText(), range(entry->IDENT()),
                           buildSchemeValue(entry->schemeValue())});
      return std::make_unique<SchemeDecl>(whole, scheme->IDENT()->getText(),
                                          range(scheme->IDENT()),
                                          std::move(entries));
    }
    error(whole.begin, "unsupported declaration");
    return nullptr;
  }

  SchemeValue buildSchemeValue(GradeParser::SchemeValueContext *ctx) {
    SchemeValue value;
    value.range = range(ctx);
    if (auto *list = dynamic_cast<GradeParser::ListValueContext *>(ctx)) {
      for (GradeParser::SchemeValueContext *item : list->schemeValue())
        value.items.push_back(buildSchemeValue(item));
      return value;
    }
    value.expr =
        buildExpr(static_cast<GradeParser::ExprValueContext *>(ctx)->expr());
    return value;
  }

  ExprPtr buildExpr(GradeParser::ExprContext *ctx) {
    // Long chains (a + b + ... ) nest as deeply as brackets; every later
    // stage recurses over the tree, so its depth is bounded here.
    if (++depth > kMaxExprDepth) {
      if (!reportedDepth)
        error(positions.begin(ctx->getStart()),
              "expression nested too deeply (more than " +
                  llvm::Twine(kMaxExprDepth) + " levels)");
      reportedDepth = true;
      --depth;
      return std::make_unique<NumberExpr>(range(ctx), 0.0, "0");
    }
    ExprPtr expr = buildExprImpl(ctx);
    --depth;
    return expr;
  }

  ExprPtr buildExprImpl(GradeParser::ExprContext *ctx) {
    SourceRange whole = range(ctx);
    if (auto *index = dynamic_cast<GradeParser::IndexExprContext *>(ctx)) {
      std::string endText = index->IDENT()->getText();
      llvm::StringRef end = endText;
      if (end != "src" && end != "dst")
        error(positions.begin(index->IDENT()->getSymbol()),
              "expected 'src' or 'dst' inside '[...]', got '" + end + "'");
      return std::make_unique<IndexExpr>(
          whole, buildExpr(index->expr()),
          end == "dst" ? EdgeEnd::Dst : EdgeEnd::Src, range(index->IDENT()));
    }
    if (auto *call = dynamic_cast<GradeParser::CallExprContext *>(ctx)) {
      std::string callee = call->IDENT()->getText();
      auto function = functions.find(callee);
      if (function != functions.end() && !call->STRING())
        return expandCall(call, function->first(), function->second);
      std::vector<ExprPtr> args;
      for (GradeParser::ExprContext *arg : call->expr())
        args.push_back(buildExpr(arg));
      if (antlr4::tree::TerminalNode *string = call->STRING()) {
        std::string text = string->getText();
        // Printable ASCII only (a spec is letters and punctuation): a
        // control or non-ASCII character is reported where it is, whole.
        SourceLoc at = positions.begin(string->getSymbol());
        for (size_t i = 1; i + 1 < text.size(); ++i) {
          unsigned char byte = text[i];
          if (byte >= 0x20 && byte < 0x7f)
            continue;
          size_t length = 1;
          while (i + length + 1 < text.size() &&
                 (text[i + length] & 0xC0) == 0x80)
            ++length;
          error({at.line, at.col + static_cast<unsigned>(i)},
                "unexpected character '" +
                    escapeControls(text.substr(i, length)) +
                    "' in a string (strings hold printable ASCII only)");
          break;
        }
        return std::make_unique<CallExpr>(
            whole, call->IDENT()->getText(), std::move(args),
            text.substr(1, text.size() - 2), range(string));
      }
      return std::make_unique<CallExpr>(whole, call->IDENT()->getText(),
                                        std::move(args));
    }
    if (auto *paren = dynamic_cast<GradeParser::ParenExprContext *>(ctx))
      return buildExpr(paren->expr());
    if (auto *neg = dynamic_cast<GradeParser::NegExprContext *>(ctx))
      return std::make_unique<NegExpr>(whole, buildExpr(neg->expr()));
    if (auto *mul = dynamic_cast<GradeParser::MulExprContext *>(ctx)) {
      BinaryOp op = llvm::StringSwitch<BinaryOp>(mul->op->getText())
                        .Case("*", BinaryOp::Mul)
                        .Case("/", BinaryOp::Div)
                        .Case("@", BinaryOp::MatMul)
                        .Default(BinaryOp::Dot);
      return std::make_unique<BinaryExpr>(whole, op, positions.begin(mul->op),
                                          buildExpr(mul->expr(0)),
                                          buildExpr(mul->expr(1)));
    }
    if (auto *add = dynamic_cast<GradeParser::AddExprContext *>(ctx)) {
      BinaryOp op = add->op->getText() == "+" ? BinaryOp::Add : BinaryOp::Sub;
      return std::make_unique<BinaryExpr>(whole, op, positions.begin(add->op),
                                          buildExpr(add->expr(0)),
                                          buildExpr(add->expr(1)));
    }
    if (auto *cmp = dynamic_cast<GradeParser::CmpExprContext *>(ctx)) {
      BinaryOp op = llvm::StringSwitch<BinaryOp>(cmp->op->getText())
                        .Case("<", BinaryOp::Lt)
                        .Case("<=", BinaryOp::Le)
                        .Case(">", BinaryOp::Gt)
                        .Case(">=", BinaryOp::Ge)
                        .Case("==", BinaryOp::Eq)
                        .Default(BinaryOp::Ne);
      return std::make_unique<BinaryExpr>(whole, op, positions.begin(cmp->op),
                                          buildExpr(cmp->expr(0)),
                                          buildExpr(cmp->expr(1)));
    }
    if (auto *num = dynamic_cast<GradeParser::NumberExprContext *>(ctx)) {
      antlr4::Token *token = num->getStart();
      return std::make_unique<NumberExpr>(whole, number(token, false),
                                          token->getText());
    }
    auto *name = dynamic_cast<GradeParser::NameExprContext *>(ctx);
    std::string text = name->IDENT()->getText();
    // A parameter of the function being inlined: its argument, built where
    // the call was written.
    if (scope) {
      const std::vector<std::string> &params = scope->function->params;
      auto it = llvm::find(params, text);
      if (it != params.end()) {
        const Scope *inner = scope;
        std::vector<llvm::StringRef> calls = active;
        scope = inner->caller;
        active.resize(inner->activeDepth);
        ExprPtr arg = buildExpr(inner->args[size_t(it - params.begin())]);
        active = std::move(calls);
        scope = inner;
        return arg;
      }
    }
    return std::make_unique<NameExpr>(whole, text);
  }

  llvm::StringRef file;
  const PositionMapper &positions;
  mlir::MLIRContext *context;
  bool failed = false;
  unsigned depth = 0;
  bool reportedDepth = false;
  llvm::StringMap<Function> functions;
  const Scope *scope = nullptr;
  /// The functions being inlined, outermost first.
  std::vector<llvm::StringRef> active;
  unsigned inlinedCalls = 0;
  /// Where the outermost call being inlined is written, and its callee.
  std::pair<SourceLoc, std::string> outermostCall;
};

/// The 1-based line and byte column of `offset` in `text`.
SourceLoc locationOf(llvm::StringRef text, size_t offset) {
  llvm::StringRef before = text.take_front(offset);
  size_t lineStart = before.rfind('\n');
  lineStart = lineStart == llvm::StringRef::npos ? 0 : lineStart + 1;
  return {static_cast<unsigned>(1 + before.count('\n')),
          static_cast<unsigned>(offset - lineStart + 1)};
}

/// The first bracket (or prefix minus) that opens nesting level
/// kMaxBracketDepth + 1, if any: ANTLR recurses once per level and would
/// exhaust the stack long before the AST depth limit applies. Comments are
/// skipped.
std::optional<size_t> findDeepNesting(llvm::StringRef text) {
  unsigned depth = 0, minusRun = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '-') {
      if (++minusRun > kMaxBracketDepth)
        return i;
      continue;
    }
    if (!llvm::isSpace(c))
      minusRun = 0;
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      i = text.find('\n', i);
      if (i == llvm::StringRef::npos)
        return std::nullopt;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      i = text.find("*/", i + 2);
      if (i == llvm::StringRef::npos)
        return std::nullopt;
      ++i;
    } else if (c == '(' || c == '[') {
      if (++depth > kMaxBracketDepth)
        return i;
    } else if ((c == ')' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

/// The start of the first `/*` without a closing `*/`, if any. ANTLR cannot
/// report it: without its end the comment does not match, and the lexer
/// falls back to reading `/` and `*` as operators.
std::optional<size_t> findUnterminatedComment(llvm::StringRef text) {
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] == '/' && text[i + 1] == '/') {
      size_t end = text.find('\n', i);
      if (end == llvm::StringRef::npos)
        return std::nullopt;
      i = end;
    } else if (text[i] == '/' && text[i + 1] == '*') {
      size_t end = text.find("*/", i + 2);
      if (end == llvm::StringRef::npos)
        return i;
      i = end + 1;
    }
  }
  return std::nullopt;
}

} // namespace

std::unique_ptr<Model> grade::parseModel(llvm::SourceMgr &sourceMgr,
                                         unsigned bufferId,
                                         mlir::MLIRContext *context) {
  const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(bufferId);
  llvm::StringRef file = buffer->getBufferIdentifier();
  llvm::StringRef text = buffer->getBuffer();
  PositionMapper positions(text);
  if (std::optional<size_t> bad = findInvalidUtf8(text)) {
    SourceLoc at = locationOf(text, *bad);
    mlir::emitError(mlir::FileLineColLoc::get(context, file, at.line, at.col),
                    "invalid UTF-8: unexpected byte 0x" +
                        llvm::utohexstr(static_cast<unsigned char>(text[*bad]),
                                        /*LowerCase=*/true, 2) +
                        " (model files are UTF-8 text)");
    return nullptr;
  }
  if (std::optional<size_t> comment = findUnterminatedComment(text)) {
    SourceLoc at = locationOf(text, *comment);
    mlir::emitError(mlir::FileLineColLoc::get(context, file, at.line, at.col),
                    "unterminated block comment");
    return nullptr;
  }
  if (std::optional<size_t> deep = findDeepNesting(text)) {
    SourceLoc at = locationOf(text, *deep);
    mlir::emitError(mlir::FileLineColLoc::get(context, file, at.line, at.col),
                    "expression nested too deeply (more than " +
                        llvm::Twine(kMaxBracketDepth) + " levels)");
    return nullptr;
  }
  SyntaxError syntaxError;
  try {
    antlr4::ANTLRInputStream input(text.data(), text.size());
    GradeLexer lexer(&input);
    LexerErrorListener lexerErrors(syntaxError, positions);
    lexer.removeErrorListeners();
    lexer.addErrorListener(&lexerErrors);
    antlr4::CommonTokenStream tokens(&lexer);
    GradeParser parser(&tokens);
    parser.removeErrorListeners();
    auto strategy =
        std::make_shared<GradeErrorStrategy>(syntaxError, positions);
    parser.setErrorHandler(strategy);
    GradeParser::ModelContext *tree = parser.model();
    if (syntaxError.present) {
      mlir::emitError(mlir::FileLineColLoc::get(context, file,
                                                syntaxError.loc.line,
                                                syntaxError.loc.col),
                      syntaxError.message);
      return nullptr;
    }
    return ASTBuilder(file, positions, context).build(tree);
  } catch (const std::exception &e) {
    // ANTLR's runtime signals internal failures with exceptions; they must
    // not escape into code compiled without exception support.
    mlir::emitError(mlir::FileLineColLoc::get(context, file, 1, 1),
                    llvm::Twine("internal parser error: ") + e.what());
    return nullptr;
  }
}

// Grade.g4 - the grammar of grade model files (language v0).
//
// A model file holds one `model NAME { ... }` block of declarations. The
// grammar is deliberately permissive where a precise message is better given
// by the frontend than by ANTLR (element type names, `src`/`dst` in an index,
// the `d<state>/dt` form of a right-hand side and its `explicit`/`implicit`
// part, solve arguments): those are
// identifiers here and are checked while building the AST or in sema.
// docs/language.md documents the language; keep the two in step.

grammar Grade;

model
  : 'model' IDENT '{' decl* '}' EOF
  ;

decl
  : 'graph' IDENT ('(' IDENT ':' IDENT ')')? ('=' expr)? ';'  # graphDecl
  | 'input' IDENT ':' typeSpec ';'                             # inputDecl
  | 'param' IDENT ':' typeSpec ('=' signedNumber)? ';'         # paramDecl
  | 'let' IDENT (':' typeSpec)? '=' expr ';'                   # letDecl
  // `readout NAME = ...;` and `fn NAME(a, b) = ...;`: neither word is
  // reserved (a field may be called so); the frontend checks the first
  // word and which of the optional parts each declaration takes.
  | kw=IDENT name=IDENT
      (lparen='(' (params+=IDENT (',' params+=IDENT)*)? ')')?
      (':' typeSpec)? '=' expr ';'                             # namedDecl
  // `lie u over [0, L) { boost(e): x -> x + e * t, u -> u + e; }`: the
  // point symmetries of a grid model's PDE; `lie` is not reserved either.
  | kw=IDENT name=IDENT 'over' '[' signedNumber ',' period=expr ')'
      '{' lieTransform* '}' ';'?                               # lieDecl
  | 'state' IDENT ':' typeSpec '=' expr
      (',' IDENT '/' IDENT '=' expr)? ';'                      # stateDecl
  | 'rhs' IDENT deriv=IDENT? '/' IDENT '=' expr ';'            # rhsDecl
  | 'solve' IDENT '(' (solveArg (',' solveArg)*)? ')'
      'over' '[' signedNumber ',' signedNumber ']' ';'         # solveDecl
  | 'output' outputName (',' outputName)* ';'                  # outputDecl
  | 'symmetry' group (',' group)*
      (';' | '{' lawEntry* '}' ';'?)                           # symmetryDecl
  | 'scheme' IDENT '{' schemeEntry* '}'                        # schemeDecl
  ;

// `E(3)`, `SO(2)`, `scaling`: a group of the `symmetry` clause.
group
  : IDENT ('(' INT ')')?
  ;

// `x: position;`, `u: scalar, weight(-1);`: how a field transforms.
lawEntry
  : IDENT ':' lawTerm (',' lawTerm)* ';'
  ;

lawTerm
  : IDENT ('(' signedNumber ')')?
  ;

// `boost(e): x -> x + e * t, u -> u + e;`
lieTransform
  : IDENT '(' IDENT ')' ':' lieMap (',' lieMap)* ';'
  ;

lieMap
  : IDENT '->' expr
  ;

// `a = [[], [1/2], [-1, 2]];` inside a scheme: a constant, or a list of them.
schemeEntry
  : IDENT '=' schemeValue ';'
  ;

schemeValue
  : '[' (schemeValue (',' schemeValue)*)? ']'                  # listValue
  | expr                                                       # exprValue
  ;

// A field, or the velocity `dx/dt` of a second-order state.
outputName
  : IDENT ('/' IDENT)?
  ;

// `node f32[64]`, `edge f64`, `f32[64, 16]` (no kind: a global tensor).
typeSpec
  : kind=('node' | 'edge')? IDENT shape?
  ;

shape
  : '[' INT (',' INT)* ']'
  ;

// `dt = 0.1`, `rtol = 1e-6`, or a state's own `atol(x) = 1e-9`.
solveArg
  : IDENT ('(' outputName ')')? '=' signedNumber
  ;

signedNumber
  : '-'? (INT | FLOAT)
  ;

// Alternatives are listed from the tightest binding to the loosest.
expr
  : expr '[' IDENT ']'                                         # indexExpr
  | IDENT '(' ((STRING | expr) (',' expr)*)? ')'               # callExpr
  | '(' expr ')'                                               # parenExpr
  | '-' expr                                                   # negExpr
  | expr op=('*' | '/' | '@' | '.') expr                       # mulExpr
  | expr op=('+' | '-') expr                                   # addExpr
  | expr op=('<' | '<=' | '>' | '>=' | '==' | '!=') expr       # cmpExpr
  | (INT | FLOAT)                                              # numberExpr
  | IDENT                                                      # nameExpr
  ;

IDENT : [a-zA-Z_] [a-zA-Z_0-9]* ;
FLOAT : [0-9]+ '.' [0-9]+ ([eE] [+-]? [0-9]+)?
      | [0-9]+ [eE] [+-]? [0-9]+
      ;
INT : [0-9]+ ;
// Only as the first argument of a call: `einsum("hd,hd->h", k, q)`.
STRING : '"' ~["\r\n]* '"' ;

LINE_COMMENT : '//' ~[\r\n]* -> skip ;
BLOCK_COMMENT : '/*' .*? '*/' -> skip ;
WS : [ \t\r\n]+ -> skip ;

/**
 * The nnx grammar as a pure Chevrotain CST parser: rules only, no actions. `visitor.ts` turns
 * the CST into the AST and `syntax-messages.ts` words the errors. `grammar/nnx.ebnf` is the
 * same grammar for people; keep the two in step.
 */
import { CstParser } from './chevrotain.js';
import type { CstNode, IRecognitionException, IToken } from 'chevrotain';
import { SyntaxMessages } from './syntax-messages.js';
import * as t from './tokens.js';

/** The raw outcome of one parse: a (possibly partial) CST and every recognition error. */
export interface CstParseResult {
  readonly cst: CstNode | undefined;
  readonly errors: readonly IRecognitionException[];
}

/** The nnx parser. Build it once (grammar analysis is slow) and reuse it via {@link parser}. */
export class NnxParser extends CstParser {
  constructor(private readonly messages = new SyntaxMessages()) {
    // LL(2) tells `name: value` arguments from expressions that start with a name.
    super(t.allTokens, {
      recoveryEnabled: true,
      maxLookahead: 2,
      nodeLocationTracking: 'onlyOffset',
      errorMessageProvider: messages,
    });
    this.performSelfAnalysis();
  }

  /** Parses a token vector from {@link t.lexer}. Errors are collected, never thrown. */
  parseTokens(tokens: IToken[]): CstParseResult {
    this.messages.tokens = tokens;
    this.input = tokens;
    try {
      const cst = this.program();
      return { cst, errors: this.errors };
    } finally {
      this.messages.tokens = []; // the singleton should not keep the last file's tokens alive
    }
  }

  readonly program = this.RULE('program', () => {
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.importDecl) }, { ALT: () => this.SUBRULE(this.definition) }]);
    });
  });

  /** `import "layers.nnx"`: the blocks and models of another file, by a path relative to this one. */
  readonly importDecl = this.RULE('importDecl', () => {
    this.CONSUME(t.Import);
    this.CONSUME(t.StringLiteral);
  });

  readonly definition = this.RULE('definition', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.sequentialDef) },
      { ALT: () => this.SUBRULE(this.modelDef) },
      { ALT: () => this.SUBRULE(this.blockDef) },
      { ALT: () => this.SUBRULE(this.trainDef) },
      { ALT: () => this.SUBRULE(this.ganDef) },
    ]);
  });

  /** `sequential Name(x: [2]) { Dense(3) Dense(1) }`: each expression is one layer. */
  readonly sequentialDef = this.RULE('sequentialDef', () => {
    this.CONSUME(t.Sequential);
    this.CONSUME(t.Identifier);
    this.CONSUME(t.LParen);
    this.SUBRULE(this.tensorDecls, { LABEL: 'inputs' });
    this.CONSUME(t.RParen);
    this.SUBRULE(this.body);
  });

  /** `model Name(a: [2]) -> (out: [1]) { statements }`; the output list is optional. */
  readonly modelDef = this.RULE('modelDef', () => {
    this.CONSUME(t.Model);
    this.CONSUME(t.Identifier);
    this.CONSUME1(t.LParen);
    this.SUBRULE1(this.tensorDecls, { LABEL: 'inputs' });
    this.CONSUME1(t.RParen);
    this.OPTION(() => {
      this.CONSUME(t.Arrow);
      this.CONSUME2(t.LParen);
      this.SUBRULE2(this.tensorDecls, { LABEL: 'outputs' });
      this.CONSUME2(t.RParen);
    });
    this.SUBRULE(this.body);
  });

  /**
   * `block Residual(c: int)(x) { ... }`: parameters, then inputs. With one list, it is the
   * parameter list when any entry has a type (`c: int`), else the input list.
   */
  readonly blockDef = this.RULE('blockDef', () => {
    this.CONSUME(t.Block);
    this.CONSUME(t.Identifier);
    this.CONSUME1(t.LParen);
    this.SUBRULE1(this.paramDecls, { LABEL: 'first' });
    this.CONSUME1(t.RParen);
    this.OPTION(() => {
      this.CONSUME2(t.LParen);
      this.SUBRULE2(this.paramDecls, { LABEL: 'second' });
      this.CONSUME2(t.RParen);
    });
    this.SUBRULE(this.body);
  });

  readonly paramDecls = this.RULE('paramDecls', () => {
    this.OPTION(() => {
      this.SUBRULE1(this.paramDecl);
      this.MANY(() => {
        this.CONSUME(t.Comma);
        this.SUBRULE2(this.paramDecl);
      });
    });
  });

  /** `c: int`, `act: enum(relu, tanh) = relu`, `x`, `x: [T, 16]`. */
  readonly paramDecl = this.RULE('paramDecl', () => {
    this.CONSUME(t.Identifier);
    this.OPTION1(() => {
      this.CONSUME(t.Colon);
      this.OR([{ ALT: () => this.SUBRULE(this.shape) }, { ALT: () => this.SUBRULE(this.typeExpr) }]);
    });
    this.OPTION2(() => {
      this.CONSUME(t.Equals);
      this.SUBRULE(this.expr);
    });
  });

  /** `int`, `float`, `bool`, `shape`, or `enum(a, b)`. */
  readonly typeExpr = this.RULE('typeExpr', () => {
    this.CONSUME1(t.Identifier);
    this.OPTION(() => {
      this.CONSUME(t.LParen);
      this.CONSUME2(t.Identifier, { LABEL: 'choice' });
      this.MANY(() => {
        this.CONSUME(t.Comma);
        this.CONSUME3(t.Identifier, { LABEL: 'choice' });
      });
      this.CONSUME(t.RParen);
    });
  });

  readonly tensorDecls = this.RULE('tensorDecls', () => {
    this.OPTION(() => {
      this.SUBRULE1(this.tensorDecl);
      this.MANY(() => {
        this.CONSUME(t.Comma);
        this.SUBRULE2(this.tensorDecl);
      });
    });
  });

  readonly tensorDecl = this.RULE('tensorDecl', () => {
    this.CONSUME(t.Identifier);
    this.CONSUME(t.Colon);
    this.SUBRULE(this.shape);
  });

  readonly shape = this.RULE('shape', () => {
    this.CONSUME(t.LBracket);
    this.OPTION(() => {
      this.SUBRULE1(this.dim);
      this.MANY(() => {
        this.CONSUME(t.Comma);
        this.SUBRULE2(this.dim);
      });
    });
    this.CONSUME(t.RBracket);
  });

  /** A size (`784`, or a product such as `28 * 28` as Keras users write it) or a symbol (`T`). */
  readonly dim = this.RULE('dim', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME1(t.Integer);
          this.MANY(() => {
            this.CONSUME(t.Star);
            this.CONSUME2(t.Integer);
          });
        },
      },
      { ALT: () => this.CONSUME(t.Identifier) },
    ]);
  });

  /** A body of statements; in a sequential body (or block) each bare expression is one layer. */
  readonly body = this.RULE('body', () => {
    this.CONSUME(t.LBrace);
    this.MANY(() => this.SUBRULE(this.statement));
    this.CONSUME(t.RBrace);
  });

  /**
   * Statements need no separator: an expression ends where no operator or `(` continues it, so
   * the next `name =` starts a new statement. A line starting with `-` or `(` continues the last.
   */
  readonly statement = this.RULE('statement', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.letStatement) },
      { ALT: () => this.SUBRULE(this.returnStatement) },
      { ALT: () => this.SUBRULE(this.repeatStatement) },
      { ALT: () => this.SUBRULE(this.assignStatement) },
      { ALT: () => this.SUBRULE(this.expr) },
    ]);
  });

  readonly letStatement = this.RULE('letStatement', () => {
    this.CONSUME(t.Let);
    this.CONSUME(t.Identifier);
    this.CONSUME(t.Equals);
    this.SUBRULE(this.expr);
  });

  /** `return x`, or `return a, b` from a block with several outputs. */
  readonly returnStatement = this.RULE('returnStatement', () => {
    this.CONSUME(t.Return);
    this.SUBRULE1(this.expr);
    this.MANY(() => {
      this.CONSUME(t.Comma);
      this.SUBRULE2(this.expr);
    });
  });

  /**
   * `repeat 6 { Dense(10) }`: the body unrolled N times, each copy with its own layers. The count
   * is a constant expression (`repeat depth - 1 { ... }`), folded when the body is lowered.
   */
  readonly repeatStatement = this.RULE('repeatStatement', () => {
    this.CONSUME(t.Repeat);
    this.SUBRULE(this.expr);
    this.SUBRULE(this.body);
  });

  /** `h = f(x)`, or `a, b = Split()(x)` for a block with several outputs. */
  readonly assignStatement = this.RULE('assignStatement', () => {
    this.CONSUME1(t.Identifier);
    this.MANY(() => {
      this.CONSUME(t.Comma);
      this.CONSUME2(t.Identifier);
    });
    this.CONSUME(t.Equals);
    this.SUBRULE(this.expr);
  });

  /** `train Name { field: value ... }`: its fields are a record (separated by `,`, `;` or nothing). */
  readonly trainDef = this.RULE('trainDef', () => {
    this.CONSUME(t.Train);
    this.CONSUME(t.Identifier);
    this.SUBRULE(this.recordExpr);
  });

  /**
   * `gan Name { generator: G, discriminator: D, data: mnist ... }`: two models trained against
   * each other; the fields are a record, as a train block's.
   */
  readonly ganDef = this.RULE('ganDef', () => {
    this.CONSUME(t.Gan);
    this.CONSUME(t.Identifier);
    this.SUBRULE(this.recordExpr);
  });

  readonly trainField = this.RULE('trainField', () => {
    this.CONSUME(t.Identifier);
    this.CONSUME(t.Colon);
    this.OR([{ ALT: () => this.SUBRULE(this.recordExpr) }, { ALT: () => this.SUBRULE(this.expr) }]);
  });

  readonly expr = this.RULE('expr', () => {
    this.SUBRULE(this.additive);
  });

  /** Precedence comes from nesting: `additive` over `multiplicative` over `unary`. */
  readonly additive = this.RULE('additive', () => {
    this.SUBRULE1(this.multiplicative);
    this.MANY(() => {
      this.CONSUME(t.AdditiveOperator);
      this.SUBRULE2(this.multiplicative);
    });
  });

  readonly multiplicative = this.RULE('multiplicative', () => {
    this.SUBRULE1(this.unary);
    this.MANY(() => {
      this.CONSUME(t.MultiplicativeOperator);
      this.SUBRULE2(this.unary);
    });
  });

  readonly unary = this.RULE('unary', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(t.Minus);
          this.SUBRULE(this.unary);
        },
      },
      { ALT: () => this.SUBRULE(this.postfix) },
    ]);
  });

  /** `Dense(1)(x)`: any number of argument lists after a primary, applied left to right. */
  readonly postfix = this.RULE('postfix', () => {
    this.SUBRULE(this.primary);
    this.MANY(() => this.SUBRULE(this.callSuffix));
  });

  readonly callSuffix = this.RULE('callSuffix', () => {
    this.CONSUME(t.LParen);
    this.OPTION(() => this.SUBRULE(this.args));
    this.CONSUME(t.RParen);
  });

  readonly args = this.RULE('args', () => {
    this.SUBRULE1(this.arg);
    this.MANY(() => {
      this.CONSUME(t.Comma);
      this.SUBRULE2(this.arg);
    });
  });

  /** Named when a name is followed by `:`, which takes the second token of lookahead. */
  readonly arg = this.RULE('arg', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(t.Identifier);
          this.CONSUME(t.Colon);
          this.SUBRULE1(this.expr);
        },
      },
      { ALT: () => this.SUBRULE2(this.expr) },
    ]);
  });

  readonly primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(t.NumberLiteral) },
      { ALT: () => this.CONSUME(t.StringLiteral) },
      { ALT: () => this.CONSUME(t.Identifier) },
      { ALT: () => this.SUBRULE(this.parenExpr) },
      { ALT: () => this.SUBRULE(this.listExpr) },
    ]);
  });

  /**
   * `(x)` groups; `(3, 3)` and `(3,)` are tuples, read as the list `[3, 3]` wherever a list is
   * accepted, as a Keras or PyTorch user writes kernel sizes and shapes.
   */
  readonly parenExpr = this.RULE('parenExpr', () => {
    this.CONSUME(t.LParen);
    this.SUBRULE1(this.expr);
    this.OPTION1(() => {
      this.CONSUME1(t.Comma);
      this.OPTION2(() => {
        this.SUBRULE2(this.expr);
        this.MANY(() => {
          this.CONSUME2(t.Comma);
          this.SUBRULE3(this.expr);
        });
        this.OPTION3(() => this.CONSUME3(t.Comma));
      });
    });
    this.CONSUME(t.RParen);
  });

  /**
   * `{ digit: categorical_crossentropy, parity: mse }`: named values, separated by `,`, `;` or
   * nothing; the body of a train or gan block, and per-output settings inside one.
   */
  readonly recordExpr = this.RULE('recordExpr', () => {
    this.CONSUME(t.LBrace);
    this.MANY(() => {
      this.SUBRULE(this.trainField);
      this.OPTION(() => {
        this.OR([{ ALT: () => this.CONSUME(t.Comma) }, { ALT: () => this.CONSUME(t.Semicolon) }]);
      });
    });
    this.CONSUME(t.RBrace);
  });

  readonly listExpr = this.RULE('listExpr', () => {
    this.CONSUME(t.LBracket);
    this.OPTION(() => {
      this.SUBRULE1(this.expr);
      this.MANY(() => {
        this.CONSUME(t.Comma);
        this.SUBRULE2(this.expr);
      });
    });
    this.CONSUME(t.RBracket);
  });
}

/** The one parser instance; `parseTokens` resets its state for each input. */
export const parser = new NnxParser();

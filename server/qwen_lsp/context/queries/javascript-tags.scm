; Definitions in JavaScript (and JSX): functions, classes, methods, functions bound to a name,
; and top-level constants.
; Captures: @definition.<kind> on the whole definition, @name.definition.<kind> on its name.

(function_declaration
  name: (identifier) @name.definition.function) @definition.function

(generator_function_declaration
  name: (identifier) @name.definition.function) @definition.function

(class_declaration
  name: (_) @name.definition.class) @definition.class

(method_definition
  name: (property_identifier) @name.definition.method) @definition.method

; const f = (a) => ..., let g = function (a) {...}
(lexical_declaration
  (variable_declarator
    name: (identifier) @name.definition.function
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function

(variable_declaration
  (variable_declarator
    name: (identifier) @name.definition.function
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function

; top-level constants, exported or not, that are not functions
(program
  (lexical_declaration
    (variable_declarator
      name: (identifier) @name.definition.constant
      value: (_) @_value)) @definition.constant
  (#not-match? @_value "^(require\\(|async\\s|function|class\\s|\\(|[A-Za-z_$][A-Za-z0-9_$]*\\s*=>)"))

(program
  (export_statement
    declaration: (lexical_declaration
      (variable_declarator
        name: (identifier) @name.definition.constant
        value: (_) @_value)) @definition.constant)
  (#not-match? @_value "^(require\\(|async\\s|function|class\\s|\\(|[A-Za-z_$][A-Za-z0-9_$]*\\s*=>)"))

; module.exports.name = function (...) {...} / exports.name = (...) => ...
(expression_statement
  (assignment_expression
    left: (member_expression
      property: (property_identifier) @name.definition.function)
    right: [(arrow_function) (function_expression)])) @definition.function

; Definitions in Python: functions (methods when inside a class), classes, and module-level
; constants (UPPER_CASE) and type aliases (CamelCase).
; Captures: @definition.<kind> on the whole definition, @name.definition.<kind> on its name.

(function_definition
  name: (identifier) @name.definition.function) @definition.function

(class_definition
  name: (identifier) @name.definition.class) @definition.class

(module
  (expression_statement
    (assignment
      left: (identifier) @name.definition.constant)) @definition.constant
  (#match? @name.definition.constant "^_?[A-Z][A-Z0-9_]*$"))

(module
  (expression_statement
    (assignment
      left: (identifier) @name.definition.type)) @definition.type
  (#match? @name.definition.type "^_?[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$"))

(module
  (type_alias_statement
    left: (type (identifier) @name.definition.type)) @definition.type)

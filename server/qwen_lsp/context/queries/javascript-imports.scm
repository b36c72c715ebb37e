; Module references in JavaScript: import and re-export statements, and require("...") calls.
; imports.py reads @import (the statement) and @source (the module specifier).
(import_statement
  source: (string (string_fragment) @source)) @import

(export_statement
  source: (string (string_fragment) @source)) @import

(lexical_declaration
  (variable_declarator
    value: (call_expression
      function: (identifier) @_require
      arguments: (arguments . (string (string_fragment) @source))))
  (#eq? @_require "require")) @import

(variable_declaration
  (variable_declarator
    value: (call_expression
      function: (identifier) @_require
      arguments: (arguments . (string (string_fragment) @source))))
  (#eq? @_require "require")) @import

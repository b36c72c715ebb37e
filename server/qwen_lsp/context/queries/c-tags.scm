; Definitions in C: functions (definitions and prototypes), structs, unions, enums, typedefs,
; object-like macros (constants) and function-like macros.
; Captures: @definition.<kind> on the whole definition, @name.definition.<kind> on its name.

(function_definition
  declarator: [(function_declarator declarator: (identifier) @name.definition.function)
               (pointer_declarator declarator: (function_declarator
                 declarator: (identifier) @name.definition.function))
               (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator
                 declarator: (identifier) @name.definition.function)))]) @definition.function

(declaration
  declarator: [(function_declarator declarator: (identifier) @name.definition.function)
               (pointer_declarator declarator: (function_declarator
                 declarator: (identifier) @name.definition.function))
               (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator
                 declarator: (identifier) @name.definition.function)))]) @definition.function

(struct_specifier
  name: (type_identifier) @name.definition.class
  body: (field_declaration_list)) @definition.class

(union_specifier
  name: (type_identifier) @name.definition.class
  body: (field_declaration_list)) @definition.class

(enum_specifier
  name: (type_identifier) @name.definition.enum
  body: (enumerator_list)) @definition.enum

(type_definition
  declarator: (type_identifier) @name.definition.type) @definition.type

(type_definition
  declarator: (pointer_declarator declarator: (type_identifier) @name.definition.type)) @definition.type

(preproc_def
  name: (identifier) @name.definition.constant) @definition.constant

(preproc_function_def
  name: (identifier) @name.definition.macro) @definition.macro

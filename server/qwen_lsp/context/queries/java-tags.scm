; Definitions in Java: classes, interfaces, enums, records, annotation types, methods,
; constructors, and constants (static final fields).
; Captures: @definition.<kind> on the whole definition, @name.definition.<kind> on its name.

(class_declaration
  name: (identifier) @name.definition.class) @definition.class

(record_declaration
  name: (identifier) @name.definition.class) @definition.class

(interface_declaration
  name: (identifier) @name.definition.interface) @definition.interface

(annotation_type_declaration
  name: (identifier) @name.definition.interface) @definition.interface

(enum_declaration
  name: (identifier) @name.definition.enum) @definition.enum

(method_declaration
  name: (identifier) @name.definition.method) @definition.method

(constructor_declaration
  name: (identifier) @name.definition.method) @definition.method

(field_declaration
  (modifiers) @_modifiers
  declarator: (variable_declarator
    name: (identifier) @name.definition.constant)
  (#match? @_modifiers "static")
  (#match? @_modifiers "final")) @definition.constant

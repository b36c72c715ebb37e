; Definitions in Rust: functions, methods of impl blocks and traits (scoped by the type or
; trait), structs, enums, unions, traits, type aliases, constants, statics and macros.
; Captures: @definition.<kind> on the whole definition, @name.definition.<kind> on its name,
; @scope on the name of the type a method belongs to.

(function_item
  name: (identifier) @name.definition.function) @definition.function

(impl_item
  type: [(type_identifier) @scope
         (generic_type type: (type_identifier) @scope)
         (scoped_type_identifier name: (type_identifier) @scope)]
  body: (declaration_list
    (function_item
      name: (identifier) @name.definition.method) @definition.method))

(trait_item
  name: (type_identifier) @scope
  body: (declaration_list
    [(function_item name: (identifier) @name.definition.method)
     (function_signature_item name: (identifier) @name.definition.method)] @definition.method))

(struct_item
  name: (type_identifier) @name.definition.class) @definition.class

(union_item
  name: (type_identifier) @name.definition.class) @definition.class

(enum_item
  name: (type_identifier) @name.definition.enum) @definition.enum

(trait_item
  name: (type_identifier) @name.definition.interface) @definition.interface

(type_item
  name: (type_identifier) @name.definition.type) @definition.type

(const_item
  name: (identifier) @name.definition.constant) @definition.constant

(static_item
  name: (identifier) @name.definition.constant) @definition.constant

(macro_definition
  name: (identifier) @name.definition.macro) @definition.macro

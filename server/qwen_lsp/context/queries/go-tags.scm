; Definitions in Go: functions, methods (scoped by their receiver's type), struct and
; interface types, other named types, and package-level constants and variables.
; Captures: @definition.<kind> on the whole definition, @name.definition.<kind> on its name,
; @scope on the name of the type a method belongs to.

(function_declaration
  name: (identifier) @name.definition.function) @definition.function

(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [(type_identifier) @scope
             (pointer_type (type_identifier) @scope)
             (generic_type type: (type_identifier) @scope)
             (pointer_type (generic_type type: (type_identifier) @scope))]))
  name: (field_identifier) @name.definition.method) @definition.method

(type_spec
  name: (type_identifier) @name.definition.class
  type: (struct_type)) @definition.class

(type_spec
  name: (type_identifier) @name.definition.interface
  type: (interface_type)) @definition.interface

(type_spec
  name: (type_identifier) @name.definition.type
  type: [(type_identifier) (qualified_type) (pointer_type) (slice_type) (array_type)
         (map_type) (channel_type) (function_type) (generic_type)]) @definition.type

(type_alias
  name: (type_identifier) @name.definition.type) @definition.type

(source_file
  (const_declaration
    (const_spec
      name: (identifier) @name.definition.constant) @definition.constant))

(source_file
  (var_declaration
    (var_spec
      name: (identifier) @name.definition.constant) @definition.constant))

; inherits: c
; Definitions C++ adds to C's: classes, methods (declared in a class body, or defined
; outside it as Class::method), constexpr constants and `using` aliases.

(class_specifier
  name: (type_identifier) @name.definition.class
  body: (field_declaration_list)) @definition.class

(function_definition
  declarator: (function_declarator
    declarator: [(field_identifier) @name.definition.method
                 (qualified_identifier
                   scope: (_) @scope
                   name: [(identifier) (field_identifier) (destructor_name)] @name.definition.method)])) @definition.method

(field_declaration_list
  [(field_declaration
     declarator: (function_declarator declarator: (field_identifier) @name.definition.method))
   (declaration
     declarator: (function_declarator declarator: [(identifier) (field_identifier)] @name.definition.method))] @definition.method)

(declaration
  (type_qualifier) @_constexpr
  declarator: (init_declarator declarator: (identifier) @name.definition.constant)
  (#match? @_constexpr "^(constexpr|const)$")) @definition.constant

(alias_declaration
  name: (type_identifier) @name.definition.type) @definition.type

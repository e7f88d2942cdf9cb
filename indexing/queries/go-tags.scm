(function_declaration name: (identifier) @name) @definition.function
(method_declaration name: (field_identifier) @name) @definition.method
(type_spec name: (type_identifier) @name) @definition.type
(const_spec name: (identifier) @name) @definition.constant
(call_expression function: [(identifier) @name (selector_expression field: (field_identifier) @name)]) @reference.call
(type_identifier) @name @reference.type

(class_definition name: (identifier) @name) @definition.class
(function_definition name: (identifier) @name) @definition.function
(module (assignment left: (identifier) @name) @definition.constant)
(module (expression_statement (assignment left: (identifier) @name) @definition.constant))
(call function: [(identifier) @name (attribute attribute: (identifier) @name)]) @reference.call
(import_from_statement name: (dotted_name (identifier) @name)) @reference.import
(import_statement name: (dotted_name (identifier) @name)) @reference.import

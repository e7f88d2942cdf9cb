"""Indexing: tree-sitter parsing of the workspace, the symbol and chunk index, retrieval."""

"""The tool loop, for models that can plan: the loop, its tools, the tool calls' format and
the text matching of its edits."""

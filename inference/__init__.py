"""Model management and inference: the registry of named models, their installation and
verification, llama.cpp in-process, prompt formats and the completion service.

Nothing here imports the LSP layer; the server hands it plain snapshots and settings.
"""

"""The treellama language server: thin LSP handlers over the inference, indexing and agent
services, plus the transport, configuration and session state they share."""

__version__ = "0.1.0"

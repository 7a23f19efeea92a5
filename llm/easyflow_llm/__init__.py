"""Easy Flow's local model server: a Hugging Face causal LM behind an
OpenAI-compatible chat-completions API (see llm/README.md)."""

__version__ = "0.1.0"

"""The state's admission policy: facts of a transaction in, a decision with reasons out."""

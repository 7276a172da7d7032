"""The HTTP API of the server, one router per audience."""

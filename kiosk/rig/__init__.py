"""The production rig (``make rig``): the packaged lane service on real-protocol stand-ins."""

"""Face capture, quality, liveness and 1:1 verification against the chip photo."""

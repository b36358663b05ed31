"""Shared kernel: quantities, errors, credit codes, region codes, the working-day calendar."""

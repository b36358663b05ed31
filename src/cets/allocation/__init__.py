"""Allowance allocation: pre-allocation, final allocation (核定), adjustments, tables."""
